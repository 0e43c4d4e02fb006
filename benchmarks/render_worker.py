"""Render and sign one report in a fresh process; print timings and peak memory as JSON.

`python -m benchmarks.render_worker REPORT.html REPORT.css OUT.pdf SIGNER.p12 PASSPHRASE`
The process imports WeasyPrint and pyHanko, renders a one-line page once (font set-up, as a
long-lived worker would have done already), then times the real render and the signature.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

from vendorcheck.pdf import load_signer, render_pdf, sign_pdf

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "static"
FONT = STATIC / "fonts" / "NimbusSans-Regular.otf"


def main(argv: list[str]) -> int:
    """Render, sign, write the PDF; print {render_s, sign_s, bytes, max_rss_mb}."""
    html_path, css_path, out_path, p12_path, passphrase = argv
    html, css = Path(html_path).read_text(), Path(css_path).read_text()
    signer = load_signer(Path(p12_path).read_bytes(), passphrase.encode())
    render_pdf("<p>warm-up</p>", static_dir=STATIC, stylesheets=[css])
    start = time.perf_counter()
    pdf = render_pdf(html, static_dir=STATIC, stylesheets=[css])
    rendered = time.perf_counter()
    signed = sign_pdf(pdf, signer, reason="Benchmark", field_name="Benchmark", font_path=FONT)
    done = time.perf_counter()
    Path(out_path).write_bytes(signed)
    max_rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    print(json.dumps({"render_s": rendered - start, "sign_s": done - rendered,
                      "bytes": len(signed), "max_rss_mb": max_rss_kb / 1024}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
