"""QR drawing: zxing-cpp's symbols are the ones an independent encoder (`qrcode`) builds
for the same text, version and mask, and the PNGs read back."""

from __future__ import annotations

import random
import string

import numpy as np
import pytest
import qrcode
import zxingcpp
from qrcode.constants import ERROR_CORRECT_Q
from qrcode.util import MODE_ALPHA_NUM, QRData

from certificates import qr

BASE45 = string.digits + string.ascii_uppercase + " $%*+-./:"
_RANDOM = random.Random(18004)
TEXTS = [
    "HC1:6BFOXN%TS3DH0YOJ58S S-W5HDC *M0II5XHC9B5G2+$N IOP-IA%NFQGRJPC%OQHIZC4.OI1RM8ZA.A5:S9MKN4NN3F85QNCY0O%0VZ001HOC9JU0D0HT0HB2PL/IB*09B9LW4T*8+DCMH0LDK2%K:XFE70*LP$V25$0Q:J:4MO1P0%0L0HD+9E/HY+4J6TH48S%4K.GJ2PT3QY:GQ3TE2I+-CPHN6D7LLK*Y0ZUFY8G7T7MO6B1G%4JTN2ZG3:4W/F1AVT:C6/PXLE:QL5RN5RFFU5:BD0OK88M.UGL2JRQ8S3HXAH8KMWZSH*88DLL2:9PTN6ZK*ZQ*6L80:3N2G1S8:$3FT4FMH8MEM1",
    "HC1:" + "ABC DEF$%*+-./:" * 40,
    "HC1:0",
    *("HC1:" + "".join(_RANDOM.choices(BASE45, k=_RANDOM.randint(1, 900))) for _ in range(8)),
]


def reference_symbol(text: str, mask: int | None) -> np.ndarray:
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_Q, border=0, mask_pattern=mask)
    code.add_data(QRData(text.encode("ascii"), mode=MODE_ALPHA_NUM))
    code.make(fit=True)
    return np.array(code.get_matrix(), dtype=bool)


@pytest.mark.parametrize("text", TEXTS)
def test_symbol_is_the_one_an_independent_encoder_builds(text: str) -> None:
    drawn = qr.qr_modules(text)
    read = zxingcpp.read_barcodes(np.pad(~drawn, 4, constant_values=True).astype(np.uint8) * 255)
    (found,) = read
    assert found.text == text and found.ec_level == "Q"
    expected = reference_symbol(text, int(found.extra["DataMask"]))
    assert drawn.shape == expected.shape  # the smallest version, alphanumeric mode
    assert np.array_equal(drawn, expected)


@pytest.mark.parametrize("text", TEXTS[:3], ids=["hc1", "long", "short"])
def test_drawn_png_reads_back(text: str) -> None:
    png = qr.qr_png(text)
    assert png.startswith(b"\x89PNG")
    assert qr.decode_qr(png) == text


def test_png_has_quiet_zone_and_module_size() -> None:
    from io import BytesIO

    from PIL import Image

    modules = qr.qr_modules("HC1:0")
    assert modules.shape == (21, 21)  # version 1
    with Image.open(BytesIO(qr.qr_png("HC1:0"))) as image:
        pixels = np.asarray(image.convert("L"))
    side = (21 + 2 * qr.QUIET_ZONE) * qr.PIXELS_PER_MODULE
    assert pixels.shape == (side, side)
    margin = qr.QUIET_ZONE * qr.PIXELS_PER_MODULE
    assert (pixels[:margin] == 255).all() and (pixels[:, -margin:] == 255).all()
    assert pixels[margin, margin] == 0  # the finder pattern's corner


def test_unreadable_images() -> None:
    with pytest.raises(ValueError, match="not a readable image"):
        qr.decode_qr(b"not an image")
    with pytest.raises(ValueError, match="no QR code"):
        from io import BytesIO

        from PIL import Image

        buffer = BytesIO()
        Image.new("L", (64, 64), 255).save(buffer, format="PNG")
        qr.decode_qr(buffer.getvalue())
