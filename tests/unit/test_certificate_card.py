"""The certificate card as an image (`certificates.card`): the status's colour as a band with
every text on it at WCAG AA contrast or better, the status also in words and a shape, the QR
large and readable, one language at a time, and the seal that lets the PDF print the doses."""

from __future__ import annotations

import dataclasses
import io
import re

import numpy as np
import pytest
from PIL import Image

from certificates import card, pdf, qr, rules
from tests.certificates_helpers import DCC, png_of
from tests.conftest import ROOT, require

TEXT = "HC1:" + "6BFOXN%TS3DH0YOJ58S S-W5HDC *M0II5XHC9B5G2+$N IOP" * 8
DOSES = (
    card.DoseLine(1, "2021-07-01", "Vaxzevria (AstraZeneca)", "LOT-1", "Hồ Chí Minh"),
    card.DoseLine(2, "2021-09-01", "Comirnaty (Pfizer-BioNTech)", "LOT-2", "Hồ Chí Minh"),
)
GREEN = card.CardFacts("green", 0, 2, 2, "Nguyễn V. A.", "1990", DOSES, "2027-12-08", TEXT)
YELLOW = dataclasses.replace(GREEN, status="yellow", doses_given=1, doses=DOSES[:1])
BOOSTER = dataclasses.replace(
    GREEN,
    boosters=1,
    doses_given=3,
    doses=(*DOSES, card.DoseLine(3, "2022-01-15", "Comirnaty (Pfizer-BioNTech)", "L3", "")),
)


def fonts() -> None:
    try:
        pdf.font_path(), pdf.font_path(bold=True)
    except pdf.FontMissingError:
        require(False, "DejaVu fonts (fonts-dejavu-core)")


def test_contrast_is_wcag_aa_for_every_text() -> None:
    assert card.contrast((255, 255, 255), (0, 0, 0)) == pytest.approx(21.0)
    assert card.contrast((119, 119, 119), (255, 255, 255)) == pytest.approx(4.48, abs=0.01)
    for name, (ink, ground) in card.TEXT_PAIRS.items():
        assert card.contrast(ink, ground) >= 4.5, name
    assert card.contrast(card.BAND_INK["green"], card.COLOURS["green"]) >= 4.5
    assert card.contrast(card.BAND_INK["yellow"], card.COLOURS["yellow"]) >= 4.5


def test_the_page_draws_the_same_colours() -> None:
    """The stylesheet's card rules use the renderer's colours (and no third status colour)."""
    css = (ROOT / "portal" / "assets" / "portal.css").read_text(encoding="utf-8").lower()
    for colour in (*card.COLOURS.values(), card.BADGE_INK, card.BORDER["yellow"]):
        assert "#{:02x}{:02x}{:02x}".format(*colour) in css, colour


def band(image: Image.Image) -> tuple[int, int, int]:
    """The most common colour of the card's top fifth (inside its border)."""
    top = np.asarray(image)[4 : image.width // 5, image.width // 10 : image.width * 9 // 10]
    colours, counts = np.unique(top.reshape(-1, 3), axis=0, return_counts=True)
    return tuple(int(c) for c in colours[counts.argmax()])  # type: ignore[return-value]


@pytest.mark.parametrize("facts", [GREEN, YELLOW, BOOSTER], ids=["green", "yellow", "booster"])
def test_the_card_has_its_colour_and_a_readable_qr(facts: card.CardFacts) -> None:
    import zxingcpp

    fonts()
    image = card.draw_card(facts, "vi")
    assert image.width == card.WIDTH * card.UNIT and image.height > image.width
    assert band(image) == card.COLOURS[facts.status]  # boosters: green, no third colour
    assert qr.decode_qr(png_of(image)) == TEXT
    (found,) = zxingcpp.read_barcodes(image.convert("L"))
    corners = found.position
    assert corners.top_right.x - corners.top_left.x >= 280 * card.UNIT * 0.8  # without quiet zone
    picture = Image.open(io.BytesIO(card.card_png(facts, "en")))
    assert picture.size[0] == image.width and band(picture.convert("RGB")) == band(image)


def test_the_status_in_words_and_one_language_at_a_time() -> None:
    assert card.status_lines(GREEN, "vi") == ("Xanh", "Đã tiêm đủ liều cơ bản", "")
    assert card.status_lines(YELLOW, "en") == ("Yellow", "Partly vaccinated: 1 of 2 doses", "")
    assert card.status_lines(BOOSTER, "en")[2] == "+1 booster"
    assert card.status_lines(dataclasses.replace(BOOSTER, boosters=2), "vi")[2] == (
        "+2 mũi nhắc lại"
    )
    english = " ".join(card.words_of("en").values())
    assert not re.search("[ăâđêôơưĂÂĐÊÔƠƯàáảãạèéẻẽẹìíỉĩịòóỏõọùúủũụỳýỷỹỵ]", english)
    assert card.words_of("vi").keys() == card.words_of("en").keys()
    fonts()
    vi, en = card.draw_card(GREEN, "vi"), card.draw_card(GREEN, "en")
    assert vi.size[0] == en.size[0] and np.asarray(vi).tobytes() != np.asarray(en).tobytes()


def test_the_facts_of_a_certificate_are_masked() -> None:
    progress = rules.dcc_status(DCC)
    assert progress is not None
    facts = card.of_certificate(TEXT, DCC, progress, "2027-12-08")
    assert facts.name == "Nguyễn V. A." and facts.birth_year == "1990"
    assert facts.latest_only and facts.doses == (
        card.DoseLine(2, "2021-09-01", rules.products()["EU/1/20/1528"].display),
    )
    assert card.of_certificate(TEXT, DCC, progress, "x", DOSES).doses == DOSES


def test_the_seal_vouches_for_these_doses_with_this_certificate_only() -> None:
    secret = b"s" * 32
    sealed = card.seal(secret, TEXT, DOSES)
    assert card.unseal(secret, TEXT, sealed) == DOSES
    assert card.unseal(b"t" * 32, TEXT, sealed) is None
    assert card.unseal(secret, TEXT + "A", sealed) is None
    other = card.seal(secret, TEXT, DOSES[:1])
    forged = other.partition(".")[0] + "." + sealed.partition(".")[2]
    assert card.unseal(secret, TEXT, forged) is None
    assert card.unseal(secret, TEXT, "") is None and card.unseal(secret, TEXT, "a.b") is None


def test_a_drawing_is_quick_enough() -> None:
    """The lookup draws the card's PNG for every confirmed code: a few tens of ms."""
    import time

    fonts()
    card.card_png(BOOSTER, "vi")  # fonts loaded
    started = time.perf_counter()
    card.card_png(BOOSTER, "vi")
    assert time.perf_counter() - started < 0.5
