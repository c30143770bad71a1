"""The share of the country the registry stands for (its sample fraction).

A simulated registry holds a fraction of the campaign: ``python -m registry seed --scale
0.01`` gives 1 % of the real doses, first doses and sites' throughput, while the census
population stays the whole country's. The seed records its scale here (`record_sample`);
the ETL streams the row to the warehouse like every registry fact, and every denominator
downstream is the population × the fraction. A real registry records nothing: no row means
the whole country (`REAL`, fraction 1.0), so a real deployment sets nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import Connection, delete, insert, select

from registry.db import allocate_changes
from registry.models import RegistrySample

ROW_ID: Final = 1


@dataclass(frozen=True)
class Sample:
    """`fraction` of the country (0 < fraction ≤ 1), whether the data is `simulated`, and a
    sentence saying what it is."""

    fraction: float = 1.0
    simulated: bool = False
    description: str = ""


#: What a registry without a sample row is: the whole country, real records.
REAL: Final = Sample()


def check_fraction(fraction: float) -> float:
    value = float(fraction)
    if not 0 < value <= 1:  # also refuses NaN
        raise ValueError(f"a sample fraction is in (0, 1], not {fraction!r}")
    return value


def seeded_description(scale: float) -> str:
    """What a seeded registry says of itself."""
    return (
        f"Simulated registry: the campaign of 2021-2023 at scale {scale:g}, "
        f"a {scale * 100:g} % sample of Viet Nam (python -m registry seed --scale {scale:g})"
    )


def record_sample(
    connection: Connection, fraction: float, description: str, simulated: bool = True
) -> Sample:
    """Record (or replace) the registry's sample fraction inside the caller's transaction,
    with a fresh change sequence number, so the ETL streams it like any changed row."""
    recorded = Sample(check_fraction(fraction), bool(simulated), description)
    connection.execute(delete(RegistrySample).where(RegistrySample.id == ROW_ID))
    connection.execute(
        insert(RegistrySample).values(
            id=ROW_ID,
            fraction=recorded.fraction,
            simulated=recorded.simulated,
            description=description,
            recorded_at=datetime.now(UTC).replace(microsecond=0),  # to the second, as all times
            change_seq=allocate_changes(connection, 1),
        )
    )
    return recorded


def read_sample(connection: Connection) -> Sample:
    """The registry's sample fraction; `REAL` (1.0, not simulated) when none is recorded."""
    found = connection.execute(
        select(RegistrySample.fraction, RegistrySample.simulated, RegistrySample.description).where(
            RegistrySample.id == ROW_ID
        )
    ).first()
    if found is None:
        return REAL
    return Sample(float(found.fraction), bool(found.simulated), str(found.description))
