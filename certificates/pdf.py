"""A printable certificate: one A4 page (PDF) showing the citizen's card — the same drawing as
the card page's PNG (`certificates.card`), centred on the page, in the chosen language —
drawn from a *verified* certificate.

The card is drawn from what the QR itself carries (the DCC payload and its CWT claims), not
from the warehouse: `/api/v1/certificate/pdf` accepts an HC1 text, verifies it against the
platform's trust list and only then draws it, so anyone holding a genuine certificate can
print it and nothing else can be printed as one. The doses the lookup showed (lot, province)
are printed only when the server's seal vouches for them (`certificates.card.seal`);
otherwise the card shows the latest dose, as the QR states it. Names keep their Vietnamese
letters, so the page needs a TrueType font that has them (DejaVu Sans, Debian package
fonts-dejavu-core; `make run` and `make test` install it); without one `FontMissingError`
says so.

Pillow draws the page at 150 dpi; `one_image_pdf` writes it as a PDF page holding that one
image, zlib-compressed (lossless: the QR prints as sharp as it was drawn; Pillow's own PDF
writer would store an RGB page as JPEG).
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Sequence
from typing import Any, Literal

from certificates import card, rules
from certificates.card import FONT_DIRECTORIES, FontMissingError, font_path

__all__ = ["FONT_DIRECTORIES", "FontMissingError", "certificate_pdf", "font_path", "one_image_pdf"]

DPI = 150
PAGE = (1240, 1754)  # A4 at 150 dpi
MARGIN = 70
#: the status colours of the card (`certificates.card.COLOURS`)
COLOURS = card.COLOURS


def _font(size: int, bold: bool = False) -> Any:
    from PIL import ImageFont

    return ImageFont.truetype(str(font_path(bold)), size)


def certificate_pdf(
    text: str,
    payload: dict[str, Any],
    progress: rules.Progress,
    expires_at: dt.datetime | None,
    lang: Literal["vi", "en"] = "vi",
    doses: Sequence[card.DoseLine] | None = None,
) -> bytes:
    """The page for a verified certificate (`text` its HC1 string, `progress` what it
    states): its card (`certificates.card`) centred on A4, at the card's own scale or, for a
    card too tall for the page, smaller."""
    from PIL import Image

    font_path(), font_path(bold=True)  # a clear error before any drawing
    valid = expires_at.date().isoformat() if expires_at is not None else "—"
    facts = card.of_certificate(text, payload, progress, valid, doses)
    drawn = card.draw_card(facts, lang)
    room = PAGE[1] - 2 * MARGIN
    if drawn.height > room:
        drawn = card.draw_card(facts, lang, card.UNIT * room / drawn.height * 0.98)
    page = Image.new("RGB", PAGE, "white")
    page.paste(drawn, ((PAGE[0] - drawn.width) // 2, (PAGE[1] - drawn.height) // 2))
    return one_image_pdf(page.tobytes(), page.width, page.height, "VaxViet certificate")


def one_image_pdf(rgb: bytes, width: int, height: int, title: str) -> bytes:
    """A one-page PDF showing an RGB image (8 bits per channel) at `DPI`, losslessly."""
    points = (width * 72 / DPI, height * 72 / DPI)
    content = f"q {points[0]:.2f} 0 0 {points[1]:.2f} 0 0 cm /Page Do Q".encode()
    pixels = zlib.compress(rgb, 6)
    safe_title = title.replace("\\", "").replace("(", "").replace(")", "")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {points[0]:.2f} {points[1]:.2f}] "
            "/Resources << /XObject << /Page 5 0 R >> >> /Contents 4 0 R >>"
        ).encode(),
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        (
            f"<< /Type /XObject /Subtype /Image /Width {width} /Height {height} "
            "/ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /FlateDecode "
            f"/Length {len(pixels)} >>\nstream\n"
        ).encode()
        + pixels
        + b"\nendstream",
        f"<< /Title ({safe_title}) /Producer (VaxViet) >>".encode(),
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)
