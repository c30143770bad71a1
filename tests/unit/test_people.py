"""Synthetic citizens (``registry.people``): CCCD structure and uniqueness, names, phones, and
the error-injection helpers. Reads only ``registry/data/``."""

from __future__ import annotations

import re
import time
import unicodedata
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from registry import calibration
from registry.people import (
    PEOPLE_COLUMNS,
    CccdIssuer,
    SerialsExhaustedError,
    cccd_valid,
    make_people,
    mismatch_cccd,
    parse_cccd,
    restore_names,
    typo_names,
)

ON_DAY = date(2021, 9, 1)
CODES = np.array(calibration.province_codes())
PHONE = re.compile(r"0(3[2-9]|5[2689]|7[06-9]|8[1-9]|9[0-46-9])\d{7}")
VIETNAMESE_LETTERS = set("ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ")


def _people(
    n: int,
    seed: int = 1,
    *,
    issuer: CccdIssuer | None = None,
    min_age: int = 0,
    max_age: int = 100,
    province_codes: np.ndarray | None = None,
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    if province_codes is None:
        province_codes = CODES[rng.integers(0, len(CODES), n)]
    return make_people(
        rng,
        n,
        on_day=ON_DAY,
        min_age=min_age,
        max_age=max_age,
        province_codes=province_codes,
        issuer=issuer if issuer is not None else CccdIssuer(),
    )


@pytest.fixture(scope="module")
def crowd() -> pd.DataFrame:
    return _people(100_000, seed=2021)


def _all_distinct(ids: pd.Series) -> bool:
    """Uniqueness of 12-digit IDs, fast: parse to int64 (exact for fixed-width digit strings)
    and look for equal neighbours after sorting."""
    array = pa.array(ids.array)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    lengths = pc.utf8_length(array)
    assert pc.min(lengths).as_py() == pc.max(lengths).as_py() == 12
    numbers = np.sort(pc.cast(array, pa.int64()).to_numpy())
    return bool((np.diff(numbers) != 0).all())


# -- make_people --------------------------------------------------------------------------------


def test_columns_and_types(crowd: pd.DataFrame) -> None:
    assert tuple(crowd.columns) == PEOPLE_COLUMNS
    assert len(crowd) == 100_000
    assert crowd.notna().all().all()
    assert set(crowd["sex"].unique()) == {"M", "F"}
    assert pd.api.types.is_datetime64_any_dtype(crowd["date_of_birth"])
    assert set(crowd["residence_province"].unique()) <= set(CODES)


def test_every_generated_cccd_is_valid(crowd: pd.DataFrame) -> None:
    valid = cccd_valid(crowd["citizen_id"], crowd["sex"], crowd["date_of_birth"])
    assert valid.dtype == np.bool_
    assert valid.all()
    assert crowd["citizen_id"].str.fullmatch(r"\d{12}").all()
    assert crowd["citizen_id"].is_unique


def test_century_and_sex_digit(crowd: pd.DataFrame) -> None:
    digit = crowd["citizen_id"].str[3].astype(int)
    born = crowd["date_of_birth"].dt.year
    female = crowd["sex"] == "F"
    new = born >= 2000
    assert new.any() and (~new).any()
    assert (digit[new & ~female] == 2).all()
    assert (digit[new & female] == 3).all()
    assert (digit[~new & ~female] == 0).all()
    assert (digit[~new & female] == 1).all()
    assert (crowd["citizen_id"].str[4:6].astype(int) == born % 100).all()


def test_birth_province_is_mostly_the_residence(crowd: pd.DataFrame) -> None:
    birth = crowd["citizen_id"].str[:3]
    assert birth.str[0].eq("0").all()
    assert set(birth.str[1:]) <= set(CODES)
    same = (birth.str[1:] == crowd["residence_province"]).mean()
    assert 0.82 < same < 0.88  # 15 % are born in another province


def test_ages_lie_in_the_requested_range() -> None:
    people = _people(20_000, min_age=18, max_age=65)
    day = pd.Timestamp(ON_DAY)
    born = people["date_of_birth"]
    had_birthday = (born.dt.month < day.month) | (
        (born.dt.month == day.month) & (born.dt.day <= day.day)
    )
    age = day.year - born.dt.year - (~had_birthday).astype(int)
    assert age.min() == 18 and age.max() == 65
    single = _people(2_000, min_age=30, max_age=30)
    assert (single["date_of_birth"] > pd.Timestamp("1990-09-01")).all()
    assert (single["date_of_birth"] <= pd.Timestamp("1991-09-01")).all()


def test_names_are_vietnamese(crowd: pd.DataFrame) -> None:
    names = crowd["full_name"]
    assert all(unicodedata.normalize("NFC", n) == n for n in names.iloc[:5000])
    parts = names.str.split(" ")
    assert (parts.str.len() == 3).all()
    with_diacritics = names.map(lambda n: any(ch in VIETNAMESE_LETTERS for ch in n.lower()))
    assert with_diacritics.mean() > 0.9
    family = parts.str[0]
    assert 0.35 < (family == "Nguyễn").mean() < 0.41
    middle = parts.str[1]
    female = crowd["sex"] == "F"
    assert (middle[female] == "Thị").mean() > 0.25
    assert not (middle[~female] == "Thị").any()
    assert not (middle[female] == "Văn").any()
    assert (middle[~female] == "Văn").mean() > 0.2
    assert parts.str[2][~female].nunique() >= 60
    assert parts.str[2][female].nunique() >= 60


def test_phone_numbers(crowd: pd.DataFrame) -> None:
    assert crowd["phone"].str.fullmatch(PHONE.pattern).all()
    prefixes = crowd["phone"].str[:2].value_counts(normalize=True)
    assert set(prefixes.index) <= {"03", "05", "07", "08", "09"}
    assert prefixes["03"] > 0.3  # Viettel's 03x block is the largest


def test_same_seed_same_people() -> None:
    a = _people(5_000, seed=9)
    b = _people(5_000, seed=9)
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize(
    ("size", "min_age", "max_age", "province_codes", "match"),
    [
        (2, 0, 5, np.array(["01", "00"]), "unknown province"),
        (3, 0, 5, CODES[:2], None),  # fewer province codes than people
        (1, 9, 5, CODES[:1], None),  # the youngest older than the oldest
    ],
)
def test_make_people_rejects_bad_input(
    size: int, min_age: int, max_age: int, province_codes: np.ndarray, match: str | None
) -> None:
    with pytest.raises(ValueError, match=match):
        make_people(
            np.random.default_rng(0),
            size,
            on_day=ON_DAY,
            min_age=min_age,
            max_age=max_age,
            province_codes=province_codes,
            issuer=CccdIssuer(),
        )


def test_make_people_of_nobody_is_empty() -> None:
    assert len(_people(0)) == 0


# -- uniqueness ---------------------------------------------------------------------------------


def test_five_million_ids_are_unique_and_fast() -> None:
    issuer = CccdIssuer()
    rng = np.random.default_rng(5)
    start = time.perf_counter()
    batches = [
        make_people(
            rng,
            1_000_000,
            on_day=ON_DAY,
            min_age=0,
            max_age=100,
            province_codes=CODES[rng.integers(0, len(CODES), 1_000_000)],
            issuer=issuer,
        )["citizen_id"]
        for _ in range(5)
    ]
    generated = time.perf_counter() - start
    ids = pd.concat(batches, ignore_index=True)
    assert len(ids) == 5_000_000
    assert _all_distinct(ids)
    elapsed = time.perf_counter() - start
    print(f"5,000,000 people in {generated:.2f} s; with the uniqueness check {elapsed:.2f} s")
    assert issuer.issued == 5_000_000
    assert elapsed < 10.0


def test_a_crowded_block_stays_unique() -> None:
    # 200,000 people living in Hồ Chí Minh City, all aged exactly 30: ~4 blocks of ~40,000 each.
    people = _people(200_000, min_age=30, max_age=30, province_codes=np.full(200_000, "79"))
    assert people["citizen_id"].is_unique
    assert cccd_valid(people["citizen_id"], people["sex"], people["date_of_birth"]).all()


def test_an_issuer_rebuilt_from_ids_continues_without_collisions() -> None:
    first = _people(300_000, seed=1, min_age=40, max_age=45)
    restarted = CccdIssuer.from_ids(first["citizen_id"])
    assert restarted.issued == 300_000
    second = _people(300_000, seed=2, min_age=40, max_age=45, issuer=restarted)
    both = pd.concat([first["citizen_id"], second["citizen_id"]], ignore_index=True)
    assert both.is_unique


def test_a_full_block_refuses_and_moves_nothing() -> None:
    issuer = CccdIssuer()
    serials = issuer.issue(np.array([79, 79]), np.array([2, 2]), np.array([5, 5]))
    assert len(set(serials.tolist())) == 2
    counts = issuer.counts()
    block = np.flatnonzero(counts)[0]
    counts[block] = 999_999
    nearly_full = CccdIssuer(counts)
    with pytest.raises(SerialsExhaustedError):
        nearly_full.issue(np.array([79, 79, 1]), np.array([2, 2, 0]), np.array([5, 5, 50]))
    assert np.array_equal(nearly_full.counts(), counts)
    last = nearly_full.issue(np.array([79]), np.array([2]), np.array([5]))
    assert 0 <= int(last[0]) < 1_000_000
    assert int(last[0]) not in serials.tolist()


# -- validation and parsing ---------------------------------------------------------------------


def test_parse_cccd() -> None:
    assert parse_cccd("079095001234") == ("079", "M", 1900, 95)
    assert parse_cccd("001305123456") == ("001", "F", 2000, 5)
    for bad in ("07909500123", "0790950012345", "07909500123x", "０７９０９５００１２３４"):
        with pytest.raises(ValueError):
            parse_cccd(bad)


def test_parse_agrees_with_the_person(crowd: pd.DataFrame) -> None:
    for row in crowd.iloc[:200].itertuples():
        province3, sex, century, yy = parse_cccd(row.citizen_id)
        assert sex == row.sex
        assert century + yy == row.date_of_birth.year
        assert province3[1:] in set(CODES)


def test_cccd_valid_rejects_malformed_and_inconsistent_ids() -> None:
    ids = pd.Series(
        [
            "079095001234",  # valid: HCMC, male, 1995
            "079195001234",  # says female
            "079295001234",  # says born in 2095
            "079094001234",  # says 1994
            "000095001234",  # no province 00
            "099095001234",  # no province 99
            "07909500123",  # 11 digits
            "07909500123A",  # a letter
            None,
        ]
    )
    sex = ["M"] * len(ids)
    born = [date(1995, 5, 1)] * len(ids)
    assert cccd_valid(ids, sex, born).tolist() == [True] + [False] * (len(ids) - 1)
    assert cccd_valid(["079095001234"], ["X"], [date(1995, 5, 1)]).tolist() == [False]
    assert cccd_valid(["079395001234"], ["F"], [date(2095, 1, 1)]).tolist() == [True]


# -- error injection ----------------------------------------------------------------------------


def test_typo_names_changes_about_the_requested_share(crowd: pd.DataFrame) -> None:
    names = crowd["full_name"]
    typed, changed = typo_names(np.random.default_rng(3), names, 0.05)
    assert changed.dtype == np.bool_ and changed.shape == (len(names),)
    assert 0.045 < changed.mean() < 0.055
    assert typed.index.equals(names.index)
    assert (typed[~changed] == names[~changed]).all()
    assert (typed[changed] != names[changed]).all()
    assert names.equals(crowd["full_name"])  # the input is left alone
    changed_text = typed[changed]
    assert changed_text.str.isupper().any()  # wrong case
    assert changed_text.str.isascii().any()  # diacritics dropped
    length_change = changed_text.str.len() - names[changed].str.len()
    assert (length_change == -1).any() and (length_change == 1).any()  # dropped / doubled
    assert all(unicodedata.normalize("NFC", t) == t for t in changed_text)


def test_restore_names_finds_what_a_misspelt_name_stands_for(crowd: pd.DataFrame) -> None:
    names = crowd["full_name"].iloc[:20_000]
    typed, changed = typo_names(np.random.default_rng(5), names, 0.5)
    restored = restore_names(list(typed))
    assert all(r is None for r, c in zip(restored, changed, strict=True) if not c)
    found = [(r, n) for r, n, c in zip(restored, names, changed, strict=True) if c]
    assert sum(r is None for r, _ in found) < 0.01 * len(found)  # an error making a real name
    # every restored name is spelt right; the name itself unless a letter's accent was lost
    assert all(restore_names([r])[0] is None for r, _ in found if r)
    assert np.mean([r == n for r, n in found]) > 0.9
    assert restore_names(["NGUYỄN VĂN AN", "Nguyen Van An", "Ngyuễn Văn An"]) == [
        "Nguyễn Văn An", "Nguyễn Văn An", "Nguyễn Văn An"
    ]  # fmt: skip
    assert restore_names(["An", "Xyz Qwv Plk"]) == ["", ""]  # not a name it can restore


def test_mismatch_cccd_breaks_exactly_the_changed_ids(crowd: pd.DataFrame) -> None:
    ids = crowd["citizen_id"]
    wrong, changed = mismatch_cccd(np.random.default_rng(4), ids, 0.05)
    assert 0.045 < changed.mean() < 0.055
    assert (wrong[~changed] == ids[~changed]).all()
    assert (wrong[changed] != ids[changed]).all()
    assert wrong.str.fullmatch(r"\d{12}").all()
    valid = cccd_valid(wrong, crowd["sex"], crowd["date_of_birth"])
    assert not valid[changed].any()
    assert valid[~changed].all()


def test_error_helpers_at_rate_zero_change_nothing(crowd: pd.DataFrame) -> None:
    rng = np.random.default_rng(0)
    names, changed = typo_names(rng, crowd["full_name"].iloc[:1000], 0.0)
    assert not changed.any() and names.equals(crowd["full_name"].iloc[:1000])
    ids, changed = mismatch_cccd(rng, crowd["citizen_id"].iloc[:1000], 0.0)
    assert not changed.any() and ids.equals(crowd["citizen_id"].iloc[:1000])
