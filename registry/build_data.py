"""Build ``registry/data/`` — the calibration data the registry simulator ships — from the shared
sources.

Run as ``python -m registry.build_data [--source DIR] [--out DIR]``. This is the only code in
``registry/`` that reads the shared source folder (default ``../shared/data`` next to the
repository); the simulator, the tests and everything else read the files written here:

* ``national_daily.csv`` — real national doses per day: the differences of OWID's reported
  cumulative total, split into first / second / booster from its cumulative people counts,
  with the reported cumulatives alongside;
* ``live_day.csv`` — the busy day the live feed replays (volume and split, at scale 1);
* ``provinces.csv`` — the 63 provinces: vaccination sites and doses on the MoH portal snapshot
  of 2021-08-04, 2019 census and MoH 18+ populations;
* ``vaccines.csv`` — the products used in Vietnam, coded with the EU DCC value sets (every code
  is checked against the value-set files: the build fails on an unknown one);
* ``vaccine_mix.csv`` — an approximate product mix over time (no official series exists);
* ``names.csv`` — Vietnamese name parts with weights, written for this project;
* ``licences/``, ``README.md`` and ``manifest.json`` (sha256 and size of every file).

The build is deterministic (same sources → same bytes) and fails loudly (:class:`BuildError`)
when a source breaks an expectation instead of writing doubtful data. It prints a one-line JSON
summary on stdout.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
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

from geo.calendar import CAMPAIGN_END, CAMPAIGN_START, SNAPSHOT_DAY
from geo.provinces import N_PROVINCES
from registry.calibration import DOSE_KINDS, allocate

__all__ = ["DEFAULT_OUT", "DEFAULT_SOURCE", "BuildError", "BuildResult", "build", "main"]

REPO_ROOT: Final = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE: Final = REPO_ROOT.parent / "shared" / "data"
DEFAULT_OUT: Final = Path(__file__).resolve().parent / "data"

#: Source files read, relative to the source folder.
SOURCES: Final[Mapping[str, str]] = {
    "owid": "vn/owid/owid_vaccinations_vietnam.csv",
    "owid_locations": "vn/owid/owid_vaccination_locations_vietnam.csv",
    "snapshot": "vn/moh_province_snapshot/vn_moh_vaccination_by_province_2021-08-04.csv",
    "population": "vn/population/vn_province_population.csv",
    "medicinal_product": "dcc-schema/valuesets/vaccine-medicinal-product.json",
    "mah_manf": "dcc-schema/valuesets/vaccine-mah-manf.json",
    "prophylaxis": "dcc-schema/valuesets/vaccine-prophylaxis.json",
    "encoding": "dcc-schema/valuesets/vaccine-encoding-instructions.json",
    "valuesets_licence": "dcc-schema/valuesets/LICENSE",
}

CENSUS_2019_TOTAL: Final = 96_208_984
ADULT_18PLUS_TOTAL: Final = 68_969_931
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


class BuildError(RuntimeError):
    """A source file is missing or breaks an expectation; nothing doubtful is written."""


def _require(condition: bool, message: str) -> None:
    """Raise :class:`BuildError` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise BuildError(message)


# --------------------------------------------------------------------------------------------
# Hand-written tables: vaccines, product mix, names
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Vaccine:
    """One product as used in Vietnam. Codes are EU DCC value-set keys (checked at build)."""

    code: str
    name: str
    manufacturer: str
    primary_doses: int
    min_interval_days: int
    typical_interval_days: int
    vial_doses: int
    platform: str


#: The products of the campaign. Intervals are the labelled / MoH-guidance ranges as applied in
#: Vietnam (AstraZeneca 8–12 weeks, minimum 4); Abdala is a 3-dose primary series, 14 days
#: between doses (days 0, 14, 28), as Vietnam's Ministry of Health approved it in September
#: 2021; an interval is the one between consecutive doses of the series. Vial sizes are
#: approximate. Janssen's intervals are 0: a single-dose primary series has no interval.
VACCINES: Final[tuple[Vaccine, ...]] = (
    Vaccine(
        "EU/1/21/1529", "AstraZeneca (Vaxzevria)", "ORG-100001699", 2, 28, 70, 10, "viral vector"
    ),
    Vaccine(
        "BBIBP-CorV",
        "Sinopharm (BBIBP-CorV, Vero Cell)",
        "ORG-100020693",
        2,
        21,
        28,
        1,
        "inactivated",
    ),
    Vaccine("EU/1/20/1528", "Pfizer-BioNTech (Comirnaty)", "ORG-100030215", 2, 21, 28, 6, "mRNA"),
    Vaccine("EU/1/20/1507", "Moderna (Spikevax)", "ORG-100031184", 2, 28, 28, 10, "mRNA"),
    Vaccine(
        "Sputnik-V",
        "Sputnik V (Gamaleya)",
        "Gamaleya-Research-Institute",
        2,
        21,
        21,
        5,
        "viral vector",
    ),
    Vaccine("Abdala", "Abdala (CIGB-66)", "CIGB", 3, 14, 14, 10, "protein subunit"),
    Vaccine("Hayat-Vax", "Hayat-Vax (G42/Julphar)", "ORG-100023050", 2, 21, 28, 1, "inactivated"),
    Vaccine("EU/1/20/1525", "Janssen (Jcovden)", "ORG-100001417", 1, 0, 0, 5, "viral vector"),
)

#: The generic SNOMED code the value set allows for every product; a product gets its specific
#: platform code when the encoding instructions list one.
GENERIC_PROPHYLAXIS: Final = "28531000087107"

