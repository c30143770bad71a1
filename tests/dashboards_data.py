"""Hand-made operations data for the dashboard tests, with answers worked out by hand.

The day is 4 Aug 2021; the latest dose hour is 10:00, so the dashboards' "now" is 10:59
(the campaign is not live: the page shows it as of its last data).

* sites S01-A, S01-B (Hà Nội, 01) and S79-A (TP Hồ Chí Minh, 79), open 07:00-17:00;
* doses: S01-A 08:10, 08:20, 09:05; S01-B 07:30 (silent since 08:00); S79-A 10:15, 10:40;
  one dose at S01-X (not in the register) on 20 Jul;
* check-ins 10, 15 and 30 minutes before S01-A's doses, 15 and 10 before S79-A's;
* registrations for the day: in 01 three (one attended, one booked but served, one no-show)
  and one cancelled; in 79 one attended and one booked for 6 Aug;
* stock: the national store receives two lots and ships to both provinces (the shipment to
  79 arrives 5 doses short: transfer 2); the sites get stock and use it; S79-A's lot
  expires on 20 Aug and S79-A is left with 1 dose for a use of 4 a week; S01-B ran out on
  22 Jul and had nothing until 3 Aug (12 stock-out days);
* two rejects (01 and 79) and one checkpoint of 100 rows in 2 s.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import flask
import pandas as pd

from geo.calendar import TIME_ZONE
from tests.doses import dose, states
from warehouse.client import Warehouse
from warehouse.ledger import write_states

DAY = date(2021, 8, 4)
PASSWORD = "correct horse battery"
VACCINE = "EU/1/21/1529"


def _insert(warehouse: Warehouse, table: str, rows: list[dict[str, Any]], token: str) -> None:
    warehouse.insert_frame(table, pd.DataFrame(rows), dedup_token=token)


def _at(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=TIME_ZONE)


def write_doses(warehouse: Warehouse, doses: list[tuple[str, ...]], batch: str) -> None:
    """Write doses given as (dose id, citizen key, province, site, local time), each recorded
    when it was given."""
    write_states(
        warehouse,
        states(*[dose(i, citizen_key=k, province_code=p, site_id=s, administered_at=t, recorded_at=t) for i, k, p, s, t in doses]),
        batch=batch,
    )  # fmt: skip


def fill(warehouse: Warehouse) -> None:
    doses = [
        ("d1", "k1", "01", "S01-A", "2021-08-04 08:10"),
        ("d2", "k2", "01", "S01-A", "2021-08-04 08:20"),
        ("d3", "k3", "01", "S01-A", "2021-08-04 09:05"),
        ("d4", "k8", "01", "S01-B", "2021-08-04 07:30"),
        ("d5", "k5", "79", "S79-A", "2021-08-04 10:15"),
        ("d6", "k6", "79", "S79-A", "2021-08-04 10:40"),
        ("d7", "k11", "01", "S01-X", "2021-07-20 12:00"),
    ]
    write_doses(warehouse, doses, "dashboards")
    sites = [
        {"site_id": s, "name": f"Điểm {s}", "province_code": p, "site_type": "fixed", "daily_capacity": c,
         "opens_minute": 420, "closes_minute": 1020, "change_seq": n}
        for n, (s, p, c) in enumerate([("S01-A", "01", 100), ("S01-B", "01", 200), ("S79-A", "79", 50)], 1)
    ]  # fmt: skip
    _insert(warehouse, "sites", sites, "sites")
    checkins = [
        ("k1", "S01-A", "2021-08-04 08:00"),
        ("k2", "S01-A", "2021-08-04 08:05"),
        ("k3", "S01-A", "2021-08-04 08:35"),
        ("k5", "S79-A", "2021-08-04 10:00"),
        ("k6", "S79-A", "2021-08-04 10:30"),
    ]
    _insert(warehouse, "checkins", [
        {"checkin_id": n, "citizen_key": k, "site_id": s, "scanned_at": _at(t), "change_seq": n}
        for n, (k, s, t) in enumerate(checkins, 1)
    ], "checkins")  # fmt: skip
    registrations = [
        ("k1", "S01-A", "2021-08-04 08:00", "attended"),
        ("k2", "S01-A", "2021-08-04 08:00", "booked"),
        ("k4", "S01-B", "2021-08-04 09:00", "booked"),
        ("k9", "S01-A", "2021-08-04 09:00", "cancelled"),
        ("k5", "S79-A", "2021-08-04 10:00", "attended"),
        ("k7", "S79-A", "2021-08-06 09:00", "booked"),
    ]
    _insert(warehouse, "registrations", [
        {"registration_id": n, "citizen_key": k, "site_id": s, "slot_start": _at(t), "registered_at": _at("2021-08-01 12:00"),
         "status": status, "change_seq": n}
        for n, (k, s, t, status) in enumerate(registrations, 1)
    ], "registrations")  # fmt: skip
    far, soon = "2022-01-01", "2021-08-20"
    movements = [
        ("received", "national", "", "", "LOT-N", far, 1000, "2021-08-01 08:00", 0),
        ("received", "national", "", "", "LOT-79", soon, 200, "2021-08-01 08:00", 0),
        ("transferred", "national", "", "", "LOT-N", far, -300, "2021-08-01 09:00", 1),
        ("transferred", "province", "01", "", "LOT-N", far, 300, "2021-08-01 15:00", 1),
        ("transferred", "national", "", "", "LOT-79", soon, -100, "2021-08-02 09:00", 2),
        ("transferred", "province", "79", "", "LOT-79", soon, 95, "2021-08-02 15:00", 2),
        ("transferred", "province", "01", "", "LOT-N", far, -50, "2021-08-02 16:00", 3),
        ("transferred", "site", "01", "S01-A", "LOT-N", far, 50, "2021-08-02 17:00", 3),
        ("transferred", "province", "79", "", "LOT-79", soon, -5, "2021-08-03 09:00", 4),
        ("transferred", "site", "79", "S79-A", "LOT-79", soon, 5, "2021-08-03 11:00", 4),
        ("transferred", "province", "01", "", "LOT-N", far, -10, "2021-08-03 09:00", 5),
        ("transferred", "site", "01", "S01-B", "LOT-N", far, 10, "2021-08-03 11:00", 5),
        ("transferred", "province", "01", "", "LOT-N", far, -5, "2021-07-20 09:00", 6),
        ("transferred", "site", "01", "S01-B", "LOT-N", far, 5, "2021-07-20 11:00", 6),
        ("administered", "site", "01", "S01-B", "LOT-N", far, -5, "2021-07-22 10:00", 0),
        ("administered", "site", "01", "S01-A", "LOT-N", far, -3, "2021-08-04 10:00", 0),
        ("administered", "site", "01", "S01-B", "LOT-N", far, -1, "2021-08-04 10:00", 0),
        ("administered", "site", "79", "S79-A", "LOT-79", soon, -3, "2021-08-04 10:50", 0),
        ("wasted", "site", "79", "S79-A", "LOT-79", soon, -1, "2021-08-04 10:50", 0),
    ]
    _insert(warehouse, "stock_movements", [
        {"movement_id": n, "kind": kind, "level": level, "province_code": p, "site_id": s, "vaccine_code": VACCINE,
         "lot_number": lot, "expiry_date": date.fromisoformat(expiry), "quantity": q, "moved_at": _at(t),
         "transfer_id": transfer, "change_seq": n}
        for n, (kind, level, p, s, lot, expiry, q, t, transfer) in enumerate(movements, 1)
    ], "stock")  # fmt: skip
    _insert(warehouse, "etl_rejects", [
        {"source": "registry:doses", "position": "10", "dose_id": "bad1", "province_code": "01", "reason": "unknown_vaccine",
         "detail": "vaccine XX", "record": '{"dose_id": "bad1", "vaccine_code": "XX"}', "batch_token": "r"},
        {"source": "registry:doses", "position": "11", "dose_id": "bad2", "province_code": "79", "reason": "future_date",
         "detail": "2031", "record": '{"dose_id": "bad2"}', "batch_token": "r"},
    ], "rejects")  # fmt: skip
    warehouse.command(
        "INSERT INTO {db:Identifier}.etl_checkpoints "
        "(source, position, batch_token, rows_read, rows_loaded, rows_rejected, seconds) "
        "VALUES ('registry:doses', 100, 'b1', 100, 98, 2, 2.0)"
    )


def csrf_of(body: str) -> str:
    """The logout form's token in a drawn page (a callback response)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            props = node.get("props", {})
            if isinstance(props, dict) and props.get("name") == "csrf":
                found.append(str(props["value"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(body))
    assert len(found) == 1, "the page has no logout form"
    return found[0]


def main(argv: list[str]) -> None:
    """``python -m tests.dashboards_data WAREHOUSE_DIR``: migrate and fill an embedded
    warehouse in its own process (chDB allows one process per directory), for the browser
    tests' server to serve."""
    from warehouse.client import connect
    from warehouse.migrate import migrate

    warehouse = connect(f"chdb://{argv[0]}", "vax")
    migrate(warehouse)
    fill(warehouse)
    warehouse.close()


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])


def build(warehouse: Warehouse, tmp_path: Path, **env: str) -> flask.Flask:
    """The platform on `warehouse` with a national and a Hà Nội official (PASSWORD)."""
    from dashboards import users
    from vaxviet.server import create_server
    from vaxviet.services import Services
    from vaxviet.settings import Settings

    settings = Settings.from_env({"VAX_VAR_DIR": str(tmp_path), **env})
    server = create_server(Services(settings=settings, warehouse=warehouse))
    engine = server.extensions["vaxviet.dashboards.users"]
    users.add_user(engine, "nat-official", PASSWORD, "national")
    users.add_user(engine, "hanoi-official", PASSWORD, "province", "01")
    return server
