"""Tests for the geo package: shipped reference data, loaders, name normaliser and CLI.

These read only the files shipped in ``geo/data/`` — never the shared source folder (the
build itself is exercised in ``tests/integration/test_geo_build.py``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import subprocess
import sys
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from shapely.geometry import shape

ROOT = Path(__file__).resolve().parents[2]

from geo import names, provinces  # noqa: E402
from geo.names import UnknownProvinceError, normalise, to_gso_code  # noqa: E402
from geo.provinces import ADULT_18PLUS_TOTAL, CENSUS_2019_TOTAL  # noqa: E402

DATA = ROOT / "geo" / "data"
MAX_GEOJSON_BYTES = 300_000
# Hà Nội's neighbours in the source boundaries: Hòa Bình, Thái Nguyên, Bắc Giang, Phú Thọ,
# Vĩnh Phúc, Bắc Ninh, Hưng Yên, Hà Nam.
HANOI_NEIGHBOURS = {"17", "19", "24", "25", "26", "27", "33", "35"}


def _features(name: str) -> list[dict[str, Any]]:
    features: list[dict[str, Any]] = json.loads((DATA / name).read_text("utf-8"))["features"]
    return features


def _geometries(name: str) -> tuple[list[str], np.ndarray]:
    features = _features(name)
    return [f["id"] for f in features], np.array([shape(f["geometry"]) for f in features])


def _neighbour_pairs(codes: list[str], geoms: np.ndarray) -> set[str]:
    """Pairs sharing a border of positive length, found through an STRtree."""
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pairs = set()
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i < j and shapely.length(shapely.intersection(geoms[i], geoms[j])) > 0:
            pairs.add("|".join(sorted((codes[i], codes[j]))))
    return pairs


def _run_cli(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "geo", *args], cwd=ROOT, capture_output=True, timeout=120
    )


# ---------------------------------------------------------------------------- shipped tables


def test_province_table_has_63_rows_with_string_codes_and_int_populations() -> None:
    frame = provinces.load_provinces()
    assert len(frame) == 63
    assert tuple(frame.columns) == provinces.PROVINCE_COLUMNS
    assert all(isinstance(c, str) and re.fullmatch(r"\d\d", c) for c in frame["gso_code"])
    assert list(frame["gso_code"]) == sorted(frame["gso_code"])
    assert frame["population_2019"].dtype == "int64"
    assert frame["population_18plus"].dtype == "int64"
    assert frame.loc[frame["gso_code"] == "01", "name_vi"].item() == "Hà Nội"
    assert (frame["unit_type"] == "thanh_pho_truc_thuoc_tw").sum() == 5


def test_population_sums_to_census_and_moh_totals() -> None:
    frame = provinces.load_provinces()
    assert int(frame["population_2019"].sum()) == CENSUS_2019_TOTAL
    assert int(frame["population_18plus"].sum()) == ADULT_18PLUS_TOTAL
    assert (frame["population_18plus"] < frame["population_2019"]).all()


def test_text_is_nfc() -> None:
    for name in ("provinces.csv", "provinces_2025.csv", "aliases.csv"):
        text = (DATA / name).read_text("utf-8")
        assert unicodedata.normalize("NFC", text) == text, name


def test_codes_join_63_of_63_across_files() -> None:
    codes = set(provinces.load_provinces()["gso_code"])
    boundary_codes = [f["properties"]["gso_code"] for f in _features("provinces_63.geojson")]
    assert len(codes) == 63
    assert Counter(boundary_codes) == Counter(codes)  # each exactly once
    assert set(provinces.load_aliases()["gso_code"]) == codes
    olds = [c for row in provinces.load_provinces_2025()["old_gso_codes"] for c in row.split(";")]
    assert Counter(olds) == Counter(codes)
    assert set(provinces.province_codes()) == codes


def test_2025_rollup_has_34_rows_and_preserves_population() -> None:
    old = provinces.load_provinces().set_index("gso_code")
    new = provinces.load_provinces_2025()
    assert len(new) == 34
    assert new["new_gso_code"].is_unique
    assert int(new["population_2019"].sum()) == CENSUS_2019_TOTAL
    assert int(new["population_18plus"].sum()) == ADULT_18PLUS_TOTAL
    for row in new.itertuples():
        members = row.old_gso_codes.split(";")
        assert row.n_old_provinces == len(members)
        assert row.population_2019 == old.loc[members, "population_2019"].sum()
        assert (old.loc[members, "new_2025_gso_code"] == row.new_gso_code).all()
    assert (new["unit_type"] == "thanh_pho_truc_thuoc_tw").sum() == 6


def test_old_to_new_codes_covers_all_63() -> None:
    mapping = provinces.old_to_new_codes()
    assert len(mapping) == 63
    assert set(mapping.values()) == set(provinces.new_province_codes())
    assert mapping["46"] == "46"  # Thừa Thiên Huế → Huế, not merged
    assert mapping["74"] == mapping["77"] == "79"  # Bình Dương, Bà Rịa - Vũng Tàu → HCMC


def test_loaders_return_copies() -> None:
    frame = provinces.load_provinces()
    frame.loc[0, "name_vi"] = "changed"
    assert provinces.load_provinces().loc[0, "name_vi"] == "Hà Nội"
    geojson = provinces.provinces_geojson()
    geojson["features"].clear()
    assert len(provinces.provinces_geojson()["features"]) == 63


# ---------------------------------------------------------------------------- boundaries


@pytest.mark.parametrize(
    ("name", "count", "id_key"),
    [("provinces_63.geojson", 63, "gso_code"), ("provinces_2025.geojson", 34, "new_gso_code")],
)
def test_geojson_is_small_valid_and_keyed(name: str, count: int, id_key: str) -> None:
    path = DATA / name
    assert path.stat().st_size <= MAX_GEOJSON_BYTES
    features = _features(name)
    assert len(features) == count
    ids = [f["id"] for f in features]
    assert ids == sorted(set(ids))
    assert all(f["properties"][id_key] == f["id"] for f in features)
    assert all("name_vi" in f["properties"] for f in features)
    geoms = np.array([shape(f["geometry"]) for f in features])
    assert all(g.geom_type in ("Polygon", "MultiPolygon") and not g.is_empty for g in geoms)
    assert shapely.is_valid(geoms).all()
    assert shapely.coverage_is_valid(geoms)
    # WGS84 lon/lat around Viet Nam (incl. Hoàng Sa / Trường Sa), at most 4 decimals.
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
    assert xmin > 102 and xmax < 117
    assert ymin > 8 and ymax < 24
    assert not re.search(r"\d\.\d{5,}", path.read_text("utf-8"))


@pytest.mark.parametrize("name", ["provinces_63.geojson", "provinces_2025.geojson"])
def test_exterior_rings_are_clockwise_for_plotly(name: str) -> None:
    _, geoms = _geometries(name)
    for geom in geoms:
        for polygon in shapely.get_parts(geom):
            assert not polygon.exterior.is_ccw
            assert all(ring.is_ccw for ring in polygon.interiors)


def test_neighbours_do_not_overlap() -> None:
    codes, geoms = _geometries("provinces_63.geojson")
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    touching = [(i, j) for i, j in zip(left.tolist(), right.tolist(), strict=True) if i < j]
    assert len(touching) >= 135
    for i, j in touching:
        assert shapely.area(shapely.intersection(geoms[i], geoms[j])) < 1e-12, (codes[i], codes[j])


def test_neighbours_still_touch_as_in_the_source() -> None:
    codes, geoms = _geometries("provinces_63.geojson")
    pairs = _neighbour_pairs(codes, geoms)
    checks = provinces.load_manifest()["checks"]
    assert pairs == set(checks["neighbour_pairs_source"])
    assert len(pairs) == 135
    hanoi = {b if a == "01" else a for a, b in (p.split("|") for p in pairs) if "01" in (a, b)}
    assert hanoi == HANOI_NEIGHBOURS


def test_2025_neighbours_follow_from_the_63() -> None:
    codes, geoms = _geometries("provinces_2025.geojson")
    new_of = provinces.old_to_new_codes()
    expected = {
        "|".join(sorted((new_of[a], new_of[b])))
        for a, b in (
            p.split("|") for p in provinces.load_manifest()["checks"]["neighbour_pairs_63"]
        )
        if new_of[a] != new_of[b]
    }
    assert _neighbour_pairs(codes, geoms) == expected


def test_2025_polygons_are_the_union_of_their_constituents() -> None:
    old_codes, old_geoms = _geometries("provinces_63.geojson")
    old_by_code = dict(zip(old_codes, old_geoms, strict=True))
    for feature in _features("provinces_2025.geojson"):
        merged = shape(feature["geometry"])
        members = [old_by_code[c] for c in feature["properties"]["old_gso_codes"].split(";")]
        union = shapely.union_all(members)
        assert shapely.symmetric_difference(merged, union).area < 1e-9, feature["id"]


def test_2025_geojson_properties_match_the_table() -> None:
    table = provinces.load_provinces_2025().set_index("new_gso_code")
    for feature in _features("provinces_2025.geojson"):
        props = feature["properties"]
        assert props["population_2019"] == table.loc[feature["id"], "population_2019"]
        assert props["name_vi"] == table.loc[feature["id"], "name_vi"]


# ---------------------------------------------------------------------------- manifest


def test_manifest_checksums_match_the_shipped_files() -> None:
    manifest = provinces.load_manifest()
    listed = set(manifest["files"])
    shipped = {
        p.relative_to(DATA).as_posix()
        for p in DATA.rglob("*")
        if p.is_file() and p.name != "manifest.json" and "__pycache__" not in p.parts
    }
    assert listed == shipped
    for name, entry in manifest["files"].items():
        data = (DATA / name).read_bytes()
        assert len(data) == entry["bytes"], name
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], name


def test_licence_texts_and_readme_are_shipped() -> None:
    readme = (DATA / "README.md").read_text("utf-8")
    for needle in (
        "geoBoundaries",
        "Public domain",
        "MIT",
        "dd94887ce32324380bc5bb0a76fe39867dafc73b",
    ):
        assert needle.lower() in readme.lower()
    assert (DATA / "licences" / "geoBoundaries-CITATION-AND-USE.txt").is_file()
    assert "MIT License" in (DATA / "licences" / "dvhcvn-20250701-LICENSE.txt").read_text("utf-8")


def test_only_the_build_refers_to_the_shared_folder() -> None:
    for path in (ROOT / "geo").glob("*.py"):
        if path.name != "build.py":
            assert '"shared"' not in path.read_text("utf-8"), path


# ---------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("TP. Hồ Chí Minh", "hochiminh"),
        ("Thành phố Hồ Chí Minh", "hochiminh"),
        ("Ho Chi Minh City", "hochiminh"),
        ("tp hồ chí minh", "hochiminh"),
        ("Tỉnh Hoà Bình", "hoabinh"),
        ("HA NOI", "hanoi"),
        ("Thua Thien-Hue", "thuathienhue"),
        ("Bà Rịa -Vũng Tàu", "bariavungtau"),
        ("Thai  Nguyen", "thainguyen"),
        ("Đắk Lắk province", "daklak"),
        ("Tỉnh", ""),
        ("", ""),
    ],
)
def test_normalise(text: str, key: str) -> None:
    assert normalise(text) == key


def test_normalise_accepts_decomposed_unicode() -> None:
    assert normalise(unicodedata.normalize("NFD", "Tỉnh Hoà Bình")) == "hoabinh"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hoà Bình", "Hòa Bình"),
        ("HOÀ BÌNH", "HÒA BÌNH"),
        ("Thanh Hoá", "Thanh Hóa"),
        ("Khánh Hoà", "Khánh Hòa"),
        ("khoẻ", "khỏe"),
        ("Thuỷ", "Thủy"),
        ("Hoàng Sa", "Hoàng Sa"),  # final consonant: unchanged
        ("Quỳnh", "Quỳnh"),
        ("Quý", "Quý"),  # "qu" is a consonant: the tone stays on y
        ("Hòa Bình", "Hòa Bình"),
    ],
)
def test_canonical_tone_marks(text: str, expected: str) -> None:
    assert names.canonical_tone_marks(text) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("TP. Hồ Chí Minh", "79"),
        ("Hoà Bình", "17"),
        ("Hòa Bình", "17"),
        ("HOA BINH", "17"),
        ("HA NOI", "01"),
        ("Hanoi", "01"),
        ("Hà Nội", "01"),
        ("Thua Thien Hue", "46"),
        ("Thừa Thiên Huế", "46"),
        ("Huế", "46"),
        ("Cần Thơn", "92"),
        ("Quản Bình", "44"),
        ("Kien Giang", "91"),
        ("Đăk Lăk", "66"),
        ("Dak Lac", "66"),
        ("Dac Nong", "67"),
        ("Côn Đảo", "77"),
        ("Ho Chi Minh City", "79"),
        ("Ho Chi Minh city", "79"),
        ("Ba Ria - Vung Tau", "77"),
        ("  Cà Mau  ", "96"),
        ("01", "01"),
        ("1", "01"),
        ("96", "96"),
    ],
)
def test_to_gso_code_resolves_known_spellings(text: str, code: str) -> None:
    assert to_gso_code(text) == code


def test_to_gso_code_accepts_integer_codes() -> None:
    assert to_gso_code(1) == "01"
    assert to_gso_code(79) == "79"


@pytest.mark.parametrize(
    "text", ["Atlantis", "Hà", "", "   ", "99", "00", "3", "100", "Tỉnh", "VN-HN"]
)
def test_to_gso_code_rejects_unknowns(text: str) -> None:
    with pytest.raises(UnknownProvinceError) as excinfo:
        to_gso_code(text)
    assert repr(text) in str(excinfo.value)
    assert isinstance(excinfo.value, ValueError)


@pytest.mark.parametrize("value", [True, 1.0, None])
def test_to_gso_code_rejects_other_types(value: Any) -> None:
    with pytest.raises(UnknownProvinceError):
        to_gso_code(value)


def test_every_shipped_alias_resolves_to_its_code() -> None:
    aliases = provinces.load_aliases()
    for row in aliases.itertuples():
        assert normalise(row.alias) == row.key
        assert to_gso_code(row.alias) == row.gso_code, row.alias
    for frame_row in provinces.load_provinces().itertuples():
        for spelling in (frame_row.name_vi, frame_row.name_vi_official, frame_row.name_en):
            assert to_gso_code(spelling) == frame_row.gso_code
            assert to_gso_code(spelling.upper()) == frame_row.gso_code
            assert to_gso_code(names.strip_diacritics(spelling)) == frame_row.gso_code


def test_explicit_aliases_agree_with_the_data() -> None:
    index = names.alias_index()
    for key, code in names.EXPLICIT_ALIASES.items():
        assert index[key] == code
    assert len(set(index.values())) == 63


def test_ambiguous_aliases_are_refused() -> None:
    with pytest.raises(names.AmbiguousAliasError, match="hanoi"):
        names.build_alias_index([("Hà Nội", "01"), ("HA NOI", "02")])
    assert names.build_alias_index([("Hà Nội", "01"), ("HA NOI", "01")]) == {"hanoi": "01"}
    with pytest.raises(ValueError, match="empty"):
        names.build_alias_index([("Tỉnh", "01")])


# ---------------------------------------------------------------------------- command line


def test_cli_provinces_json() -> None:
    result = _run_cli("provinces", "--format", "json")
    assert result.returncode == 0, result.stderr.decode()
    rows = json.loads(result.stdout.decode("utf-8"))
    assert isinstance(rows, list) and len(rows) == 63
    assert rows[0]["gso_code"] == "01" and rows[0]["name_vi"] == "Hà Nội"
    assert set(rows[0]) == set(provinces.PROVINCE_COLUMNS)
    assert sum(r["population_2019"] for r in rows) == CENSUS_2019_TOTAL
    summary = json.loads(result.stderr.decode().strip().splitlines()[-1])
    assert summary["command"] == "provinces" and summary["rows"] == 63


def test_cli_provinces_csv_keeps_stdout_clean() -> None:
    result = _run_cli("provinces")
    assert result.returncode == 0, result.stderr.decode()
    rows = list(csv.DictReader(io.StringIO(result.stdout.decode("utf-8"))))
    assert len(rows) == 63
    assert rows[-1]["gso_code"] == "96"
    assert [json.loads(line) for line in result.stderr.decode().splitlines()] == [
        {"command": "provinces", "format": "csv", "rows": 63}
    ]


@pytest.mark.parametrize(
    "args", [(), ("provinces", "--format", "xml"), ("nonsense",), ("build", "--bogus")]
)
def test_cli_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    result = _run_cli(*args)
    assert result.returncode == 2
    assert b"usage:" in result.stderr
    assert result.stdout == b""


def test_cli_build_reports_a_missing_source(tmp_path: Path) -> None:
    result = _run_cli("build", "--source", str(tmp_path / "missing"), "--out", str(tmp_path / "o"))
    assert result.returncode == 1
    summary = json.loads(result.stdout.decode())
    assert summary["command"] == "build" and summary["ok"] is False
    assert "missing" in summary["error"]
    assert not (tmp_path / "o").exists()