#: Product mix over time, ``(from_date, ((code, share in thousandths), ...))``. An
#: approximation from public reporting on deliveries and use — see the README.
VACCINE_MIX: Final[tuple[tuple[str, tuple[tuple[str, int], ...]], ...]] = (
    ("2021-03-08", (("EU/1/21/1529", 1000),)),
    ("2021-06-20", (("EU/1/21/1529", 900), ("BBIBP-CorV", 100))),
    (
        "2021-07-10",
        (
            ("EU/1/21/1529", 600),
            ("BBIBP-CorV", 140),
            ("EU/1/20/1507", 150),
            ("EU/1/20/1528", 90),
            ("Sputnik-V", 20),
        ),
    ),
    (
        "2021-08-15",
        (
            ("EU/1/21/1529", 420),
            ("BBIBP-CorV", 300),
            ("EU/1/20/1528", 120),
            ("EU/1/20/1507", 120),
            ("Sputnik-V", 30),
            ("Hayat-Vax", 10),
        ),
    ),
    (
        "2021-09-25",
        (
            ("EU/1/21/1529", 350),
            ("BBIBP-CorV", 290),
            ("EU/1/20/1528", 160),
            ("EU/1/20/1507", 100),
            ("Abdala", 60),
            ("Sputnik-V", 20),
            ("Hayat-Vax", 20),
        ),
    ),
    (
        "2021-11-01",
        (
            ("EU/1/21/1529", 320),
            ("BBIBP-CorV", 220),
            ("EU/1/20/1528", 280),
            ("EU/1/20/1507", 100),
            ("Abdala", 50),
            ("Sputnik-V", 10),
            ("Hayat-Vax", 20),
        ),
    ),
    (
        "2022-01-01",
        (
            ("EU/1/21/1529", 280),
            ("EU/1/20/1528", 350),
            ("EU/1/20/1507", 200),
            ("BBIBP-CorV", 120),
            ("Abdala", 30),
            ("EU/1/20/1525", 10),
            ("Sputnik-V", 5),
            ("Hayat-Vax", 5),
        ),
    ),
    (
        "2022-04-14",
        (
            ("EU/1/20/1528", 500),
            ("EU/1/20/1507", 220),
            ("EU/1/21/1529", 180),
            ("BBIBP-CorV", 80),
            ("Abdala", 10),
            ("EU/1/20/1525", 10),
        ),
    ),
    (
        "2022-10-01",
        (
            ("EU/1/20/1528", 500),
            ("EU/1/21/1529", 250),
            ("EU/1/20/1507", 200),
            ("BBIBP-CorV", 50),
        ),
    ),
)

#: Family names with approximate population shares (percent; normalised at use). Hoàng/Huỳnh
#: and Vũ/Võ are the northern/southern forms of the same names and are listed separately.
FAMILY_NAMES: Final[tuple[tuple[str, float], ...]] = (
    ("Nguyễn", 38.4), ("Trần", 11.0), ("Lê", 9.5), ("Phạm", 7.0), ("Hoàng", 3.0),
    ("Huỳnh", 2.0), ("Phan", 4.5), ("Vũ", 2.0), ("Võ", 1.9), ("Đặng", 2.1), ("Bùi", 2.0),
    ("Đỗ", 1.4), ("Hồ", 1.3), ("Ngô", 1.3), ("Dương", 1.0), ("Lý", 0.5), ("Đào", 0.6),
    ("Đoàn", 0.6), ("Đinh", 0.6), ("Trương", 0.6), ("Lâm", 0.5), ("Mai", 0.5), ("Trịnh", 0.5),
    ("Cao", 0.4), ("Lương", 0.4), ("Hà", 0.4), ("Nông", 0.3), ("Tạ", 0.3), ("Tô", 0.3),
    ("Châu", 0.3), ("Lưu", 0.3), ("Phùng", 0.3), ("Thái", 0.3), ("Vương", 0.3), ("Tăng", 0.2),
    ("Triệu", 0.2), ("Kiều", 0.2), ("Quách", 0.2), ("Chu", 0.2), ("La", 0.2), ("Lại", 0.2),
    ("Hứa", 0.2), ("Văn", 0.2), ("Lò", 0.15), ("Thân", 0.15), ("Tống", 0.15), ("Từ", 0.15),
    ("Mạc", 0.1), ("Khúc", 0.1), ("Giáp", 0.1), ("Diệp", 0.1), ("Ông", 0.1), ("Âu", 0.1),
    ("Ninh", 0.1), ("Lục", 0.1), ("Hầu", 0.1), ("Mã", 0.1), ("Doãn", 0.1), ("Lã", 0.1),
    ("Phí", 0.1), ("Nghiêm", 0.1), ("Quan", 0.1), ("Khổng", 0.05), ("Bạch", 0.05),
    ("Trình", 0.05),
)  # fmt: skip

MIDDLE_MALE: Final[tuple[tuple[str, float], ...]] = (
    ("Văn", 30), ("Minh", 10), ("Đức", 8), ("Hữu", 6), ("Quang", 6), ("Công", 5),
    ("Thành", 5), ("Thanh", 5), ("Quốc", 5), ("Ngọc", 4), ("Hoàng", 4), ("Đình", 4),
    ("Xuân", 3), ("Anh", 3), ("Gia", 3), ("Trọng", 3), ("Duy", 3), ("Thế", 3), ("Tiến", 2),
    ("Bá", 2), ("Mạnh", 2), ("Tuấn", 2), ("Nhật", 2), ("Hải", 2), ("Bảo", 2), ("Tấn", 2),
    ("Chí", 2), ("Khánh", 1.5), ("Đăng", 1.5), ("Phú", 1), ("Kim", 1),
)  # fmt: skip

MIDDLE_FEMALE: Final[tuple[tuple[str, float], ...]] = (
    ("Thị", 40), ("Ngọc", 8), ("Thu", 5), ("Thanh", 5), ("Kim", 4), ("Minh", 3),
    ("Phương", 3), ("Bảo", 3), ("Hồng", 3), ("Thùy", 3), ("Mai", 2), ("Khánh", 2),
    ("Quỳnh", 2), ("Bích", 2), ("Mỹ", 2), ("Như", 2), ("Diệu", 1.5), ("Hoài", 1.5),
    ("Hải", 1.5), ("Tuyết", 1), ("Lan", 1), ("Hà", 1), ("Cẩm", 1), ("Gia", 1), ("Tú", 1),
    ("Yến", 1), ("Trúc", 1), ("Ánh", 1), ("Hương", 1), ("Quế", 0.5),
)  # fmt: skip

