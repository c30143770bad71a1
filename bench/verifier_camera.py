"""The desk's verifier page (/verify): from a certificate's QR entering the camera's view to
the verdict on screen, in headless Chromium with a fake camera and the CPU slowed down
(target: ≤ 1 s at 4×); and one verification alone in the browser (target: ≤ 50 ms).

The camera is Chromium's fake device playing a video (tests/integration/camera.py): the desk
alone for `--empty` seconds, then the platform's own QR (a certificate signed by the
server's key) for `--shown` seconds, in a loop; each time the QR comes into view is one
measurement. A probe beside the page (the benchmark's, not the page's) watches every frame
the video element presents and notes the capture time of the first frame with the QR in
it; the page marks each verdict it shows with the time (``data-shown-at`` of
``#verify-verdict``). Both clocks are the page's ``performance.now()``.

    python -m bench.verifier_camera --entries 12 --throttle 4
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.portal_callbacks import start_serve
from bench.report import write_section
from certificates import keys
from tests.integration.browser import start_chromium, wait_for
from tests.integration.camera import camera_arguments, desk_certificates, write_video
from vaxviet.settings import Settings

#: the benchmark's probe: the capture time of each frame in which the QR appears (the
#: centre of a blank desk is light; with the QR half its modules are dark) and the time of
#: each verdict the page shows
PROBE = """
var video = document.getElementById('scan-video');
var verdict = document.getElementById('verify-verdict');
var probe = document.createElement('canvas');
probe.width = probe.height = 8;
var context = probe.getContext('2d', {willReadFrequently: true});
window.benchEntries = [];
window.benchVerdicts = [];
var inView = false;
function watch(now, meta) {
  var side = Math.min(video.videoWidth, video.videoHeight) / 2;
  context.drawImage(video, (video.videoWidth - side) / 2, (video.videoHeight - side) / 2,
                    side, side, 0, 0, 8, 8);
  var pixels = context.getImageData(0, 0, 8, 8).data, sum = 0;
  for (var i = 0; i < pixels.length; i += 4) { sum += pixels[i]; }
  var mean = sum / 64;
  if (!inView && mean < 170) {
    inView = true;
    window.benchEntries.push(meta.captureTime || meta.presentationTime || now);
  } else if (inView && mean > 190) {
    inView = false;
  }
  video.requestVideoFrameCallback(watch);
}
video.requestVideoFrameCallback(watch);
new MutationObserver(function () {
  window.benchVerdicts.push(Number(verdict.dataset.shownAt));
}).observe(verdict, {attributes: true, attributeFilter: ['data-shown-at']});
"""

#: one verification in the page, `runs` times: each call's duration (ms)
VERIFY_ALONE = """
var text = arguments[0], runs = arguments[1], done = arguments[arguments.length - 1];
(async function () {
  var trust = await (await fetch('/verify/trust.json')).json();
  var settings = JSON.parse(document.getElementById('verify-settings').textContent);
  var rules = await (await fetch(settings.rules)).json();
  var times = [], status = null;
  for (var i = 0; i < runs; i++) {
    var started = performance.now();
    var result = await VaxVerifier.verifyText(text, {trust: trust, rules: rules, now: new Date()});
    times.push(performance.now() - started);
    status = result.status;
  }
  done({times: times, status: status});
})().catch(function (error) { done({error: String(error)}); });
"""

#: one decode of a camera-sized frame with the QR by jsQR, `runs` times (ms)
DECODE_ALONE = """
var runs = arguments[0], done = arguments[arguments.length - 1];
var video = document.getElementById('scan-video');
var canvas = document.createElement('canvas');
var side = Math.min(video.videoWidth, video.videoHeight), size = Math.min(480, side);
canvas.width = canvas.height = size;
var context = canvas.getContext('2d', {willReadFrequently: true});
var times = [], found = 0;
for (var i = 0; i < runs; i++) {
  var started = performance.now();
  context.drawImage(video, (video.videoWidth - side) / 2, (video.videoHeight - side) / 2,
                    side, side, 0, 0, size, size);
  var pixels = context.getImageData(0, 0, size, size);
  if (jsQR(pixels.data, size, size, {inversionAttempts: 'dontInvert'})) { found++; }
  times.push(performance.now() - started);
}
done({times: times, found: found});
"""


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _summary(values: list[float]) -> str:
    return (
        f"median {statistics.median(values):.0f} ms, p95 {_percentile(values, 0.95):.0f} ms, "
        f"max {max(values):.0f} ms ({len(values)} runs)"
    )


def latencies(entries: list[float], verdicts: list[float]) -> list[float]:
    """For each time the QR came into view, the time to the first verdict after it (and
    before the next entry)."""
    out = []
    for index, entry in enumerate(entries):
        until = entries[index + 1] if index + 1 < len(entries) else float("inf")
        after = [shown for shown in verdicts if entry <= shown < until]
        if after:
            out.append(min(after) - entry)
    return out


def camera_run(base: str, text: str, directory: Path, args: argparse.Namespace) -> dict[str, Any]:
    video = write_video(directory / "camera.y4m", text, args.empty, args.shown)
    browser: Any = start_chromium(directory / "chromium", arguments=camera_arguments(video))
    try:
        browser.get(base + "/verify")
        wait_for(
            lambda: browser.execute_script(
                "return document.getElementById('trust-status').dataset.state === 'fresh'"
            )
        )
        alone = browser.execute_async_script(VERIFY_ALONE, text, args.runs)
        browser.execute_cdp_cmd("Emulation.setCPUThrottlingRate", {"rate": args.throttle})
        slowed = browser.execute_async_script(VERIFY_ALONE, text, args.runs)
        browser.find_element("id", "scan-camera").click()
        wait_for(
            lambda: browser.execute_script(
                "return document.getElementById('scan-video').currentTime > 0"
            )
        )
        browser.execute_script(PROBE)
        deadline = time.monotonic() + (args.empty + args.shown) * (args.entries + 2) * 2 + 30
        while time.monotonic() < deadline:
            if len(browser.execute_script("return window.benchEntries")) > args.entries:
                break
            time.sleep(0.5)
        entries = browser.execute_script("return window.benchEntries")
        verdicts = browser.execute_script("return window.benchVerdicts")
        status = browser.execute_script(
            "return document.getElementById('verify-verdict').dataset.status"
        )
        # the decoder alone, on the frame in view (waits for one with the QR)
        wait_for(lambda: browser.execute_async_script(DECODE_ALONE, 1)["found"] == 1, seconds=60)
        decode = browser.execute_async_script(DECODE_ALONE, 10)
    finally:
        browser.quit()
    return {
        "alone": alone,
        "slowed": slowed,
        "latencies": latencies(entries[:-1], verdicts),
        "entries": len(entries) - 1,
        "status": status,
        "decode": decode,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=12, help="times the QR comes into view")
    parser.add_argument("--throttle", type=float, default=4.0, help="CPU slowdown (Chromium)")
    parser.add_argument("--empty", type=float, default=1.5, help="seconds without the QR")
    parser.add_argument("--shown", type=float, default=1.5, help="seconds with the QR")
    parser.add_argument("--runs", type=int, default=50, help="verifications timed alone")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="vaxviet-verifier-") as temporary:
        directory = Path(temporary)
        var = directory / "var"
        process, port = start_serve(
            {"VAX_VAR_DIR": str(var), "VAX_ETL_WORKER": "off", "VAX_LIVE": "off"},
            directory / "serve.log",
        )
        try:
            signing = keys.ensure(Settings.from_env({"VAX_VAR_DIR": str(var)}))
            foreign = keys.ensure(Settings.from_env({"VAX_VAR_DIR": str(directory / "other")}))
            text = desk_certificates(signing, foreign, dt.datetime.now(dt.UTC))["green"][0]
            figures = camera_run(f"http://127.0.0.1:{port}", text, directory, args)
        finally:
            process.terminate()
            process.wait(30)
    if figures["alone"].get("error") or not figures["latencies"]:
        print(figures)
        return 1
    lines = [
        f"- Camera to verdict (QR into view → verdict on screen), CPU slowed "
        f"{args.throttle:g}×: {_summary(figures['latencies'])}; {figures['entries']} entries "
        f"of the QR, {len(figures['latencies'])} verdicts, last verdict "
        f"`{figures['status']}`. Target ≤ 1,000 ms.",
        f"- One frame decoded by jsQR (480 × 480 of a 640 × 480 frame), CPU slowed "
        f"{args.throttle:g}×: {_summary(figures['decode']['times'])}.",
        f"- One verification alone (`VaxVerifier.verifyText`, a green certificate): "
        f"{_summary(figures['alone']['times'])}; CPU slowed {args.throttle:g}×: "
        f"{_summary(figures['slowed']['times'])}. Target ≤ 50 ms.",
        f"- Video: {args.empty:g} s of the desk, then {args.shown:g} s with the QR "
        "(4-px modules, centred), 640 × 480 at 15 frames/s, looped; headless Chromium, "
        "no GPU.",
    ]
    body = "\n".join(lines)
    print(body)
    write_section(
        "Certificates: the desk's verifier (camera to verdict)", "bench.verifier_camera", body
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
