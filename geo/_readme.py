"""The text of ``geo/data/README.md``: the template ``geo/build_inputs/README.template.md``
filled in with the numbers of the build that wrote it.

The prose lives in the template, to be read and edited on its own; this module computes the
values of its ``${name}`` placeholders. The output depends only on the argument (no dates, no
paths), so the build stays byte-for-byte repeatable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from geo.buildstep import render_template

__all__ = ["README_TEMPLATE", "render_readme"]

README_TEMPLATE: Final = Path(__file__).resolve().parent / "build_inputs" / "README.template.md"


def _kb(size: int) -> str:
    return f"{size / 1000:.0f} kB"


def _area(square_metres: float) -> str:
    if square_metres >= 10_000:
        return f"{square_metres / 1e6:.2f} km²"
    return f"{square_metres:g} m²"


def _items(entries: Sequence[Mapping[str, Any]], describe: str) -> str:
    if not entries:
        return "  - none\n"
    return "".join("  - " + describe.format(**entry) + "\n" for entry in entries)


def render_readme(facts: Mapping[str, Any]) -> str:
    """Render the README from ``{"checks": …, "parameters": …, "sizes": {file: bytes}}``."""
    checks: Mapping[str, Any] = facts["checks"]
    params: Mapping[str, Any] = facts["parameters"]
    sizes: Mapping[str, int] = facts["sizes"]
    overlaps = _items(
        [
            {"a": o["pair"].replace("|", " / "), "area": _area(o["area_m2"])}
            for o in checks["source_overlaps"]
        ],
        "{a}: about {area}",
    )
    gaps = _items(
        [
            {
                "b": g["between"].replace("|", " / "),
                "area": _area(g["area_m2"]),
                "w": round(g["max_width_m"]),
                "at": ", ".join(str(v) for v in g["at_lon_lat"]),
            }
            for g in checks["source_enclosed_gaps"]
        ],
        "between {b}: about {area}, at most {w} m wide, around lon/lat {at} — filled",
    )
    vanished = _items(
        [{"code": v["gso_code"], "area": _area(v["area_m2"])} for v in checks["vanished_parts"]],
        "{code}: a sliver of about {area}",
    )
    change = checks["max_area_change"]
    if checks["source_coverage_valid"]:
        origin = "there are none: the source is a valid coverage"
    elif checks["upstream_release_coverage_valid"]:
        origin = (
            "not from geoBoundaries (its unmodified release is a valid coverage) but from\n"
            "  preparing the 63-feature file, whose coordinates were rounded to 6 decimals"
        )
    else:
        origin = "already in the unmodified geoBoundaries release"
    values = {
        "provinces": checks["provinces"],
        "size_provinces_csv": _kb(sizes["provinces.csv"]),
        "provinces_2025": checks["provinces_2025"],
        "size_provinces_2025_csv": _kb(sizes["provinces_2025.csv"]),
        "aliases": checks["aliases"],
        "size_aliases_csv": _kb(sizes["aliases.csv"]),
        "features_63": checks["features_63"],
        "vertices_63": format(checks["vertices_63"], ","),
        "size_provinces_63_geojson": _kb(sizes["provinces_63.geojson"]),
        "features_2025": checks["features_2025"],
        "vertices_2025": format(checks["vertices_2025"], ","),
        "size_provinces_2025_geojson": _kb(sizes["provinces_2025.geojson"]),
        "population_2019_total": format(checks["population_2019_total"], ","),
        "population_18plus_total": format(checks["population_18plus_total"], ","),
        "gap_width_deg": params["gap_width_deg"],
        "coordinate_decimals": params["coordinate_decimals"],
        "simplify_tolerance_deg": params["simplify_tolerance_deg"],
        "neighbour_pairs_63_count": len(checks["neighbour_pairs_63"]),
        "change_fraction": format(change["fraction"], ".2%"),
        "change_gso_code": change["gso_code"],
        "neighbour_pairs_2025_count": len(checks["neighbour_pairs_2025"]),
        "shapely": params["shapely"],
        "geos": params["geos"],
        "source_vertices": format(checks["source_vertices"], ","),
        "source_parts": checks["source_parts"],
        "source_all_valid": checks["source_all_valid"],
        "source_coverage_valid": checks["source_coverage_valid"],
        "overlaps": overlaps,
        "origin": origin,
        "gaps": gaps,
        "vanished": vanished,
        "parts_63": checks["parts_63"],
    }
    return render_template(README_TEMPLATE, values)
