"""Signed audit report: WeasyPrint render + sign time beside Chromium's print-to-pdf, same run.

For synthetic questionnaires of 50, 120, 500 and 2,000 questions the report HTML is built once
(build_report_context + the real template). WeasyPrint renders it with static/css/report.css and
pyHanko signs it, in a fresh subprocess each time (its peak RSS is the render's peak memory).
Baseline: headless Chromium printing the same HTML, with a copy of the same stylesheet, cold
(a new browser per run, as its CLI works). Goals (issue 7): 120 questions signed at most 1.5x
Chromium, linear growth, 2,000 questions under 45 s with peak memory under 500 MB.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from pypdf import PdfReader

from benchmarks import seed
from vendorcheck.pdf import ensure_instance_signer
from vendorcheck.pdf.report import CSS_PATH, ReportData, build_report_context
from vendorcheck.questionnaire import load_questionnaire_text
from vendorcheck.questionnaire.synthetic import make_synthetic
from vendorcheck.services.reports import render_report_html

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
SIZES = (50, 120, 500, 2000)
QUICK_SIZES = (20, 50)
REPEAT_UP_TO = 500  # sizes up to this are run twice (best of 2); larger ones once
GOAL_RATIO, GOAL_BIG_S, GOAL_BIG_MB = 1.5, 45.0, 500.0
PASSPHRASE = "benchmark"


@dataclass
class Row:
    """One size: WeasyPrint render and sign, Chromium, pages and memory."""

    questions: int
    render_s: float
    sign_s: float
    max_rss_mb: float
    pages: int
    chromium_s: float
    chromium_pages: int

    @property
    def total_s(self) -> float:
        """Return render + sign seconds."""
        return self.render_s + self.sign_s


def report_html(app: Flask, questions: int) -> str:
    """Return the audit report HTML of a synthetic questionnaire, fully answered, decided."""
    text, answers = make_synthetic(questions)
    with app.test_request_context():
        catalogue = app.extensions["questionnaires"]
        q = load_questionnaire_text(text, datasets=catalogue.datasets, file="synthetic.yaml")
        now = datetime.now(UTC)
        data = ReportData(assessment_id=1, buyer="Bench Buyer SA", vendor="Bench Vendor GmbH",
                          service="Hosted CRM", answers=answers, generated_at=now, decided=True,
                          decision="approved", reviewer="Reviewer", decided_at=now,
                          submitted_at=now, sent_at=now)
        context = build_report_context(q, data, "en", base_url="https://vendorcheck.example")
        return render_report_html(context)


def weasyprint_run(html_path: Path, out: Path, p12: Path) -> dict[str, float]:
    """Render and sign in a fresh process; return its JSON figures."""
    command = [sys.executable, "-m", "benchmarks.render_worker", str(html_path), str(CSS_PATH),
               str(out), str(p12), PASSPHRASE]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True,
                          timeout=600)
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def chromium_run(html_path: Path, out: Path, profile: Path) -> float:
    """Print the HTML with a new headless Chromium; return the wall time."""
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
               f"--user-data-dir={profile}", f"--print-to-pdf={out}", html_path.as_uri()]
    start = time.perf_counter()
    subprocess.run(command, capture_output=True, check=True, timeout=600)
    elapsed = time.perf_counter() - start
    if not out.is_file():
        raise RuntimeError("chromium wrote no PDF")
    return elapsed


def _pages(pdf: Path) -> int:
    return len(PdfReader(io.BytesIO(pdf.read_bytes())).pages)


def chromium_html(html: str) -> str:
    """Return the HTML with the report stylesheet linked (WeasyPrint gets it as a string)."""
    return html.replace("</head>", '<link rel="stylesheet" href="css/report.css"></head>', 1)


def measure(questions: int, folder: Path, app: Flask, p12: Path, repeat: int) -> Row:
    """Render one size `repeat` times with each engine; keep the best times."""
    html = report_html(app, questions)
    weasy_html = folder / f"report-{questions}.html"
    weasy_html.write_text(html)
    chrome_html = folder / f"chromium-{questions}.html"
    chrome_html.write_text(chromium_html(html))
    weasy_pdf, chrome_pdf = folder / f"weasy-{questions}.pdf", folder / f"chromium-{questions}.pdf"
    runs = [weasyprint_run(weasy_html, weasy_pdf, p12) for _ in range(repeat)]
    best = min(runs, key=lambda r: r["render_s"] + r["sign_s"])
    chrome_s = min(chromium_run(chrome_html, chrome_pdf, folder / "chromium-profile")
                   for _ in range(repeat))
    return Row(questions, best["render_s"], best["sign_s"], max(r["max_rss_mb"] for r in runs),
               _pages(weasy_pdf), chrome_s, _pages(chrome_pdf))


def run(sizes: tuple[int, ...], folder: Path, repeat: int = 2) -> list[Row]:
    """Measure every size (best of `repeat` up to 500 questions, larger ones once).

    The folder gets the HTML, the PDFs and a copy of the CSS.
    """
    (folder / "css").mkdir(exist_ok=True)
    shutil.copy(CSS_PATH, folder / "css" / "report.css")
    p12 = ensure_instance_signer(folder, common_name="vendorcheck benchmark",
                                 passphrase=PASSPHRASE.encode())
    app = seed.make_app("sqlite://")
    return [measure(n, folder, app, p12, repeat if n <= REPEAT_UP_TO else 1) for n in sizes]


def print_rows(rows: list[Row]) -> None:
    """Print the table, the ratios, the growth and the goals."""
    print(f"{'questions':>9} {'render s':>8} {'sign s':>7} {'total s':>8} {'pages':>5} "
          f"{'peak MB':>8} {'chromium s':>10} {'pages':>5} {'ratio W/C':>9} {'ms/q':>6} "
          f"{'marginal ms/q':>13}")
    previous: Row | None = None
    for row in rows:
        marginal = ((row.total_s - previous.total_s) * 1000 / (row.questions - previous.questions)
                    if previous else float("nan"))
        print(f"{row.questions:>9} {row.render_s:>8.2f} {row.sign_s:>7.2f} {row.total_s:>8.2f} "
              f"{row.pages:>5} {row.max_rss_mb:>8.0f} {row.chromium_s:>10.2f} "
              f"{row.chromium_pages:>5} {row.total_s / row.chromium_s:>8.2f}x "
              f"{row.total_s * 1000 / row.questions:>6.1f} {marginal:>13.1f}")
        previous = row
    print("marginal ms/q = extra time per extra question since the previous size; about constant "
          "means linear growth.")
    by_size = {r.questions: r for r in rows}
    if 120 in by_size:
        r = by_size[120]
        ratio = r.total_s / r.chromium_s
        print(f"120 questions signed vs Chromium: {ratio:.2f}x (goal <= {GOAL_RATIO}x): "
              f"{'met' if ratio <= GOAL_RATIO else 'MISSED'}")
    if 2000 in by_size:
        r = by_size[2000]
        ok = r.total_s < GOAL_BIG_S and r.max_rss_mb < GOAL_BIG_MB
        print(f"2,000 questions: {r.total_s:.1f} s, peak {r.max_rss_mb:.0f} MB (goal < "
              f"{GOAL_BIG_S:g} s and < {GOAL_BIG_MB:g} MB): {'met' if ok else 'MISSED'}")


def main(quick: bool = False, sizes: tuple[int, ...] | None = None) -> None:
    """Print the report rendering benchmark."""
    with tempfile.TemporaryDirectory() as tmp:
        print_rows(run(sizes or (QUICK_SIZES if quick else SIZES), Path(tmp),
                       repeat=1 if quick else 2))
