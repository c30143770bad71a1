"""The platform's one table of vaccine products, ``geo/products.csv``.

Written by hand, one row per product, keyed by ``code`` (the EU DCC medicinal-product
value-set key, ``mp`` on a certificate). Its columns serve every reader:

* ``name`` — the name the portal, the API and the simulator show;
* ``certificate_name`` — the name a certificate prints;
* ``manufacturer`` / ``prophylaxis`` — the value-set codes a certificate carries (``ma``,
  ``vp``), with their value-set texts in ``product_display``, ``manufacturer_display`` and
  ``prophylaxis_display``;
* ``primary_doses`` — the length of the primary series (the certificate rules, the portal's
  "full primary series", the simulator's schedules);
* ``min_interval_days``, ``typical_interval_days``, ``vial_doses`` — the schedule and vial
  size the simulator uses, given for the products of Vietnam's campaign only;
* ``platform`` — mRNA, viral vector, inactivated or protein subunit;
* ``in_campaign`` — 1 for the products given in Vietnam's campaign (what the registry, the
  ETL and the portal know), 0 for those only the certificate rules know;
* ``note`` — anything a reader of the table should know.

Every code and display is checked against the EU DCC value sets (eHealth Network, Apache-2.0,
shipped in ``certificates/data/dcc-schema/valuesets/``) by ``tests/unit/test_products.py``;
``geo/README.md`` has the notes on schedules and vial sizes.
The file is read on first use and cached; callers get copies.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Final

import pandas as pd

__all__ = [
    "CAMPAIGN_COLUMNS",
    "PRODUCTS_PATH",
    "all_products",
    "campaign_products",
]

PRODUCTS_PATH: Final[Path] = Path(__file__).resolve().parent / "products.csv"

#: The columns of :func:`campaign_products`, in order.
CAMPAIGN_COLUMNS: Final[tuple[str, ...]] = (
    "code",
    "name",
    "manufacturer",
    "prophylaxis",
    "primary_doses",
    "min_interval_days",
    "typical_interval_days",
    "vial_doses",
    "platform",
    "product_display",
    "manufacturer_display",
    "prophylaxis_display",
)
_SCHEDULE_COLUMNS: Final = ("min_interval_days", "typical_interval_days", "vial_doses")
_TEXT_COLUMNS: Final = ("code", "manufacturer", "prophylaxis")


class ProductDataError(RuntimeError):
    """``geo/products.csv`` breaks an expectation."""


@lru_cache(maxsize=1)
def _products() -> pd.DataFrame:
    frame = pd.read_csv(
        PRODUCTS_PATH, dtype=dict.fromkeys(_TEXT_COLUMNS, str), keep_default_na=False
    )
    if not frame["code"].is_unique:
        raise ProductDataError(f"{PRODUCTS_PATH}: a product code is listed twice")
    if not frame["primary_doses"].isin((1, 2, 3)).all():
        raise ProductDataError(f"{PRODUCTS_PATH}: primary_doses outside 1..3")
    return frame


@lru_cache(maxsize=1)
def _campaign() -> pd.DataFrame:
    frame = _products()
    frame = frame.loc[frame["in_campaign"] == 1, list(CAMPAIGN_COLUMNS)].reset_index(drop=True)
    for column in _SCHEDULE_COLUMNS:
        frame[column] = frame[column].astype("int64")
    return frame


def all_products() -> pd.DataFrame:
    """Every product, every column (schedule columns are blank outside the campaign)."""
    return _products().copy()


def campaign_products() -> pd.DataFrame:
    """The products of Vietnam's campaign, in table order, with :data:`CAMPAIGN_COLUMNS`."""
    return _campaign().copy()
