"""The text of ``geo/data/README.md``, filled in with the numbers of the build that wrote it.

Kept apart from :mod:`geo.build` so the prose can be read and edited on its own. The output
depends only on its argument (no dates, no paths), so the build stays byte-for-byte repeatable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["render_readme"]


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
    return f"""\
# `geo/data/` — province reference data shipped with VaxViet

Written by `python -m geo build` (source: `geo/build.py`); do not edit by hand — change the
build and run it again. The build reads the shared source folder; nothing else in the project
does. `manifest.json` holds the sha256 and size of every file here, the checksums of the source
files that were read, and the facts the build checked (so a test can re-run the build and
compare bytes).

## Files

| file | content | size |
|---|---|---|
| `provinces.csv` | the {checks["provinces"]} provinces before 1 July 2025: GSO code, ISO 3166-2, names, unit type, GSO 6 regions and the customary 8 regions, 2019 census population, MoH 18+ population, successor province | {_kb(sizes["provinces.csv"])} |
| `provinces_2025.csv` | the {checks["provinces_2025"]} provinces from 1 July 2025 with their constituent old codes (`;`-separated) and summed populations | {_kb(sizes["provinces_2025.csv"])} |
| `aliases.csv` | {checks["aliases"]} distinct spellings of the 63 provinces found in the sources, with the normalised key and the file/column they were found in | {_kb(sizes["aliases.csv"])} |
| `provinces_63.geojson` | {checks["features_63"]} province boundaries for web maps ({checks["vertices_63"]:,} vertices) | {_kb(sizes["provinces_63.geojson"])} |
| `provinces_2025.geojson` | {checks["features_2025"]} post-2025 provinces dissolved from the 63 ({checks["vertices_2025"]:,} vertices) | {_kb(sizes["provinces_2025.geojson"])} |
| `licences/` | geoBoundaries citation/use terms and metadata, dvhcvn MIT licence | |
| `manifest.json` | checksums and build facts | |

All text is UTF-8 in Unicode NFC. Codes are 2-character strings with the leading zero (`"01"`);
read them as strings. Populations: 2019 census total {checks["population_2019_total"]:,},
18+ total {checks["population_18plus_total"]:,}.

## Sources and licences

The numbers and names come from the shared data folder (`data/vn/`), whose READMEs record the
upstream repositories; the commits below are the ones given there.

- **Boundaries** — geoBoundaries gbOpen, Viet Nam ADM1 (`VNM-ADM1-63759600`, built
  2023-12-12, representative of the 2008 layout; sources "geoBoundaries, Wikipedia").
  Licence: **public domain**; geoBoundaries asks for attribution — "Administrative boundaries
  courtesy of geoBoundaries.org", or Runfola D. et al. (2020), *geoBoundaries: A global database
  of political administrative boundaries*, PLoS ONE 15(4): e0231866. Their terms and the
  dataset metadata are in `licences/`. Bytes: repository `nhdthnh/GeoJson`, commit
  `704c7b8bf1638105db5e937cbffe38018ba9810c`, as prepared in the shared folder (the separate
  Côn Đảo shape merged into Bà Rịa - Vũng Tàu, codes attached, coordinates at 6 decimals).
- **63 → 34 provinces (1 July 2025)** — repository `dvhcvn/20250701`, commit
  `dd94887ce32324380bc5bb0a76fe39867dafc73b` (built from Resolution 60-NQ/TW, the National
  Assembly resolutions on the provincial rearrangement and GSO letter 915/CTK-CSCL for the new
  codes). Licence: **MIT**, text in `licences/dvhcvn-20250701-LICENSE.txt`. Old codes
  cross-checked against the GSO catalogue of 2025-03-01 in `daohoangson/dvhcvn`, commit
  `4b1b6b59c5880c620722663bcb48c5c105364be5`.
- **Population** — official statistics, no open-data licence attached; cite them.
  `population_2019`: GSO, 2019 Population and Housing Census (1 April 2019, completed results),
  as reconciled in the shared folder between the MoH portal and an independent transcription
  (`mgastner/cartogram-cpp`, commit `e5915e02ab095af33f60cdb3c86deb645c39ca61`, used only to
  check) so that the 63 values add up to the official national total.
  `population_18plus`: Ministry of Health COVID-19 vaccination portal (tiemchungcovid19.gov.vn,
  `popOverEighteen`) as captured on 2021-08-04 in `tuankhoin/COVID-VN-Data-Retrieval`, commit
  `41aa3fbd314d076ac2670f650e0a76547b729eef` (that repository has no licence file).
