"""Build ``geo/data/`` — the province reference data the platform ships — from the shared sources.

Run as ``python -m geo build [--source DIR] [--out DIR]``. Like the registry's and the
certificates' build steps, it reads the shared source folder (default ``../shared/data/vn``
next to the repository); everything else reads the files written here. What it writes:

* ``provinces.csv`` — the 63 pre-July-2025 provinces: codes, names, regions, 2019 census and
  MoH 18+ populations, successor province from 1 July 2025;
* ``provinces_2025.csv`` — the 34 provinces from 1 July 2025 with summed populations;
* ``aliases.csv`` — every spelling of every province found in the sources, for ``geo.names``;
* ``provinces_63.geojson`` / ``provinces_2025.geojson`` — web-sized boundaries, simplified as a
  *coverage* so neighbouring provinces keep sharing exactly the same border;
* ``licences/`` — licence and citation texts; ``README.md`` — provenance and processing,
  rendered from ``geo/build_inputs/README.template.md`` (:mod:`geo._readme`);
* ``manifest.json`` — sha256 and size of every file above plus the facts the build checked.

The build is deterministic (same sources, same library versions → same bytes) and fails loudly
(:class:`BuildError`) when a source breaks an expectation instead of writing doubtful data.
It stands on the harness every build step shares, :mod:`geo.buildstep`.
"""

from __future__ import annotations

import csv
import io
import json
import math
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import mapping, shape

from geo import names
from geo._readme import render_readme
from geo.buildstep import (
    BuildError,
    csv_bytes,
    file_entries,
    json_bytes,
    read_sources,
    require,
    sha256,
    step_summary,
    write_files,
)
from geo.provinces import (
    ADULT_18PLUS_TOTAL,
    ALIAS_COLUMNS,
    ALIASES_FILE,
    CENSUS_2019_TOTAL,
    GEOJSON_63_FILE,
    GEOJSON_2025_FILE,
    MANIFEST_FILE,
    N_PROVINCES,
    N_PROVINCES_2025,
    PROVINCE_COLUMNS,
    PROVINCES_2025_COLUMNS,
    PROVINCES_2025_FILE,
    PROVINCES_FILE,
)

__all__ = ["DEFAULT_OUT", "DEFAULT_SOURCE", "BuildError", "BuildResult", "build"]

GeometryArray = npt.NDArray[np.object_]
Log = Callable[[str], None]

REPO_ROOT: Final = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE: Final = REPO_ROOT.parent / "shared" / "data" / "vn"
DEFAULT_OUT: Final = Path(__file__).resolve().parent / "data"
STATIC_LICENCES: Final = Path(__file__).resolve().parent / "licences"

#: Source files read, relative to the source folder.
SOURCES: Final[Mapping[str, str]] = {
    "key": "key/vn_province_key.csv",
    "population": "population/vn_province_population.csv",
    "mapping": "admin_2025/vn_province_63_to_34_mapping.csv",
    "provinces_2025": "admin_2025/vn_provinces_34_from_2025-07-01.csv",
    "boundaries": "boundaries/vn_provinces_63_geoboundaries.geojson",
    "gb_release": "boundaries/source_geoboundaries/geoBoundaries-VNM-ADM1.geojson",
    "gb_citation": "boundaries/source_geoboundaries/CITATION-AND-USE-geoBoundaries.txt",
    "gb_metadata": "boundaries/source_geoboundaries/geoBoundaries-VNM-ADM1-metaData.txt",
}
#: Source texts copied verbatim into ``licences/`` (source key → file name there).
COPIED_TEXTS: Final[Mapping[str, str]] = {
    "gb_citation": "geoBoundaries-CITATION-AND-USE.txt",
    "gb_metadata": "geoBoundaries-VNM-ADM1-metaData.txt",
}

