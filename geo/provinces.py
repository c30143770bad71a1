"""Typed loaders for the province reference data shipped in ``geo/data/``.

Everything here reads only files inside the repository (written by ``python -m geo build``);
nothing reads the shared source folder. Files are read on first use and cached with
:func:`functools.lru_cache`; nothing is read at import time.

Cached objects are never handed out directly: DataFrames and GeoJSON dicts are returned as
fresh copies, so a caller that adds a column or mutates a feature cannot corrupt what the next
caller sees. Codes are always 2-character strings (``"01"``), never integers.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import pandas as pd

__all__ = [
    "ADULT_18PLUS_TOTAL",
    "CENSUS_2019_TOTAL",
    "DATA_DIR",
    "PROVINCES_2025_COLUMNS",
    "PROVINCE_COLUMNS",
    "GeoDataError",
    "load_aliases",
    "load_manifest",
    "load_provinces",
    "load_provinces_2025",
    "new_province_codes",
    "old_to_new_codes",
    "province_codes",
    "provinces_2025_geojson",
    "provinces_geojson",
]

#: Folder holding the shipped reference files.
DATA_DIR: Final[Path] = Path(__file__).resolve().parent / "data"

PROVINCES_FILE: Final = "provinces.csv"
PROVINCES_2025_FILE: Final = "provinces_2025.csv"
ALIASES_FILE: Final = "aliases.csv"
GEOJSON_63_FILE: Final = "provinces_63.geojson"
GEOJSON_2025_FILE: Final = "provinces_2025.geojson"
MANIFEST_FILE: Final = "manifest.json"

N_PROVINCES: Final = 63
N_PROVINCES_2025: Final = 34
#: Official 2019 census total (GSO, 1 April 2019) and the MoH 18+ denominator total: what the
#: ``population_2019`` and ``population_18plus`` columns sum to (the build checks it).
CENSUS_2019_TOTAL: Final = 96_208_984
ADULT_18PLUS_TOTAL: Final = 68_969_931

#: Columns of ``provinces.csv`` (one row per pre-July-2025 province), in file order.
PROVINCE_COLUMNS: Final[tuple[str, ...]] = (
    "gso_code",
    "iso_3166_2",
    "name_vi",
    "name_vi_official",
    "name_en",
    "name_ascii",
    "unit_type",
    "region6_vi",
    "region6_en",
    "region8_vi",
    "region8_en",
    "population_2019",
    "population_18plus",
    "new_2025_gso_code",
    "new_2025_name_vi",
)

#: Columns of ``provinces_2025.csv`` (one row per province from 1 July 2025), in file order.
PROVINCES_2025_COLUMNS: Final[tuple[str, ...]] = (
    "new_gso_code",
    "name_vi",
    "name_vi_official",
    "name_ascii",
    "unit_type",
    "n_old_provinces",
    "old_gso_codes",
    "old_names_vi",
    "population_2019",
    "population_18plus",
)

#: Columns of ``aliases.csv``: one row per distinct spelling of a province.
ALIAS_COLUMNS: Final[tuple[str, ...]] = ("alias", "key", "gso_code", "sources")

_INT_COLUMNS: Final = frozenset({"population_2019", "population_18plus", "n_old_provinces"})


class GeoDataError(RuntimeError):
    """The shipped data files are missing or do not have the expected shape."""


def _read_table(name: str, columns: tuple[str, ...], key: str, rows: int | None) -> pd.DataFrame:
    """Read one shipped CSV with explicit dtypes and check its columns, key and row count."""
    path = DATA_DIR / name
    if not path.is_file():
        raise GeoDataError(f"{path} is missing; run `python -m geo build` to create it")
    dtypes = {col: ("int64" if col in _INT_COLUMNS else "str") for col in columns}
    frame = pd.read_csv(path, dtype=dtypes, keep_default_na=False, encoding="utf-8")
    if tuple(frame.columns) != columns:
        raise GeoDataError(f"{name}: columns {list(frame.columns)} != expected {list(columns)}")
    if rows is not None and len(frame) != rows:
        raise GeoDataError(f"{name}: {len(frame)} rows, expected {rows}")
    if key != "alias" and not frame[key].is_unique:
        raise GeoDataError(f"{name}: duplicate values in {key}")
    return frame


@lru_cache(maxsize=1)
def _provinces() -> pd.DataFrame:
    return _read_table(PROVINCES_FILE, PROVINCE_COLUMNS, "gso_code", N_PROVINCES)


@lru_cache(maxsize=1)
def _provinces_2025() -> pd.DataFrame:
    return _read_table(
        PROVINCES_2025_FILE, PROVINCES_2025_COLUMNS, "new_gso_code", N_PROVINCES_2025
    )


@lru_cache(maxsize=1)
def _aliases() -> pd.DataFrame:
    return _read_table(ALIASES_FILE, ALIAS_COLUMNS, "alias", None)


@lru_cache(maxsize=4)
def _text(name: str) -> str:
    path = DATA_DIR / name
    if not path.is_file():
        raise GeoDataError(f"{path} is missing; run `python -m geo build` to create it")
    return path.read_text(encoding="utf-8")


def load_provinces() -> pd.DataFrame:
    """The 63 pre-July-2025 provinces (columns :data:`PROVINCE_COLUMNS`), sorted by gso_code.

    Populations are ``int64`` (2019 census; MoH 18+ denominator), every other column is a
    string. This is the table all COVID-19-period data (2021-2023) joins to on ``gso_code``.
    """
    return _provinces().copy()


def load_provinces_2025() -> pd.DataFrame:
    """The 34 provinces in force from 1 July 2025 (columns :data:`PROVINCES_2025_COLUMNS`).

    ``old_gso_codes`` lists the constituent pre-2025 provinces, ``;``-separated; populations
    are the sums over those constituents (every merge was a whole-province merge).
    """
    return _provinces_2025().copy()


def load_aliases() -> pd.DataFrame:
    """Every spelling of a province found in the source data, with its key and GSO code."""
    return _aliases().copy()


def provinces_geojson() -> dict[str, Any]:
    """The 63-province boundaries as a GeoJSON FeatureCollection dict (a fresh copy).

    Ready for Plotly: ``featureidkey="properties.gso_code"`` (or the feature ``id``). Rings are
    wound clockwise (the d3/Plotly convention), coordinates are WGS84 lon/lat.
    """
    result: dict[str, Any] = json.loads(_text(GEOJSON_63_FILE))
    return result


def provinces_2025_geojson() -> dict[str, Any]:
    """The 34 post-July-2025 provinces dissolved from the 63 (fresh GeoJSON dict copy).

    Join on ``properties.new_gso_code`` (also the feature ``id``).
    """
    result: dict[str, Any] = json.loads(_text(GEOJSON_2025_FILE))
    return result


def load_manifest() -> dict[str, Any]:
    """The build manifest: checksums of every shipped file and the facts checked by the build."""
    result: dict[str, Any] = json.loads(_text(MANIFEST_FILE))
    return result


@lru_cache(maxsize=1)
def province_codes() -> tuple[str, ...]:
    """The 63 GSO codes of the pre-July-2025 provinces, ascending (``"01"`` … ``"96"``)."""
    return tuple(_provinces()["gso_code"])


@lru_cache(maxsize=1)
def new_province_codes() -> tuple[str, ...]:
    """The 34 GSO codes of the provinces in force from 1 July 2025, ascending."""
    return tuple(_provinces_2025()["new_gso_code"])


def old_to_new_codes() -> dict[str, str]:
    """Map each of the 63 old GSO codes to the code of its post-July-2025 province."""
    frame = _provinces()
    return dict(zip(frame["gso_code"], frame["new_2025_gso_code"], strict=True))