GIVEN_MALE: Final[tuple[tuple[str, float], ...]] = (
    ("Anh", 4), ("Minh", 4), ("Tuấn", 4), ("Hùng", 3), ("Dũng", 3), ("Nam", 3), ("Hải", 3),
    ("Long", 3), ("Huy", 3), ("Đức", 3), ("Sơn", 3), ("Thành", 3), ("Trung", 2.5),
    ("Đạt", 2.5), ("Thắng", 2), ("Quang", 2), ("Hoàng", 2), ("Khoa", 2), ("Bảo", 2),
    ("Phúc", 2), ("Việt", 2), ("Cường", 2), ("Tùng", 2), ("Hiếu", 2), ("Bình", 2),
    ("Vinh", 2), ("Hưng", 2), ("Duy", 2), ("Quân", 2), ("An", 2), ("Khang", 1.5),
    ("Kiên", 1.5), ("Tài", 1.5), ("Lâm", 1.5), ("Phong", 1.5), ("Toàn", 1.5), ("Thịnh", 1.5),
    ("Nghĩa", 1.5), ("Tâm", 1.5), ("Tiến", 1.5), ("Khánh", 1.5), ("Lộc", 1.5), ("Phát", 1.5),
    ("Trí", 1.5), ("Nhân", 1.5), ("Chiến", 1.5), ("Hòa", 1.5), ("Mạnh", 1.5),
    ("Nguyên", 1.5), ("Trường", 1.5), ("Vũ", 1.5), ("Khôi", 1.5), ("Thông", 1), ("Sang", 1),
    ("Công", 1), ("Hiệp", 1), ("Hào", 1), ("Lợi", 1), ("Luân", 1), ("Quý", 1), ("Thiện", 1),
    ("Định", 1), ("Giang", 1), ("Hậu", 1), ("Tín", 1), ("Thuận", 1), ("Đông", 1),
    ("Thái", 1), ("Kiệt", 1), ("Hiển", 0.5), ("Lực", 0.5),
)  # fmt: skip

GIVEN_FEMALE: Final[tuple[tuple[str, float], ...]] = (
    ("Anh", 4), ("Linh", 4), ("Trang", 4), ("Thảo", 3.5), ("Hương", 3), ("Hà", 3),
    ("Lan", 3), ("Mai", 3), ("Hằng", 3), ("Phương", 3), ("Ngọc", 2.5), ("Hoa", 2.5),
    ("Huyền", 2.5), ("Nhi", 2.5), ("Thủy", 2.5), ("Vy", 2.5), ("Hạnh", 2), ("Hiền", 2),
    ("Hồng", 2), ("My", 2), ("Nga", 2), ("Ngân", 2), ("Nhung", 2), ("Quỳnh", 2), ("Thu", 2),
    ("Thư", 2), ("Trâm", 2), ("Uyên", 2), ("Vân", 2), ("Yến", 2), ("Chi", 2), ("Dung", 2),
    ("Giang", 2), ("Loan", 1.5), ("Ly", 1.5), ("Oanh", 1.5), ("Tâm", 1.5), ("Thanh", 1.5),
    ("Trinh", 1.5), ("Tuyết", 1.5), ("Xuân", 1.5), ("Duyên", 1.5), ("Huệ", 1.5),
    ("Liên", 1.5), ("Phượng", 1.5), ("Thương", 1.5), ("Ánh", 1.5), ("Hân", 1.5), ("An", 1.5),
    ("Châu", 1), ("Diệp", 1), ("Hậu", 1), ("Hoài", 1), ("Khánh", 1), ("Lệ", 1), ("Nguyệt", 1),
    ("Nhàn", 1), ("Quyên", 1), ("Thắm", 1), ("Thoa", 1), ("Tú", 1), ("Vi", 1), ("Bích", 1),
    ("Kiều", 1), ("Diễm", 1), ("Sương", 1), ("Cúc", 1),
)  # fmt: skip

NAME_KINDS: Final[Mapping[str, tuple[tuple[str, float], ...]]] = {
    "family": FAMILY_NAMES,
    "middle_m": MIDDLE_MALE,
    "middle_f": MIDDLE_FEMALE,
    "given_m": GIVEN_MALE,
    "given_f": GIVEN_FEMALE,
}
MIN_GIVEN_NAMES: Final = 60


# --------------------------------------------------------------------------------------------
# Reading sources
# --------------------------------------------------------------------------------------------


def _read_bytes(source: Path, key: str) -> bytes:
    path = source / SOURCES[key]
    _require(path.is_file(), f"source file missing: {path}")
    return path.read_bytes()


def _csv_frame(data: bytes, what: str, **kwargs: Any) -> pd.DataFrame:
    try:
        return pd.read_csv(io.BytesIO(data), **kwargs)
    except (ValueError, pd.errors.ParserError) as exc:
        raise BuildError(f"{what}: cannot parse CSV: {exc}") from exc


