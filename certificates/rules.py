"""Certificate status from a citizen's doses: none, yellow or green, and boosters.

The primary series length per product lives in the platform's one table of products,
``geo/products.csv`` (with the value-set codes a certificate carries for it). The rules,
for the live doses of one citizen in order of administration:

* no dose: **none**;
* the primary series is complete at the first dose *k* where *k* reaches the shortest
  series among the products given up to then. Mixed schedules count: AstraZeneca then
  Pfizer completes at dose 2, and one dose of a single-dose product (Janssen) completes
  the series whatever came before;
* complete: **green**, and every later dose is a booster; otherwise **yellow**.

A certificate states the same facts as ``dn``/``sd`` (dose number / doses in series), the
EU convention: yellow ``1/2``; complete ``2/2``, ``1/1``; boosters ``3/3`` after a
two-dose series and ``2/1`` after a single-dose product. `dcc_status` reads them back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from geo.products import all_products

Status = Literal["none", "yellow", "green"]


class UnknownProductError(KeyError):
    """A dose names a product that has no rule in geo/products.csv."""


@dataclass(frozen=True)
class Product:
    code: str
    display: str
    series_doses: int
    manufacturer: str
    prophylaxis: str


@cache
def products() -> Mapping[str, Product]:
    """Every product with a rule, by code (the table's codes are unique)."""
    table = all_products()
    return {
        str(row.code): Product(
            code=str(row.code),
            display=str(row.certificate_name),
            series_doses=int(row.primary_doses),
            manufacturer=str(row.manufacturer),
            prophylaxis=str(row.prophylaxis),
        )
        for row in table.itertuples(index=False)
    }


@dataclass(frozen=True)
class Progress:
    """Where a citizen stands; `dn`/`sd` are the values a certificate carries."""

    status: Status
    doses: int
    series_doses: int
    boosters: int

    @property
    def dn(self) -> int:
        return self.doses

    @property
    def sd(self) -> int:
        if self.status == "green" and self.series_doses > 1:
            return max(self.doses, self.series_doses)
        return self.series_doses


def progress(
    vaccine_codes: Sequence[str], catalogue: Mapping[str, Product] | None = None
) -> Progress:
    """The status after these doses (product codes in order of administration)."""
    catalogue = products() if catalogue is None else catalogue
    needed = 0
    for count, code in enumerate(vaccine_codes, start=1):
        product = catalogue.get(code)
        if product is None:
            raise UnknownProductError(code)
        needed = product.series_doses if count == 1 else min(needed, product.series_doses)
        if count >= needed:
            return Progress("green", len(vaccine_codes), needed, len(vaccine_codes) - count)
    if not vaccine_codes:
        return Progress("none", 0, 0, 0)
    return Progress("yellow", len(vaccine_codes), needed, 0)


def dcc_status(
    dcc: Mapping[str, Any], catalogue: Mapping[str, Product] | None = None
) -> Progress | None:
    """The status a vaccination certificate states; None for other certificate types."""
    catalogue = products() if catalogue is None else catalogue
    entries = dcc.get("v")
    if not isinstance(entries, list) or not entries or not isinstance(entries[-1], Mapping):
        return None
    entry = entries[-1]
    dn, sd = entry.get("dn"), entry.get("sd")
    if not isinstance(dn, int) or not isinstance(sd, int) or dn < 1 or sd < 1:
        return None
    if dn < sd:
        return Progress("yellow", dn, sd, 0)
    product = catalogue.get(str(entry.get("mp")))
    series = sd if product is None else min(sd, product.series_doses)
    return Progress("green", dn, series, dn - series)
