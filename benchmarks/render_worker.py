"""A long-lived WeasyPrint worker for the report bench: render and sign on request, report its own peak.

`python -m benchmarks.render_worker SIGNER.p12 PASSPHRASE` imports WeasyPrint and pyHanko, renders
a one-line page (font set-up, as a long-lived server worker has done already), prints "ready", then
reads one JSON request per line: {"html": path, "css": path, "out": path}. For each it renders,
signs, writes the PDF and prints one JSON line: {render_s, sign_s, bytes, peak_mb, rss_mb, peak_of}.

Memory is this process's own: the peak resident size during the request (Linux: the high-water
mark is reset through /proc/self/clear_refs before each render, then read from /proc/self/status;
`peak_of` is "render"), or, where that reset is refused, the process's peak since it started
(`peak_of` is "process"). A child started by fork+exec inherits its parent's high-water mark in
getrusage's ru_maxrss, which is why it is not used here.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

from vendorcheck.pdf import load_signer, render_pdf, sign_pdf

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "static"
FONT = STATIC / "fonts" / "NimbusSans-Regular.otf"


def _status_mb(field: str) -> float:
    """Return a memory figure of /proc/self/status in MB (0 where there is no /proc)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _reset_peak() -> bool:
    """Reset this process's peak resident size to its current one; False where refused."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def serve(p12_path: str, passphrase: str) -> int:
    """Answer render requests read from stdin until it closes."""
    logging.getLogger("pyhanko").setLevel(logging.ERROR)  # "No ROS metadata" on every signature
    signer = load_signer(Path(p12_path).read_bytes(), passphrase.encode())
    render_pdf("<p>warm-up</p>", static_dir=STATIC)
    print("ready", flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        html, css = Path(request["html"]).read_text(), Path(request["css"]).read_text()
        rss_before = _status_mb("VmRSS")
        reset = _reset_peak()
        start = time.perf_counter()
        pdf = render_pdf(html, static_dir=STATIC, stylesheets=[css])
        rendered = time.perf_counter()
        signed = sign_pdf(pdf, signer, reason="Benchmark", field_name="Benchmark", font_path=FONT)
        done = time.perf_counter()
        Path(request["out"]).write_bytes(signed)
        print(json.dumps({"render_s": rendered - start, "sign_s": done - rendered,
                          "bytes": len(signed), "peak_mb": _status_mb("VmHWM"),
                          "rss_mb": rss_before, "peak_of": "render" if reset else "process"}),
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(serve(*sys.argv[1:3]))
