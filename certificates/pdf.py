"""A printable certificate: one A4 page (PDF) with the holder, the latest dose, the status
colour and a large QR, drawn from a *verified* certificate.

The page is drawn from what the QR itself carries (the DCC payload and its CWT claims), not
from the warehouse: `/api/v1/certificate/pdf` accepts an HC1 text, verifies it against the
platform's trust list and only then draws it, so anyone holding a genuine certificate can
print it and nothing else can be printed as one. Names keep their Vietnamese letters, so the
page needs a TrueType font that has them (DejaVu Sans, Debian package fonts-dejavu-core;
`make run` and `make test` install it); without one `FontMissingError` says so.

Pillow draws the page at 150 dpi; `one_image_pdf` writes it as a PDF page holding that one
image, zlib-compressed (lossless: the QR prints as sharp as it was drawn; Pillow's own PDF
writer would store an RGB page as JPEG).
"""

from __future__ import annotations

import datetime as dt
import zlib
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from certificates import qr, rules

DPI = 150
PAGE = (1240, 1754)  # A4 at 150 dpi
MARGIN = 90
FONT_DIRECTORIES = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/TTF"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts"),
)
COLOURS = {"green": (22, 128, 61), "yellow": (250, 204, 21)}
STATUS_TEXT = {
    "green": ("XANH — đã tiêm đủ liều cơ bản", "GREEN — primary series complete"),
    "yellow": ("VÀNG — đã bắt đầu tiêm", "YELLOW — primary series started"),
}


class FontMissingError(RuntimeError):
    """No installed font can write Vietnamese names."""


@cache
def font_path(bold: bool = False) -> Path:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for directory in FONT_DIRECTORIES:
        if (directory / name).is_file():
            return directory / name
    raise FontMissingError(
        f"no {name} in {', '.join(map(str, FONT_DIRECTORIES))}: install fonts-dejavu-core"
    )


def _font(size: int, bold: bool = False) -> Any:
    from PIL import ImageFont

    return ImageFont.truetype(str(font_path(bold)), size)


def fields(payload: dict[str, Any], expires_at: dt.datetime | None) -> list[tuple[str, str]]:
    """(label, value) lines of the page, from a DCC payload."""
    name = payload.get("nam", {})
    entry = payload["v"][0]
    catalogue = rules.products()
    product = catalogue[entry["mp"]].display if entry["mp"] in catalogue else entry["mp"]
    lines = [
        ("Họ và tên / Name", " ".join(p for p in (name.get("fn", ""), name.get("gn", "")) if p)),
        ("Ngày sinh / Date of birth", str(payload.get("dob", ""))),
        ("Mũi tiêm / Dose", f"{entry['dn']} / {entry['sd']}"),
        ("Vắc xin / Vaccine", str(product)),
        ("Ngày tiêm / Date of vaccination", str(entry["dt"])),
        ("Quốc gia / Country", str(entry["co"])),
        ("Đơn vị cấp / Issuer", str(entry["is"])),
        ("Mã chứng nhận / Certificate ID", str(entry["ci"])),
    ]
    if expires_at is not None:
        lines.append(("Hiệu lực đến / Valid until", expires_at.date().isoformat()))
    return lines


def certificate_pdf(
    text: str, payload: dict[str, Any], status: str, expires_at: dt.datetime | None
) -> bytes:
    """The page for a verified certificate (`text` its HC1 string, `status` green/yellow)."""
    from PIL import Image, ImageDraw

    page = Image.new("RGB", PAGE, "white")
    draw = ImageDraw.Draw(page)
    width = PAGE[0] - 2 * MARGIN
    y = MARGIN
    draw.text(
        (MARGIN, y), "GIẤY CHỨNG NHẬN TIÊM CHỦNG COVID-19", font=_font(40, True), fill="black"
    )
    y += 56
    draw.text(
        (MARGIN, y), "COVID-19 vaccination certificate — Viet Nam", font=_font(28), fill="black"
    )
    y += 64
    colour = COLOURS.get(status, (200, 200, 200))
    draw.rectangle((MARGIN, y, MARGIN + width, y + 100), fill=colour)
    ink = "white" if status == "green" else "black"
    vietnamese, english = STATUS_TEXT.get(status, (status, ""))
    draw.text((MARGIN + 24, y + 14), vietnamese, font=_font(30, True), fill=ink)
    draw.text((MARGIN + 24, y + 56), english, font=_font(26), fill=ink)
    y += 140
    label_font, value_font = _font(22), _font(30, True)
    for label, value in fields(payload, expires_at):
        draw.text((MARGIN, y), label, font=label_font, fill=(90, 90, 90))
        draw.text((MARGIN, y + 28), value, font=value_font, fill="black")
        y += 78
    modules = np.pad(qr.qr_modules(text), qr.QUIET_ZONE, constant_values=False)
    scale = max(1, min(width, PAGE[1] - y - MARGIN - 60) // modules.shape[0])
    pixels = np.kron(~modules, np.ones((scale, scale), dtype=bool)).astype(np.uint8) * 255
    symbol = Image.fromarray(pixels).convert("RGB")
    page.paste(symbol, ((PAGE[0] - symbol.width) // 2, y))
    y += symbol.height + 16
    note = "Quét mã bằng ứng dụng kiểm tra DCC / Scan with any EU DCC verifier, or at /verify"
    draw.text((MARGIN, y), note, font=_font(20), fill=(90, 90, 90))
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
