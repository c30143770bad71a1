"""Synthetic Vietnamese citizens for the registry simulator — fast, vectorised, collision-free.

:func:`make_people` draws ``n`` people at once (about a million per second): citizen ID (CCCD),
full name, date of birth, sex, mobile number and province of residence. Nothing loops over
people in Python; strings are assembled as Arrow arrays (names by indexing a prebuilt table of
every family + middle + given combination, IDs and phone numbers from digit matrices).

**CCCD** (*căn cước công dân*, 12 digits, Circular 07/2016/TT-BCA)::

    PPP  G  YY  SSSSSS
    │    │  │   └ serial (6 digits)
    │    │  └ last two digits of the year of birth
    │    └ century and sex: 1900s male 0 / female 1, 2000s male 2 / female 3 (2100s 4/5, …)
    └ birth province: "0" + the 2-digit GSO code (Hà Nội 001, Hồ Chí Minh City 079)

**Why the serials never collide.** Two people can only share an ID if they share the block
``(PPP, G, YY)``, i.e. birth province, sex and year of birth; within a block the 6-digit serial
gives room for 10⁶ people (the largest real block, Hồ Chí Minh City × one sex × one year, holds
of the order of 10⁵). No function of a single global counter can be collision-free: ~90 M
indices do not fit in 10⁶ serials (pigeonhole), and which indices land in the same block is
random. So the serial is a *per-block* counter: a :class:`CccdIssuer` (owned by the caller,
like a database sequence) keeps one counter per block; each new person takes the next rank in
their block (ranks computed for a whole batch at once with a stable sort), and the rank is
turned into a serial by a per-block bijection of ``[0, 10⁶)``:
``serial = (rank × A + offset(block)) mod 10⁶`` with ``gcd(A, 10⁶) = 1``. Distinct ranks give
distinct serials, so IDs are unique for as long as the caller keeps using one issuer (it can
be rebuilt from stored IDs with :meth:`CccdIssuer.from_ids`); serials still look scattered.

The error helpers (:func:`typo_names`, :func:`mismatch_cccd`) inject the kind of mistakes a
data-entry clerk makes, for the ETL's validation to catch; :func:`restore_names` finds the
name a misspelt one stands for (what its holder asks to have corrected).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any, Final, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from registry import calibration

__all__ = [
    "BIRTH_ELSEWHERE_SHARE",
    "CCCD_LENGTH",
    "PEOPLE_COLUMNS",
    "SERIAL_SPACE",
    "CccdIssuer",
    "SerialsExhaustedError",
    "cccd_valid",
    "make_people",
    "mismatch_cccd",
    "parse_cccd",
    "restore_names",
    "typo_names",
]

CCCD_LENGTH: Final = 12
#: Serials per block (6 digits).
SERIAL_SPACE: Final = 1_000_000
#: Share of people born in another province than the one they live in.
BIRTH_ELSEWHERE_SHARE: Final = 0.15
#: Columns of :func:`make_people`, in order.
PEOPLE_COLUMNS: Final = (
    "citizen_id",
    "full_name",
    "date_of_birth",
    "sex",
    "phone",
    "residence_province",
)

# Blocks are (province code 0-99, century/sex digit 0-9, yy 0-99): 100 000 counters.
_N_PROVINCE3: Final = 100
_N_BLOCKS: Final = _N_PROVINCE3 * 10 * 100
# serial = (rank * _MULTIPLIER + offset(block)) mod 10^6; _MULTIPLIER is coprime with 10^6.
_MULTIPLIER: Final = 738_197
_MULTIPLIER_INVERSE: Final = pow(_MULTIPLIER, -1, SERIAL_SPACE)
_OFFSET_MULTIPLIER: Final = 480_881
_OFFSET_SHIFT: Final = 271_829

# Relative number of people per single year of age (approximate shape of the 2019 census
# pyramid: flat to 40, then thinning out), linearly interpolated between the knots.
_AGE_KNOTS: Final = (0, 40, 47, 52, 57, 62, 67, 72, 77, 82, 87, 92, 100, 110)
_AGE_WEIGHTS: Final = (
    1.0,
    1.0,
    0.86,
    0.78,
    0.69,
    0.6,
    0.43,
    0.26,
    0.17,
    0.12,
    0.06,
    0.025,
    0.004,
    0.0,
)
# Share of women by age (slightly below half among the young, rising among the old).
_FEMALE_KNOTS: Final = (0, 20, 60, 80, 100)
_FEMALE_SHARE: Final = (0.48, 0.495, 0.52, 0.6, 0.7)

# Mobile prefixes (3 digits, all 10-digit numbers since the 2018 renumbering) with rough
# market shares: Viettel, VinaPhone, MobiFone, Vietnamobile, Gmobile, iTel.
_PHONE_PREFIXES: Final = (
    ("032 033 034 035 036 037 038 039 086 096 097 098", 0.54),
    ("081 082 083 084 085 088 091 094", 0.27),
    ("070 076 077 078 079 089 090 093", 0.16),
    ("052 056 058 092", 0.025),
    ("059 099", 0.005),
    ("087", 0.005),
)

# "00" … "99" as little-endian 16-bit words (first character in the low byte): a string of
# 2k digits is k one-dimensional table lookups into a (n, k) uint16 matrix viewed as bytes.
_DIGIT_PAIRS: Final = np.array(
    [(48 + i // 10) | ((48 + i % 10) << 8) for i in range(100)], dtype="<u2"
)
_DIGIT_PAIRS.flags.writeable = False

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
ByteMatrix = npt.NDArray[np.uint8]
StrInput: TypeAlias = pd.Series | npt.NDArray[Any] | Sequence[str]
DateInput: TypeAlias = pd.Series | npt.NDArray[Any] | Sequence[date]


class SerialsExhaustedError(RuntimeError):
    """A (birth province, century/sex, year) block would need more than 10⁶ serials."""


# --------------------------------------------------------------------------------------------
# The serial issuer
# --------------------------------------------------------------------------------------------


def _block_index(province3: IntArray, century_sex: IntArray, yy: IntArray) -> IntArray:
    """Flat block number of (birth province code, century/sex digit, two-digit year)."""
    if np.any((province3 < 0) | (province3 >= _N_PROVINCE3)):
        raise ValueError("birth province codes must be 000-099")
    if np.any((century_sex < 0) | (century_sex > 9) | (yy < 0) | (yy > 99)):
        raise ValueError("century/sex digit must be 0-9 and yy 0-99")
    return (province3.astype(np.int64) * 10 + century_sex) * 100 + yy


@lru_cache(maxsize=1)
def _offset_table() -> IntArray:
    table = (
        np.arange(_N_BLOCKS, dtype=np.int64) * _OFFSET_MULTIPLIER + _OFFSET_SHIFT
    ) % SERIAL_SPACE
    table.flags.writeable = False
    return table


def _block_offset(block: IntArray) -> IntArray:
    """Per-block start of the serial permutation (a table lookup: cheaper than a modulo)."""
    return _offset_table()[block]


class CccdIssuer:
    """Per-block serial counters: the state that keeps citizen IDs unique across batches.

    Owned by the caller (one per simulated population, like a database sequence) and passed
    to every :func:`make_people` call. :meth:`issue` advances the counters; nothing else does.
    """

    def __init__(self, counts: npt.ArrayLike | None = None) -> None:
        if counts is None:
            self._counts = np.zeros(_N_BLOCKS, dtype=np.int64)
        else:
            given = np.asarray(counts, dtype=np.int64)
            if given.shape != (_N_BLOCKS,) or np.any(given < 0) or np.any(given > SERIAL_SPACE):
                raise ValueError(f"counts must be {_N_BLOCKS} integers in [0, {SERIAL_SPACE}]")
            self._counts = given.copy()

    @property
    def issued(self) -> int:
        """Number of serials handed out so far (over all blocks)."""
        return int(self._counts.sum())

    def counts(self) -> IntArray:
        """A copy of the per-block counters (to persist and restore an issuer)."""
        return self._counts.copy()

    def issue(self, province3: IntArray, century_sex: IntArray, yy: IntArray) -> IntArray:
        """Serials for a batch of people, unique within each block, never reused.

        Within the batch, people take ranks in their block in input order (stable sort); the
        block's counter then moves past them. All-or-nothing: if any block would overflow,
        :class:`SerialsExhaustedError` is raised and no counter moves.
        """
        block = _block_index(
            np.asarray(province3, np.int64),
            np.asarray(century_sex, np.int64),
            np.asarray(yy, np.int64),
        )
        n = block.size
        if n == 0:
            return np.zeros(0, dtype=np.int64)
        # A stable argsort by block, done as a plain sort of (block, position) packed into one
        # int64 (about twice as fast as argsort for millions of rows).
        bits = max(1, (n - 1).bit_length())
        packed = np.sort((block << bits) | np.arange(n, dtype=np.int64))
        order = packed & ((1 << bits) - 1)
        sorted_block = packed >> bits
        starts = np.flatnonzero(np.r_[True, sorted_block[1:] != sorted_block[:-1]])
        run_lengths = np.diff(np.r_[starts, n])
        within = np.arange(n, dtype=np.int64) - np.repeat(starts, run_lengths)
        rank = np.empty(n, dtype=np.int64)
        rank[order] = self._counts[sorted_block] + within
        added = np.bincount(block, minlength=_N_BLOCKS)
        if np.any(self._counts + added > SERIAL_SPACE):
            raise SerialsExhaustedError("a (province, century/sex, year) block is out of serials")
        self._counts += added
        return (rank * _MULTIPLIER + _block_offset(block)) % SERIAL_SPACE

    @classmethod
    def from_ids(cls, ids: StrInput) -> CccdIssuer:
        """Rebuild an issuer from IDs already issued (e.g. read back from the registry), so a
        restarted simulator continues without reusing a serial.

        Each block's counter is set past the highest rank found in it. An ID whose digits were
        altered after issue (:func:`mismatch_cccd`) counts in the block it now points to, so new
        IDs cannot collide with it either (it may cost that block unused serials). IDs that are
        not 12 digits are ignored.
        """
        digits, ok = _digit_matrix(ids)
        d = digits[ok].astype(np.int64)
        province3 = d[:, 0] * 100 + d[:, 1] * 10 + d[:, 2]
        keep = province3 < _N_PROVINCE3
        d, province3 = d[keep], province3[keep]
        block = _block_index(province3, d[:, 3], d[:, 4] * 10 + d[:, 5])
        serial = d[:, 6:] @ np.array([10**5, 10**4, 10**3, 100, 10, 1], dtype=np.int64)
        rank = ((serial - _block_offset(block)) * _MULTIPLIER_INVERSE) % SERIAL_SPACE
        counts = np.zeros(_N_BLOCKS, dtype=np.int64)
        np.maximum.at(counts, block, rank + 1)
        return cls(counts)


# --------------------------------------------------------------------------------------------
# Reference data (cached, read from registry/data on first use)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Sampler:
    """Walker/Vose alias table: draws from a discrete distribution in O(1) per draw.

    ``numpy.random.Generator.choice(p=...)`` binary-searches the CDF for every draw, which is
    the slowest part of generating millions of people; an alias draw is one uniform number,
    two lookups and a comparison. Exact (no quantisation) and deterministic for a given generator state.
    """

    accept: npt.NDArray[np.float64]
    alias: IntArray

    @classmethod
    def of(cls, weights: npt.ArrayLike) -> _Sampler:
        w = np.asarray(weights, dtype=np.float64)
        if w.ndim != 1 or w.size == 0 or np.any(w < 0) or w.sum() <= 0:
            raise ValueError("weights must be a non-empty, non-negative vector with a positive sum")
        k = w.size
        scaled = w * (k / w.sum())
        accept = np.ones(k, dtype=np.float64)
        alias = np.arange(k, dtype=np.int64)
        small = [i for i in range(k) if scaled[i] < 1.0]
        large = [i for i in range(k) if scaled[i] >= 1.0]
        while small and large:  # over the k categories (at most ~120), not over people
            s, g = small.pop(), large.pop()
            accept[s], alias[s] = scaled[s], g
            scaled[g] -= 1.0 - scaled[s]
            (small if scaled[g] < 1.0 else large).append(g)
        accept.flags.writeable = False
        alias.flags.writeable = False
        return cls(accept, alias)

    def draw(self, rng: np.random.Generator, n: int) -> IntArray:
        """``n`` category indices."""
        # One uniform number per draw: its integer part picks a column, its fraction decides
        # between the column and its alias.
        u = rng.random(n) * self.accept.size
        pick = np.minimum(u.astype(np.int64), self.accept.size - 1)
        u -= pick
        return np.where(u < self.accept[pick], pick, self.alias[pick])


@lru_cache(maxsize=1)
def _name_tables() -> dict[str, tuple[tuple[str, ...], _Sampler]]:
    """``kind → (texts, sampler)`` from ``names.csv``."""
    frame = pd.read_csv(calibration.DATA_DIR / "names.csv", dtype={"kind": str, "text": str})
    tables = {}
    for kind in ("family", "middle_m", "middle_f", "given_m", "given_f"):
        part = frame[frame["kind"] == kind]
        if part.empty:
            raise calibration.CalibrationDataError(f"names.csv has no {kind} names")
        texts = tuple(unicodedata.normalize("NFC", t) for t in part["text"])
        tables[kind] = (texts, _Sampler.of(part["weight"].to_numpy(dtype=np.float64)))
    return tables


@lru_cache(maxsize=1)
def _full_names() -> pa.Array:
    """Every ``family middle given`` combination, men first then women, as one Arrow array.

    Index of a man: ``(f × n_middle_m + m) × n_given_m + g``; women follow after all men.
    Building the ~150 000 strings once costs ~0.1 s and makes naming n people a single take.
    """
    tables = _name_tables()
    family = tables["family"][0]
    names: list[str] = []
    for sex in ("m", "f"):
        middles, givens = tables[f"middle_{sex}"][0], tables[f"given_{sex}"][0]
        names.extend(f"{f} {m} {g}" for f in family for m in middles for g in givens)
    return pa.array(names, type=pa.string())


@lru_cache(maxsize=1)
def _province_tables() -> tuple[tuple[str, ...], IntArray, _Sampler]:
    """Province codes (file order), their integer values, and a population-weighted sampler."""
    codes = tuple(calibration.province_codes())
    population = calibration.provinces()["population_2019"].to_numpy(dtype=np.float64)
    values = np.array([int(c) for c in codes], dtype=np.int64)
    values.flags.writeable = False
    return codes, values, _Sampler.of(population)


@lru_cache(maxsize=1)
def _valid_province3() -> BoolArray:
    """Lookup table over 000-999: is this a birth-province code (``0`` + a GSO code)?"""
    table = np.zeros(1000, dtype=np.bool_)
    table[_province_tables()[1]] = True
    table.flags.writeable = False
    return table


@lru_cache(maxsize=1)
def _phone_tables() -> tuple[IntArray, _Sampler]:
    """Mobile prefixes as integers (``"032"`` → 32) and a market-share sampler over them."""
    prefixes: list[int] = []
    weights: list[float] = []
    for group, share in _PHONE_PREFIXES:
        members = group.split()
        prefixes.extend(int(m) for m in members)
        weights.extend([share / len(members)] * len(members))
    table = np.array(prefixes, dtype=np.int64)
    table.flags.writeable = False
    return table, _Sampler.of(weights)


@lru_cache(maxsize=1)
def _ascii_fold_table() -> npt.NDArray[np.uint32]:
    """Code point → code point with Vietnamese diacritics removed (đ → d), for U+0000–U+1FFF."""
    table = np.arange(0x2000, dtype=np.uint32)
    for cp in range(0x80, 0x2000):
        base = unicodedata.normalize("NFD", chr(cp))[0]
        if base.isascii() and base.isalpha():
            table[cp] = ord(base)
    table[ord("đ")], table[ord("Đ")] = ord("d"), ord("D")
    table.flags.writeable = False
    return table


def _fold(text: str) -> str:
    """Lower case, Vietnamese diacritics removed (đ → d)."""
    table = _ascii_fold_table()
    return "".join(chr(table[ord(c)]) if ord(c) < table.size else c for c in text).lower()


def _clerk_errors(word: str) -> set[str]:
    """What one clerk's error of `typo_names` within a word makes of it: two neighbouring
    letters swapped, a letter dropped or doubled (never the initial)."""
    out = set()
    for i in range(1, len(word)):
        out.add(word[:i] + word[i + 1 :])
        out.add(word[:i] + word[i] + word[i:])
        if i + 1 < len(word):
            out.add(word[:i] + word[i + 1] + word[i] + word[i + 2 :])
    out.discard(word)
    return out


@lru_cache(maxsize=1)
def _name_parts() -> tuple[tuple[frozenset[str], dict[str, str], dict[str, str]], ...]:
    """For each word of a name (family, middle, given): the words the generator uses, and
    maps to the most common such word from each one-letter error (and lower-cased word),
    and from a folded word."""
    frame = pd.read_csv(calibration.DATA_DIR / "names.csv", dtype={"kind": str, "text": str})
    frame["text"] = frame["text"].map(lambda t: unicodedata.normalize("NFC", t))
    frame = frame.sort_values("weight", ascending=False, kind="stable")
    out = []
    for kinds in (("family",), ("middle_m", "middle_f"), ("given_m", "given_f")):
        texts = list(dict.fromkeys(frame.loc[frame["kind"].isin(kinds), "text"]))
        folded: dict[str, str] = {}
        errors: dict[str, str] = {}
        for text in texts:  # most common first: the first claim on a spelling wins
            folded.setdefault(_fold(text), text)
            for wrong in (text.lower(), *_clerk_errors(text)):
                errors.setdefault(wrong, text)
        out.append((frozenset(texts), folded, errors))
    return tuple(out)


def restore_names(names: Sequence[str]) -> list[str | None]:
    """For each name: None when it is spelt as the generator spells names; else the name it
    most likely stands for after one clerk's error of :func:`typo_names` (a word with its
    letters swapped, dropped or doubled; every word without diacritics or in the wrong
    case), or "" when no such name is found."""
    parts = _name_parts()
    out: list[str | None] = []
    for name in names:
        words = unicodedata.normalize("NFC", str(name)).split()
        if len(words) != len(parts):
            out.append("")
            continue
        if all(word in known for word, (known, _, _) in zip(words, parts, strict=True)):
            out.append(None)
            continue
        fixed = []
        for word, (known, folded, errors) in zip(words, parts, strict=True):
            fixed.append(
                word if word in known
                else errors.get(word) or errors.get(word.lower()) or folded.get(_fold(word))
            )  # fmt: skip
        out.append(" ".join(fixed) if all(fixed) else "")  # type: ignore[arg-type]
    return out


# --------------------------------------------------------------------------------------------
# Helpers: strings ↔ digit matrices
# --------------------------------------------------------------------------------------------


def _digit_string_matrix(*pairs: IntArray) -> ByteMatrix:
    """ASCII digits of numbers given as two-digit chunks (each 0-99): an ``(n, 2k)`` byte
    matrix whose rows are the zero-padded decimal strings."""
    words = np.empty((pairs[0].shape[0], len(pairs)), dtype="<u2")
    for column, values in enumerate(pairs):  # one lookup per chunk, over all rows at once
        words[:, column] = _DIGIT_PAIRS[values]
    return words.view(np.uint8)


def _ascii_series(matrix: ByteMatrix) -> pd.Series:
    """Rows of an ``(n, k)`` ASCII byte matrix as a pandas ``str`` Series (no per-row work):
    the matrix bytes become the data buffer of an Arrow string array as they are."""
    n, width = matrix.shape
    data = pa.py_buffer(np.ascontiguousarray(matrix))
    if n * width < 2**31:
        offsets = np.arange(0, n * width + 1, width, dtype=np.int32)
        array = pa.StringArray.from_buffers(n, pa.py_buffer(offsets), data)
    else:
        offsets64 = np.arange(0, n * width + 1, width, dtype=np.int64)
        array = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets64), data).cast(pa.string())
    return _arrow_series(array)


def _arrow_series(array: pa.Array) -> pd.Series:
    return pd.Series(pd.array(array, dtype=pd.StringDtype("pyarrow", na_value=np.nan)))


def _arrow_strings(values: StrInput) -> pa.Array:
    """Any sequence of strings (pandas Series, numpy array, list) as one Arrow string array."""
    raw = values.array if isinstance(values, pd.Series) else values
    array = pa.array(raw, type=pa.large_string(), from_pandas=True)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array


def _digit_matrix(ids: StrInput) -> tuple[ByteMatrix, BoolArray]:
    """``(n, 12)`` digit values of each ID and a mask of IDs that are exactly 12 ASCII digits.

    Reads the UTF-8 bytes straight out of an Arrow array: rows of the wrong length, nulls and
    non-digits are flagged in the mask (their matrix rows are zero).
    """
    array = _arrow_strings(ids)
    n = len(array)
    digits = np.zeros((n, CCCD_LENGTH), dtype=np.uint8)
    if n == 0:
        return digits, np.zeros(0, dtype=np.bool_)
    _, offsets_buffer, data_buffer = array.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[array.offset : array.offset + n + 1]
    data = (
        np.frombuffer(data_buffer, dtype=np.uint8)
        if data_buffer is not None
        else np.zeros(0, np.uint8)
    )
    ok = np.diff(offsets) == CCCD_LENGTH
    ok &= ~array.is_null().to_numpy(zero_copy_only=False)
    if ok.all() and offsets[-1] - offsets[0] == n * CCCD_LENGTH:  # the usual case: no copy
        raw = data[offsets[0] : offsets[-1]].reshape(n, CCCD_LENGTH) - np.uint8(48)
        rows = np.arange(n)
    else:
        rows = np.flatnonzero(ok)
        starts = offsets[rows]
        raw = np.empty((rows.size, CCCD_LENGTH), dtype=np.uint8)
        for column in range(CCCD_LENGTH):  # 12 column gathers, not a loop over IDs
            raw[:, column] = data[starts + column]
        raw -= np.uint8(48)
    # Bytes below '0' wrap around to >= 208, so "is a digit" is one comparison per byte.
    good = raw[:, 0] <= 9
    for column in range(1, CCCD_LENGTH):
        good &= raw[:, column] <= 9
    ok[rows[~good]] = False
    digits[rows] = np.where(good[:, None], raw, 0)
    return digits, ok


def _as_series(values: StrInput) -> pd.Series:
    if isinstance(values, pd.Series):
        return values.astype("str").copy()
    return pd.Series(np.asarray(values, dtype=object), dtype="str")


# --------------------------------------------------------------------------------------------
# People
# --------------------------------------------------------------------------------------------


def _shift_years(day: date, years: int) -> date:
    """``day`` moved by whole years (29 February → 28 February in a common year)."""
    year = day.year + years
    try:
        return day.replace(year=year)
    except ValueError:
        return day.replace(year=year, day=28)


def _province_index(province_codes: npt.ArrayLike, n: int) -> IntArray:
    """Row index into the province table of each 2-character GSO code (ValueError if unknown).

    Decodes the two digits arithmetically instead of hashing n strings.
    """
    codes, code_values, _ = _province_tables()
    values = np.asarray(province_codes)
    if values.shape != (n,):
        raise ValueError(f"province_codes must hold one code per person ({n})")
    if values.dtype != np.dtype("<U2"):
        values = values.astype(str)
    lookup = np.full(100, -1, dtype=np.int64)
    lookup[code_values] = np.arange(len(codes))
    index = np.full(n, -1, dtype=np.int64)
    if values.dtype == np.dtype("<U2") and n:
        pairs = values.view(np.uint32).reshape(n, 2) - np.uint32(48)  # wraps below '0'
        tens, units = pairs[:, 0], pairs[:, 1]
        number = np.where((tens <= 9) & (units <= 9), tens * 10 + units, 99)
        index = lookup[number]
    if np.any(index < 0):
        unknown = sorted(set(values[index < 0].tolist()))[:5]
        raise ValueError(f"unknown province codes: {unknown}")
    return index


def make_people(
    rng: np.random.Generator,
    n: int,
    *,
    on_day: date,
    min_age: int,
    max_age: int,
    province_codes: npt.ArrayLike,
    issuer: CccdIssuer,
) -> pd.DataFrame:
    """``n`` synthetic citizens living in ``province_codes`` (one GSO code per person).

    Columns (:data:`PEOPLE_COLUMNS`): ``citizen_id`` (12-digit CCCD, unique for the lifetime of
    ``issuer``), ``full_name`` (NFC, family + middle + given, sex-appropriate middle and given
    names drawn with realistic weights), ``date_of_birth`` (datetime64, a calendar date),
    ``sex`` (``M``/``F``), ``phone`` (10-digit mobile number), ``residence_province``.

    Ages at ``on_day`` lie in ``[min_age, max_age]`` following the rough shape of the 2019
    census; the birth province in the ID is the residence for ~85 % and another province
    (population-weighted) for :data:`BIRTH_ELSEWHERE_SHARE`. Deterministic for a given
    ``rng`` state and issuer state. ``issuer`` is advanced (see :class:`CccdIssuer`).
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    if not 0 <= min_age <= max_age:
        raise ValueError(f"need 0 <= min_age <= max_age, got {min_age}, {max_age}")
    if (_shift_years(on_day, -(max_age + 1)) + timedelta(days=1)).year < 1900 or on_day.year > 2099:
        raise ValueError("births must fall in 1900-2099 (CCCD century digits 0-3)")
    codes, code_values, population_sampler = _province_tables()
    residence_index = _province_index(province_codes, n)

    # Age, sex and date of birth.
    ages = np.arange(min_age, max_age + 1)
    weights = np.interp(ages, _AGE_KNOTS, _AGE_WEIGHTS)
    if weights.sum() <= 0:
        weights = np.ones_like(weights)
    age_index = _Sampler.of(weights).draw(rng, n)
    female = rng.random(n) < np.interp(ages, _FEMALE_KNOTS, _FEMALE_SHARE)[age_index]
    # Someone aged a on on_day was born in (on_day - (a+1) years, on_day - a years]; that
    # window spans two calendar years at most, so the year of birth is the window's first
    # year, plus one from the window's first 1 January on. (Loops are over ages, not people.)
    first_days = [_shift_years(on_day, -int(a) - 1) + timedelta(days=1) for a in ages]
    earliest = np.array(first_days, dtype="datetime64[D]")
    latest = np.array([_shift_years(on_day, -int(a)) for a in ages], dtype="datetime64[D]")
    first_year = np.array([d.year for d in first_days], dtype=np.int64)
    new_year = np.array([(date(d.year + 1, 1, 1) - d).days for d in first_days], dtype=np.int64)
    span = (latest - earliest).astype(np.int64) + 1
    offset = (rng.random(n) * span[age_index]).astype(np.int64)
    birth = earliest[age_index] + offset
    birth_year = first_year[age_index] + (offset >= new_year[age_index])

    # Birth province: mostly the residence, sometimes another (population-weighted) province.
    elsewhere = rng.random(n) < BIRTH_ELSEWHERE_SHARE
    other = population_sampler.draw(rng, n)
    same = other == residence_index
    other[same] = (other[same] + 1 + rng.integers(0, len(codes) - 1, int(same.sum()))) % len(codes)
    birth_province = code_values[np.where(elsewhere, other, residence_index)]

    century_sex = (birth_year >= 2000).astype(np.int64) * 2 + female
    yy = birth_year % 100
    serial = issuer.issue(birth_province, century_sex, yy)

    # PPP G YY SSSSSS as six digit pairs: PP, PG, YY, SS, SS, SS.
    id_digits = _digit_string_matrix(
        birth_province // 10,
        (birth_province % 10) * 10 + century_sex,
        yy,
        serial // 10_000,
        (serial // 100) % 100,
        serial % 100,
    )

    # Names: one index into the table of all combinations.
    tables = _name_tables()
    n_family = len(tables["family"][0])
    family = tables["family"][1].draw(rng, n)
    name_index = np.empty(n, dtype=np.int64)
    base = 0
    for sex_key, mask in (("m", ~female), ("f", female)):
        middles, givens = tables[f"middle_{sex_key}"], tables[f"given_{sex_key}"]
        k = int(mask.sum())
        middle = middles[1].draw(rng, k)
        given = givens[1].draw(rng, k)
        name_index[mask] = base + (family[mask] * len(middles[0]) + middle) * len(givens[0]) + given
        base += n_family * len(middles[0]) * len(givens[0])
    full_names = _full_names().take(pa.array(name_index))

    # Phones: a weighted 3-digit prefix and 7 random digits.
    prefix_table, prefix_sampler = _phone_tables()
    prefix = prefix_table[prefix_sampler.draw(rng, n)]
    rest = rng.integers(0, 10**7, size=n)
    phone = _digit_string_matrix(
        prefix // 10,
        (prefix % 10) * 10 + rest // 10**6,
        (rest // 10**4) % 100,
        (rest // 100) % 100,
        rest % 100,
    )

    sex = pa.array(["M", "F"], type=pa.string()).take(pa.array(female.astype(np.int8)))
    return pd.DataFrame(
        {
            "citizen_id": _ascii_series(id_digits),
            "full_name": _arrow_series(full_names),
            "date_of_birth": pd.Series(birth.astype("datetime64[s]")),
            "sex": _arrow_series(sex),
            "phone": _ascii_series(phone),
            "residence_province": _ascii_series(_digit_string_matrix(code_values[residence_index])),
        }
    )


# --------------------------------------------------------------------------------------------
# Validation and parsing
# --------------------------------------------------------------------------------------------


def cccd_valid(ids: StrInput, sex: StrInput, date_of_birth: DateInput) -> BoolArray:
    """Per row: is ``ids`` a well-formed CCCD consistent with the person's sex and birth date?

    Checks 12 ASCII digits, a birth-province code that is ``0`` + one of the 63 GSO codes, and
    that the century/sex digit and the two year digits match ``sex`` (``M``/``F``) and the year
    of ``date_of_birth`` (1900-2099). The serial is not checkable (any 6 digits are valid).
    """
    digits, ok = _digit_matrix(ids)
    n = ok.shape[0]
    sex_array = _arrow_strings(sex)
    if len(sex_array) != n:
        raise ValueError("ids and sex differ in length")
    is_female = pc.equal(sex_array, "F").fill_null(False).to_numpy(zero_copy_only=False)
    is_male = pc.equal(sex_array, "M").fill_null(False).to_numpy(zero_copy_only=False)
    births = date_of_birth if isinstance(date_of_birth, pd.Series) else pd.Series(date_of_birth)
    if len(births) != n:
        raise ValueError("ids and date_of_birth differ in length")
    year = pd.to_datetime(births, errors="coerce").dt.year.to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    known_year = np.isfinite(year) & (year >= 1900) & (year <= 2099)
    year_int = np.where(known_year, year, 1900).astype(np.int16)
    expected_digit = (year_int >= 2000).astype(np.uint8) * 2 + is_female
    d = digits.astype(np.int16)  # 0-9 each; small ints keep this pass cheap
    province3 = d[:, 0] * 100 + d[:, 1] * 10 + d[:, 2]
    valid = ok & (is_female | is_male) & known_year & _valid_province3()[province3]
    valid &= digits[:, 3] == expected_digit
    valid &= d[:, 4] * 10 + d[:, 5] == year_int % 100
    return np.asarray(valid, dtype=np.bool_)


def parse_cccd(citizen_id: str) -> tuple[str, str, int, int]:
    """Split one CCCD into ``(province3, sex, century, yy)``.

    ``province3`` is the 3-digit birth-province code (``"079"``), ``sex`` ``"M"``/``"F"``,
    ``century`` the first year of the birth century (1900, 2000, …) so that the year of birth
    is ``century + yy``. Raises :class:`ValueError` unless the ID is 12 ASCII digits.
    """
    if len(citizen_id) != CCCD_LENGTH or not (citizen_id.isascii() and citizen_id.isdigit()):
        raise ValueError(f"not a 12-digit citizen ID: {citizen_id!r}")
    digit = int(citizen_id[3])
    return (
        citizen_id[:3],
        "F" if digit % 2 else "M",
        1900 + 100 * (digit // 2),
        int(citizen_id[4:6]),
    )


# --------------------------------------------------------------------------------------------
# Error injection
# --------------------------------------------------------------------------------------------


def _pick(rng: np.random.Generator, candidates: BoolArray) -> tuple[IntArray, BoolArray]:
    """One random ``True`` column per row of ``candidates``, and which rows had any."""
    keys = np.where(candidates, rng.random(candidates.shape), -1.0)
    return keys.argmax(axis=1).astype(np.int64), np.asarray(candidates.any(axis=1), dtype=np.bool_)


def typo_names(
    rng: np.random.Generator, names: StrInput, rate: float
) -> tuple[pd.Series, BoolArray]:
    """A copy of ``names`` with about ``rate`` of them mistyped, and the mask of changed rows.

    Each chosen name gets one clerk's error, picked uniformly: two neighbouring letters
    swapped, a letter dropped, a letter doubled (never a word's initial), diacritics dropped
    (``Nguyễn Thị Thủy`` → ``Nguyen Thi Thuy``), or the case wrong (all capitals or all small).
    When the picked error cannot change a name (e.g. no diacritics to drop) its case is
    changed instead. Vectorised over code-point matrices; no loop over names.
    """
    if not 0 <= rate <= 1:
        raise ValueError("rate must be in [0, 1]")
    out = _as_series(names)
    n = len(out)
    mask = np.zeros(n, dtype=np.bool_)
    chosen = np.flatnonzero((rng.random(n) < rate) & out.notna().to_numpy())
    if chosen.size == 0:
        return out, mask
    original = np.asarray(out.iloc[chosen].to_numpy(dtype=object), dtype=str)
    m, width = original.size, original.dtype.itemsize // 4
    chars = np.zeros((m, width + 1), dtype=np.uint32)  # one spare column for shifts
    chars[:, :width] = original.view(np.uint32).reshape(m, width)
    letter = (chars != 0) & (chars != ord(" "))
    initial = letter & np.c_[np.ones((m, 1), dtype=np.bool_), ~letter[:, :-1]]
    inner = letter & ~initial
    columns = np.arange(width + 1)
    result = np.zeros((m, width + 2), dtype=np.uint32)
    kind = rng.integers(0, 5, size=m)

    swap_ok = inner[:, :-1] & inner[:, 1:] & (chars[:, :-1] != chars[:, 1:])
    j, has = _pick(rng, np.c_[swap_ok, np.zeros((m, 1), dtype=np.bool_)])
    rows = np.flatnonzero((kind == 0) & has)
    swapped = chars[rows].copy()
    r = np.arange(rows.size)
    swapped[r, j[rows]], swapped[r, j[rows] + 1] = chars[rows, j[rows] + 1], chars[rows, j[rows]]
    result[rows, : width + 1] = swapped
    done = np.zeros(m, dtype=np.bool_)
    done[rows] = True

    j, has = _pick(rng, inner)
    rows = np.flatnonzero((kind == 1) & has)
    shifted = np.c_[chars[rows, 1:], np.zeros((rows.size, 1), dtype=np.uint32)]
    result[rows, : width + 1] = np.where(columns < j[rows, None], chars[rows], shifted)
    done[rows] = True

    rows = np.flatnonzero((kind == 2) & has)
    later = np.c_[np.zeros((rows.size, 1), dtype=np.uint32), chars[rows]]
    padded = np.c_[chars[rows], np.zeros((rows.size, 1), dtype=np.uint32)]
    result[rows] = np.where(np.arange(width + 2) <= j[rows, None], padded, later)
    done[rows] = True

    fold = _ascii_fold_table()
    folded = np.where(chars < fold.size, fold[np.minimum(chars, fold.size - 1)], chars)
    rows = np.flatnonzero((kind == 3) & np.any(folded != chars, axis=1))
    result[rows, : width + 1] = folded[rows]
    done[rows] = True

    text = np.ascontiguousarray(result).view(f"<U{width + 2}").ravel()
    rest = np.flatnonzero(~done)
    upper = rng.random(rest.size) < 0.7
    recased = np.where(upper, np.strings.upper(original[rest]), np.strings.lower(original[rest]))
    text = text.astype(object)
    text[rest] = recased
    changed = text != original.astype(object)
    out.iloc[chosen] = text
    mask[chosen] = changed
    return out, mask


def mismatch_cccd(
    rng: np.random.Generator, ids: StrInput, rate: float
) -> tuple[pd.Series, BoolArray]:
    """A copy of ``ids`` with about ``rate`` of them inconsistent with their holder, and the
    mask of changed rows.

    Each chosen, well-formed ID gets one error: the sex digit flipped (0↔1, 2↔3), the century
    flipped (0↔2, 1↔3), or the year digits off by 1–3 years. All three make :func:`cccd_valid`
    fail for the holder while the ID stays 12 digits — the errors a format check cannot see.
    """
    if not 0 <= rate <= 1:
        raise ValueError("rate must be in [0, 1]")
    out = _as_series(ids)
    n = len(out)
    mask = np.zeros(n, dtype=np.bool_)
    digits, ok = _digit_matrix(out)
    chosen = np.flatnonzero((rng.random(n) < rate) & ok)
    if chosen.size == 0:
        return out, mask
    d = digits[chosen].astype(np.int64)
    kind = rng.integers(0, 3, size=chosen.size)
    other_century = np.where(d[:, 3] >= 8, d[:, 3] - 2, d[:, 3] ^ 2)  # 8/9 have no 10/11
    d[:, 3] = np.where(kind == 0, d[:, 3] ^ 1, np.where(kind == 1, other_century, d[:, 3]))
    shift = rng.choice(np.array([1, 2, 3, 97, 98, 99]), size=chosen.size)
    yy = np.where(kind == 2, (d[:, 4] * 10 + d[:, 5] + shift) % 100, d[:, 4] * 10 + d[:, 5])
    d[:, 4], d[:, 5] = yy // 10, yy % 10
    new = _ascii_series((d + 48).astype(np.uint8))
    out.iloc[chosen] = new.to_numpy()
    mask[chosen] = True
    return out, mask
