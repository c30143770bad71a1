"""Province name normalisation: turn any spelling found in the data into a GSO code.

Vietnamese province names reach the platform in many spellings: with or without diacritics,
with the tone mark on either vowel of ``oa``/``oe``/``uy`` (``Hoà``/``Hòa``), with unit prefixes
(``Tỉnh``, ``Thành phố``, ``TP.``), in English (``Ho Chi Minh City``, ``Hanoi``) and with the
typos of individual sources (``Cần Thơn``, ``Quản Bình``). This module reduces a spelling to a
*key* (:func:`normalise`) and looks the key up in an exact alias index (:func:`to_gso_code`).

There is deliberately no fuzzy matching: a name whose key is not in the index raises
:class:`UnknownProvinceError`. The index is built from ``geo/data/aliases.csv`` (every spelling
found in the source data, written by ``python -m geo build``) plus the small explicit table
:data:`EXPLICIT_ALIASES`; a key that would point at two different provinces is an error
(:class:`AmbiguousAliasError`), both here and in the build.

Nothing here does I/O at import time; the alias file is read on first use and cached.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache
from types import MappingProxyType
from typing import Final

__all__ = [
    "EXPLICIT_ALIASES",
    "AmbiguousAliasError",
    "UnknownProvinceError",
    "alias_index",
    "build_alias_index",
    "canonical_tone_marks",
    "normalise",
    "strip_diacritics",
    "to_gso_code",
]


class UnknownProvinceError(ValueError):
    """Raised when a name or code does not identify exactly one of the 63 provinces."""

    def __init__(self, name: object, reason: str = "no exact alias matches") -> None:
        super().__init__(f"unknown province {name!r}: {reason} (names are never guessed)")
        self.name = name


class AmbiguousAliasError(ValueError):
    """Raised when one normalised key would map to two different GSO codes."""


#: Keys (already normalised) that the data does not spell out but that are known to occur:
#: the typos and variant romanisations listed in the shared key README. Values are GSO codes.
EXPLICIT_ALIASES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "canthon": "92",  # ODM typo "Cần Thơn"
        "quanbinh": "44",  # ODM typo "Quản Bình"
        "condao": "77",  # Côn Đảo district, a separate shape in geoBoundaries
        "thuathienhue": "46",
        "hue": "46",  # Thành phố Huế since 2025-01-01
        "hochiminh": "79",
        "daklak": "66",
        "daklac": "66",  # "Đắk Lắc" romanisation
        "dacnong": "67",  # "Đắc Nông" romanisation
    }
)

# Tone marks as combining characters (NFD): grave, acute, tilde, hook above, dot below.
_TONES: Final = "\u0300\u0301\u0303\u0309\u0323"

# In NFD text: "o" + "a"/"e" + tone, or "u" + "y" + tone (not after "q", where "u" is part of
# the consonant "qu"), at the end of a word. Only then does the tone move to the first vowel;
# "Hoàng", "Quỳnh", "Thuận" (a final consonant follows) are left alone.
_TONE_ON_SECOND_VOWEL: Final = re.compile(
    rf"(?:([oO])([aAeE])|(?<![qQ])([uU])([yY]))([{_TONES}])(?![^\W\d_])"
)

# Unit designators removed from the start of a (lower-cased) name, with or without diacritics.
_PREFIX: Final = re.compile(r"^\W*(?:(?:tỉnh|tinh|thành\s+phố|thanh\s+pho|tp)\b\.?|tp\.)")
# English designators removed wherever they stand as words.
_DESIGNATOR_WORDS: Final = re.compile(r"\b(?:city|province)\b")
_NON_KEY_CHARS: Final = re.compile(r"[^a-z]+")
_CODE: Final = re.compile(r"\d{1,2}")
# Letters that do not decompose into base letter + combining mark. "Ð" (U+00D0, Icelandic eth)
# is a frequent stand-in for "Đ" in Vietnamese data.
_NON_DECOMPOSING: Final = str.maketrans({"đ": "d", "Đ": "D", "ð": "d", "Ð": "D"})


def _move_tone(match: re.Match[str]) -> str:
    first = match.group(1) or match.group(3)
    second = match.group(2) or match.group(4)
    return f"{first}{match.group(5)}{second}"


def canonical_tone_marks(text: str) -> str:
    """Return ``text`` (NFC) with the tone mark of ``oa``/``oe``/``uy`` on the first vowel.

    ``Hoà Bình`` → ``Hòa Bình``, ``Thanh Hoá`` → ``Thanh Hóa``, ``Thuỷ`` → ``Thủy``: the
    placement used by ``name_vi`` in ``provinces.csv``. Both placements occur in official data,
    so comparing names needs one of them; words with a final consonant are unchanged.
    """
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", _TONE_ON_SECOND_VOWEL.sub(_move_tone, decomposed))


def strip_diacritics(text: str) -> str:
    """Return ``text`` without Vietnamese diacritics (``Đắk Lắk`` → ``Dak Lak``)."""
    decomposed = unicodedata.normalize("NFD", text.translate(_NON_DECOMPOSING))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped)


@lru_cache(maxsize=4096)
def normalise(name: str) -> str:
    """Reduce a province spelling to its comparison key (ASCII lowercase letters only).

    Steps: Unicode NFC → tone mark on the first vowel of ``oa``/``oe``/``uy`` → lowercase →
    drop a leading ``tỉnh``/``thành phố``/``tp.``/``tp`` (also without diacritics) and the
    words ``city``/``province`` → strip diacritics (``đ`` → ``d``) → keep letters ``a``-``z``.
    ``TP. Hồ Chí Minh``, ``Ho Chi Minh City`` and ``HỒ CHÍ MINH`` all give ``hochiminh``.
    The result may be empty (``""``, ``"Tỉnh"``); callers decide what that means.
    """
    text = canonical_tone_marks(unicodedata.normalize("NFC", name)).lower()
    text = _PREFIX.sub("", text, count=1)
    text = _DESIGNATOR_WORDS.sub(" ", text)
    return _NON_KEY_CHARS.sub("", strip_diacritics(text))


def build_alias_index(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Build ``{normalised key: gso_code}`` from ``(spelling or key, gso_code)`` pairs.

    Raises :class:`AmbiguousAliasError` if two spellings of different provinces share a key
    and :class:`ValueError` if a spelling normalises to nothing. The build calls this on every
    spelling it writes, so an ambiguity stops the build rather than reaching users.
    """
    index: dict[str, str] = {}
    origin: dict[str, str] = {}
    for spelling, code in pairs:
        key = normalise(spelling)
        if not key:
            raise ValueError(f"alias {spelling!r} for {code} normalises to an empty key")
        known = index.get(key)
        if known is not None and known != code:
            raise AmbiguousAliasError(
                f"key {key!r} is ambiguous: {origin[key]!r} → {known}, {spelling!r} → {code}"
            )
        index[key] = code
        origin.setdefault(key, spelling)
    return index