#: Coordinates are snapped to this grid (degrees): 4 decimals, about 11 m.
COORDINATE_DECIMALS: Final = 4
GRID_SIZE: Final = 10.0**-COORDINATE_DECIMALS
#: Visvalingam-Whyatt tolerance for ``shapely.coverage_simplify`` (degrees, ≈ 500 m).
SIMPLIFY_TOLERANCE: Final = 0.005
#: Enclosed gaps between provinces narrower than this (degrees, ≈ 200 m) are filled.
GAP_WIDTH: Final = 0.002
#: Upper bound on each GeoJSON file.
MAX_GEOJSON_BYTES: Final = 300_000
#: A province's area may change by at most this fraction through cleaning and simplification.
MAX_AREA_CHANGE: Final = 0.01

# Name columns of the key that are spellings of the province itself (the new_2025_* columns
# name the *successor* province and must not become aliases of the old one).
_KEY_NAME_COLUMNS: Final = (
    "name_vi",
    "name_vi_official",
    "name_en",
    "name_ascii",
    "geoboundaries_shapeName",
    "odm_ten_tinh",
    "moh_portal_provinceName",
    "gso_yearbook_name_en",
    "gso_dmhc_name_2025_03",
)
_SHARED_COLUMNS: Final = (
    "iso_3166_2",
    "name_vi",
    "name_vi_official",
    "name_en",
    "name_ascii",
    "region6_vi",
    "region6_en",
    "region8_vi",
    "region8_en",
)
# Metres per degree of latitude / of longitude at the equator (WGS84, rounded): used only for
# the approximate areas and widths reported in the manifest.
_M_PER_DEG_LAT: Final = 110_574.0
_M_PER_DEG_LON: Final = 111_320.0


@dataclass(frozen=True)
class BuildResult:
    """What a build wrote: file name → (size in bytes, sha256), and the manifest it wrote."""

    out_dir: Path
    files: Mapping[str, tuple[int, str]]
    manifest: Mapping[str, Any]

    def summary(self) -> dict[str, Any]:
        """One-line JSON-able summary for the command line."""
        checks = self.manifest["checks"]
        return step_summary(
            "build",
            self.out_dir,
            self.files,
            features={
                GEOJSON_63_FILE: checks["features_63"],
                GEOJSON_2025_FILE: checks["features_2025"],
            },
            neighbour_pairs={
                "63": len(checks["neighbour_pairs_63"]),
                "2025": len(checks["neighbour_pairs_2025"]),
            },
        )


def _noop(_: str) -> None:
    """Default progress sink."""


def _nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value)


# --------------------------------------------------------------------------------------------
# Reading and checking the tables
# --------------------------------------------------------------------------------------------


def _by_code(rows: Sequence[dict[str, str]], column: str, what: str) -> dict[str, dict[str, str]]:
    """Index rows by a 2-digit code column, refusing malformed or duplicated codes."""
    result: dict[str, dict[str, str]] = {}
    for row in rows:
        code = row[column]
        require(len(code) == 2 and code.isdigit(), f"{what}: malformed code {code!r}")
        require(code not in result, f"{what}: duplicate code {code}")
        result[code] = row
    return result


def _int(value: str, what: str) -> int:
    try:
        return int(value)
    except ValueError as exc:
        raise BuildError(f"{what}: {value!r} is not an integer") from exc


