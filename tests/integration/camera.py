"""A fake camera for the verifier's browser tests and benchmark: a Y4M video (what
Chromium's ``--use-file-for-fake-video-capture`` plays, in a loop, as the camera) of a desk
with a certificate's QR, rendered from the platform's own QR symbol, coming into view."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from certificates import hcert, issue, keys, qr

WIDTH, HEIGHT = 640, 480
FPS = 15
#: the desk's grey and the module size of the QR on it (pixels)
BACKGROUND = 200
MODULE = 4


def qr_picture(text: str, module: int = MODULE) -> np.ndarray:
    """The QR of `text` as grey pixels (0 dark, 255 light) with its quiet zone."""
    modules = np.pad(qr.qr_modules(text), qr.QUIET_ZONE, constant_values=False)
    light = (~modules).astype(np.uint8) * 255
    return np.kron(light, np.ones((module, module), dtype=np.uint8))


def frame(picture: np.ndarray | None, seed: int = 0) -> np.ndarray:
    """A desk frame (the luma plane): sensor noise, and `picture` at the centre if given."""
    noise = np.random.default_rng(seed).integers(-6, 7, size=(HEIGHT, WIDTH))
    luma = np.clip(BACKGROUND + noise, 0, 255).astype(np.uint8)
    if picture is not None:
        height, width = picture.shape
        if height > HEIGHT or width > WIDTH:
            raise ValueError(f"a {width}x{height} QR does not fit a {WIDTH}x{HEIGHT} frame")
        top, left = (HEIGHT - height) // 2, (WIDTH - width) // 2
        luma[top : top + height, left : left + width] = picture
    return luma


def write_video(path: Path, text: str | None, empty_seconds: float, qr_seconds: float) -> Path:
    """A Y4M file (4:2:0, grey): `empty_seconds` of the desk alone, then `qr_seconds` with
    the QR of `text` in view (none if `text` is None). Chromium loops it."""
    picture = None if text is None else qr_picture(text)
    empty = [frame(None, seed) for seed in range(3)]
    shown = [frame(picture, seed) for seed in range(3)]
    chroma = np.full((HEIGHT // 2) * (WIDTH // 2) * 2, 128, dtype=np.uint8).tobytes()
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F{FPS}:1 Ip A1:1 C420jpeg\n".encode())
        for index in range(round(empty_seconds * FPS)):
            out.write(b"FRAME\n" + empty[index % 3].tobytes() + chroma)
        for index in range(round(qr_seconds * FPS)):
            out.write(b"FRAME\n" + shown[index % 3].tobytes() + chroma)
    return path


def camera_arguments(video: Path) -> list[str]:
    """Chromium's switches for a camera playing `video`, allowed without asking."""
    return [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]


# -- the certificates the desk meets ------------------------------------------------------------

HOLDER = ("Trần Thị Bình", "1988-03-14")


def desk_certificates(
    signing: keys.SigningKey, foreign: keys.SigningKey, now: dt.datetime
) -> dict[str, tuple[str, str, str]]:
    """name → (HC1 text, the verdict's status, the failing stage or ""): a green, a yellow and
    a boosted certificate signed by `signing`, one expired, one with its signature altered,
    one signed by `foreign` (a key no trust list holds)."""
    identity = issue.Identity(HOLDER[0], dt.date.fromisoformat(HOLDER[1]), "F", "")

    def doses(*codes: str) -> list[issue.Dose]:
        return [
            issue.Dose(
                f"D{n}", 1, code, n, now - dt.timedelta(days=200 - 30 * n), f"LOT{n}", "01", "S1"
            )
            for n, code in enumerate(codes, start=1)
        ]

    pfizer = "EU/1/20/1528"

    def signed(
        dose_list: list[issue.Dose],
        key: keys.SigningKey = signing,
        at: dt.datetime = now,
        validity: dt.timedelta = issue.VALIDITY,
    ) -> str:
        return issue.issue("desk", identity, dose_list, key, at, validity).text

    green = signed(doses(pfizer, pfizer))
    return {
        "green": (green, "green", ""),
        "yellow": (signed(doses(pfizer)), "yellow", ""),
        "booster": (signed(doses(pfizer, pfizer, pfizer)), "green", ""),
        "expired": (
            signed(
                doses(pfizer, pfizer), at=now - dt.timedelta(days=30), validity=dt.timedelta(days=7)
            ),
            "invalid",
            "expiry",
        ),
        "tampered": (altered_signature(green), "invalid", "signature"),
        "foreign": (signed(doses(pfizer, pfizer), key=foreign), "invalid", "signature"),
    }


def altered_signature(text: str) -> str:
    """`text` with the last byte of its COSE signature flipped."""
    message = bytearray(hcert.inflate(hcert.b45decode(hcert.strip_prefix(text))))
    message[-1] ^= 0x01
    return hcert.encode_text(bytes(message))
