"""The printable certificate: a PDF that parses, holds one lossless page image — the card of
`certificates.card`, centred on A4 — whose QR reads back to the certificate's text, and draws
Vietnamese names with a real font."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from certificates import card, pdf, qr, rules
from tests.certificates_helpers import DCC, page_image, png_of
from tests.conftest import require

TEXT = "HC1:" + "6BFOXN%TS3DH0YOJ58S S-W5HDC *M0II5XHC9B5G2+$N IOP" * 8
GREEN = rules.Progress("green", 2, 2, 0)
YELLOW = rules.Progress("yellow", 1, 2, 0)


def fonts_installed() -> bool:
    try:
        pdf.font_path()
        pdf.font_path(bold=True)
    except pdf.FontMissingError:
        return False
    return True


def band_rows(image: Image.Image, status: str) -> np.ndarray:
    """The rows where a third of the page or more has the status's colour exactly."""
    same = (np.asarray(image) == card.COLOURS[status]).all(axis=2)
    return np.flatnonzero(same.sum(axis=1) > image.width // 3)


def test_page_parses_and_its_qr_reads_back() -> None:
    require(fonts_installed(), "DejaVu fonts (fonts-dejavu-core)")
    document = pdf.certificate_pdf(TEXT, DCC, GREEN, dt.datetime(2027, 11, 26, tzinfo=dt.UTC))
    assert document.startswith(b"%PDF-1.4") and document.rstrip().endswith(b"%%EOF")
    image = page_image(document)
    assert image.size == pdf.PAGE
    assert qr.decode_qr(png_of(image)) == TEXT
    rows = band_rows(image, "green")
    assert rows.size > 100  # the status band
    # the card drawn for the PNG, centred on the page
    drawn = card.draw_card(card.of_certificate(TEXT, DCC, GREEN, "2027-11-26"), "vi")
    left, top = (pdf.PAGE[0] - drawn.width) // 2, (pdf.PAGE[1] - drawn.height) // 2
    assert int(rows[0]) == top + 1 or int(rows[0]) == top  # the band's first full row
    placed = np.asarray(image)[top : top + drawn.height, left : left + drawn.width]
    assert (placed == np.asarray(drawn)).all()


def test_yellow_in_english_with_the_sealed_doses() -> None:
    require(fonts_installed(), "DejaVu fonts (fonts-dejavu-core)")
    doses = (card.DoseLine(1, "2021-07-01", "Vaxzevria (AstraZeneca)", "LOT-1", "Hà Nội"),)
    image = page_image(pdf.certificate_pdf(TEXT, DCC, YELLOW, None, "en", doses))
    assert band_rows(image, "yellow").size > 100
    assert qr.decode_qr(png_of(image)) == TEXT
    expected = card.draw_card(card.of_certificate(TEXT, DCC, YELLOW, "—", doses), "en")
    left, top = (pdf.PAGE[0] - expected.width) // 2, (pdf.PAGE[1] - expected.height) // 2
    placed = np.asarray(image)[top : top + expected.height, left : left + expected.width]
    assert (placed == np.asarray(expected)).all()


def test_a_tall_card_is_drawn_smaller_to_fit_the_page() -> None:
    require(fonts_installed(), "DejaVu fonts (fonts-dejavu-core)")
    doses = tuple(
        card.DoseLine(n, "2022-01-01", "Comirnaty", f"L{n}", "Hà Nội") for n in range(1, 7)
    )
    image = page_image(
        pdf.certificate_pdf(TEXT, DCC, rules.Progress("green", 6, 2, 4), None, "vi", doses)
    )
    rows = band_rows(image, "green")
    assert rows.size > 50 and int(rows[0]) >= pdf.MARGIN // 2
    assert qr.decode_qr(png_of(image)) == TEXT


def test_vietnamese_letters_are_drawn_not_boxes() -> None:
    require(fonts_installed(), "DejaVu fonts (fonts-dejavu-core)")
    font = pdf._font(30, bold=True)
    missing = bytes(font.getmask("\ue000"))  # a private-use point: the "no glyph" box
    assert all(bytes(font.getmask(letter)) != missing for letter in "ỄễỰựĐđƯưƠơẤấ")


def test_missing_font_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(card, "FONT_DIRECTORIES", (tmp_path,))
    pdf.font_path.cache_clear()
    try:
        with pytest.raises(pdf.FontMissingError, match="fonts-dejavu-core"):
            pdf.certificate_pdf(TEXT, DCC, GREEN, None)
    finally:
        pdf.font_path.cache_clear()