def _province_rows(
    key: Mapping[str, dict[str, str]], population: Mapping[str, dict[str, str]]
) -> list[dict[str, str | int]]:
    """Join key and population (checking they agree) into the rows of ``provinces.csv``."""
    require(len(key) == N_PROVINCES, f"key: {len(key)} provinces, expected {N_PROVINCES}")
    require(set(key) == set(population), "key and population files have different codes")
    rows: list[dict[str, str | int]] = []
    for code in sorted(key):
        k, p = key[code], population[code]
        for column in _SHARED_COLUMNS:
            require(k[column] == p[column], f"{code}: {column} {k[column]!r} != {p[column]!r}")
        row: dict[str, str | int] = {c: k[c] for c in PROVINCE_COLUMNS if c in k}
        row["population_2019"] = _int(p["population_2019"], f"{code} population_2019")
        row["population_18plus"] = _int(p["population_18plus"], f"{code} population_18plus")
        rows.append({c: row[c] for c in PROVINCE_COLUMNS})
    total = sum(int(r["population_2019"]) for r in rows)
    adults = sum(int(r["population_18plus"]) for r in rows)
    require(total == CENSUS_2019_TOTAL, f"population_2019 sums to {total}")
    require(adults == ADULT_18PLUS_TOTAL, f"population_18plus sums to {adults}")
    return rows


def _provinces_2025_rows(
    provinces: Sequence[Mapping[str, str | int]],
    mapping_rows: Mapping[str, dict[str, str]],
    new_rows: Mapping[str, dict[str, str]],
) -> list[dict[str, str | int]]:
    """Roll the 63 provinces up to the 34 of 1 July 2025, checking both admin_2025 tables."""
    by_code = {str(p["gso_code"]): p for p in provinces}
    require(set(mapping_rows) == set(by_code), "63→34 mapping does not cover the 63 codes")
    require(len(new_rows) == N_PROVINCES_2025, f"{len(new_rows)} new provinces, expected 34")
    members: dict[str, list[str]] = defaultdict(list)
    for code, m in sorted(mapping_rows.items()):
        p = by_code[code]
        require(m["merge_type"] == "full", f"{code}: merge_type {m['merge_type']!r}")
        require(m["new_gso_code"] == p["new_2025_gso_code"], f"{code}: successor disagrees")
        require(m["new_name_vi"] == p["new_2025_name_vi"], f"{code}: successor name disagrees")
        require(m["old_name_vi"] == p["name_vi"], f"{code}: old name disagrees")
        members[m["new_gso_code"]].append(code)
    require(set(members) == set(new_rows), "mapping and 34-province table disagree on codes")
    rows: list[dict[str, str | int]] = []
    for new_code in sorted(new_rows):
        n = new_rows[new_code]
        olds = sorted(members[new_code])
        require(n["old_gso_codes"].split(";") == olds, f"{new_code}: constituents disagree")
        pop = sum(int(by_code[c]["population_2019"]) for c in olds)
        adults = sum(int(by_code[c]["population_18plus"]) for c in olds)
        require(
            pop == _int(n["population_2019_sum_of_old"], new_code)
            and adults == _int(n["population_18plus_sum_of_old"], new_code),
            f"{new_code}: population sums disagree with the admin_2025 table",
        )
        rows.append(
            {
                "new_gso_code": new_code,
                "name_vi": n["new_name_vi"],
                "name_vi_official": n["new_name_vi_official"],
                "name_ascii": names.strip_diacritics(n["new_name_vi"]),
                "unit_type": n["new_unit_type"],
                "n_old_provinces": len(olds),
                "old_gso_codes": ";".join(olds),
                "old_names_vi": ";".join(str(by_code[c]["name_vi"]) for c in olds),
                "population_2019": pop,
                "population_18plus": adults,
            }
        )
    require(sum(int(r["population_2019"]) for r in rows) == CENSUS_2019_TOTAL, "34 != census")
    return rows


def _alias_rows(
    spellings: Iterable[tuple[str, str, str]],
) -> list[dict[str, str]]:
    """Collapse ``(spelling, gso_code, source)`` triples into ``aliases.csv`` rows.

    Fails (via :func:`geo.names.build_alias_index`) if any key would name two provinces,
    including the explicit alias table in :mod:`geo.names`.
    """
    sources: dict[tuple[str, str], set[str]] = defaultdict(set)
    for spelling, code, source in spellings:
        spelling = spelling.strip()  # inner spacing is kept: "Thai  Nguyen" is a real spelling
        if spelling:
            sources[(spelling, code)].add(source)
    pairs = sorted(sources)
    try:
        names.build_alias_index([*pairs, *names.EXPLICIT_ALIASES.items()])
    except ValueError as exc:
        raise BuildError(f"alias table is not a function of the key: {exc}") from exc
    rows = [
        {
            "alias": spelling,
            "key": names.normalise(spelling),
            "gso_code": code,
            "sources": ";".join(sorted(sources[(spelling, code)])),
        }
        for spelling, code in pairs
    ]
    return sorted(rows, key=lambda r: (r["gso_code"], r["key"], r["alias"]))


