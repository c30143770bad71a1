"""The portal's pages, callbacks and cache in-process, on a real warehouse (and real Redis).

Page views and callbacks are plain functions called inside the server's request context;
their figures are compared with direct SQL on vax.doses_current.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from datetime import date
from pathlib import Path
from typing import Any

import flask
import plotly.utils
import pytest

from portal import data, geometry
from portal.app import frame_for
from tests.portal_data import campaign
from vaxviet.server import create_server
from vaxviet.services import Services
from vaxviet.settings import Settings
from warehouse.client import Warehouse
from warehouse.ledger import write_states
from web import cache

pytestmark = pytest.mark.integration

SNAPSHOT = date(2021, 8, 4)


def build(warehouse: Warehouse, tmp_path: Path, cache_url: str = "simple://") -> flask.Flask:
    settings = Settings.from_env({"VAX_VAR_DIR": str(tmp_path), "VAX_CACHE_URL": cache_url})
    return create_server(Services(settings=settings, warehouse=warehouse))


@pytest.fixture
def filled(warehouse: Warehouse) -> Warehouse:
    write_states(warehouse, campaign(2500), batch="app")
    commit(warehouse, "a")
    return warehouse


def commit(warehouse: Warehouse, token: str) -> None:
    warehouse.command(
        "INSERT INTO {db:Identifier}.etl_checkpoints (source, position, batch_token) "
        "VALUES ('portal-test', 1, {t:String})",
        {"t": token},
    )


def pages() -> Any:
    """The page modules (importable once an app exists: they call dash.register_page)."""
    from portal.pages import home, province

    return home, province


def rendered(component: Any) -> str:
    return json.dumps(component, cls=plotly.utils.PlotlyJSONEncoder, ensure_ascii=False)


def first_doses_by_province(warehouse: Warehouse, as_of: date) -> dict[str, int]:
    return dict(
        warehouse.rows(
            "SELECT province_code, countIf(dose_number = 1) FROM {db:Identifier}.doses_current "
            "WHERE toDate(administered_at) <= {d:Date} GROUP BY province_code",
            {"d": as_of},
        )
    )


def test_home_views_match_direct_sql(filled: Warehouse, tmp_path: Path) -> None:
    server = build(filled, tmp_path)
    home, _province = pages()
    expected = first_doses_by_province(filled, SNAPSHOT)
    with server.test_request_context("/"):
        page = rendered(home.layout())
        assert "Tiêm chủng COVID-19 tại Việt Nam" in page and "home-map" in page
        figure = home.map_figure("pct_dose1", "total", SNAPSHOT, "63", "vi")
        trace = figure["data"][0]
        assert trace["geojson"] == geometry.url("63") and len(trace["locations"]) == 63
        shapes = server.test_client().get(trace["geojson"]).get_json()
        assert len(shapes["features"]) == 63
        patch = home.map_patch("pct_full", "adult", SNAPSHOT, "63", "vi").to_plotly_json()
        touched = {tuple(op["location"]) for op in patch["operations"]}
        assert ("data", 0, "z") in touched and not any("geojson" in path for path in touched)
        rows = home.ranking(SNAPSHOT, "total", "63", {"column": "dose1", "descending": True})
        assert len(rows) == 63 and list(rows["rank"]) == list(range(1, 64))
        assert rows["dose1"].is_monotonic_decreasing
        by_code = rows.set_index("area_code")["dose1"]
        assert {code: by_code[code] for code in expected} == expected
        ascending = home.ranking(
            SNAPSHOT, "adult", "34", {"column": "pct_full", "descending": False}
        )
        assert len(ascending) == 34 and ascending["pct_full"].is_monotonic_increasing
        table = list(csv.DictReader(io.StringIO(home.table_csv(rows, SNAPSHOT, "total"))))
        assert len(table) == 63 and table[0]["as_of"] == "2021-08-04"
        assert {
            r["area_code"]: int(r["dose1"]) for r in table if r["area_code"] in expected
        } == expected
        cards = rendered(home.headline_view(SNAPSHOT, "en"))
        total = sum(expected.values())
        assert f'"data-value": "{total}"' in cards and f"{total:,}" in cards


def test_callbacks_are_thin_and_validate_input(filled: Warehouse, tmp_path: Path) -> None:
    server = build(filled, tmp_path)
    home, _province = pages()
    with server.test_request_context("/"):
        assert home._as_of("not a date", SNAPSHOT) == SNAPSHOT
        assert home._as_of("2021-07-30T00:00:00", SNAPSHOT) == date(2021, 7, 30)
        download = home.download(1, "total", "2021-08-01", "63", home.DEFAULT_SORT, "2021-08-11")
        assert download["filename"] == "vaxviet-coverage-province-2021-08-01.csv"


def test_province_page_matches_direct_sql(filled: Warehouse, tmp_path: Path) -> None:
    server = build(filled, tmp_path)
    _home, province = pages()
    sites = filled.scalar(
        "SELECT uniqExact(site_id) FROM {db:Identifier}.doses_current WHERE province_code = '79'"
    )
    doses = filled.scalar(
        "SELECT count() FROM {db:Identifier}.doses_current WHERE province_code = '79'"
    )
    with server.test_request_context("/province/79"):
        page = rendered(province.layout(gso_code="79"))
        assert '"Hồ Chí Minh"' in page and "Đông Nam Bộ" in page
        assert f'"{sites}"' in page and f"{doses:,}".replace(",", ".") in page
        successor = rendered(province.layout(gso_code="02", lang="en"))
        assert "Tuyên Quang (08)" in successor  # Hà Giang's province since 2025-07-01
        unknown = rendered(province.layout(gso_code="99"))
        assert "province-unknown" in unknown


def test_pages_over_http(filled: Warehouse, tmp_path: Path) -> None:
    client = build(filled, tmp_path).test_client()
    for path in ("/", "/province/01", "/status", "/api", "/?lang=en"):
        response = client.get(path)
        assert response.status_code == 200 and b"https://" not in response.data, path
    dependencies = client.get("/_dash-dependencies").get_json()
    outputs = {d["output"] for d in dependencies}
    assert "home-map.figure" in outputs and "home-download.data" in outputs


def test_cache_follows_the_data_version(
    filled: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "VERSION_SECONDS", 1)
    server = build(filled, tmp_path)
    with server.test_request_context("/"):
        before = int(data.coverage(date(2021, 9, 1), "national", "total")["doses"].iloc[0])
    extra = campaign(40, seed=99).assign(dose_id=lambda f: "extra-" + f["dose_id"])
    write_states(filled, extra, batch="more")
    with server.test_request_context("/"):  # same data version: the cached figures
        assert int(data.coverage(date(2021, 9, 1), "national", "total")["doses"].iloc[0]) == before
    commit(filled, "b")
    time.sleep(1.2)
    with server.test_request_context("/"):  # a new ETL commit: recomputed
        after = int(data.coverage(date(2021, 9, 1), "national", "total")["doses"].iloc[0])
    assert after == filled.scalar("SELECT count() FROM {db:Identifier}.doses_current") > before


def test_redis_cache_is_shared_keyed_and_jittered(
    filled: Warehouse, tmp_path: Path, redis_url: str
) -> None:
    import redis

    connection = redis.Redis.from_url(redis_url)
    first = build(filled, tmp_path, redis_url)
    with first.test_request_context("/"):
        table = data.coverage(SNAPSHOT, "province", "total")
    keys = {k.decode() for k in connection.scan_iter(f"{cache.KEY_PREFIX}*")}
    stored = [k for k in keys if k.startswith(f"{cache.KEY_PREFIX}data:")]
    assert stored and all(
        cache.DATA_SECONDS <= connection.ttl(k) <= cache.DATA_SECONDS * 1.2 for k in stored
    )
    assert not any("k0" in k for k in keys)  # no citizen keys (or any personal value) in keys
    second = build(filled, tmp_path, redis_url)  # another worker process, same Redis
    with second.test_request_context("/"):
        again = data.coverage(SNAPSHOT, "province", "total")
    assert again.equals(table)
    assert {k.decode() for k in connection.scan_iter(f"{cache.KEY_PREFIX}*")} == keys


def test_unreachable_warehouse_serves_cached_figures_with_a_banner(
    filled: Warehouse, tmp_path: Path
) -> None:
    server = build(filled, tmp_path)
    home, _province = pages()
    client = server.test_client()
    with server.test_request_context("/"):
        warm = rendered(home.layout())
        assert frame_for("/", "")[5] is None  # no banner while the warehouse answers
    api_before = client.get("/api/v1/coverage?level=province").get_json()["data"]
    filled.command("DROP DATABASE {db:Identifier} SYNC")
    time.sleep(cache.VERSION_SECONDS + 0.2)
    with server.test_request_context("/"):
        assert rendered(home.layout()) == warm
        banner = rendered(frame_for("/", "?lang=en")[5])
        assert "cannot be reached" in banner
    assert client.get("/api/v1/coverage?level=province").get_json()["data"] == api_before
    assert client.get("/healthz").status_code == 503
    cold = build(filled, tmp_path / "cold").test_client()
    home, _ = pages()  # nothing cached at all
    error = cold.get("/api/v1/coverage")
    assert error.status_code == 503 and error.get_json()["error"]["code"] == "data_unavailable"
    assert cold.get("/").status_code == 200
    with cold.application.test_request_context("/"):
        assert "banner" in rendered(home.layout())


def test_page_html_carries_the_page_before_any_script(filled: Warehouse, tmp_path: Path) -> None:
    from web.formatting import day

    client = build(filled, tmp_path).test_client()
    dose1, last = filled.rows(
        "SELECT countIf(dose_number = 1), max(toDate(administered_at)) "
        "FROM {db:Identifier}.doses_current"
    )[0]
    page = client.get("/").get_data(as_text=True)
    copy = page[page.index('<div id="portal-prerendered">') : page.index('id="react-entry-point"')]
    assert f'data-value="{dose1}">{dose1:,}</span>'.replace(",", ".") in copy
    assert f"Dữ liệu đến hết ngày {day(last, 'vi', 'long')}" in copy  # the data-as-of stamp
    assert copy.count('<tr data-code="') == 63 and '<a href="/province/01">Hà Nội</a>' in copy
    assert '<html lang="vi">' in page and "<title>VaxViet — tiêm chủng COVID-19</title>" in page
    assert len(page) < 100_000 and "validation_layout" not in page  # was ~430 kB with it
    from portal.app import PARKED  # Dash's scripts run after the page is painted

    assert f'<script type="{PARKED}" src="/_dash-component-suites/dash/dash-renderer' in page
    assert '<link rel="preload" as="script" href="/_dash-component-suites/dash/dash-r' in page
    assert "<style>" in page and 'href="/assets/portal.css' not in page  # no wait to paint
    english = client.get("/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english and f">{dose1:,}</span>" in english
    assert 'href="/?lang=vi"' not in english and 'id="lang-link"' in english
    province = client.get("/province/79?lang=en").get_data(as_text=True)
    assert "<h1>Ho Chi Minh City</h1>" in province and "South East" in province
    nowhere = client.get("/no-such-page").get_data(as_text=True)
    assert "portal-prerendered" not in nowhere and 'id="react-entry-point"' in nowhere


def test_every_callback_id_is_on_a_page(filled: Warehouse, tmp_path: Path) -> None:
    """What Dash's validation layout checked in the browser (the portal no longer sends it):
    every input, output and state of every callback exists in the frame or a page."""
    import dash

    from portal.app import frame

    server = build(filled, tmp_path)
    dependencies = server.test_client().get("/_dash-dependencies").get_json()
    with server.test_request_context("/"):
        trees = [frame()] + [
            page["layout"](**({"gso_code": "01"} if page.get("path_template") else {}))
            for page in dash.page_registry.values()
        ]
    ids: set[str] = set()
    for tree in trees:
        for component in [tree, *(c for _, c in tree._traverse_with_paths())]:
            found = getattr(component, "id", None)
            if found is not None:
                ids.add(found["type"] if isinstance(found, dict) else found)

    def named(component_id: str) -> str:
        return json.loads(component_id)["type"] if component_id.startswith("{") else component_id

    used = set()
    for dependency in dependencies:
        outputs = dependency["output"].strip(".").split("...")
        used |= {named(part.rsplit(".", 1)[0]) for part in outputs}
        used |= {named(i["id"]) for i in dependency["inputs"] + dependency["state"]}
    assert used and used - ids == set()


def test_warmer_renders_the_home_page_on_each_new_data_version(
    filled: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from portal.warm import CacheWarmer

    monkeypatch.setattr(cache, "VERSION_SECONDS", 1)
    server = build(filled, tmp_path)
    warmer = CacheWarmer(server, interval=0.2).start()
    try:
        deadline = time.monotonic() + 30
        while not warmer.warmed and time.monotonic() < deadline:
            time.sleep(0.1)
        first = warmer.warmed
        with server.app_context():
            assert first == cache.data_version()
        commit(filled, "b")
        while warmer.warmed == first and time.monotonic() < deadline:
            time.sleep(0.1)
        assert warmer.warmed not in ("", first)
    finally:
        warmer.stop()
    from portal.warm import warm_bundles

    assert warm_bundles(server) >= 8  # Dash's bundles in the page, and the graph's chunks
    filled.command("DROP DATABASE {db:Identifier} SYNC")  # from here on, only the cache answers
    time.sleep(1.2)
    page = server.test_client().get("/").get_data(as_text=True)
    assert 'id="headline-dose1"' in page  # the warmed page, rendered from cached data


def test_visitors_see_a_new_version_once_the_warmer_has_built_it(
    filled: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A commit reaches visitors when the warmer publishes it, not before (so no visitor
    pays the cold queries); a publication that is not renewed expires."""
    from portal.warm import warm

    monkeypatch.setattr(cache, "VERSION_SECONDS", 1)
    server = build(filled, tmp_path)

    def doses() -> int:
        with server.test_request_context("/"):
            return int(data.coverage(date(2021, 9, 1), "national", "total")["doses"].iloc[0])

    first = warm(server)
    with server.app_context():
        cache.publish(first)
    before = doses()
    extra = campaign(40, seed=98).assign(dose_id=lambda f: "warm-" + f["dose_id"])
    write_states(filled, extra, batch="warm")
    commit(filled, "w")
    time.sleep(1.2)
    with server.app_context():
        assert cache.newest_data_version() != first
        assert cache.data_version() == first  # not warm yet: visitors keep the last version
    assert doses() == before
    second = warm(server)
    with server.app_context():
        cache.publish(second)
        assert cache.data_version() == second != first
    assert doses() == filled.scalar("SELECT count() FROM {db:Identifier}.doses_current") > before

    monkeypatch.setattr(cache, "PUBLISHED_SECONDS", 1)
    with server.app_context():
        cache.publish(first)  # a warmer that stopped after publishing an old version
        assert cache.data_version() == first
    time.sleep(1.2)
    with server.app_context():
        assert cache.data_version() == second  # expired: the newest again


