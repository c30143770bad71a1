"""QR drawing: zxing-cpp's symbols are the ones an independent encoder (`qrcode`) builds
for the same text, version and mask; the fixed mask scores close to the best of the eight
by the standard's penalty rules; the PNGs hold exactly the pixels drawn and read back."""

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
    assert int(found.extra["DataMask"]) == qr.DATA_MASK
    expected = reference_symbol(text, qr.DATA_MASK)
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


def penalty(modules: np.ndarray) -> int:
    """ISO/IEC 18004 mask penalty (rules N1–N4) of a symbol (True = dark)."""
    dark = modules.astype(np.int8)
    score = 0
    finder_like = np.array([1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0])
    for lines in (dark, dark.T):
        for line in lines:  # N1: 3 points for a run of 5 alike, 1 more per module beyond
            ends = np.concatenate(([-1], np.flatnonzero(np.diff(line)), [len(line) - 1]))
            runs = np.diff(ends)
            score += int(np.sum(runs[runs >= 5] - 2))
        windows = np.lib.stride_tricks.sliding_window_view(np.pad(lines, ((0, 0), (4, 4))), 11, 1)
        for pattern in (finder_like, finder_like[::-1]):  # N3: 1:1:3:1:1 beside 4 light
            score += 40 * int(np.all(windows == pattern, axis=2).sum())
    same = (dark[:-1, :-1] == dark[1:, :-1]) & (dark[:-1, :-1] == dark[:-1, 1:])
    score += 3 * int((same & (dark[:-1, :-1] == dark[1:, 1:])).sum())  # N2: 2x2 blocks
    score += 10 * int(abs(dark.mean() * 100 - 50) // 5)  # N4: dark share away from half
    return score


def test_penalty_counts_what_the_rules_say() -> None:
    checker = np.indices((21, 21)).sum(axis=0) % 2 == 0  # no runs, no blocks, half dark
    assert penalty(checker) == 0
    assert penalty(np.ones((21, 21), bool)) == 2 * 21 * (21 - 2) + 3 * 20 * 20 + 10 * 10


def test_the_fixed_mask_scores_near_the_best_mask() -> None:
    """Certificate texts are compressed data in base45: every mask scores about the same,
    so the drawn symbol's penalty stays within 1.3 times the best of the eight."""
    import zlib

    import base45

    rng = random.Random(7)
    for _ in range(25):
        payload = zlib.compress(rng.randbytes(rng.randint(150, 400)))
        text = "HC1:" + base45.b45encode(payload).decode("ascii")
        scores = [penalty(qr.qr_modules(text, mask)) for mask in range(8)]
        assert scores[qr.DATA_MASK] <= 1.3 * min(scores), scores


@pytest.mark.parametrize(("width", "scale"), [(1, 1), (9, 1), (13, 3), (29, 4)])
def test_png_holds_exactly_the_pixels(width: int, scale: int) -> None:
    from io import BytesIO

    from PIL import Image

    light = np.random.default_rng(width).random((width + 2, width)) < 0.5
    with Image.open(BytesIO(qr.png_of(light, scale))) as image:
        assert image.mode == "1"
        pixels = np.asarray(image.convert("L")) == 255
    assert np.array_equal(pixels, light.repeat(scale, axis=0).repeat(scale, axis=1))