def _spellings(
    key: Mapping[str, dict[str, str]],
    population: Mapping[str, dict[str, str]],
    mapping_rows: Mapping[str, dict[str, str]],
    features: Sequence[Mapping[str, Any]],
) -> list[tuple[str, str, str]]:
    """Every spelling of every province in the sources, as ``(spelling, code, source)``."""
    found: list[tuple[str, str, str]] = []
    for code, row in key.items():
        for column in _KEY_NAME_COLUMNS:
            for part in row[column].split("; "):
                found.append((part, code, f"key.{column}"))
    for code, row in population.items():
        for column in ("name_vi", "name_vi_official", "name_en", "name_ascii"):
            found.append((row[column], code, f"population.{column}"))
    for code, row in mapping_rows.items():
        for column in ("old_name_vi", "old_name_vi_official"):
            found.append((row[column], code, f"admin_2025.{column}"))
    for feature in features:
        props = feature["properties"]
        for column in ("name_vi", "name_vi_official", "name_en", "name_ascii", "gb_shapeName"):
            for part in _nfc(str(props[column])).split("; "):
                found.append((part, str(props["gso_code"]), f"boundaries.{column}"))
    return found


# --------------------------------------------------------------------------------------------
# Geometry
# --------------------------------------------------------------------------------------------


def _approx_area_m2(geom: shapely.Geometry) -> float:
    """Area in m², from degrees with a local scale factor (good to ~1 % at these latitudes)."""
    lat = shapely.get_y(shapely.centroid(geom))
    scale = _M_PER_DEG_LAT * _M_PER_DEG_LON * math.cos(math.radians(lat))
    return float(shapely.area(geom)) * scale


def neighbour_pairs(geoms: GeometryArray, codes: Sequence[str]) -> list[str]:
    """Sorted ``"a|b"`` pairs of provinces that share a border of positive length."""
    tree = shapely.STRtree(geoms)
    pairs: set[str] = set()
    left, right = tree.query(geoms, predicate="intersects")
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i < j and shapely.length(shapely.intersection(geoms[i], geoms[j])) > 0:
            a, b = sorted((codes[i], codes[j]))
            pairs.add(f"{a}|{b}")
    return sorted(pairs)


def _overlaps(geoms: GeometryArray, codes: Sequence[str]) -> list[dict[str, Any]]:
    """Pairs of polygons whose interiors overlap, with the approximate overlap area."""
    tree = shapely.STRtree(geoms)
    found = []
    left, right = tree.query(geoms, predicate="intersects")
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i < j:
            common = shapely.intersection(geoms[i], geoms[j])
            if shapely.area(common) > 0:
                found.append(
                    {"pair": f"{codes[i]}|{codes[j]}", "area_m2": round(_approx_area_m2(common), 2)}
                )
    return sorted(found, key=lambda item: str(item["pair"]))


