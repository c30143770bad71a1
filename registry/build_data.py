"""Build ``registry/data/`` — the calibration data the registry simulator ships — from the shared
sources and the tables written for this project beside the step (``registry/build_inputs/``).

Run as ``python -m registry.build_data [--source DIR] [--out DIR]``. This is the only code in
``registry/`` that reads the shared source folder (default ``../shared/data`` next to the
repository); the simulator, the tests and everything else read the files written here:

* ``national_daily.csv`` — real national doses per day: the differences of OWID's reported
  cumulative total, split into first / second / booster from its cumulative people counts,
  with the reported cumulatives alongside;
* ``live_day.csv`` — the busy day the live feed replays (volume and split, at scale 1);
* ``provinces.csv`` — the 63 provinces: vaccination sites and doses on the MoH portal snapshot
  of 2021-08-04 (names and populations are geo's, joined at load by ``registry.calibration``);
* ``vaccine_mix.csv`` — an approximate product mix over time (no official series exists), from
  ``build_inputs/vaccine_mix.csv`` (shares in thousandths), every code one of the campaign's
  products (``geo/products.csv``);
* ``names.csv`` — Vietnamese name parts with weights, from ``build_inputs/names.csv``;
* ``licences/``, ``README.md`` (rendered from ``build_inputs/README.template.md`` with the
  figures of this build) and ``manifest.json`` (sha256 and size of every file).

The build is deterministic (same sources → same bytes) and fails loudly (:class:`BuildError`)
when a source breaks an expectation instead of writing doubtful data. It prints a one-line JSON
summary on stdout. The step stands on the shared build harness, :mod:`geo.buildstep`.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from geo.buildstep import (
    BuildError,
    csv_bytes,
    file_entries,
    json_bytes,
    read_sources,
    render_template,
    require,
    sha256,
    step_summary,
    write_files,
)
from geo.calendar import CAMPAIGN_END, CAMPAIGN_START, SNAPSHOT_DAY
from geo.products import PRODUCTS_PATH, campaign_products
from geo.provinces import (
    ADULT_18PLUS_TOTAL,
    CENSUS_2019_TOTAL,
    DATA_DIR,
    N_PROVINCES,
    PROVINCES_FILE,
    load_provinces,
)
from registry.calibration import DOSE_KINDS, allocate

__all__ = ["DEFAULT_OUT", "DEFAULT_SOURCE", "BuildError", "BuildResult", "build", "main"]

REPO_ROOT: Final = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE: Final = REPO_ROOT.parent / "shared" / "data"
DEFAULT_OUT: Final = Path(__file__).resolve().parent / "data"
#: Tables and texts written for this project, read by the build beside the shared sources.
INPUTS: Final = Path(__file__).resolve().parent / "build_inputs"
README_TEMPLATE: Final = INPUTS / "README.template.md"

#: Source files read, relative to the source folder.
SOURCES: Final[Mapping[str, str]] = {
    "owid": "vn/owid/owid_vaccinations_vietnam.csv",
    "owid_locations": "vn/owid/owid_vaccination_locations_vietnam.csv",
    "snapshot": "vn/moh_province_snapshot/vn_moh_vaccination_by_province_2021-08-04.csv",
}
#: The tables written for this project, in ``INPUTS``.
VACCINE_MIX_INPUT: Final = INPUTS / "vaccine_mix.csv"
NAMES_INPUT: Final = INPUTS / "names.csv"
#: The kinds of name part in ``names.csv``, in file order.
NAME_KINDS: Final = ("family", "middle_m", "middle_f", "given_m", "given_f")
MIN_GIVEN_NAMES: Final = 60
#: geo's province table, the source of names and populations.
GEO_PROVINCES: Final = DATA_DIR / PROVINCES_FILE

SNAPSHOT_SITES_TOTAL: Final = 8_182
SNAPSHOT_DOSE1_TOTAL: Final = 5_839_306
SNAPSHOT_DOSE2_TOTAL: Final = 642_376

#: OWID's reported cumulative columns, shipped in ``national_daily.csv`` under these names
#: (blank on the days OWID has no value).
REPORTED_COLUMNS: Final[Mapping[str, str]] = {
    "reported_total": "total_vaccinations",
    "reported_people": "people_vaccinated",
    "reported_fully": "people_fully_vaccinated",
}
#: The busy day (``live_day.csv``): its volume is the median, over the ``BUSY_DAYS`` days with
#: the highest trailing ``BUSY_WINDOW_DAYS``-day mean of daily doses, of that mean; its split
#: into kinds is the campaign's from ``LIVE_MIX_FROM`` to the end (its last 12 months).
BUSY_WINDOW_DAYS: Final = 7
BUSY_DAYS: Final = 30
LIVE_MIX_FROM: Final = date(2022, 7, 1)

#: OWID cumulative columns reported in the manifest.
CUMULATIVE_COLUMNS: Final = ("people_vaccinated", "people_fully_vaccinated", "total_boosters")

OWID_ATTRIBUTION: Final = (
    'Mathieu, E. et al. (2021) "A global database of COVID-19 vaccinations". Nature Human '
    "Behaviour. Data: Our World in Data, https://github.com/owid/covid-19-data, licensed under "
    "CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/). Vietnam figures: Ministry of "
    "Health of Viet Nam (to mid-2022) and WHO COVID-19 dashboard (afterwards), via OWID."
)


def _csv_frame(data: bytes, what: str, **kwargs: Any) -> pd.DataFrame:
    try:
        return pd.read_csv(io.BytesIO(data), **kwargs)
    except (ValueError, pd.errors.ParserError) as exc:
        raise BuildError(f"{what}: cannot parse CSV: {exc}") from exc


# --------------------------------------------------------------------------------------------
# national_daily.csv
# --------------------------------------------------------------------------------------------


def _anchor_zero(owid: pd.DataFrame, column: str, others: Sequence[str]) -> pd.Series:
    """``column`` with an explicit zero before its first report, so interpolation starts there.

    A series is known to be 0 on a day when the reported total equals the sum of the other
    reported parts (total_vaccinations == people_vaccinated on 2021-04-29, so nobody had
    completed a series yet). The series is set to 0 up to the last such day before its first
    report (or the day before its first report when there is none), and linear interpolation
    then spreads the first reported value over the days in between instead of dumping it on
    one day.
    """
    series = owid[column].astype(np.float64).copy()
    first = series.first_valid_index()
    require(first is not None, f"OWID: {column} is empty")
    first_pos = int(owid.index.get_loc(first))
    if first_pos == 0:
        return series
    head = owid.iloc[:first_pos]
    parts = head[list(others)]
    holds = head["total_vaccinations"].notna() & parts.notna().all(axis=1)
    holds &= head["total_vaccinations"] == parts.sum(axis=1)
    anchor = int(np.flatnonzero(holds.to_numpy())[-1]) if holds.any() else first_pos - 1
    series.iloc[: anchor + 1] = 0.0
    return series


def _revised(series: pd.Series) -> tuple[pd.Series, list[int]]:
    """A cumulative series with every reported value capped at every later reported value.

    A cumulative count cannot go down: a later report below an earlier one is a revision,
    and the later figure is taken as the truth for the earlier days too (backward running
    minimum over the reported days; blanks stay blank). Returns the series and the positions
    of the values it lowered."""
    reported = series.dropna()
    floor = reported.iloc[::-1].cummin().iloc[::-1]
    result = series.copy()
    result[floor.index] = floor
    lowered = [int(series.index.get_loc(i)) for i in floor.index[floor < reported]]
    return result, lowered


def _booster_comparison(owid: pd.DataFrame, booster: pd.Series) -> dict[str, Any]:
    """How the booster series (all doses beyond the primary series) compares with OWID's
    ``total_boosters`` on the days both exist: equal up to a date, then larger by a gap."""
    both = pd.DataFrame({"date": owid["date"], "gap": booster - owid["total_boosters"]}).dropna()
    equal = both[both["gap"].abs() <= 0]
    differ = both[both["gap"].abs() > 0]
    after = differ[differ["date"] > equal["date"].max()] if len(equal) else differ
    return {
        "days_compared": len(both),
        "days_equal": len(equal),
        "last_equal_day": str(equal["date"].max()) if len(equal) else "",
        "gap_first_day_after": int(after["gap"].iloc[0]) if len(after) else 0,
        "gap_last_day": int(both["gap"].iloc[-1]) if len(both) else 0,
    }


def _split_day(
    n: int, need: npt.NDArray[np.float64], reported: npt.NDArray[np.bool_],
    ahead: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.int64], int]:  # fmt: skip
    """Split one day's ``n`` doses over the three kinds; returns the parts and how many of
    them rule 3 placed.

    ``need``: how far each kind's cumulative is below its target for the day (whole doses,
    >= 0); ``reported``: the kinds whose target is a reported figure that day (the others are
    interpolated between reports); ``ahead``: how far each kind is below its *next* reported
    figure. Rules, in order (largest remainder, `registry.calibration.allocate`, for every
    share-out):

    1. the kinds reported that day get their need first, shared in proportion to it when the
       day has fewer doses than that;
    2. the other kinds then share what is left in proportion to their need;
    3. doses left once every need is met (the total, interpolated on its own reported days,
       runs ahead of what the kinds' targets, interpolated on theirs, account for) go to the
       kinds in proportion to how far each still is from its next reported figure: they are
       doses of the kind the next reports show them to be.
    """
    parts = np.zeros(need.size, dtype=np.int64)
    for group in (reported, ~reported):
        share = np.where(group, need, 0.0)
        left = n - int(parts.sum())
        if share.sum() >= left:
            return parts + allocate(left, share), 0
        parts += share.astype(np.int64)
    beyond = n - int(parts.sum())
    room = np.clip(ahead - parts, 0.0, None)
    if room.sum() > 0:
        return parts + allocate(beyond, room), beyond
    raise BuildError("national split: doses left with no kind to take them")


def _national_daily(owid: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The national table (scale 1) and facts about how it was made (see the README)."""
    dates = pd.to_datetime(owid["date"], format="%Y-%m-%d")
    require((dates.diff().dropna() == pd.Timedelta(days=1)).all(), "OWID: days not consecutive")
    require(
        dates.iloc[0].date() == CAMPAIGN_START - timedelta(days=1)
        and dates.iloc[-1].date() == CAMPAIGN_END,
        f"OWID: covers {dates.iloc[0].date()} … {dates.iloc[-1].date()}",
    )
    raw = {column: owid[column].astype(np.float64) for column in REPORTED_COLUMNS.values()}
    for column, series in raw.items():
        values = series.dropna()
        require(bool(np.all(np.mod(values, 1) == 0)), f"OWID: non-integer {column}")
        require(bool((values >= 0).all()), f"OWID: negative {column}")
    total_raw = raw["total_vaccinations"]
    require(
        bool(total_raw.iloc[0] == 0 and pd.notna(total_raw.iloc[-1])),
        "OWID: total_vaccinations must be 0 on the first day and reported on the last",
    )

    # Revisions: a later, lower report caps every earlier one (see _revised).
    total, lowered_total = _revised(total_raw)
    first, lowered_first = _revised(raw["people_vaccinated"])
    second_raw = owid.assign(people_vaccinated=first)
    second, lowered_second = _revised(
        _anchor_zero(second_raw, "people_fully_vaccinated", ("people_vaccinated",))
    )
    # Doses beyond the primary series: total - people_vaccinated - people_fully_vaccinated, on
    # the days all three are known (zero while the total equals the two people counts).
    booster_raw = total - first - second
    known3 = booster_raw.notna()
    require(bool((booster_raw.dropna() >= 0).all()), "OWID: people counts exceed the total")
    zero = np.flatnonzero((booster_raw == 0).to_numpy())
    positive = np.flatnonzero((booster_raw > 0).to_numpy())
    require(len(zero) > 0 and len(positive) > 0, "OWID: no booster anchor")
    require(bool(zero[-1] < positive[0]), "OWID: boosters counted before a later zero")
    booster_raw.iloc[: zero[-1] + 1] = 0.0
    booster, lowered_booster = _revised(booster_raw)
    # What a revision takes from the boosters goes to first doses, so the kinds still add up
    # to the total on every day all three are reported.
    first_adjusted = first + (booster_raw - booster).fillna(0.0)
    require(bool(first_adjusted.dropna().is_monotonic_increasing), "first doses go down")
    both = second.notna() & first_adjusted.notna()
    require(bool((second[both] <= first_adjusted[both]).all()), "people fully > people vaccinated")

    cumulative = total.interpolate(method="linear", limit_area="inside")
    doses = np.diff(np.rint(cumulative.to_numpy()).astype(np.int64), prepend=0)
    kinds = (first_adjusted, second, booster)
    reported = np.column_stack([s.notna().to_numpy() for s in kinds])
    targets = np.column_stack(
        [s.interpolate(method="linear", limit_area="inside").ffill().to_numpy() for s in kinds]
    )
    upcoming = np.column_stack([s.shift(-1).bfill().fillna(s.iloc[-1]).to_numpy() for s in kinds])
    require(not np.isnan(targets).any(), "OWID: a kind cannot be interpolated")
    parts = np.zeros((len(owid), len(DOSE_KINDS)), dtype=np.int64)
    given = np.zeros(len(DOSE_KINDS), dtype=np.int64)
    beyond_targets = 0
    for day in range(1, len(owid)):  # one row per day from 2021-03-08 (846 - 1 days)
        n = int(doses[day])
        if n <= 0:
            require(n == 0, "negative daily doses")
            continue
        need = np.clip(np.floor(targets[day]) - given, 0.0, None)
        parts[day], beyond = _split_day(n, need, reported[day], upcoming[day] - given)
        beyond_targets += beyond
        given += parts[day]

    table = pd.DataFrame({"date": dates.dt.strftime("%Y-%m-%d"), "doses": doses})
    for i, kind in enumerate(DOSE_KINDS):
        table[kind] = parts[:, i]
    for name, column in REPORTED_COLUMNS.items():
        table[name] = ["" if pd.isna(value) else str(int(value)) for value in owid[column]]
    table = table.iloc[1:].reset_index(drop=True)
    require(
        table["date"].iloc[0] == CAMPAIGN_START.isoformat(),
        f"national table must start {CAMPAIGN_START}",
    )
    require(bool((table[list(DOSE_KINDS)].sum(axis=1) == table["doses"]).all()), "split != doses")
    running = table[list(DOSE_KINDS)].cumsum()
    require(bool((running["second"] <= running["first"]).all()), "second doses overtake first")
    final = owid.iloc[-1]
    for kind, column in (("first", "people_vaccinated"), ("second", "people_fully_vaccinated")):
        require(
            int(running[kind].iloc[-1]) == int(final[column]),
            f"{kind} doses end at {int(running[kind].iloc[-1])}, not OWID's {column}",
        )
    on_reported = table["reported_total"] != ""
    revised_total = total.iloc[1:].reset_index(drop=True)[on_reported]
    gap = table["doses"].cumsum()[on_reported] - revised_total
    require(bool((gap == 0).all()), "cumulative doses differ from a (revised) reported total")

    def follow(kind: str, reported_values: pd.Series) -> dict[str, Any]:
        """How a kind's cumulative compares with its reported cumulative on reported days."""
        values = reported_values.iloc[1:].reset_index(drop=True)
        mask = values.notna()
        off = running[kind][mask] - values[mask]
        relative = (off / values[mask]).where(values[mask] >= 1000, 0.0)
        worst = relative.abs().idxmax()
        return {
            "days_reported": int(mask.sum()),
            "days_equal": int((off == 0).sum()),
            "max_abs_difference": int(off.abs().max()),
            "worst_relative_day": str(table["date"][worst]),
            "worst_relative": round(float(relative[worst]), 6),
            "days_over_1pct": [
                str(d) for d in table["date"][relative.index[relative.abs() > 0.01]]
            ],
        }

    # What OWID's 7-day smoothed daily_vaccinations (the series this file used to follow)
    # would give: its running total against the reported one, at the largest relative lag
    # among days reporting at least a million doses.
    smoothed = owid["daily_vaccinations"].fillna(0.0).cumsum()
    big = total_raw >= 1_000_000
    lag = (1.0 - smoothed / total_raw)[big]
    worst_lag = lag.idxmax()

    facts: dict[str, Any] = {
        "days": len(table),
        "doses_total": int(table["doses"].sum()),
        **{f"{kind}_total": int(table[kind].sum()) for kind in DOSE_KINDS},
        "zero_anchor_dates": {
            "people_fully_vaccinated": str(owid.loc[second.index[second == 0][-1], "date"]),
            "booster_last_zero": str(owid.loc[zero[-1], "date"]),
        },
        "days_total_reported": int(on_reported.sum()),
        "days_people_without_total": [
            str(d) for d in owid["date"][total_raw.isna() & raw["people_vaccinated"].notna()]
        ],
        "owid_smoothed_lag": {
            "day": str(owid["date"][worst_lag]),
            "smoothed_cumulative": int(smoothed[worst_lag]),
            "reported_total": int(total_raw[worst_lag]),
            "lag": round(float(lag[worst_lag]), 4),
        },
        "booster_vs_owid_total_boosters": _booster_comparison(owid, booster_raw),
        "revisions": {
            "total_vaccinations": [str(owid["date"][i]) for i in lowered_total],
            "people_vaccinated": [str(owid["date"][i]) for i in lowered_first],
            "people_fully_vaccinated": [str(owid["date"][i]) for i in lowered_second],
            "booster_days": [str(owid["date"][i]) for i in lowered_booster],
            "booster_max_lowered": int((booster_raw - booster).max()),
        },
        "doses_beyond_targets": beyond_targets,
        "follow": {
            "first": follow("first", raw["people_vaccinated"]),
            "second": follow("second", raw["people_fully_vaccinated"]),
            "booster": follow("booster", booster_raw.where(known3)),
        },
    }
    facts["owid_final"] = {
        "total_vaccinations": int(final["total_vaccinations"]),
        **{column: int(final[column]) for column in CUMULATIVE_COLUMNS},
    }
    return table, facts


def _live_day(table: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    """``live_day.csv``: the busy day the live feed replays, at scale 1 (see the README)."""
    mean = table["doses"].rolling(BUSY_WINDOW_DAYS, min_periods=BUSY_WINDOW_DAYS).mean()
    busiest = mean.nlargest(BUSY_DAYS)
    volume = int(np.rint(busiest.median()))
    recent = table[table["date"] >= LIVE_MIX_FROM.isoformat()]
    counts = recent[list(DOSE_KINDS)].sum().to_numpy(dtype=np.int64)
    split = allocate(volume, counts)
    frame = pd.DataFrame([[volume, *(int(x) for x in split)]], columns=["doses", *DOSE_KINDS])
    days = table["date"][busiest.index]
    facts = {
        "doses": volume,
        **{kind: int(x) for kind, x in zip(DOSE_KINDS, split, strict=True)},
        "busiest_from": str(days.min()),
        "busiest_to": str(days.max()),
        "busiest_mean_max": int(np.rint(busiest.max())),
        "busiest_mean_min": int(np.rint(busiest.min())),
        "busiest_day": str(table["date"][table["doses"].idxmax()]),
        "busiest_day_doses": int(table["doses"].max()),
        "mix_from": str(recent["date"].iloc[0]),
        "mix_to": str(recent["date"].iloc[-1]),
        "mix_doses": int(counts.sum()),
        **{f"mix_{kind}": int(x) for kind, x in zip(DOSE_KINDS, counts, strict=True)},
    }
    return frame, facts


# --------------------------------------------------------------------------------------------
# provinces.csv
# --------------------------------------------------------------------------------------------


def _provinces(snapshot: pd.DataFrame, population: pd.DataFrame) -> pd.DataFrame:
    """The snapshot's own columns by ``gso_code``, joined with geo's populations (63/63,
    checked) for the checks; ``provinces.csv`` keeps only :data:`PROVINCE_OWN_COLUMNS`."""
    for frame, what in ((snapshot, "snapshot"), (population, "geo provinces")):
        codes = frame["gso_code"]
        require(len(frame) == N_PROVINCES, f"{what}: {len(frame)} rows, expected {N_PROVINCES}")
        require(codes.is_unique, f"{what}: duplicate gso_code")
        require(bool(codes.str.fullmatch(r"\d{2}").all()), f"{what}: malformed gso_code")
    merged = population.merge(snapshot, on="gso_code", how="inner", suffixes=("", "_snap"))
    require(len(merged) == N_PROVINCES, "snapshot and geo provinces do not join 63/63")
    merged = merged.sort_values("gso_code").reset_index(drop=True)
    require(
        bool((merged["dose1_administered"] + merged["dose2_administered"]
              == merged["doses_administered_total"]).all()),
        "snapshot: dose1 + dose2 != doses_administered_total",
    )  # fmt: skip
    require(
        bool((merged["population_18plus"] == merged["population_18plus_snap"]).all()),
        "snapshot and geo disagree on the 18+ population",
    )
    table = pd.DataFrame(
        {
            "gso_code": merged["gso_code"],
            "name_vi": [unicodedata.normalize("NFC", n) for n in merged["name_vi"]],
            "sites": merged["vaccination_sites"].astype(np.int64),
            "snapshot_dose1": merged["dose1_administered"].astype(np.int64),
            "snapshot_dose2": merged["dose2_administered"].astype(np.int64),
            "population_2019": merged["population_2019"].astype(np.int64),
            "population_18plus": merged["population_18plus"].astype(np.int64),
        }
    )
    expected = {
        "sites": SNAPSHOT_SITES_TOTAL,
        "snapshot_dose1": SNAPSHOT_DOSE1_TOTAL,
        "snapshot_dose2": SNAPSHOT_DOSE2_TOTAL,
        "population_2019": CENSUS_2019_TOTAL,
        "population_18plus": ADULT_18PLUS_TOTAL,
    }
    for column, total in expected.items():
        got = int(table[column].sum())
        require(got == total, f"provinces: {column} sums to {got}, expected {total}")
        require(bool((table[column] >= 0).all()), f"provinces: {column} has a negative value")
    return table


#: The columns of ``provinces.csv``: the snapshot's, which only the simulator uses.
PROVINCE_OWN_COLUMNS: Final = ("gso_code", "sites", "snapshot_dose1", "snapshot_dose2")


# --------------------------------------------------------------------------------------------
# vaccine_mix.csv and names.csv, from the tables beside the step
# --------------------------------------------------------------------------------------------


def _input_table(path: Path, **kwargs: Any) -> pd.DataFrame:
    require(path.is_file(), f"{path} not found")
    return _csv_frame(path.read_bytes(), str(path), keep_default_na=False, **kwargs)


def _vaccine_mix(table: pd.DataFrame, codes: set[str]) -> pd.DataFrame:
    """``vaccine_mix.csv``: periods in date order, shares summing exactly to 1 (in 1/1000)."""
    require(list(table.columns) == ["from_date", "code", "per_mille"], "vaccine mix: columns")
    periods = list(table.groupby("from_date", sort=False))
    previous = ""
    for from_date, group in periods:
        require(from_date > previous, f"vaccine mix: {from_date} out of order")
        previous = from_date
        require(int(group["per_mille"].sum()) == 1000, f"vaccine mix {from_date}: shares != 1")
        require(group["code"].is_unique, f"vaccine mix {from_date}: duplicate code")
        for code, share in zip(group["code"], group["per_mille"], strict=True):
            require(code in codes, f"vaccine mix {from_date}: unknown code {code}")
            require(share > 0, f"vaccine mix {from_date}: zero share for {code}")
    require(
        periods[0][0] == CAMPAIGN_START.isoformat(), f"vaccine mix must start on {CAMPAIGN_START}"
    )
    shares = [f"{share / 1000:.3f}" for share in table["per_mille"]]
    return pd.DataFrame({"from_date": table["from_date"], "code": table["code"], "share": shares})


def _names(table: pd.DataFrame) -> pd.DataFrame:
    """``names.csv``: the hand-written name parts, checked (NFC, unique, enough given names)."""
    require(list(table.columns) == ["kind", "text", "weight"], "names: columns")
    require(list(table["kind"].unique()) == list(NAME_KINDS), "names: kinds or their order")
    for kind, group in table.groupby("kind", sort=False):
        require(group["text"].is_unique, f"names: duplicate in {kind}")
    for text, weight in zip(table["text"], table["weight"], strict=True):
        require(unicodedata.normalize("NFC", text) == text, f"names: {text!r} is not NFC")
        require(text.isalpha() and text[0].isupper(), f"names: malformed {text!r}")
        require(weight > 0, f"names: weight of {text!r}")
    counts = table["kind"].value_counts()
    for kind in ("given_m", "given_f"):
        require(counts[kind] >= MIN_GIVEN_NAMES, f"names: fewer than 60 {kind}")
    return pd.DataFrame(
        {
            "kind": table["kind"],
            "text": table["text"],
            "weight": [f"{w:g}" for w in table["weight"]],
        }
    )


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    """A frame as deterministic CSV, values as ``str``."""
    rows = ([str(value) for value in row] for row in frame.itertuples(index=False))
    return csv_bytes(list(frame.columns), rows)


@dataclass(frozen=True)
class BuildResult:
    """What a build wrote: file name → (size in bytes, sha256), and the manifest's checks."""

    out_dir: Path
    files: Mapping[str, tuple[int, str]]
    checks: Mapping[str, Any]

    def summary(self) -> dict[str, Any]:
        """One-line JSON-able summary for the command line."""
        national = self.checks["national_daily"]
        return step_summary(
            "build_data",
            self.out_dir,
            self.files,
            days=national["days"],
            doses=national["doses_total"],
            **{kind: national[f"{kind}_total"] for kind in DOSE_KINDS},
            live_day={key: self.checks["live_day"][key] for key in ("doses", *DOSE_KINDS)},
        )


def _snapshot_check(table: pd.DataFrame, owid: pd.DataFrame) -> dict[str, Any]:
    """Cumulative national figures on the snapshot day against the snapshot's own totals."""
    upto = table[table["date"] <= SNAPSHOT_DAY.isoformat()]
    row = owid[owid["date"] == SNAPSHOT_DAY.isoformat()].iloc[0]
    return {
        "day": SNAPSHOT_DAY.isoformat(),
        "national_daily_cumulative": {
            "doses": int(upto["doses"].sum()),
            "first": int(upto["first"].sum()),
            "second": int(upto["second"].sum()),
        },
        "owid_reported": {
            "total_vaccinations": int(row["total_vaccinations"]),
            "people_vaccinated": int(row["people_vaccinated"]),
            "people_fully_vaccinated": int(row["people_fully_vaccinated"]),
        },
        "moh_portal_snapshot": {
            "doses": SNAPSHOT_DOSE1_TOTAL + SNAPSHOT_DOSE2_TOTAL,
            "first": SNAPSHOT_DOSE1_TOTAL,
            "second": SNAPSHOT_DOSE2_TOTAL,
        },
    }


def build(source: Path = DEFAULT_SOURCE, out: Path = DEFAULT_OUT) -> BuildResult:
    """Read the shared sources and the tables beside the step, check them, and write
    ``registry/data/`` (see module doc)."""
    source = Path(source)
    out = Path(out)
    raw = read_sources(source, SOURCES)
    inputs = {
        path.relative_to(REPO_ROOT).as_posix(): path.read_bytes()
        for path in (VACCINE_MIX_INPUT, NAMES_INPUT, README_TEMPLATE, PRODUCTS_PATH, GEO_PROVINCES)
    }

    owid = _csv_frame(raw["owid"], "OWID", dtype={"date": str})
    national, national_facts = _national_daily(owid)
    live_day, live_facts = _live_day(national)
    snapshot = _csv_frame(raw["snapshot"], "snapshot", dtype={"gso_code": str})
    population = load_provinces()[["gso_code", "name_vi", "population_2019", "population_18plus"]]
    provinces = _provinces(snapshot, population)
    mix_input = _input_table(VACCINE_MIX_INPUT, dtype={"from_date": str, "code": str})
    mix = _vaccine_mix(mix_input, set(campaign_products()["code"]))
    names = _names(_input_table(NAMES_INPUT, dtype={"kind": str, "text": str}))

    checks: dict[str, Any] = {
        "national_daily": national_facts,
        "live_day": live_facts,
        "snapshot_day": _snapshot_check(national, owid),
        "provinces": {
            c: int(provinces[c].sum())
            for c in provinces.columns
            if c not in ("gso_code", "name_vi")
        },
        "provinces_reporting_one_site": sorted(provinces.loc[provinces["sites"] == 1, "gso_code"]),
        "provinces_zero_dose2": sorted(provinces.loc[provinces["snapshot_dose2"] == 0, "gso_code"]),
        "vaccine_mix_periods": int(mix["from_date"].nunique()),
        "names": {kind: int((names["kind"] == kind).sum()) for kind in NAME_KINDS},
    }

    files: dict[str, bytes] = {
        "national_daily.csv": _csv_bytes(national),
        "live_day.csv": _csv_bytes(live_day),
        "provinces.csv": _csv_bytes(provinces[list(PROVINCE_OWN_COLUMNS)]),
        "vaccine_mix.csv": _csv_bytes(mix),
        "names.csv": _csv_bytes(names),
        "licences/OWID-attribution.txt": (OWID_ATTRIBUTION + "\n").encode("utf-8"),
    }
    files["README.md"] = render_readme(checks, mix, names).encode("utf-8")
    manifest = {
        "generator": "python -m registry.build_data (registry/build_data.py)",
        "sources": {SOURCES[key]: entry for key, entry in file_entries(raw).items()},
        "inputs": file_entries(inputs),
        "files": file_entries(files),
        "checks": checks,
    }
    files["manifest.json"] = json_bytes(manifest, sort_keys=True)
    write_files({out / name: data for name, data in files.items()})
    return BuildResult(
        out_dir=out,
        files={name: (len(data), sha256(data)) for name, data in files.items()},
        checks=checks,
    )


def _n(value: int) -> str:
    """Thousands separators for prose."""
    return f"{value:,}"


def _day_list(days: Sequence[str]) -> str:
    """Dates for prose: a run of consecutive days as ``first … last``, others listed."""
    if not days:
        return "none"
    parsed = [date.fromisoformat(d) for d in days]
    runs: list[list[date]] = [[parsed[0]]]
    for day in parsed[1:]:
        if (day - runs[-1][-1]).days == 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(
        f"{r[0].isoformat()} … {r[-1].isoformat()}"
        if len(r) > 2
        else ", ".join(d.isoformat() for d in r)
        for r in runs
    )


def _figures(prefix: str, facts: Mapping[str, int], keys: Sequence[str]) -> dict[str, str]:
    """``{prefix_key: facts[key] with thousands separators}`` for the README's placeholders."""
    return {f"{prefix}_{key}": _n(facts[key]) for key in keys}


def _revision_note(revisions: Mapping[str, Any]) -> str:
    """Which reported series a revision lowered (none, in this source)."""
    lowered = [
        f"`{column}` on {_day_list(revisions[column])}"
        for column in ("total_vaccinations", "people_vaccinated", "people_fully_vaccinated")
        if revisions[column]
    ]
    return "checked by the build" if not lowered else "except " + "; ".join(lowered)


def render_readme(checks: Mapping[str, Any], mix: pd.DataFrame, names: pd.DataFrame) -> str:
    """``README.md`` of ``registry/data/``: its template (sources, licences, processing and
    caveats) with the figures of this build filled in (so the text cannot drift from the
    data)."""
    nat = checks["national_daily"]
    owid_final = nat["owid_final"]
    booster_cmp = nat["booster_vs_owid_total_boosters"]
    follow = nat["follow"]
    lag = nat["owid_smoothed_lag"]
    revisions = nat["revisions"]
    live = checks["live_day"]
    follow_rows = "\n".join(
        f"| {kind} | {f['days_reported']} days | {f['days_equal']} | "
        f"{_n(f['max_abs_difference'])} | "
        + (
            f"{len(f['days_over_1pct'])} ({_day_list(f['days_over_1pct'])})"
            if f["days_over_1pct"]
            else "none"
        )
        + " |"
        for kind, f in ((kind, follow[kind]) for kind in DOSE_KINDS)
    )
    snap = checks["snapshot_day"]
    ours, reported, portal = (
        snap["national_daily_cumulative"],
        snap["owid_reported"],
        snap["moh_portal_snapshot"],
    )
    prov = checks["provinces"]
    one_site = checks["provinces_reporting_one_site"]
    booster_owid_gap = (
        owid_final["total_vaccinations"]
        - owid_final["people_vaccinated"]
        - owid_final["people_fully_vaccinated"]
    )
    products = campaign_products()
    names_by_code = dict(zip(products["code"], products["name"], strict=True))
    mix_rows = "\n".join(
        f"| {from_date} | "
        + ", ".join(
            f"{names_by_code[c].split(' (')[0]} {float(sh):.1%}"
            for c, sh in zip(group["code"], group["share"], strict=True)
        )
        + " |"
        for from_date, group in mix.groupby("from_date", sort=True)
    )
    family = names[names["kind"] == "family"]
    weights = [float(w) for w in family["weight"]]
    top_family = ", ".join(
        f"{t} {w / sum(weights):.1%}" for t, w in zip(family["text"][:5], weights[:5], strict=True)
    )
    counts = checks["names"]
    values = {
        "nat_days": nat["days"],
        "mix_rows_count": len(mix),
        "checks_vaccine_mix_periods": checks["vaccine_mix_periods"],
        "names_total": sum(counts.values()),
        "nat_days_total_reported": nat["days_total_reported"],
        "follow_first_days_reported": follow["first"]["days_reported"],
        "follow_second_days_reported": follow["second"]["days_reported"],
        "nat_doses_total": _n(nat["doses_total"]),
        "lag_share": format(lag["lag"], ".1%"),
        "lag_day": lag["day"],
        "lag_smoothed_cumulative": _n(lag["smoothed_cumulative"]),
        "lag_reported_total": _n(lag["reported_total"]),
        "nat_zero_anchor_dates_people_fully_vaccinated": nat["zero_anchor_dates"][
            "people_fully_vaccinated"
        ],
        "nat_zero_anchor_dates_booster_last_zero": nat["zero_anchor_dates"]["booster_last_zero"],
        "booster_cmp_days_equal": booster_cmp["days_equal"],
        "booster_cmp_days_compared": booster_cmp["days_compared"],
        "booster_cmp_last_equal_day": booster_cmp["last_equal_day"],
        "booster_cmp_gap_first_day_after": _n(booster_cmp["gap_first_day_after"]),
        "booster_cmp_gap_last_day": _n(booster_cmp["gap_last_day"]),
        "revision_note": _revision_note(revisions),
        "campaign_end": CAMPAIGN_END.isoformat(),
        "revisions_booster_days": _day_list(revisions["booster_days"]),
        "revisions_booster_max_lowered": _n(revisions["booster_max_lowered"]),
        "nat_doses_beyond_targets": _n(nat["doses_beyond_targets"]),
        "follow_rows": follow_rows,
        "nat_days_people_without_total": _day_list(nat["days_people_without_total"]),
        "nat_first_total": _n(nat["first_total"]),
        "first_share_of_population": format(nat["first_total"] / prov["population_2019"], ".2%"),
        "nat_second_total": _n(nat["second_total"]),
        "nat_booster_total": _n(nat["booster_total"]),
        "owid_final_people_vaccinated": _n(owid_final["people_vaccinated"]),
        "owid_final_people_fully_vaccinated": _n(owid_final["people_fully_vaccinated"]),
        "booster_owid_gap": _n(booster_owid_gap),
        "owid_final_total_boosters": _n(owid_final["total_boosters"]),
        "snap_day": snap["day"],
        **_figures("ours", ours, ("doses", "first", "second")),
        **_figures(
            "reported",
            reported,
            ("total_vaccinations", "people_vaccinated", "people_fully_vaccinated"),
        ),
        **_figures("portal", portal, ("doses", "first", "second")),
        **_figures("live", live, ("doses", "first", "second", "booster")),
        "busy_days": BUSY_DAYS,
        "busy_window_days": BUSY_WINDOW_DAYS,
        "live_busiest_from": live["busiest_from"],
        "live_busiest_to": live["busiest_to"],
        "live_busiest_mean_min": _n(live["busiest_mean_min"]),
        "live_busiest_mean_max": _n(live["busiest_mean_max"]),
        "live_busiest_day": live["busiest_day"],
        "live_busiest_day_doses": _n(live["busiest_day_doses"]),
        "live_mix_from": live["mix_from"],
        "live_mix_to": live["mix_to"],
        **_figures("live", live, ("mix_doses", "mix_first", "mix_second", "mix_booster")),
        **_figures(
            "prov",
            prov,
            ("sites", "snapshot_dose1", "snapshot_dose2", "population_2019", "population_18plus"),
        ),
        "one_site_count": len(one_site),
        "one_site_codes": ", ".join(one_site),
        "zero_dose2_note": "Trà Vinh (84) reports 0 second doses."
        if "84" in checks["provinces_zero_dose2"]
        else "",
        "mix_rows": mix_rows,
        "counts_family": counts["family"],
        "top_family": top_family,
        "counts_middle_m": counts["middle_m"],
        "counts_middle_f": counts["middle_f"],
        "counts_given_m": counts["given_m"],
        "counts_given_f": counts["given_f"],
        "owid_attribution": OWID_ATTRIBUTION,
    }
    return render_template(README_TEMPLATE, values)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: build, print the one-line JSON summary; exit 1 on a build error."""
    parser = argparse.ArgumentParser(
        prog="python -m registry.build_data",
        description="Regenerate registry/data/ from the shared source data.",
    )
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="shared data folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    args = parser.parse_args(argv)
    try:
        result = build(args.source, args.out)
    except BuildError as exc:
        sys.stderr.write(f"build_data: {exc}\n")
        print(
            json.dumps(
                {"command": "build_data", "ok": False, "error": str(exc)}, ensure_ascii=False
            )
        )
        return 1
    print(json.dumps(result.summary(), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
