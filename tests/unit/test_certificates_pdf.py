"""The printable certificate: a PDF that parses, holds one lossless page image whose QR
reads back to the certificate's text, and draws Vietnamese names with a real font."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from certificates import pdf, qr
from tests.certificates_helpers import DCC, page_image, png_of
from tests.conftest import require

TEXT = "HC1:" + "6BFOXN%TS3DH0YOJ58S S-W5HDC *M0II5XHC9B5G2+$N IOP" * 8


def fonts_installed() -> bool:
    try:
        pdf.font_path()
        pdf.font_path(bold=True)
    except pdf.FontMissingError:
        return False
    return True


def test_page_parses_and_its_qr_reads_back() -> None:
    require(fonts_installed(), "DejaVu fonts (fonts-dejavu-core)")
    document = pdf.certificate_pdf(TEXT, DCC, "green", dt.datetime(2027, 11, 26, tzinfo=dt.UTC))
    assert document.startswith(b"%PDF-1.4") and document.rstrip().endswith(b"%%EOF")
    image = page_image(document)
    assert image.size == pdf.PAGE
    assert qr.decode_qr(png_of(image)) == TEXT
    green = np.asarray(image)[300, pdf.MARGIN + 5]
    assert tuple(green) == pdf.COLOURS["green"]  # the status band


def test_yellow_and_the_fields_on_the_page() -> None:
    lines = dict(pdf.fields(DCC, None))
    assert lines["Họ và tên / Name"] == "Nguyễn Văn An"
    assert lines["Mũi tiêm / Dose"] == "2 / 2"
    assert lines["Vắc xin / Vaccine"].startswith("Comirnaty")
    assert "Hiệu lực đến / Valid until" not in lines
    require(fonts_installed(), "DejaVu fonts (fonts-dejavu-core)")
    image = page_image(pdf.certificate_pdf(TEXT, DCC, "yellow", None))
    assert tuple(np.asarray(image)[300, pdf.MARGIN + 5]) == pdf.COLOURS["yellow"]


def test_vietnamese_letters_are_drawn_not_boxes() -> None:
    require(fonts_installed(), "DejaVu fonts (fonts-dejavu-core)")
    font = pdf._font(30, bold=True)
    missing = bytes(font.getmask("\ue000"))  # a private-use point: the "no glyph" box
    assert all(bytes(font.getmask(letter)) != missing for letter in "ỄễỰựĐđƯưƠơẤấ")


def test_missing_font_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(pdf, "FONT_DIRECTORIES", (tmp_path,))
    pdf.font_path.cache_clear()
    try:
        with pytest.raises(pdf.FontMissingError, match="fonts-dejavu-core"):
            pdf.certificate_pdf(TEXT, DCC, "green", None)
    finally:
        pdf.font_path.cache_clear()
