"""A small random campaign for the portal's tests: dose states with corrections and voids.

``python -m tests.portal_data DIR N`` writes N such doses (and one ETL checkpoint, so the
data version moves) into the embedded warehouse at DIR, for tests that start the real
server on it.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

from tests.doses import BASE
from warehouse.ledger import STATE_COLUMNS, normalise_states

#: a few provinces: Hà Nội, HCM City, Hà Giang + Tuyên Quang (one province since 2025), Bạc Liêu
PROVINCES = ("01", "79", "02", "08", "95")
VACCINES = ("EU/1/21/1529", "BBIBP-CorV", "EU/1/20/1528", "EU/1/20/1525")  # 1525: one dose


def campaign(doses: int, seed: int = 7) -> pd.DataFrame:
    """`doses` valid dose states over 2021-07-20 … 2021-08-10, then a correction (a new
    province and dose number) for every 10th dose and a void for every 25th."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2021-07-20 07:00")
    minutes = rng.integers(0, 22 * 24 * 60, doses)
    provinces = rng.choice(PROVINCES, doses, p=[0.3, 0.4, 0.1, 0.1, 0.1])
    frame = pd.DataFrame(
        {
            "dose_id": [f"d{i:07d}" for i in range(doses)],
            "version": 1,
            "status": "valid",
            "citizen_key": [f"k{i // 2:07d}" for i in range(doses)],
            "birth_year": rng.integers(1940, 2010, doses),
            "sex": rng.choice(["M", "F"], doses),
            "province_code": provinces,
            "site_id": [
                f"S{p}-{s:03d}" for p, s in zip(provinces, rng.integers(0, 12, doses), strict=True)
            ],
            "vaccine_code": rng.choice(VACCINES, doses, p=[0.4, 0.3, 0.2, 0.1]),
            "lot_number": BASE["lot_number"],
            "dose_number": rng.choice([1, 2, 3, 4], doses, p=[0.5, 0.3, 0.15, 0.05]),
            "administered_at": (start + pd.to_timedelta(minutes, unit="min")).astype(str),
            "recorded_at": "2021-08-11 00:00:00",
            "source": "portal-test",
        }
    )
    corrected = frame.iloc[::10].copy()
    corrected["version"] = 2
    corrected["province_code"] = "01"
    corrected["dose_number"] = 2
    voided = frame.iloc[5::25].copy()
    voided["version"] = 3
    voided["status"] = "void"
    return normalise_states(pd.concat([frame, corrected, voided])[STATE_COLUMNS])


def main(argv: list[str]) -> int:
    from warehouse.client import connect
    from warehouse.ledger import write_states
    from warehouse.migrate import migrate

    directory, doses = argv[0], int(argv[1])
    warehouse = connect(f"chdb://{directory}", "vax")
    migrate(warehouse)
    write_states(warehouse, campaign(doses), batch="portal-test")
    warehouse.command(
        "INSERT INTO {db:Identifier}.etl_checkpoints (source, position, batch_token) "
        "VALUES ('portal-test', {n:UInt64}, 'portal-test')",
        {"n": doses},
    )
    warehouse.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
