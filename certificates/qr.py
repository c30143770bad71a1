"""QR images of certificate texts: drawing (`qr_png`) and reading (`decode_qr`).

Both go through zxing-cpp (C++). Drawing: error correction Q, the smallest version that
fits, the encoder's own segmentation (an HC1 text is all base45, so one alphanumeric
segment), data mask `DATA_MASK`, a 4-module quiet zone, 4 pixels per module, written as a
bilevel PNG by `png_of` (numpy and zlib: no image library on the way). A test rebuilds
every drawn symbol with the pure-Python `qrcode` package (same version, mode and mask) and
requires the same modules, so the encoder is checked against an independent
implementation; another decodes every PNG.

Why one fixed mask: the standard's encoder tries all eight masks and keeps the one with
the lowest penalty (long runs, 2×2 blocks, finder-like patterns, dark/light balance); in
zxing-cpp that search is 1.3–1.6 ms of the 1.5–1.8 ms a symbol takes, the largest single
cost of a certificate lookup after its warehouse reads. An HC1 text is zlib-compressed
data in base45, as good as random, so every mask gives about the same penalty: over 100
random certificate-sized texts the eight masks' mean penalties were within 4 % of each
other, and mask 7, the lowest on average, was at worst 1.19 times the best mask for that
text (ad-hoc measurement; `tests/unit/test_certificates_qr.py` holds it to at most 1.3
times on generated certificates). Any mask is a valid symbol that every reader decodes.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np

QUIET_ZONE = 4
PIXELS_PER_MODULE = 4
#: the data mask of every drawn symbol (see the module's docstring)
DATA_MASK = 7


def qr_modules(text: str, mask: int = DATA_MASK) -> np.ndarray:
    """The symbol's module matrix (True = dark), without the quiet zone."""
    import zxingcpp

    barcode = zxingcpp.create_barcode(
        text, zxingcpp.BarcodeFormat.QRCode, ec_level="Q", data_mask=mask
    )
    image = zxingcpp.write_barcode_to_image(barcode, scale=1, add_quiet_zones=False)
    modules: np.ndarray = np.asarray(image) == 0
    return modules


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_of(light: np.ndarray, scale: int = 1) -> bytes:
    """A 1-bit greyscale PNG of a boolean image (True = white), each pixel drawn as a
    `scale` × `scale` square: IHDR, one IDAT, IEND. The first scanline of every repeated
    row is stored as is (filter 0), its repeats as "same as the line above" (filter 2, all
    zero bytes), so zlib's default level packs them to almost nothing."""
    wide = np.packbits(light.repeat(scale, axis=1), axis=1)  # 8 pixels a byte, high bit first
    rows, width = wide.shape
    lines = np.zeros((rows, scale, 1 + width), np.uint8)
    lines[:, 0, 1:] = wide
    lines[:, 1:, 0] = 2
    header = struct.pack(">IIBBBBB", light.shape[1] * scale, rows * scale, 1, 0, 0, 0, 0)
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(lines.tobytes(), 6)),
            _chunk(b"IEND", b""),
        ]
    )


def qr_png(text: str, box_size: int = PIXELS_PER_MODULE) -> bytes:
    """The QR code of an HC1 text as a PNG (black on white, 4-module quiet zone)."""
    return png_of(np.pad(~qr_modules(text), QUIET_ZONE, constant_values=True), box_size)


def decode_qr(image: bytes) -> str:
    """The text of the first QR code in an image (PNG, JPEG …); ValueError if none."""
    import zxingcpp
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(image)) as opened:
            picture = opened.convert("L")
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise ValueError(f"not a readable image: {error}") from None
    formats = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    found = zxingcpp.read_barcodes(picture, formats=formats)
    if not found:
        raise ValueError("no QR code found in the image")
    return str(found[0].text)