def _enclosed_gaps(geoms: GeometryArray, codes: Sequence[str]) -> list[dict[str, Any]]:
    """Holes in the union of the coverage (areas enclosed by provinces but in none of them)."""
    gaps = []
    for part in shapely.get_parts(shapely.union_all(geoms)):
        for ring in part.interiors:
            hole = shapely.Polygon(ring)
            circle = shapely.maximum_inscribed_circle(hole)
            around = [c for c, g in zip(codes, geoms, strict=True) if shapely.intersects(g, hole)]
            centroid = shapely.centroid(hole)
            gaps.append(
                {
                    "between": "|".join(sorted(around)),
                    "area_m2": round(_approx_area_m2(hole), 1),
                    "max_width_m": round(2 * shapely.length(circle) * _M_PER_DEG_LAT, 1),
                    "at_lon_lat": [
                        round(shapely.get_x(centroid), 4),
                        round(shapely.get_y(centroid), 4),
                    ],
                }
            )
    return sorted(gaps, key=lambda item: (item["between"], item["at_lon_lat"]))


def _snap_coverage_to_grid(
    geoms: GeometryArray, codes: Sequence[str]
) -> tuple[GeometryArray, list[dict[str, Any]]]:
    """Snap a valid coverage to the coordinate grid without breaking it.

    Rounding each polygon's coordinates on its own can make narrow parts self-intersect or
    collapse (with the 2023 geoBoundaries file it broke 4 of the 63 polygons). Instead, the coverage's linework is noded with
    snap-rounding (``union_all(..., grid_size)``), polygonised into faces, and each face is
    given back to the province it overlaps most; a province is the coverage-union of its faces.
    Faces overlapping no province are gaps and are dropped. Returns the snapped polygons and the
    parts that vanished because they were smaller than the grid.
    """
    noded = shapely.union_all(shapely.boundary(geoms), grid_size=GRID_SIZE)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    tree = shapely.STRtree(geoms)
    owned: dict[int, list[shapely.Geometry]] = defaultdict(list)
    for face in faces:
        candidates = tree.query(face, predicate="intersects").tolist()
        overlap = [float(shapely.area(shapely.intersection(face, geoms[i]))) for i in candidates]
        if candidates and max(overlap) > 0.01 * float(shapely.area(face)):
            owned[candidates[int(np.argmax(overlap))]].append(face)
    snapped = []
    for index, code in enumerate(codes):
        require(bool(owned.get(index)), f"{code}: nothing left after snapping to the grid")
        snapped.append(shapely.coverage_union_all(owned[index]))
    result = np.array(snapped, dtype=object)
    vanished = []
    for code, before, after in zip(codes, geoms, result, strict=True):
        for part in shapely.get_parts(before):
            if not shapely.intersects(part, after):
                centroid = shapely.centroid(part)
                vanished.append(
                    {
                        "gso_code": code,
                        "area_m2": round(_approx_area_m2(part), 1),
                        "at_lon_lat": [
                            round(shapely.get_x(centroid), 4),
                            round(shapely.get_y(centroid), 4),
                        ],
                    }
                )
    return result, vanished


def _check_coverage(geoms: GeometryArray, codes: Sequence[str], what: str) -> None:
    """Every geometry valid, polygonal and non-empty, and together a valid coverage."""
    for code, geom in zip(codes, geoms, strict=True):
        require(
            geom.geom_type in ("Polygon", "MultiPolygon") and not geom.is_empty,
            f"{what}: {code} is {geom.geom_type}",
        )
        require(bool(shapely.is_valid(geom)), f"{what}: {code} {shapely.is_valid_reason(geom)}")
    require(bool(shapely.coverage_is_valid(geoms)), f"{what}: not a valid coverage")