@lru_cache(maxsize=1)
def alias_index() -> Mapping[str, str]:
    """The read-only alias index: ``geo/data/aliases.csv`` plus :data:`EXPLICIT_ALIASES`."""
    from geo.provinces import load_aliases  # deferred: keeps this module import-light

    aliases = load_aliases()
    pairs = list(zip(aliases["alias"], aliases["gso_code"], strict=True))
    pairs.extend(EXPLICIT_ALIASES.items())
    return MappingProxyType(build_alias_index(pairs))


def to_gso_code(name: str | int) -> str:
    """Return the 2-character GSO code of the province called ``name``.

    Accepts any spelling in :func:`alias_index` (after :func:`normalise`) or a GSO code itself
    (``"1"``, ``"01"`` or ``1`` → ``"01"``, only for one of the 63 codes). Anything else raises
    :class:`UnknownProvinceError` — there is no closest-match guessing.
    """
    from geo.provinces import province_codes

    if isinstance(name, bool) or not isinstance(name, str | int):
        raise UnknownProvinceError(name, f"expected a name or code, got {type(name).__name__}")
    text = str(name).strip()
    if _CODE.fullmatch(text):
        code = text.zfill(2)
        if code in province_codes():
            return code
        raise UnknownProvinceError(name, "not one of the 63 GSO province codes")
    key = normalise(text)
    if not key:
        raise UnknownProvinceError(name, "nothing left after normalisation")
    found = alias_index().get(key)
    if found is None:
        raise UnknownProvinceError(name, f"no alias for key {key!r}")
    return found