def _valueset(data: bytes, what: str) -> dict[str, Any]:
    try:
        parsed = json.loads(data)
        values = parsed["valueSetValues"]
    except (ValueError, KeyError) as exc:
        raise BuildError(f"{what}: not a DCC value-set file: {exc}") from exc
    _require(isinstance(values, dict) and bool(values), f"{what}: empty value set")
    return dict(parsed)


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
    _require(first is not None, f"OWID: {column} is empty")
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
    _require((dates.diff().dropna() == pd.Timedelta(days=1)).all(), "OWID: days not consecutive")
    _require(
        dates.iloc[0].date() == CAMPAIGN_START - timedelta(days=1)
        and dates.iloc[-1].date() == CAMPAIGN_END,
        f"OWID: covers {dates.iloc[0].date()} … {dates.iloc[-1].date()}",
    )
    raw = {column: owid[column].astype(np.float64) for column in REPORTED_COLUMNS.values()}
    for column, series in raw.items():
        values = series.dropna()
        _require(bool(np.all(np.mod(values, 1) == 0)), f"OWID: non-integer {column}")
        _require(bool((values >= 0).all()), f"OWID: negative {column}")
    total_raw = raw["total_vaccinations"]
    _require(
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
    _require(bool((booster_raw.dropna() >= 0).all()), "OWID: people counts exceed the total")
    zero = np.flatnonzero((booster_raw == 0).to_numpy())
    positive = np.flatnonzero((booster_raw > 0).to_numpy())
    _require(len(zero) > 0 and len(positive) > 0, "OWID: no booster anchor")
    _require(bool(zero[-1] < positive[0]), "OWID: boosters counted before a later zero")
    booster_raw.iloc[: zero[-1] + 1] = 0.0
    booster, lowered_booster = _revised(booster_raw)
    # What a revision takes from the boosters goes to first doses, so the kinds still add up
    # to the total on every day all three are reported.
    first_adjusted = first + (booster_raw - booster).fillna(0.0)
    _require(bool(first_adjusted.dropna().is_monotonic_increasing), "first doses go down")
    both = second.notna() & first_adjusted.notna()
    _require(bool((second[both] <= first_adjusted[both]).all()), "people fully > people vaccinated")

    cumulative = total.interpolate(method="linear", limit_area="inside")
    doses = np.diff(np.rint(cumulative.to_numpy()).astype(np.int64), prepend=0)
    kinds = (first_adjusted, second, booster)
    reported = np.column_stack([s.notna().to_numpy() for s in kinds])
    targets = np.column_stack(
        [s.interpolate(method="linear", limit_area="inside").ffill().to_numpy() for s in kinds]
    )
    upcoming = np.column_stack([s.shift(-1).bfill().fillna(s.iloc[-1]).to_numpy() for s in kinds])
    _require(not np.isnan(targets).any(), "OWID: a kind cannot be interpolated")
    parts = np.zeros((len(owid), len(DOSE_KINDS)), dtype=np.int64)
    given = np.zeros(len(DOSE_KINDS), dtype=np.int64)
    beyond_targets = 0
    for day in range(1, len(owid)):  # one row per day from 2021-03-08 (846 - 1 days)
        n = int(doses[day])
        if n <= 0:
            _require(n == 0, "negative daily doses")
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
    _require(
        table["date"].iloc[0] == CAMPAIGN_START.isoformat(),
        f"national table must start {CAMPAIGN_START}",
    )
    _require(bool((table[list(DOSE_KINDS)].sum(axis=1) == table["doses"]).all()), "split != doses")
    running = table[list(DOSE_KINDS)].cumsum()
    _require(bool((running["second"] <= running["first"]).all()), "second doses overtake first")
    final = owid.iloc[-1]
    for kind, column in (("first", "people_vaccinated"), ("second", "people_fully_vaccinated")):
        _require(
            int(running[kind].iloc[-1]) == int(final[column]),
            f"{kind} doses end at {int(running[kind].iloc[-1])}, not OWID's {column}",
        )
    on_reported = table["reported_total"] != ""
    revised_total = total.iloc[1:].reset_index(drop=True)[on_reported]
    gap = table["doses"].cumsum()[on_reported] - revised_total
    _require(bool((gap == 0).all()), "cumulative doses differ from a (revised) reported total")

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
    """Join the MoH snapshot and the population table on ``gso_code`` (63/63, checked)."""
    for frame, what in ((snapshot, "snapshot"), (population, "population")):
        codes = frame["gso_code"]
        _require(len(frame) == N_PROVINCES, f"{what}: {len(frame)} rows, expected {N_PROVINCES}")
        _require(codes.is_unique, f"{what}: duplicate gso_code")
        _require(bool(codes.str.fullmatch(r"\d{2}").all()), f"{what}: malformed gso_code")
    merged = population.merge(snapshot, on="gso_code", how="inner", suffixes=("", "_snap"))
    _require(len(merged) == N_PROVINCES, "snapshot and population do not join 63/63")
    merged = merged.sort_values("gso_code").reset_index(drop=True)
    _require(
        bool((merged["dose1_administered"] + merged["dose2_administered"]
              == merged["doses_administered_total"]).all()),
        "snapshot: dose1 + dose2 != doses_administered_total",
    )  # fmt: skip
    _require(
        bool((merged["population_18plus"] == merged["population_18plus_snap"]).all()),
        "snapshot and population disagree on the 18+ population",
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
        _require(got == total, f"provinces: {column} sums to {got}, expected {total}")
        _require(bool((table[column] >= 0).all()), f"provinces: {column} has a negative value")
    return table


# --------------------------------------------------------------------------------------------
# vaccines.csv and vaccine_mix.csv
# --------------------------------------------------------------------------------------------


def _vaccines(
    products: Mapping[str, Any],
    manufacturers: Mapping[str, Any],
    prophylaxis: Mapping[str, Any],
    encoding: Mapping[str, Any],
) -> pd.DataFrame:
    """``vaccines.csv``, every code checked against the DCC value sets and encoding rules."""
    mp = products["valueSetValues"]
    ma = manufacturers["valueSetValues"]
    vp = prophylaxis["valueSetValues"]
    rules = {rule["vaccine-code"]: rule for rule in encoding["valueSetValues"].values()}
    rows = []
    for v in VACCINES:
        _require(v.code in mp, f"vaccine {v.code!r} is not in the medicinal-product value set")
        _require(mp[v.code]["active"] is True, f"vaccine {v.code!r} is inactive in the value set")
        _require(
            v.manufacturer in ma, f"{v.code}: manufacturer {v.manufacturer!r} not in value set"
        )
        rule = rules.get(v.code)
        _require(rule is not None, f"{v.code}: no encoding instruction")
        assert rule is not None
        _require(
            rule["vaccine-manufacturer"] == v.manufacturer,
            f"{v.code}: encoding instructions name {rule['vaccine-manufacturer']}, not {v.manufacturer}",
        )
        specific = [c for c in rule["sct-codes"] if c != GENERIC_PROPHYLAXIS]
        code = specific[0] if specific else GENERIC_PROPHYLAXIS
        _require(code in vp and vp[code]["active"] is True, f"{v.code}: prophylaxis {code} invalid")
        _require(v.primary_doses in (1, 2, 3), f"{v.code}: primary_doses {v.primary_doses}")
        _require(
            (v.primary_doses == 1) == (v.typical_interval_days == 0)
            and 0 <= v.min_interval_days <= v.typical_interval_days,
            f"{v.code}: inconsistent intervals",
        )
        rows.append(
            {
                "code": v.code,
                "name": v.name,
                "manufacturer": v.manufacturer,
                "prophylaxis": code,
                "primary_doses": v.primary_doses,
                "min_interval_days": v.min_interval_days,
                "typical_interval_days": v.typical_interval_days,
                "vial_doses": v.vial_doses,
                "platform": v.platform,
                "product_display": mp[v.code]["display"],
                "manufacturer_display": ma[v.manufacturer]["display"],
                "prophylaxis_display": vp[code]["display"],
            }
        )
    table = pd.DataFrame(rows)
    _require(table["code"].is_unique, "vaccines: duplicate code")
    return table


def _vaccine_mix(codes: set[str]) -> pd.DataFrame:
    """``vaccine_mix.csv``: periods in date order, shares summing exactly to 1 (in 1/1000)."""
    rows = []
    previous = ""
    for from_date, shares in VACCINE_MIX:
        _require(from_date > previous, f"vaccine mix: {from_date} out of order")
        previous = from_date
        _require(sum(s for _, s in shares) == 1000, f"vaccine mix {from_date}: shares != 1")
        seen = [c for c, _ in shares]
        _require(len(seen) == len(set(seen)), f"vaccine mix {from_date}: duplicate code")
        for code, share in shares:
            _require(code in codes, f"vaccine mix {from_date}: unknown code {code}")
            _require(share > 0, f"vaccine mix {from_date}: zero share for {code}")
            rows.append({"from_date": from_date, "code": code, "share": f"{share / 1000:.3f}"})
    _require(
        VACCINE_MIX[0][0] == CAMPAIGN_START.isoformat(),
        f"vaccine mix must start on {CAMPAIGN_START}",
    )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# names.csv
# --------------------------------------------------------------------------------------------


def _names() -> pd.DataFrame:
    """``names.csv``: the hand-written name parts, checked (NFC, unique, enough given names)."""
    rows = []
    for kind, entries in NAME_KINDS.items():
        texts = [text for text, _ in entries]
        _require(len(texts) == len(set(texts)), f"names: duplicate in {kind}")
        for text, weight in entries:
            _require(unicodedata.normalize("NFC", text) == text, f"names: {text!r} is not NFC")
            _require(text.isalpha() and text[0].isupper(), f"names: malformed {text!r}")
            _require(weight > 0, f"names: weight of {text!r}")
            rows.append({"kind": kind, "text": text, "weight": f"{weight:g}"})
    for kind in ("given_m", "given_f"):
        _require(len(NAME_KINDS[kind]) >= MIN_GIVEN_NAMES, f"names: fewer than 60 {kind}")
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    """Deterministic CSV: UTF-8, ``\\n`` line ends, minimal quoting, values as ``str``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(list(frame.columns))
    for row in frame.itertuples(index=False):
        writer.writerow([str(value) for value in row])
    return buffer.getvalue().encode("utf-8")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class BuildResult:
    """What a build wrote: file name → (size in bytes, sha256), and the manifest's checks."""

    out_dir: Path
    files: Mapping[str, tuple[int, str]]
    checks: Mapping[str, Any]

    def summary(self) -> dict[str, Any]:
        """One-line JSON-able summary for the command line."""
        national = self.checks["national_daily"]
        return {
            "command": "build_data",
            "ok": True,
            "out": str(self.out_dir),
            "files": {name: size for name, (size, _) in sorted(self.files.items())},
            "days": national["days"],
            "doses": national["doses_total"],
            **{kind: national[f"{kind}_total"] for kind in DOSE_KINDS},
            "live_day": {key: self.checks["live_day"][key] for key in ("doses", *DOSE_KINDS)},
        }


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
    """Read the shared sources, check them, and write ``registry/data/`` (see module doc)."""
    source = Path(source)
    out = Path(out)
    raw = {key: _read_bytes(source, key) for key in SOURCES}

    owid = _csv_frame(raw["owid"], "OWID", dtype={"date": str})
    national, national_facts = _national_daily(owid)
    live_day, live_facts = _live_day(national)
    snapshot = _csv_frame(raw["snapshot"], "snapshot", dtype={"gso_code": str})
    population = _csv_frame(raw["population"], "population", dtype={"gso_code": str})
    provinces = _provinces(snapshot, population)
    valuesets = {
        key: _valueset(raw[key], SOURCES[key])
        for key in ("medicinal_product", "mah_manf", "prophylaxis", "encoding")
    }
    vaccines = _vaccines(
        valuesets["medicinal_product"],
        valuesets["mah_manf"],
        valuesets["prophylaxis"],
        valuesets["encoding"],
    )
    mix = _vaccine_mix(set(vaccines["code"]))
    names = _names()

    checks: dict[str, Any] = {
        "national_daily": national_facts,
        "live_day": live_facts,
        "snapshot_day": _snapshot_check(national, owid),
        "provinces": {
            c: int(provinces[c].sum())
            for c in provinces.columns
            if c not in ("gso_code", "name_vi")
        },
        "valuesets": {
            key: {"valueSetId": vs["valueSetId"], "valueSetDate": vs["valueSetDate"]}
            for key, vs in valuesets.items()
        },
        "provinces_reporting_one_site": sorted(provinces.loc[provinces["sites"] == 1, "gso_code"]),
        "provinces_zero_dose2": sorted(provinces.loc[provinces["snapshot_dose2"] == 0, "gso_code"]),
        "vaccine_mix_periods": len(VACCINE_MIX),
        "names": {kind: len(entries) for kind, entries in NAME_KINDS.items()},
    }

    files: dict[str, bytes] = {
        "national_daily.csv": _csv_bytes(national),
        "live_day.csv": _csv_bytes(live_day),
        "provinces.csv": _csv_bytes(provinces),
        "vaccines.csv": _csv_bytes(vaccines),
        "vaccine_mix.csv": _csv_bytes(mix),
        "names.csv": _csv_bytes(names),
        "licences/eu-dcc-valuesets-LICENSE.txt": raw["valuesets_licence"],
        "licences/OWID-attribution.txt": (OWID_ATTRIBUTION + "\n").encode("utf-8"),
    }
    files["README.md"] = render_readme(checks, vaccines, mix).encode("utf-8")
    manifest = {
        "generator": "python -m registry.build_data (registry/build_data.py)",
        "sources": {
            SOURCES[key]: {"bytes": len(data), "sha256": _sha256(data)}
            for key, data in sorted(raw.items())
        },
        "files": {
            name: {"bytes": len(data), "sha256": _sha256(data)}
            for name, data in sorted(files.items())
        },
        "checks": checks,
    }
    files["manifest.json"] = (
        json.dumps(manifest, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    ).encode("utf-8")

    for name, data in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
    return BuildResult(
        out_dir=out,
        files={name: (len(data), _sha256(data)) for name, data in files.items()},
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


def _revision_note(revisions: Mapping[str, Any]) -> str:
    """Which reported series a revision lowered (none, in this source)."""
    lowered = [
        f"`{column}` on {_day_list(revisions[column])}"
        for column in ("total_vaccinations", "people_vaccinated", "people_fully_vaccinated")
        if revisions[column]
    ]
    return "checked by the build" if not lowered else "except " + "; ".join(lowered)


def render_readme(checks: Mapping[str, Any], vaccines: pd.DataFrame, mix: pd.DataFrame) -> str:
    """``README.md`` of ``registry/data/``: sources, licences, processing and caveats, with the
    figures of this build filled in (so the text cannot drift from the data)."""
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
    vs = checks["valuesets"]
    booster_owid_gap = (
        owid_final["total_vaccinations"]
        - owid_final["people_vaccinated"]
        - owid_final["people_fully_vaccinated"]
    )
    vaccine_rows = "\n".join(
        f"| `{r.code}` | {r.name} | `{r.manufacturer}` ({r.manufacturer_display}) | "
        f"`{r.prophylaxis}` | {r.primary_doses} | {r.min_interval_days} | "
        f"{r.typical_interval_days} | {r.vial_doses} |"
        for r in vaccines.itertuples(index=False)
    )
    names_by_code = dict(zip(vaccines["code"], vaccines["name"], strict=True))
    mix_rows = "\n".join(
        f"| {from_date} | "
        + ", ".join(
            f"{names_by_code[c].split(' (')[0]} {float(sh):.1%}"
            for c, sh in zip(group["code"], group["share"], strict=True)
        )
        + " |"
        for from_date, group in mix.groupby("from_date", sort=True)
    )
    family_total = sum(w for _, w in FAMILY_NAMES)
    top_family = ", ".join(f"{t} {w / family_total:.1%}" for t, w in FAMILY_NAMES[:5])
    counts = checks["names"]
    return f"""# `registry/data/` — calibration data for the registry simulator

Generated by `python -m registry.build_data` (source: `registry/build_data.py`) from the shared
source folder; **do not edit by hand**. The build is deterministic: running it again on the
same sources rewrites the same bytes (sha256 of every file in `manifest.json`, together with
the sha256 of every source file read and the facts the build checked). Only the build reads
the shared folder; `registry/calibration.py`, `registry/people.py`, the simulator and the tests
read these files.

| file | rows | content |
|---|---|---|
| `national_daily.csv` | {nat["days"]} | real national doses per day 2021-03-08 … 2023-06-30 at scale 1: `date, doses, first, second, booster, reported_total, reported_people, reported_fully` |
| `live_day.csv` | 1 | the busy day the live feed replays, scale 1: `doses, first, second, booster` |
| `provinces.csv` | 63 | `gso_code, name_vi, sites, snapshot_dose1, snapshot_dose2, population_2019, population_18plus` |
| `vaccines.csv` | {len(vaccines)} | products used in Vietnam, EU DCC value-set codes, schedules, vial sizes |
| `vaccine_mix.csv` | {len(mix)} | `from_date, code, share`: approximate product mix over time ({checks["vaccine_mix_periods"]} periods) |
| `names.csv` | {sum(counts.values())} | Vietnamese name parts with weights: `kind, text, weight` |
| `licences/` | 2 | EU DCC value-set licence (Apache-2.0, copied unchanged); OWID attribution |

## `national_daily.csv`

Source: Our World in Data, Vietnam rows of `vaccinations.csv` (data from the Ministry of Health
until mid-2022, the WHO COVID-19 dashboard afterwards). One row per day, scale 1: `doses`,
`first`, `second`, `booster` (integers, `first + second + booster == doses` every day), and the
figures OWID reported that day, blank when it reported none: `reported_total`
(`total_vaccinations`, on {nat["days_total_reported"]} of the {nat["days"]} days),
`reported_people` (`people_vaccinated`, {follow["first"]["days_reported"]} days) and
`reported_fully` (`people_fully_vaccinated`, {follow["second"]["days_reported"]} days).

* `doses` = the day-to-day differences of the reported cumulative `total_vaccinations`,
  interpolated linearly across the days it is not reported and rounded on the cumulative
  series, so the running total of `doses` equals `reported_total` on every day that has one
  (checked by the build) — {_n(nat["doses_total"])} doses in all, OWID's last cumulative.
  OWID's own `daily_vaccinations` is not used: it is a 7-day smoothed series, and its running
  total lags the reported one, by {lag["lag"]:.1%} at worst on a day reporting a million doses
  or more ({lag["day"]}: {_n(lag["smoothed_cumulative"])} against {_n(lag["reported_total"])}).
* The split into `first`, `second`, `booster` follows three cumulative series:
  * first = `people_vaccinated` (people with at least one dose);
  * second = `people_fully_vaccinated` (completed primary series), taken as 0 up to
    {nat["zero_anchor_dates"]["people_fully_vaccinated"]}, the last day on which
    `total_vaccinations == people_vaccinated` (so no second dose existed yet);
  * booster = `total_vaccinations − people_vaccinated − people_fully_vaccinated`, on the days
    all three are reported: every dose beyond the primary series (third and fourth doses).
    It is 0 through {nat["zero_anchor_dates"]["booster_last_zero"]} (taken as 0 on every day up
    to then) and equals OWID's `total_boosters` on {booster_cmp["days_equal"]} of the
    {booster_cmp["days_compared"]} days where both exist, up to {booster_cmp["last_equal_day"]}.
    In the WHO era `total_boosters` leaves out
    {_n(booster_cmp["gap_first_day_after"])}–{_n(booster_cmp["gap_last_day"])} doses (the
    second boosters): using it would leave ~32 M doses to be split as first and second doses
    and give more first doses (≈102 M) than the country has people. The difference is used
    instead, so the three kinds account for all doses.

  What `second` holds: on every day through {nat["zero_anchor_dates"]["booster_last_zero"]}
  that reports all three, `total_vaccinations == people_vaccinated + people_fully_vaccinated`,
  although Abdala, a 3-dose primary series, was in use from autumn 2021: every dose after a
  person's first was counted in `people_fully_vaccinated`, Abdala's second and third alike.
  The simulator reads the columns the same way: `second` is every primary-series dose after
  the first (dose 2 of a 2-dose product; doses 2 and 3 of Abdala), `booster` every dose
  beyond the primary series (a single-dose Janssen series' next dose included).

* **Revisions.** A cumulative count cannot go down, so a reported value above a later one is
  read as revised by it: each series is capped at every later reported value (a backward
  running minimum) before anything else. In this source no reported `total_vaccinations`,
  `people_vaccinated` or `people_fully_vaccinated` goes down
  ({_revision_note(revisions)}); the booster difference does, once: the last report
  ({CAMPAIGN_END.isoformat()}) raises `people_vaccinated` by more than the total rose since the
  report before, so boosters on {_day_list(revisions["booster_days"])} are capped at the final
  value (by up to {_n(revisions["booster_max_lowered"])}), and the doses this takes from
  boosters are counted as first doses on those days: the kinds still add up to the total,
  and first doses end at the final `people_vaccinated`.
* **The daily split.** Each kind's target is its reported cumulative on the days it is
  reported (the zero anchors above count as reports) and the straight line between reports
  on the others. Each day's doses are split in whole doses (largest remainder,
  `registry.calibration.allocate`): the kinds reported that day first get what they lack to
  reach their reported figure; the others then share the rest by what they lack to reach
  their interpolated target; doses still left — the total, interpolated on its own reported
  days, runs ahead of the kinds' targets, interpolated on theirs — go to the kinds in
  proportion to how far each still is from its next reported figure
  ({_n(nat["doses_beyond_targets"])} doses in this build).

How closely each kind's running total follows its reported cumulative, on the days it is
reported (relative differences counted on reported values of 1,000 or more):

| kind | reported on | equal on | largest difference | off by more than 1 % on |
|---|---|---|---|---|
{follow_rows}

The differences over 1 % fall in May 2021, around the days on which OWID reports
`people_vaccinated` but no total ({_day_list(nat["days_people_without_total"])}): there the
doses follow the straight line of the interpolated total while the reported people count rose
in a burst. The largest absolute differences are the booster revision above.

Result (scale 1): first {_n(nat["first_total"])} ({nat["first_total"] / prov["population_2019"]:.2%}
of the 2019 census), second {_n(nat["second_total"])}, booster {_n(nat["booster_total"])};
OWID's final cumulative values: `people_vaccinated` {_n(owid_final["people_vaccinated"])},
`people_fully_vaccinated` {_n(owid_final["people_fully_vaccinated"])}, doses beyond the primary
series {_n(booster_owid_gap)} (`total_boosters` {_n(owid_final["total_boosters"])}). Cumulative
second doses never exceed cumulative first doses (checked by the build).

Check against the MoH portal snapshot ({snap["day"]}): cumulative doses in this file
{_n(ours["doses"])} (first {_n(ours["first"])}, second {_n(ours["second"])}), OWID's reported
cumulative for that day ({_n(reported["total_vaccinations"])}; ≥1 dose
{_n(reported["people_vaccinated"])}, fully {_n(reported["people_fully_vaccinated"])}); the
portal showed {_n(portal["doses"])} (dose 1 {_n(portal["first"])}, dose 2
{_n(portal["second"])}): the portal lagged the press figures OWID carries (see the snapshot's
own README).

## `live_day.csv`

One row, scale 1, `doses, first, second, booster`: the busy day the live feed replays
(`registry.calibration.live_day()`), {_n(live["doses"])} doses — first {_n(live["first"])},
second {_n(live["second"])}, booster {_n(live["booster"])}.

* Volume: the median, over the {BUSY_DAYS} days with the highest trailing {BUSY_WINDOW_DAYS}-day
  mean of `doses`, of that mean. Those days fall between {live["busiest_from"]} and
  {live["busiest_to"]}, with means from {_n(live["busiest_mean_min"])} to
  {_n(live["busiest_mean_max"])}; the largest single day in the file is {live["busiest_day"]}
  ({_n(live["busiest_day_doses"])}).
* Split: the campaign's last 12 months ({live["mix_from"]} … {live["mix_to"]}:
  {_n(live["mix_doses"])} doses, of which first {_n(live["mix_first"])}, second
  {_n(live["mix_second"])}, booster {_n(live["mix_booster"])}), applied to the volume by largest
  remainder: mostly boosters and later doses of a series, so a feed running for days does not
  keep raising first-dose coverage.
* When in the day: not in this file. No intraday source exists in the data used here; the
  simulator's morning-peaked shape within each site's opening hours (`registry/simulator.py`)
  is an assumption of the simulator, not calibration data.

## `provinces.csv`

The 63 provinces (pre-July-2025), ordered by GSO code — the order of every per-province array
in `registry.calibration`. `sites`, `snapshot_dose1`, `snapshot_dose2`: MoH COVID-19
vaccination portal (tiemchungcovid19.gov.vn) as captured 2021-08-04 (national totals
{_n(prov["sites"])} sites, {_n(prov["snapshot_dose1"])} first and {_n(prov["snapshot_dose2"])}
second doses). `population_2019`: GSO 2019 census ({_n(prov["population_2019"])});
`population_18plus`: the MoH 18+ denominator ({_n(prov["population_18plus"])}). Joined on
`gso_code`, 63/63; `name_vi` is NFC with new-style tone marks (`Hòa Bình`).

Caveat: {len(one_site)} provinces report exactly **1** vaccination site on the portal
({", ".join(one_site)} — including Hồ Chí Minh City (79), which had a quarter of all doses);
this is evidently "not filled in" rather than a real count. The file keeps the portal's values;
a simulator that places doses at sites should give these provinces a plausible number of sites
(e.g. proportional to population) instead of funnelling them through one.
{"Trà Vinh (84) reports 0 second doses." if "84" in checks["provinces_zero_dose2"] else ""}

## `vaccines.csv`

Codes are keys of the EU DCC value sets (eHealth Network, `vaccine-medicinal-product`
{vs["medicinal_product"]["valueSetDate"]}, `vaccine-mah-manf` {vs["mah_manf"]["valueSetDate"]},
`vaccine-prophylaxis` {vs["prophylaxis"]["valueSetDate"]}). The build fails if a product,
manufacturer or prophylaxis code is missing or inactive in the value sets, or if the
manufacturer disagrees with the value sets' encoding instructions
({vs["encoding"]["valueSetDate"]}). `prophylaxis` is the platform-specific SNOMED code those
instructions list (mRNA 1119349007, viral vector 29061000087103, inactivated 1157024006),
or the generic `28531000087107` where they list nothing more specific (Abdala);
`J07BX03` is deprecated in the value set and is not used.

| code | name | manufacturer | prophylaxis | primary doses | min interval (d) | typical interval (d) | doses per vial |
|---|---|---|---|---|---|---|---|
{vaccine_rows}

Notes: Abdala is the value set's key (`CIGB-66` is the product's other name, not a key).
Abdala's primary series is 3 doses 14 days apart (days 0, 14, 28), the schedule Vietnam's
Ministry of Health approved in September 2021 and the one the certificate rules use
(`certificates/data/products.csv`); its intervals are those between consecutive doses.
Intervals are the usual labelled or Ministry of Health values (AstraZeneca 8–12 weeks, minimum
4). Doses per vial are approximate and only drive simulated vial accounting (Pfizer adult vials
6 doses after dilution; Sinopharm and Hayat-Vax single-dose vials; Sputnik V 5-dose vials;
Moderna, AstraZeneca and Abdala 10-dose vials; Janssen 5-dose vials). Extra columns:
`platform`, and the value sets' display texts.

## `vaccine_mix.csv`

**An approximation, not an official series.** No manufacturer breakdown of doses exists for
Vietnam in the public data (OWID's by-manufacturer file does not cover Vietnam; the UNICEF and
MoH figures available are totals). The periods below were written for this project from public
reporting on deliveries and use — AstraZeneca alone from 8 March 2021, Sinopharm from June 2021
(Hayat-Vax, the same vaccine made in the UAE, later in 2021), Pfizer and Moderna (COVAX and
bilateral donations) from July 2021, small Sputnik V use, Abdala from autumn 2021 (mostly Hà
Nội and the north), Janssen marginal in 2022, and 2022 boosters and children's doses mostly
Pfizer, Moderna and AstraZeneca. Shares are per period and sum to 1; a period runs from its
`from_date` to the next one.

| from | products and shares |
|---|---|
{mix_rows}

## `names.csv`

Vietnamese name parts written for this project from common knowledge (not copied from any
list): {counts["family"]} family names with approximate population shares ({top_family}, …;
Hoàng/Huỳnh and Vũ/Võ are the northern/southern forms of one name each and listed separately),
middle names by sex ({counts["middle_m"]} male — `Văn` most common; {counts["middle_f"]} female
— `Thị` most common), and given names by sex ({counts["given_m"]} male, {counts["given_f"]}
female) with rough popularity weights. Weights are relative (normalised at use). All texts are
NFC with new-style tone marks (`Hòa`, `Thủy`).

## Sources and licences

* **Our World in Data — COVID-19 vaccinations** (`vn/owid/owid_vaccinations_vietnam.csv`):
  CC BY 4.0. Attribution: {OWID_ATTRIBUTION} (also in `licences/OWID-attribution.txt`).
  `national_daily.csv` and `live_day.csv` are derived from it (differenced, split and
  rounded as described above; the reported columns are copied unchanged).
* **MoH COVID-19 vaccination portal, snapshot 2021-08-04** (`vn/moh_province_snapshot/`):
  Vietnamese government statistics; the intermediary repository carries no licence. Attribute
  "Ministry of Health of Viet Nam, COVID-19 vaccination portal, snapshot 2021-08-04".
* **GSO 2019 Population and Housing Census** and the **MoH 18+ population**
  (`vn/population/`): official statistics of the General Statistics Office and the Ministry of
  Health of Viet Nam; cite "GSO, 2019 Population and Housing Census" and "MoH COVID-19
  vaccination portal".
* **EU DCC value sets** (`dcc-schema/valuesets/`, eHealth Network, release 2.12.0): Apache-2.0,
  licence copied unchanged to `licences/eu-dcc-valuesets-LICENSE.txt`. Only codes and display
  texts are used.
* `vaccines.csv` schedules and vial sizes, `vaccine_mix.csv` and `names.csv` were written for
  this project.

## Rebuilding

```
python -m registry.build_data [--source ../shared/data] [--out registry/data]
```

prints a one-line JSON summary (files and sizes, national totals) and exits 1 with the reason
if a source breaks an expectation (nothing doubtful is written).
"""


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