def _process_boundaries(
    features: Sequence[Mapping[str, Any]], release: Sequence[Mapping[str, Any]], log: Log
) -> tuple[list[str], GeometryArray, dict[str, Any]]:
    """Clean, snap and simplify the 63 boundaries; return codes, result and facts.

    ``release`` is the unmodified geoBoundaries release the 63-feature file was prepared from;
    it is only inspected, to report whether flaws of the 63-feature file were already there.
    """
    codes = [str(f["properties"]["gso_code"]) for f in features]
    source = np.array([shape(f["geometry"]) for f in features], dtype=object)
    upstream = np.array([shape(f["geometry"]) for f in release], dtype=object)
    facts: dict[str, Any] = {
        "upstream_release_features": len(release),
        "upstream_release_coverage_valid": bool(shapely.coverage_is_valid(upstream)),
        "source_vertices": int(shapely.get_num_coordinates(source).sum()),
        "source_parts": int(shapely.get_num_geometries(source).sum()),
        "source_all_valid": bool(shapely.is_valid(source).all()),
        "source_coverage_valid": bool(shapely.coverage_is_valid(source)),
        "source_overlaps": _overlaps(source, codes),
        "source_enclosed_gaps": _enclosed_gaps(source, codes),
    }
    log(
        f"source: {len(codes)} features, {facts['source_vertices']} vertices, coverage valid: "
        f"{facts['source_coverage_valid']}, {len(facts['source_overlaps'])} overlaps, "
        f"{len(facts['source_enclosed_gaps'])} enclosed gaps"
    )
    require(facts["source_all_valid"], "source boundaries contain invalid geometries")

    cleaned = shapely.coverage_clean(source, gap_width=GAP_WIDTH)
    _check_coverage(cleaned, codes, "cleaned coverage")
    require(not _enclosed_gaps(cleaned, codes), "cleaned coverage still has enclosed gaps")
    source_pairs = neighbour_pairs(cleaned, codes)
    require(
        neighbour_pairs(source, codes) == source_pairs, "cleaning changed which provinces touch"
    )

    snapped, vanished = _snap_coverage_to_grid(cleaned, codes)
    _check_coverage(snapped, codes, "grid-snapped coverage")
    simplified = shapely.orient_polygons(
        shapely.coverage_simplify(snapped, SIMPLIFY_TOLERANCE), exterior_cw=True
    )
    _check_coverage(simplified, codes, "simplified coverage")
    require(not _enclosed_gaps(simplified, codes), "simplification opened a gap")
    parts = int(shapely.get_num_geometries(simplified).sum())
    require(parts == facts["source_parts"] - len(vanished), "simplification lost polygon parts")
    pairs = neighbour_pairs(simplified, codes)
    require(pairs == source_pairs, "simplification changed which provinces touch")

    change = np.abs(shapely.area(simplified) / shapely.area(source) - 1.0)
    worst = int(np.argmax(change))
    require(
        float(change[worst]) <= MAX_AREA_CHANGE,
        f"{codes[worst]}: area changed by {float(change[worst]):.2%}",
    )
    facts |= {
        "vanished_parts": vanished,
        "neighbour_pairs_source": source_pairs,
        "neighbour_pairs_63": pairs,
        "vertices_63": int(shapely.get_num_coordinates(simplified).sum()),
        "parts_63": parts,
        "max_area_change": {"gso_code": codes[worst], "fraction": round(float(change[worst]), 5)},
    }
    log(
        f"simplified: {facts['vertices_63']} vertices, {len(pairs)} neighbour pairs "
        f"(source {len(source_pairs)}), {len(vanished)} sub-grid parts dropped"
    )
    return codes, simplified, facts


def _dissolve(
    geoms: GeometryArray, codes: Sequence[str], new_code_of: Mapping[str, str]
) -> tuple[list[str], GeometryArray]:
    """Union the 63 provinces into the 34 of 2025 (whole-province merges: a coverage union)."""
    groups: dict[str, list[shapely.Geometry]] = defaultdict(list)
    for code, geom in zip(codes, geoms, strict=True):
        groups[new_code_of[code]].append(geom)
    new_codes = sorted(groups)
    merged = [shapely.coverage_union_all(groups[c]) for c in new_codes]
    oriented = shapely.orient_polygons(np.array(merged, dtype=object), exterior_cw=True)
    return new_codes, oriented


def _rounded(value: Any) -> Any:
    """Round every float in a nested list structure to the coordinate grid."""
    if isinstance(value, float):
        return round(value, COORDINATE_DECIMALS)
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value


