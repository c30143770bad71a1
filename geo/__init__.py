"""Reference data for VaxViet: provinces (codes, names, populations, boundaries), the
calendar and the vaccine products.

* :mod:`geo.provinces` — loaders for the files shipped in ``geo/data/`` (63 provinces of the
  COVID-19 period, the 34 provinces from 1 July 2025, boundary GeoJSON for Plotly);
* :mod:`geo.names` — exact, non-fuzzy mapping of any province spelling to its GSO code;
* :mod:`geo.calendar` — the local time zone and the campaign calendar;
* :mod:`geo.products` — the vaccine products (``geo/products.csv``);
* :mod:`geo.build` — regenerates ``geo/data/`` from the shared source folder
  (``python -m geo build``), on the build-step harness every build shares,
  :mod:`geo.buildstep`.

Importing the package reads no files.
"""

from __future__ import annotations

from geo.names import UnknownProvinceError, normalise, to_gso_code
from geo.provinces import (
    load_provinces,
    load_provinces_2025,
    new_province_codes,
    old_to_new_codes,
    province_codes,
    provinces_2025_geojson,
    provinces_geojson,
)

__all__ = [
    "UnknownProvinceError",
    "load_provinces",
    "load_provinces_2025",
    "new_province_codes",
    "normalise",
    "old_to_new_codes",
    "province_codes",
    "provinces_2025_geojson",
    "provinces_geojson",
    "to_gso_code",
]
