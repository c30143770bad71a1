"""The share of the country the warehouse's data stands for (its sample fraction).

A simulated registry records the seed's scale (``registry.sample``); the ETL streams that row
into ``vax.registry_sample`` (schema 0020) like every registry fact. Every denominator the
portal shows or the open-data API returns is the census population × :attr:`Sample.fraction`.
An empty table is a real registry: the whole country (:data:`WHOLE`), so a real deployment
sets nothing. The portal reads this once per data version (``portal.data.sample``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from warehouse.client import Warehouse
from warehouse.sqlfiles import sql_beside


@dataclass(frozen=True)
class Sample:
    """`fraction` of the country (0 < fraction ≤ 1) the data stands for, whether it is
    `simulated`, and the registry's own sentence about it."""

    fraction: float = 1.0
    simulated: bool = False
    description: str = ""


#: What an empty table means: real records of the whole country.
WHOLE: Final = Sample()


def sample(warehouse: Warehouse) -> Sample:
    """The latest sample record streamed from the registry; :data:`WHOLE` when none is."""
    fraction, simulated, description, records = warehouse.rows(
        sql_beside(__file__, "registry_sample.sql")
    )[0]
    if not records:
        return WHOLE
    value = float(fraction)
    if not (math.isfinite(value) and 0 < value <= 1):  # the registry refuses these
        raise ValueError(f"vax.registry_sample holds fraction {fraction!r}, not in (0, 1]")
    return Sample(value, bool(simulated), str(description))