- **Names and codes** — GSO administrative-unit catalogue (via the two dvhcvn repositories
  above); ISO 3166-2 codes from geoBoundaries `shapeISO`; English names as printed in the GSO
  statistical yearbook (`letung3105/coviddata`, commit
  `eec152eee966d83cc21a4d92b74b373bb0a433fc`); the spellings of the MoH portal and of the Open
  Development Mekong province layer (names only — no ODM geometry is shipped here, so its
  CC BY-SA licence does not extend to these files).

Suggested credit line on maps: *Boundaries: geoBoundaries (public domain). Population: GSO 2019
census, Ministry of Health. 2025 provinces: dvhcvn (MIT).*

## What the build did

1. Read the key, population, 2025 mapping and 34-province tables; normalised all text to NFC;
   stopped unless the codes agree 63/63 across every file, the names/regions/ISO codes agree
   between the key and the population table, every merge is whole-province, the constituents
   agree in both 2025 tables and the populations add up (2019 census to the official total,
   every 34-province sum to the one published with the mapping).
2. Collected every spelling of each province (key, population, mapping and boundary files),
   reduced each to its key with `geo.names.normalise`, and stopped if any key named two
   provinces (the explicit alias table in `geo/names.py` takes part in that check).
3. Boundaries: repaired the coverage with `shapely.coverage_clean` (overlaps go to the
   neighbour with the longest shared border; enclosed gaps narrower than
   {params["gap_width_deg"]}° are filled the same way); snapped the whole coverage to a
   {params["coordinate_decimals"]}-decimal grid by snap-rounding its shared linework, so
   neighbours stay edge-matched (rounding each polygon on its own breaks some of them); then
   simplified it with `shapely.coverage_simplify` (Visvalingam-Whyatt, tolerance
   {params["simplify_tolerance_deg"]}°, about 500 m), which simplifies each shared border once
   for both sides. Checked after every step that each polygon is valid and the set is a valid
   coverage, and at the end that exactly the same {len(checks["neighbour_pairs_63"])} pairs of
   provinces share a border as in the source and that no enclosed gap exists. Largest area
   change of a province: {change["fraction"]:.2%} (code {change["gso_code"]}).
4. Dissolved the 63 simplified provinces into the 34 of 2025 with `shapely.coverage_union_all`
   (every merge is whole-province), and checked that the {len(checks["neighbour_pairs_2025"])}
   neighbour pairs among them are exactly those implied by the 63-province neighbours.
5. Wrote rings clockwise (exterior) — the convention of d3, which Plotly's `geo` maps use;
   RFC 7946 prescribes the opposite and MapLibre-based maps accept either. Coordinates are
   WGS84 longitude/latitude at {params["coordinate_decimals"]} decimals (about 11 m).
   Library versions: shapely {params["shapely"]}, GEOS {params["geos"]}.

## What the source looked like

- {checks["source_vertices"]:,} vertices in {checks["source_parts"]} polygon parts.
- Every polygon valid: {checks["source_all_valid"]}. Valid coverage: {checks["source_coverage_valid"]}.
- Overlaps between neighbours, resolved by the cleaning step:
{overlaps}- Where the overlaps come from:
  {origin}.
- Enclosed gaps (an area surrounded by provinces but in none of them):
{gaps}- Parts smaller than the {params["coordinate_decimals"]}-decimal grid, dropped when snapping:
{vanished}- Every other part is kept ({checks["parts_63"]} parts), islands included — among them
  the Hoàng Sa (Paracel) islets in Đà Nẵng's feature and the Trường Sa (Spratly) islets in
  Khánh Hòa's, as in the source.

## Using the files

```python
from geo.provinces import load_provinces, provinces_geojson
import plotly.express as px

df = load_provinces()
fig = px.choropleth(
    df,
    geojson=provinces_geojson(),
    locations="gso_code",
    featureidkey="properties.gso_code",
    color="population_2019",
)
fig.update_geos(fitbounds="locations", visible=False)
```

Names from other data sets: `geo.names.to_gso_code("TP. Hồ Chí Minh") == "79"`.
"""
