"""The verifier page's HTTP surface (portal/verifier.py) on the real server in-process: the
page in both languages with its scripts under their content hash, the files kept a year
only under their current hash, the service worker allowed to control /verify and keeping
exactly the page's files, the trust list in the browser's form of the server's own."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from pathlib import Path

import flask
import pytest

from certificates import keys
from certificates.trust import kid_of
from portal import verifier
from tests.integration.helpers import canary_loaded  # noqa: F401  (the fixture `loaded`)
from vaxviet.server import create_server
from vaxviet.services import Services
from vaxviet.settings import Settings
from warehouse.client import Warehouse

pytestmark = pytest.mark.integration


@pytest.fixture
def server(loaded: Warehouse, tmp_path: Path) -> flask.Flask:
    settings = Settings.from_env({"VAX_VAR_DIR": str(tmp_path / "var")})
    return create_server(Services(settings=settings, warehouse=loaded))


def test_the_page_and_its_files(server: flask.Flask) -> None:
    client = server.test_client()
    for query, lang, title in (
        ("", "vi", "Kiểm tra giấy chứng nhận"),
        ("?lang=en", "en", "Verify a"),
    ):
        page = client.get("/verify" + query)
        assert page.status_code == 200 and page.headers["Cache-Control"] == "no-cache"
        html = page.get_data(as_text=True)
        assert f'<html lang="{lang}">' in html and title in html
        for element in ("scan-camera", "verify-verdict", "verify-text", "verify-upload"):
            assert f'id="{element}"' in html
        # each control has its label; the page's own texts and settings are data blocks
        assert '<label for="verify-text">' in html and '<label for="verify-upload"' in html
        settings = json.loads(
            re.search(r'id="verify-settings">(.*?)</script>', html).group(1)  # type: ignore[union-attr]
        )
        assert settings["lang"] == lang and settings["worker"] == "/verify/sw.js"
        scripts = re.findall(r'<script src="([^"]+)" defer>', html)
        assert [s.split("?")[0] for s in scripts] == [
            "/verify/jsqr.js", "/verify/verifier.js", "/verify/app.js",
        ]  # fmt: skip
    for url in [*scripts, settings["rules"]]:
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert answer.headers["Cache-Control"] == verifier.IMMUTABLE, url
        stale = client.get(url.split("?")[0] + "?v=0000")  # an old page's URL: not kept a year
        assert stale.status_code == 200 and stale.headers["Cache-Control"] == "no-cache"
    assert client.get("/verify/secrets.txt").status_code == 404


def test_the_worker_keeps_the_page_and_its_files(server: flask.Flask) -> None:
    client = server.test_client()
    worker = client.get("/verify/sw.js")
    assert worker.status_code == 200
    assert worker.headers["Service-Worker-Allowed"] == "/verify"
    assert worker.headers["Cache-Control"] == "no-cache"
    source = worker.get_data(as_text=True)
    assert "__" not in source.replace("__proto__", "")  # every name filled in
    kept = json.loads(re.search(r"var KEEP = (\[.*?\]);", source).group(1))  # type: ignore[union-attr]
    html = client.get("/verify").get_data(as_text=True)
    settings = json.loads(re.search(r'id="verify-settings">(.*?)</script>', html).group(1))  # type: ignore[union-attr]
    wanted = {"/verify", "/verify?lang=en", "/verify/trust.json", settings["rules"]}
    wanted |= set(re.findall(r'<script src="([^"]+)" defer>', html))
    assert set(kept) == wanted
    for url in kept:
        assert client.get(url).status_code == 200, url


def test_the_trust_list_is_the_servers_own(server: flask.Flask, tmp_path: Path) -> None:
    answer = server.test_client().get("/verify/trust.json")
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-cache"
    document = answer.get_json()
    signing = keys.ensure(Settings.from_env({"VAX_VAR_DIR": str(tmp_path / "var")}))
    assert [base64.b64decode(key["kid"]) for key in document["keys"]] == [signing.kid]
    assert signing.kid == kid_of(signing.signer.der)
    issued = dt.datetime.fromisoformat(document["issued_at"].replace("Z", "+00:00"))
    assert abs((dt.datetime.now(dt.UTC) - issued).total_seconds()) < 60
