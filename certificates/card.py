"""The citizen's certificate card as an image: the PNG the card page downloads and the picture
the PDF page centres on A4 — one drawing, in one language at a time, in the design of the card
the page shows (`portal.pages.certificate`).

Phone first: the card is 360 CSS px wide (drawn at `UNIT` image pixels per CSS pixel, so the
PNG is 720 px wide and as sharp on a phone's screen as the page). From the top: the status
band — its colour is the status (`COLOURS`: green, primary series complete; yellow, started),
with the same fact in words and a shape of its own (a tick in a disc for green, a half-filled
disc for yellow), and boosters as a white badge on the green band ("+1 booster"), never a
third colour — then the masked identity (family name and initials, birth year), the QR large
(≥ 280 CSS px with its white quiet zone, drawn module by module: no resampling), the doses,
and "valid until".

Every text is on a colour it contrasts with at WCAG AA or better (`contrast`; the unit tests
measure every pair of `TEXT_PAIRS`). The words of both languages are in `WORDS`; the page
embeds the same table in its script, so the screen, the PNG and the PDF say the same.

Where the facts come from (`CardFacts`): a confirmed lookup (`of_card`, every dose with its
lot and province), or a verified certificate (`of_certificate`: what the QR carries — the
latest dose only — unless the lookup's doses come with a seal, `seal`/`unseal`, an HMAC over
the certificate text and the doses by the server's secret, so the PDF endpoint can print the
doses the lookup showed without trusting the browser).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

from certificates import qr, rules

Lang = Literal["vi", "en"]

FONT_DIRECTORIES = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/TTF"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts"),
)

#: image pixels per CSS pixel of the card on the page
UNIT = 2
#: the card's width in CSS pixels (a 390-px phone less the page's margins)
WIDTH = 360
#: the QR's width with its quiet zone, CSS pixels (at least; whole pixels per module)
QR_WIDTH = 300

WHITE = (255, 255, 255)
INK = (27, 27, 27)  # --ink of the portal
MUTED = (84, 84, 84)
LINE = (217, 217, 217)
#: the status band's colour; green 5.0 : 1 under white text, yellow 11.3 : 1 under ink
COLOURS: Mapping[str, tuple[int, int, int]] = {"green": (22, 128, 61), "yellow": (250, 204, 21)}
#: the text drawn on each band, and the band's border
BAND_INK: Mapping[str, tuple[int, int, int]] = {"green": WHITE, "yellow": INK}
BORDER: Mapping[str, tuple[int, int, int]] = {"green": (22, 128, 61), "yellow": (161, 98, 7)}
BADGE_INK = (20, 83, 45)  # on a white badge: 9.1 : 1
#: (text colour, background) of every text on the card
TEXT_PAIRS: Mapping[str, tuple[tuple[int, int, int], tuple[int, int, int]]] = {
    "green band": (WHITE, COLOURS["green"]),
    "yellow band": (INK, COLOURS["yellow"]),
    "booster badge": (BADGE_INK, WHITE),
    "body": (INK, WHITE),
    "labels": (MUTED, WHITE),
}

#: every word of the card, (Vietnamese, English); ``{n}`` etc. are filled in
WORDS: Mapping[str, tuple[str, str]] = {
    "title": ("Giấy chứng nhận tiêm chủng COVID-19", "COVID-19 vaccination certificate"),
    "green": ("Xanh", "Green"),
    "yellow": ("Vàng", "Yellow"),
    "green_meaning": ("Đã tiêm đủ liều cơ bản", "Fully vaccinated (primary series)"),
    "yellow_meaning": ("Đã tiêm {n}/{of} mũi cơ bản", "Partly vaccinated: {n} of {of} doses"),
    "booster": ("+{n} mũi nhắc lại", "+{n} booster"),
    "boosters": ("+{n} mũi nhắc lại", "+{n} boosters"),
    "born": ("Năm sinh {year}", "Born {year}"),
    "doses": ("Các mũi đã tiêm", "Doses"),
    "dose": ("Mũi {n}", "Dose {n}"),
    "lot": ("Lô {lot}", "Lot {lot}"),
    "latest_only": ("Mũi gần nhất trên mã QR", "The latest dose, as in the QR"),
    "valid": ("Có hiệu lực đến {date}", "Valid until {date}"),
    "issuer": ("Bộ Y tế Việt Nam · VaxViet", "Ministry of Health of Viet Nam · VaxViet"),
    "scan": ("Quét mã QR để kiểm tra tại /verify", "Scan the QR to check it at /verify"),
}


def word(key: str, lang: Lang, **values: object) -> str:
    vi, en = WORDS[key]
    chosen = en if lang == "en" else vi
    return chosen.format(**values) if values else chosen


def words_of(lang: Lang) -> dict[str, str]:
    """The table in one language (what the page's script embeds)."""
    return {key: word(key, lang) for key in WORDS}


@dataclass(frozen=True)
class DoseLine:
    number: int
    date: str
    product: str
    lot: str = ""
    province: str = ""


@dataclass(frozen=True)
class CardFacts:
    status: str  # green or yellow
    boosters: int
    doses_given: int
    series: int
    name: str  # masked: family name and initials
    birth_year: str
    doses: tuple[DoseLine, ...]
    valid_until: str
    hc1: str
    latest_only: bool = False


def status_lines(facts: CardFacts, lang: Lang) -> tuple[str, str, str]:
    """(colour word, what it means, booster badge or "")."""
    meaning = (
        word("green_meaning", lang)
        if facts.status == "green"
        else word("yellow_meaning", lang, n=facts.doses_given, of=facts.series)
    )
    badge = ""
    if facts.status == "green" and facts.boosters:
        badge = word("booster" if facts.boosters == 1 else "boosters", lang, n=facts.boosters)
    return word(facts.status if facts.status in COLOURS else "yellow", lang), meaning, badge


def of_card(card: Mapping[str, Any]) -> CardFacts:
    """The facts of a confirmed lookup's card (`certificates.issue.card`)."""
    return CardFacts(
        status=str(card["status"]),
        boosters=int(card["boosters"]),
        doses_given=len(card["doses"]),
        series=int(card.get("series", 0)),
        name=str(card["name"]),
        birth_year=str(card["birth_year"]),
        doses=tuple(
            DoseLine(n, str(d["date"]), str(d["product"]), str(d["lot"]), str(d["province"]))
            for n, d in enumerate(card["doses"], start=1)
        ),
        valid_until=str(card["valid_until"]),
        hc1=str(card["hc1"]),
    )


def of_certificate(
    hc1: str,
    payload: Mapping[str, Any],
    progress: rules.Progress,
    valid_until: str,
    doses: Sequence[DoseLine] | None = None,
) -> CardFacts:
    """The facts a verified certificate carries; `doses`, when a seal vouches for them,
    replace its latest dose."""
    from certificates.issue import mask_name

    name = payload.get("nam", {})
    full = " ".join(p for p in (name.get("fn", ""), name.get("gn", "")) if p).strip()
    entry = payload["v"][-1]
    catalogue = rules.products()
    product = catalogue[entry["mp"]].display if entry["mp"] in catalogue else str(entry["mp"])
    latest = (DoseLine(int(entry["dn"]), str(entry["dt"]), product),)
    return CardFacts(
        status=progress.status,
        boosters=progress.boosters,
        doses_given=progress.doses,
        series=progress.series_doses,
        name=mask_name(full) if full else str(name.get("fnt", "")),
        birth_year=str(payload.get("dob", ""))[:4],
        doses=tuple(doses) if doses else latest,
        valid_until=valid_until,
        hc1=hc1,
        latest_only=not doses,
    )


# -- the seal: the lookup's doses, vouched for with the certificate they came with --------------


def _mac(secret: bytes, hc1: str, body: str) -> str:
    digest = hmac.new(secret, f"card-doses\x00{hc1}\x00{body}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).decode("ascii").rstrip("=")


def seal(secret: bytes, hc1: str, doses: Sequence[DoseLine]) -> str:
    """The doses and an HMAC binding them to this certificate text."""
    body = base64.urlsafe_b64encode(
        json.dumps([asdict(d) for d in doses], ensure_ascii=False).encode()
    ).decode("ascii")
    return f"{body}.{_mac(secret, hc1, body)}"


def unseal(secret: bytes, hc1: str, token: str) -> tuple[DoseLine, ...] | None:
    """The doses a seal vouches for with this certificate text, or None."""
    body, _, mac = str(token).rpartition(".")
    if not body or not hmac.compare_digest(mac, _mac(secret, hc1, body)):
        return None
    try:
        rows = json.loads(base64.urlsafe_b64decode(body.encode("ascii")))
        return tuple(DoseLine(**row) for row in rows)
    except (ValueError, TypeError):
        return None


# -- the drawing --------------------------------------------------------------------------------


def contrast(a: Sequence[int], b: Sequence[int]) -> float:
    """WCAG 2 contrast ratio of two sRGB colours."""

    def luminance(colour: Sequence[int]) -> float:
        linear = [
            c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
            for c in (v / 255 for v in colour[:3])
        ]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


class FontMissingError(RuntimeError):
    """No installed font can write Vietnamese names."""


@cache
def font_path(bold: bool = False) -> Path:
    """DejaVu Sans (every Vietnamese letter), from the first of `FONT_DIRECTORIES` with it."""
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for directory in FONT_DIRECTORIES:
        if (directory / name).is_file():
            return directory / name
    raise FontMissingError(
        f"no {name} in {', '.join(map(str, FONT_DIRECTORIES))}: install fonts-dejavu-core"
    )


@cache
def _font(size: int, bold: bool = False) -> Any:
    from PIL import ImageFont

    return ImageFont.truetype(str(font_path(bold)), size)


def _wrap(text: str, font: Any, width: float) -> list[str]:
    lines: list[str] = []
    for word_ in text.split():
        if lines and font.getlength(f"{lines[-1]} {word_}") <= width:
            lines[-1] = f"{lines[-1]} {word_}"
        else:
            lines.append(word_)
    return lines or [""]


def _qr_symbol(text: str, width: int) -> Any:
    """The QR with its quiet zone, whole pixels per module, at most `width` wide (and at
    least 2 px a module)."""
    from PIL import Image

    modules = np.pad(qr.qr_modules(text), qr.QUIET_ZONE, constant_values=False)
    scale = max(2, width // modules.shape[0])
    light = np.kron(~modules, np.ones((scale, scale), dtype=bool)).astype(np.uint8) * 255
    return Image.fromarray(light).convert("RGB")


class _Painter:
    """Lays the card out top to bottom at `unit` image px per CSS px; without an image it
    only measures."""

    def __init__(self, facts: CardFacts, lang: Lang, unit: float) -> None:
        self.facts, self.lang, self.u = facts, lang, unit
        self.width = round(WIDTH * unit)
        self.pad = round(18 * unit)
        self.inner = self.width - 2 * self.pad
        self.status = facts.status if facts.status in COLOURS else "yellow"
        self.draw: Any = None

    def px(self, css: float) -> int:
        return round(css * self.u)

    def text(self, y: int, value: str, size: float, fill: Any, bold: bool = False,
             x: int = 0, width: int = 0) -> int:  # fmt: skip
        """Write `value` wrapped to `width` from (x, y); the y below it."""
        font = _font(self.px(size), bold)
        for line in _wrap(value, font, width or self.inner):
            if self.draw is not None:
                self.draw.text((x or self.left, y), line, font=font, fill=fill)
            y += self.px(size * 1.3)
        return y

    def paint(self, image: Any, height: int = 0) -> int:
        """Draw the card on `image` (None: only measure); its height."""
        from PIL import ImageDraw

        facts, lang, px, status = self.facts, self.lang, self.px, self.status
        self.left = self.pad
        self.draw = ImageDraw.Draw(image) if image is not None else None
        band_bottom = self.band(0)
        if self.draw is not None:
            # the card: white, rounded, bordered in the status's colour; the band on top
            self.draw = None
            corner = px(16)
            draw = ImageDraw.Draw(image)
            draw.rounded_rectangle(
                (0, 0, self.width - 1, height - 1), radius=corner, fill=WHITE,
                outline=BORDER[status], width=px(2),
            )  # fmt: skip
            draw.rounded_rectangle(
                (0, 0, self.width - 1, band_bottom), radius=corner, fill=COLOURS[status],
                corners=(True, True, False, False),
            )  # fmt: skip
            self.draw = draw
            self.band(0)
        y = band_bottom + px(16)

        # who: masked name and birth year
        y = self.text(y, facts.name, 23, INK, bold=True)
        y = self.text(y, word("born", lang, year=facts.birth_year), 15, MUTED)
        y += px(10)

        # the QR, centred, whole pixels per module
        symbol = _qr_symbol(facts.hc1, max(px(QR_WIDTH), self.inner - px(4)))
        if symbol.width < px(280):
            raise ValueError("the QR would be drawn smaller than 280 CSS px")
        if image is not None:
            image.paste(symbol, ((self.width - symbol.width) // 2, y))
        y += symbol.height + px(12)

        # the doses: "Dose n" beside date, product, lot and province
        heading = word("latest_only" if facts.latest_only else "doses", lang).upper()
        y = self.text(y, heading, 12, MUTED, bold=True) + px(4)
        label_width = px(66)
        x, width = self.left + label_width, self.inner - label_width
        for dose in facts.doses:
            self.rule(y)
            y += px(8)
            self.text(y, word("dose", lang, n=dose.number), 15, MUTED, bold=True)
            row = self.text(y, dose.date, 16, INK, bold=True, x=x, width=width)
            row = self.text(row, dose.product, 15, INK, x=x, width=width)
            lot = word("lot", lang, lot=dose.lot) if dose.lot else ""
            detail = " · ".join(d for d in (lot, dose.province) if d)
            if detail:
                row = self.text(row, detail, 13, MUTED, x=x, width=width)
            y = row + px(4)
        self.rule(y)
        y += px(12)
        y = self.text(y, word("valid", lang, date=facts.valid_until), 16, INK, bold=True)
        y += px(4)
        y = self.text(y, word("scan", lang), 12.5, MUTED)
        y = self.text(y, word("issuer", lang), 12.5, MUTED)
        return y + px(14)

    def rule(self, y: int) -> None:
        if self.draw is not None:
            self.draw.line((self.left, y, self.left + self.inner, y), fill=LINE, width=self.px(1))

    def band(self, y: int) -> int:
        """The band's texts: title, the shape and colour word, what it means, the booster
        badge; the band's bottom."""
        px, status = self.px, self.status
        ink = BAND_INK[status]
        colour_word, meaning, badge = status_lines(self.facts, self.lang)
        y = self.text(y + px(14), word("title", self.lang).upper(), 11.5, ink, bold=True)
        y += px(8)
        disc = px(34)
        if self.draw is not None:
            self.shape((self.left, y), disc)
        word_y = y + (disc - px(27 * 1.2)) // 2
        self.text(word_y, colour_word, 27, ink, bold=True, x=self.left + disc + px(10))
        y = self.text(y + disc + px(8), meaning, 17, ink, bold=True)
        if badge:
            y += px(6)
            font = _font(px(15), True)
            if self.draw is not None:
                right = self.left + round(font.getlength(badge)) + px(28)
                self.draw.rounded_rectangle(
                    (self.left, y, right, y + px(30)), radius=px(15), fill=WHITE
                )
                self.draw.text((self.left + px(14), y + px(6)), badge, font=font, fill=BADGE_INK)
            y += px(30)
        return y + px(16)

    def shape(self, at: tuple[int, int], size: int) -> None:
        """Green: a white disc with a tick; yellow: a disc half filled (the page's ✓ and ◐)."""
        x, y = at
        box = (x, y, x + size, y + size)
        line = max(2, size // 9)
        if self.status == "green":
            self.draw.ellipse(box, fill=WHITE)
            tick = [
                (x + size * 0.27, y + size * 0.52),
                (x + size * 0.44, y + size * 0.69),
                (x + size * 0.75, y + size * 0.33),
            ]
            self.draw.line(tick, fill=COLOURS["green"], width=line + 1, joint="curve")
        else:
            self.draw.ellipse(box, outline=INK, width=line)
            self.draw.pieslice(box, 90, 270, fill=INK)


def draw_card(facts: CardFacts, lang: Lang, unit: float = UNIT) -> Any:
    """The card as a Pillow RGB image, `WIDTH` × `unit` pixels wide."""
    from PIL import Image

    font_path(), font_path(bold=True)  # FontMissingError before anything is drawn
    painter = _Painter(facts, lang, unit)
    height = painter.paint(None)
    image = Image.new("RGB", (painter.width, height), WHITE)
    painter.paint(image, height)
    return image


def card_png(facts: CardFacts, lang: Lang) -> bytes:
    """The card as a PNG (the download of the card page)."""
    image = draw_card(facts, lang)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()