def test_portal_responses_are_gzipped_for_clients_that_accept_it(
    filled: Warehouse, tmp_path: Path
) -> None:
    import gzip

    client = build(filled, tmp_path).test_client()
    plain = client.get("/")
    packed = client.get("/", headers={"Accept-Encoding": "gzip, br"})
    assert "Content-Encoding" not in plain.headers and "Accept-Encoding" in plain.headers["Vary"]
    assert packed.headers["Content-Encoding"] == "gzip"

    def same(page: bytes) -> bytes:  # without the id Dash draws for each page view
        return re.sub(rb'"end_id":"[^"]*"', b"", page)

    assert same(gzip.decompress(packed.data)) == same(plain.data)
    assert len(packed.data) < len(plain.data) / 3
    script = next(p for p in plain.get_data(as_text=True).split('"') if "dash_renderer" in p)
    bundle = [client.get(script, headers={"Accept-Encoding": "gzip"}) for _ in range(2)]
    assert bundle[0].headers["Content-Encoding"] == "gzip" and bundle[0].data == bundle[1].data
    assert gzip.decompress(bundle[0].data) == client.get(script).data
    # a certificate page's answers carry a citizen's data beside typed input: never packed
    # (no portal callback on the server carries one any more: the certificate and verifier
    # pages talk to the API from the browser; the rule stands for any that comes)
    body = {"output": "certificate-message.children", "outputs": [], "inputs": [],
            "changedPropIds": []}  # fmt: skip
    answer = client.post("/_dash-update-component", json=body, headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in answer.headers
    internal = client.get("/internal/", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in internal.headers