def _geojson_bytes(features: Iterable[tuple[str, Mapping[str, Any], shapely.Geometry]]) -> bytes:
    """Serialise ``(id, properties, geometry)`` as a FeatureCollection, one feature per line."""
    lines = []
    for feature_id, properties, geom in features:
        geometry = mapping(geom)
        feature = {
            "type": "Feature",
            "id": feature_id,
            "properties": dict(properties),
            "geometry": {
                "type": geometry["type"],
                "coordinates": _rounded(geometry["coordinates"]),
            },
        }
        lines.append(json.dumps(feature, ensure_ascii=False, separators=(",", ":")))
    body = ",\n".join(lines)
    return f'{{"type":"FeatureCollection","features":[\n{body}\n]}}\n'.encode()


def _csv_bytes(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> bytes:
    """Rows (mappings) as deterministic CSV, ``columns`` in order."""
    return csv_bytes(columns, ([row[column] for column in columns] for row in rows))


# --------------------------------------------------------------------------------------------
# The build
# --------------------------------------------------------------------------------------------


def _parse_csv(data: bytes) -> list[dict[str, str]]:
    """Parse UTF-8 CSV bytes into rows of NFC-normalised strings."""
    text = data.decode("utf-8-sig")
    return [{_nfc(k): _nfc(v) for k, v in row.items()} for row in csv.DictReader(io.StringIO(text))]


def build(
    source_dir: Path = DEFAULT_SOURCE, out_dir: Path = DEFAULT_OUT, log: Log = _noop
) -> BuildResult:
    """Check the sources, then write every file of ``geo/data/`` into ``out_dir``.

    Every check runs before the first file is written, so a build that fails a check leaves
    ``out_dir`` as it was. Raises :class:`BuildError` on any inconsistency.
    """
    raw = read_sources(source_dir, SOURCES)
    log(f"read {len(raw)} source files from {source_dir}")
    key = _by_code(_parse_csv(raw["key"]), "gso_code", "key")
    population = _by_code(_parse_csv(raw["population"]), "gso_code", "population")
    mapping_rows = _by_code(_parse_csv(raw["mapping"]), "old_gso_code", "63→34 mapping")
    new_rows = _by_code(_parse_csv(raw["provinces_2025"]), "new_gso_code", "34 provinces")
    collection = json.loads(raw["boundaries"].decode("utf-8"))
    features = sorted(collection["features"], key=lambda f: str(f["properties"]["gso_code"]))

    provinces = _province_rows(key, population)
    provinces_2025 = _provinces_2025_rows(provinces, mapping_rows, new_rows)
    aliases = _alias_rows(_spellings(key, population, mapping_rows, features))
    log(
        f"tables: {len(provinces)} provinces, {len(provinces_2025)} from 2025, {len(aliases)} aliases"
    )

    release = json.loads(raw["gb_release"].decode("utf-8"))["features"]
    codes, simplified, facts = _process_boundaries(features, release, log)
    require(codes == [str(p["gso_code"]) for p in provinces], "boundary codes != key codes")
    for feature, row in zip(features, provinces, strict=True):
        require(
            _nfc(str(feature["properties"]["name_vi"])) == row["name_vi"],
            f"{row['gso_code']}: boundary name differs from the key",
        )
    new_code_of = {str(p["gso_code"]): str(p["new_2025_gso_code"]) for p in provinces}
    new_codes, merged = _dissolve(simplified, codes, new_code_of)
    require(new_codes == [str(r["new_gso_code"]) for r in provinces_2025], "dissolve codes")
    _check_coverage(merged, new_codes, "2025 coverage")
    expected_2025 = sorted(
        {
            "|".join(sorted((new_code_of[a], new_code_of[b])))
            for a, b in (pair.split("|") for pair in facts["neighbour_pairs_63"])
            if new_code_of[a] != new_code_of[b]
        }
    )
    pairs_2025 = neighbour_pairs(merged, new_codes)
    require(pairs_2025 == expected_2025, "2025 neighbours differ from the 63-province ones")

    files: dict[str, bytes] = {
        PROVINCES_FILE: _csv_bytes(PROVINCE_COLUMNS, provinces),
        PROVINCES_2025_FILE: _csv_bytes(PROVINCES_2025_COLUMNS, provinces_2025),
        ALIASES_FILE: _csv_bytes(ALIAS_COLUMNS, aliases),
        GEOJSON_63_FILE: _geojson_bytes(
            (
                str(row["gso_code"]),
                {
                    "gso_code": row["gso_code"],
                    "iso_3166_2": row["iso_3166_2"],
                    "name_vi": row["name_vi"],
                    "name_en": row["name_en"],
                    "new_2025_gso_code": row["new_2025_gso_code"],
                },
                geom,
            )
            for row, geom in zip(provinces, simplified, strict=True)
        ),
        GEOJSON_2025_FILE: _geojson_bytes(
            (
                str(row["new_gso_code"]),
                {
                    "new_gso_code": row["new_gso_code"],
                    "name_vi": row["name_vi"],
                    "unit_type": row["unit_type"],
                    "old_gso_codes": row["old_gso_codes"],
                    "population_2019": row["population_2019"],
                    "population_18plus": row["population_18plus"],
                },
                geom,
            )
            for row, geom in zip(provinces_2025, merged, strict=True)
        ),
    }
    for source_name, file_name in COPIED_TEXTS.items():
        files[f"licences/{file_name}"] = raw[source_name]
    for path in sorted(STATIC_LICENCES.glob("*.txt")):
        files[f"licences/{path.name}"] = path.read_bytes()
    for name in (GEOJSON_63_FILE, GEOJSON_2025_FILE):
        size = len(files[name])
        require(size <= MAX_GEOJSON_BYTES, f"{name} is {size} bytes > {MAX_GEOJSON_BYTES}")

    checks: dict[str, Any] = {
        "provinces": len(provinces),
        "provinces_2025": len(provinces_2025),
        "aliases": len(aliases),
        "population_2019_total": CENSUS_2019_TOTAL,
        "population_18plus_total": ADULT_18PLUS_TOTAL,
        "features_63": len(codes),
        "features_2025": len(new_codes),
        **facts,
        "vertices_2025": int(shapely.get_num_coordinates(merged).sum()),
        "neighbour_pairs_2025": pairs_2025,
    }
    parameters = {
        "coordinate_decimals": COORDINATE_DECIMALS,
        "simplify_tolerance_deg": SIMPLIFY_TOLERANCE,
        "gap_width_deg": GAP_WIDTH,
        "max_geojson_bytes": MAX_GEOJSON_BYTES,
        "ring_orientation": "exterior clockwise (d3/Plotly convention)",
        "shapely": shapely.__version__,
        "geos": ".".join(str(part) for part in shapely.geos_version),
    }
    sources = {
        SOURCES[name]: {"bytes": len(data), "sha256": sha256(data)} for name, data in raw.items()
    }
    files["README.md"] = render_readme(
        {"checks": checks, "parameters": parameters, "sizes": {n: len(b) for n, b in files.items()}}
    ).encode("utf-8")
    manifest = {
        "generator": "python -m geo build (geo/build.py)",
        "parameters": parameters,
        "sources": sources,
        "checks": checks,
        "files": file_entries(files),
    }
    files[MANIFEST_FILE] = json_bytes(manifest)

    for path in write_files({out_dir / name: data for name, data in files.items()}):
        log(f"wrote {path} ({path.stat().st_size} bytes)")
    return BuildResult(
        out_dir=out_dir,
        files={name: (len(data), sha256(data)) for name, data in files.items()},
        manifest=manifest,
    )
