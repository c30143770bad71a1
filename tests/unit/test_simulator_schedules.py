"""The simulator's schedules (``registry.simulator``): which queue a dose waits in and which
product a later dose gets, against the certificate rules (``certificates.rules``)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from certificates import rules
from registry import calibration
from registry.simulator import (
    BOOSTER_MIN_DAYS,
    booster_queue,
    fourth_queue,
    later_products,
    primary_queue,
    products_for,
    series_lengths,
)

AZ, PFIZER, JANSSEN, ABDALA = "EU/1/21/1529", "EU/1/20/1528", "EU/1/20/1525", "Abdala"
#: days whose product mix has Abdala and Janssen (2022-01-01 period) or neither (2022-10-01)
WITH_BOTH, WITHOUT_EITHER = date(2022, 1, 10), date(2022, 11, 1)


@pytest.fixture(scope="module")
def lengths() -> dict[str, int]:
    return series_lengths(calibration.vaccines())


def per_dose(code: str, number: int, lengths: dict[str, int]) -> tuple[bool, bool]:
    """(completes the series, is a booster) by the dose's own product, as the portal counts."""
    return number == lengths[code], number > lengths[code]


def later(
    rng: np.random.Generator, day: date, previous: str, number: int, n: int, lengths: dict[str, int]
) -> np.ndarray:
    return later_products(
        rng,
        pd.Series([day] * n, dtype=object),
        pd.Series([previous] * n, dtype=object),
        pd.Series([number] * n),
        lengths,
    )


def test_series_lengths_and_queues(lengths: dict[str, int]) -> None:
    assert lengths[ABDALA] == 3 and lengths[JANSSEN] == 1 and lengths[PFIZER] == 2
    two_dose = tuple(sorted(c for c, n in lengths.items() if n == 2))
    intervals = calibration.vaccines().set_index("code")["min_interval_days"]
    first = primary_queue(lengths, 1, intervals)
    assert first.sources == ((1, tuple(sorted([*two_dose, ABDALA]))),)
    assert first.wait_days[AZ] == 28 and first.shortest_wait == 14  # Abdala's 14 days
    third = primary_queue(lengths, 2, intervals)
    assert third.sources == ((2, (ABDALA,)),) and dict(third.wait_days) == {ABDALA: 14}
    boosters = booster_queue(lengths)
    assert boosters.sources == ((1, (JANSSEN,)), (2, two_dose), (3, (ABDALA,)))
    assert set(boosters.wait_days.values()) == {BOOSTER_MIN_DAYS}
    assert fourth_queue(lengths).sources == ((3, tuple(sorted([*two_dose, JANSSEN]))),)


def test_abdala_primary_doses_stay_abdala(lengths: dict[str, int]) -> None:
    rng = np.random.default_rng(1)
    for number in (2, 3):
        assert set(later(rng, WITH_BOTH, ABDALA, number, 500, lengths)) == {ABDALA}


def test_switched_primary_doses_keep_the_series_length(lengths: dict[str, int]) -> None:
    rng = np.random.default_rng(2)
    products = later(rng, WITH_BOTH, AZ, 2, 2000, lengths)
    switched = products[products != AZ]
    assert 100 < len(switched) < 300  # about SWITCH_SHARE of them, from the day's mix
    assert {lengths[code] for code in switched} == {2}


def test_boosters_have_a_shorter_series_than_their_dose_number(lengths: dict[str, int]) -> None:
    rng = np.random.default_rng(3)
    thirds = later(rng, WITH_BOTH, PFIZER, 3, 2000, lengths)
    assert ABDALA not in set(thirds) and len(set(thirds)) > 3  # Abdala is in that day's mix
    assert {lengths[code] for code in thirds} <= {1, 2}
    assert ABDALA in set(later(rng, WITH_BOTH, ABDALA, 4, 2000, lengths)) | set(
        later(rng, WITH_BOTH, PFIZER, 4, 2000, lengths)
    )
    # after Janssen only a single-dose product is a booster at dose 2 in the per-dose count;
    # the day's mix may have none: the previous product is kept
    assert set(later(rng, WITH_BOTH, JANSSEN, 2, 300, lengths)) == {JANSSEN}
    assert set(later(rng, WITHOUT_EITHER, JANSSEN, 2, 300, lengths)) == {JANSSEN}


def test_products_for_follows_the_mix_exactly(lengths: dict[str, int]) -> None:
    rng = np.random.default_rng(4)
    days = pd.Series([WITH_BOTH] * 1000, dtype=object)
    products = pd.Series(products_for(rng, days, lengths)).value_counts()
    codes, shares = calibration.vaccine_mix(WITH_BOTH)
    assert products.to_dict() == dict(zip(codes, calibration.allocate(1000, shares), strict=True))
    late = pd.Series([WITHOUT_EITHER], dtype=object)  # no 3-dose product in its mix
    with pytest.raises(ValueError):
        products_for(rng, late, lengths, np.array([3]), np.array([3]))
    kept = products_for(rng, late, lengths, np.array([3]), np.array([3]), np.array([ABDALA]))
    assert list(kept) == [ABDALA]


def test_certificates_and_per_dose_counts_agree_on_simulated_schedules(
    lengths: dict[str, int],
) -> None:
    """People made the simulator's way — a first product from a day's mix, then up to four
    later doses from `later_products` — get the same status from the certificate rules as
    from counting each dose by its own product (one completing dose once green; boosters)."""
    rng = np.random.default_rng(5)
    days = [date(2021, 10, 1), date(2021, 11, 15), WITH_BOTH, date(2022, 5, 1), WITHOUT_EITHER]
    n = 4000
    day_of = pd.Series([days[i % len(days)] for i in range(n)], dtype=object)
    doses = [pd.Series(products_for(rng, day_of, lengths), dtype=object)]
    for number in range(2, 6):
        doses.append(
            pd.Series(later_products(rng, day_of, doses[-1], pd.Series([number] * n), lengths))
        )
    seen = set()
    for person in range(n):
        codes = [str(series[person]) for series in doses]
        seen.add(codes[0])
        for count in range(1, len(codes) + 1):
            progress = rules.progress(codes[:count])
            counted = [per_dose(code, i, lengths) for i, code in enumerate(codes[:count], 1)]
            full = sum(completes for completes, _ in counted)
            boosters = sum(booster for _, booster in counted)
            assert full == (progress.status == "green"), codes[:count]
            assert boosters == progress.boosters, codes[:count]
    assert {ABDALA, JANSSEN, AZ, PFIZER} <= seen
