"""Certificate test data and readers that unit and integration tests share: a sample EU DCC
payload, and the page image of a certificate PDF read back through Pillow's PDF parser."""

from __future__ import annotations

import zlib
from io import BytesIO
from typing import Any

from PIL import Image, PdfParser

DCC: dict[str, Any] = {
    "ver": "1.3.0",
    "nam": {"fn": "Nguyễn", "fnt": "NGUYEN", "gn": "Văn An", "gnt": "VAN<AN"},
    "dob": "1990-04-01",
    "v": [
        {
            "tg": "840539006",
            "vp": "1119349007",
            "mp": "EU/1/20/1528",
            "ma": "ORG-100030215",
            "dn": 2,
            "sd": 2,
            "dt": "2021-09-01",
            "co": "VN",
            "is": "Ministry of Health of Viet Nam",
            "ci": "URN:UVCI:01:VN:TEST1234#K",
        }
    ],
}


def page_image(document: bytes) -> Image.Image:
    """The page's image, read back through a PDF parser (Pillow's), not our writer."""
    parser = PdfParser.PdfParser(buf=document)
    (page_ref,) = parser.pages
    page = parser.read_indirect(page_ref)
    width, height = page[b"MediaBox"][2], page[b"MediaBox"][3]
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    stream = parser.read_indirect(page[b"Resources"][b"XObject"][b"Page"])
    info = stream.dictionary
    assert info[b"Filter"] == PdfParser.PdfName(b"FlateDecode")  # lossless
    pixels = zlib.decompress(stream.buf[: info[b"Length"]])
    return Image.frombytes("RGB", (info[b"Width"], info[b"Height"]), pixels)


def png_of(image: Image.Image) -> bytes:
    buffer = BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
