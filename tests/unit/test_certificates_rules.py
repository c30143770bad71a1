"""Status rules per product (the primary series lengths of geo/products.csv)."""

from __future__ import annotations

import json

import pytest

from certificates import rules, schema
from tests.conftest import ROOT

AZ, PFIZER, MODERNA, JANSSEN = "EU/1/21/1529", "EU/1/20/1528", "EU/1/20/1507", "EU/1/20/1525"
SINOPHARM, ABDALA, SPUTNIK = "BBIBP-CorV", "Abdala", "Sputnik-V"


@pytest.mark.parametrize(
    ("doses", "status", "boosters", "dn", "sd"),
    [
        ([], "none", 0, 0, 0),
        ([AZ], "yellow", 0, 1, 2),
        ([AZ, AZ], "green", 0, 2, 2),
        ([PFIZER, PFIZER, MODERNA], "green", 1, 3, 3),
        ([AZ, PFIZER], "green", 0, 2, 2),  # mixed schedule counts
        ([SINOPHARM, PFIZER, PFIZER, MODERNA], "green", 2, 4, 4),
        ([SPUTNIK], "yellow", 0, 1, 2),
        ([JANSSEN], "green", 0, 1, 1),
        ([JANSSEN, PFIZER], "green", 1, 2, 1),
        ([JANSSEN, PFIZER, PFIZER], "green", 2, 3, 1),
        ([PFIZER, JANSSEN], "green", 0, 2, 1),  # a single-dose product completes
        ([ABDALA, ABDALA], "yellow", 0, 2, 3),
        ([ABDALA, ABDALA, ABDALA], "green", 0, 3, 3),
        ([ABDALA, AZ], "green", 0, 2, 2),
    ],
)
def test_progress(doses: list[str], status: str, boosters: int, dn: int, sd: int) -> None:
    result = rules.progress(doses)
    assert (result.status, result.boosters, result.dn, result.sd) == (status, boosters, dn, sd)


def test_unknown_product_is_an_error() -> None:
    with pytest.raises(rules.UnknownProductError):
        rules.progress([AZ, "NOT-A-PRODUCT"])


@pytest.mark.parametrize(
    ("mp", "dn", "sd", "status", "boosters"),
    [
        (PFIZER, 1, 2, "yellow", 0),
        (PFIZER, 2, 2, "green", 0),
        (PFIZER, 3, 3, "green", 1),
        (MODERNA, 4, 4, "green", 2),
        (JANSSEN, 1, 1, "green", 0),
        (JANSSEN, 2, 1, "green", 1),
        (PFIZER, 2, 1, "green", 1),  # booster after Janssen
        (ABDALA, 3, 3, "green", 0),
        ("Unlisted", 3, 3, "green", 0),
    ],
)
def test_status_read_back_from_a_certificate(
    mp: str, dn: int, sd: int, status: str, boosters: int
) -> None:
    progress = rules.dcc_status({"v": [{"mp": mp, "dn": dn, "sd": sd}]})
    assert progress is not None
    assert (progress.status, progress.boosters) == (status, boosters)


def test_certificate_round_trip_of_every_schedule() -> None:
    """What `progress` writes as dn/sd, `dcc_status` reads back as the same status."""
    schedules = [[AZ], [AZ, AZ], [AZ, AZ, PFIZER], [JANSSEN, PFIZER], [ABDALA, ABDALA]]
    for doses in schedules:
        written = rules.progress(doses)
        read = rules.dcc_status({"v": [{"mp": doses[-1], "dn": written.dn, "sd": written.sd}]})
        assert read is not None
        assert (read.status, read.boosters) == (written.status, written.boosters), doses


def test_test_and_recovery_certificates_have_no_vaccination_status() -> None:
    assert rules.dcc_status({"t": [{}]}) is None
    assert rules.dcc_status({"v": [{"dn": "2", "sd": 2}]}) is None


def test_every_code_is_in_the_value_sets() -> None:
    for product in rules.products().values():
        assert product.code in schema.value_set("vaccine-medicinal-product")
        assert product.manufacturer in schema.value_set("vaccine-mah-manf"), product.code
        assert product.prophylaxis in schema.value_set("vaccine-prophylaxis"), product.code
        assert product.series_doses in (1, 2, 3)


def test_official_examples_are_valid_and_read_a_status() -> None:
    """The schema project's vaccination examples (their file names do not always match their
    content: "2-of-1-janssen-janssen" holds a Moderna 1/2, so the content is what counts)."""
    folder = ROOT / "tests" / "data" / "dcc" / "examples" / "vaccination"
    statuses = []
    for path in sorted(folder.glob("*.json")):
        dcc = json.loads(path.read_text(encoding="utf-8"))
        assert not schema.problems(dcc), path.name
        progress = rules.dcc_status(dcc)
        assert progress is not None, path.name
        entry = dcc["v"][0]
        assert progress.status == ("green" if entry["dn"] >= entry["sd"] else "yellow")
        statuses.append(progress.status)
    assert len(statuses) == 14 and {"green", "yellow"} <= set(statuses)
