"""`POST /api/v1/certificate/pdf` draws the card (`certificates.card`): as a PNG with
``format: png``, else on an A4 page; in the language asked; the lookup's doses only under a
seal the server made for that certificate text, else the latest dose the QR states."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import flask
import numpy as np
import pytest
from PIL import Image

from certificates import card, issue, keys, qr, requests, rules
from tests.certificates_helpers import page_image
from vaxviet.server import create_server
from vaxviet.services import Services
from vaxviet.settings import Settings

pytestmark = pytest.mark.integration
NOW = dt.datetime.now(dt.UTC)
DOSES = (
    card.DoseLine(1, "2021-07-01", "Vaxzevria (AstraZeneca)", "LOT-1", "Hà Nội"),
    card.DoseLine(2, "2021-09-01", "Comirnaty (Pfizer-BioNTech)", "LOT-2", "Hà Nội"),
)


@pytest.fixture
def server(tmp_path: Path) -> flask.Flask:
    settings = Settings.from_env({"VAX_VAR_DIR": str(tmp_path / "var")})
    return create_server(Services(settings=settings, warehouse=None))


def issued(server: flask.Flask) -> issue.Issued:
    signing = keys.ensure(server.extensions["vaxviet"].settings)
    identity = issue.Identity("Phạm Thị Hoa", dt.date(2000, 1, 2), "F", "")
    doses = [
        issue.Dose("d1", 1, "EU/1/21/1529", 1, NOW - dt.timedelta(days=90), "LOT-1", "01", "S"),
        issue.Dose("d2", 1, "EU/1/20/1528", 2, NOW, "LOT-2", "01", "S"),
    ]
    return issue.issue("k", identity, doses, signing, NOW)


def test_the_card_as_png_and_pdf(server: flask.Flask) -> None:
    client = server.test_client()
    certificate = issued(server)
    with server.test_request_context():
        sealed = card.seal(requests.secret(), certificate.text, DOSES)
    body = {"hc1": certificate.text, "seal": sealed, "lang": "en", "format": "png"}
    answer = client.post("/api/v1/certificate/pdf", json=body)
    assert answer.status_code == 200 and answer.mimetype == "image/png"
    assert answer.headers["Cache-Control"] == "no-store"
    assert 'filename="vaxviet-certificate.png"' in answer.headers["Content-Disposition"]
    valid = certificate.expires_at.date().isoformat()
    progress = rules.Progress("green", 2, 2, 0)
    facts = card.of_certificate(certificate.text, certificate.payload, progress, valid, DOSES)
    assert facts.name == "Phạm T. H." and not facts.latest_only
    drawn = Image.open(io.BytesIO(answer.data)).convert("RGB")
    assert (np.asarray(drawn) == np.asarray(card.draw_card(facts, "en"))).all()
    assert qr.decode_qr(answer.data) == certificate.text

    # the PDF: the same card on A4, in Vietnamese unless asked otherwise
    printed = client.post("/api/v1/certificate/pdf", json={**body, "format": "pdf"})
    assert printed.mimetype == "application/pdf"
    page = np.asarray(page_image(printed.data))
    width, height = drawn.size
    left, top = (page.shape[1] - width) // 2, (page.shape[0] - height) // 2
    assert (page[top : top + height, left : left + width] == np.asarray(drawn)).all()
    vietnamese = client.post("/api/v1/certificate/pdf", json={**body, "lang": "xx"})
    assert vietnamese.data != answer.data  # not English: Vietnamese
    expected = card.card_png(facts, "vi")
    shown = Image.open(io.BytesIO(vietnamese.data)).convert("RGB")
    assert (np.asarray(shown) == np.asarray(Image.open(io.BytesIO(expected)).convert("RGB"))).all()


def test_doses_without_a_good_seal_are_not_printed(server: flask.Flask) -> None:
    client = server.test_client()
    certificate = issued(server)
    forged = card.seal(b"not the server's secret", certificate.text, DOSES)
    for seal in (forged, "", "garbage"):
        answer = client.post(
            "/api/v1/certificate/pdf",
            json={"hc1": certificate.text, "seal": seal, "format": "png"},
        )
        assert answer.status_code == 200
        valid = certificate.expires_at.date().isoformat()
        progress = rules.Progress("green", 2, 2, 0)
        latest = card.of_certificate(certificate.text, certificate.payload, progress, valid)
        assert latest.latest_only and len(latest.doses) == 1
        expected = Image.open(io.BytesIO(card.card_png(latest, "vi"))).convert("RGB")
        drawn = Image.open(io.BytesIO(answer.data)).convert("RGB")
        assert (np.asarray(drawn) == np.asarray(expected)).all()
    broken = client.post(
        "/api/v1/certificate/pdf", json={"hc1": certificate.text[:-6] + "AAAAAA", "format": "png"}
    )
    assert broken.status_code == 422
