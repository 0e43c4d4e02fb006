"""Signed audit report: WeasyPrint warm against Chromium warm, A/B in turn; cached draft downloads.

For synthetic questionnaires of 50, 120, 500 and 2,000 questions the report HTML is built once
(build_report_context + the real template). A long-lived WeasyPrint worker (render_worker.py:
imports done, one warm-up render, as a server's render worker) renders it with
static/css/report.css and pyHanko signs it; it reports its own peak memory for each render.
Baseline: one long-lived headless Chromium (Playwright driving /usr/bin/chromium) printing the same
HTML with a copy of the same stylesheet. The two run in turn, WeasyPrint then Chromium, five
pairs per size; the ratio is the median of the pairs' render/Chromium ratios.
Then a cached draft download (the report service serving a draft whose inputs did not change)
against a fresh render + sign of the same report, in turn.
Goals (issue 18): 120 questions rendered <= 4x warm Chromium, 2,000 questions <= 10x; a cached
draft download < 100 ms. Issue 7's: linear growth, 2,000 questions under 45 s and 500 MB.
"""

from __future__ import annotations

import io
import json
import logging
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask
from pypdf import PdfReader

from benchmarks import seed, timing
from vendorcheck.pdf.report import CSS_PATH, ReportData, build_report_context
from vendorcheck.pdf.signing import ensure_instance_signer
from vendorcheck.questionnaire import load_questionnaire_text
from vendorcheck.questionnaire.synthetic import make_synthetic
from vendorcheck.services.reports import render_report_html

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
SIZES = (50, 120, 500, 2000)
QUICK_SIZES = (20, 50)
PAIRS = timing.MIN_PAIRS
GOAL_RATIO = {120: 4.0, 2000: 10.0}  # render / warm Chromium
GOAL_BIG_S, GOAL_BIG_MB, GOAL_CACHED_MS = 45.0, 500.0, 100.0
PASSPHRASE = "benchmark"


@dataclass
class Row:
    """One size: WeasyPrint render and sign (medians), warm Chromium (median), pages and memory."""

    questions: int
    render_s: float
    sign_s: float
    max_rss_mb: float
    pages: int
    chromium_s: float
    chromium_pages: int
    ratio: float = float("nan")  # median of the pairs' render / Chromium ratios
    rss_mb: float = 0.0  # the worker's resident size before the render
    peak_of: str = "render"
    load: str = ""

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


class WeasyWorker:
    """The long-lived render worker process (benchmarks/render_worker.py), one request at a time."""

    def __init__(self, p12: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.render_worker", str(p12), PASSPHRASE], cwd=ROOT,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if self._line() != "ready":
            raise RuntimeError("the render worker did not start")

    def _line(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the render worker stopped")
        return line.strip()

    def render(self, html: Path, out: Path) -> dict[str, Any]:
        """Render and sign one file; return the worker's figures."""
        assert self.process.stdin is not None
        request = {"html": str(html), "css": str(CSS_PATH), "out": str(out)}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        figures: dict[str, Any] = json.loads(self._line())
        return figures

    def close(self) -> None:
        """Close its input: the worker ends."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        finally:
            assert self.process.stdout is not None
            self.process.stdout.close()


@contextmanager
def warm_chromium() -> Iterator[Any]:
    """Yield one page of a headless Chromium started once (Playwright, the system's Chromium)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM,
                                         args=["--no-sandbox", "--disable-gpu"])
        try:
            yield browser.new_page()
        finally:
            browser.close()


def chromium_print(page: Any, html_path: Path, out: Path) -> None:
    """Load the HTML in the warm browser and print it to PDF (the CSS page size, no header)."""
    page.goto(html_path.as_uri(), wait_until="load")
    page.pdf(path=str(out), prefer_css_page_size=True, print_background=True)


def _pages(pdf: Path) -> int:
    return len(PdfReader(io.BytesIO(pdf.read_bytes())).pages)


def chromium_html(html: str) -> str:
    """Return the HTML with the report stylesheet linked (WeasyPrint gets it as a string)."""
    return html.replace("</head>", '<link rel="stylesheet" href="css/report.css"></head>', 1)


def measure(questions: int, folder: Path, app: Flask, worker: WeasyWorker, page: Any,
            pairs: int) -> Row:
    """Render one size with WeasyPrint then Chromium, `pairs` times in turn; medians and ratio."""
    html = report_html(app, questions)
    weasy_html = folder / f"report-{questions}.html"
    weasy_html.write_text(html)
    chrome_html = folder / f"chromium-{questions}.html"
    chrome_html.write_text(chromium_html(html))
    weasy_pdf, chrome_pdf = folder / f"weasy-{questions}.pdf", folder / f"chromium-{questions}.pdf"
    runs: list[dict[str, Any]] = []
    chrome_s: list[float] = []
    for _ in range(pairs):
        runs.append(worker.render(weasy_html, weasy_pdf))
        chrome_s.append(timing.timed(lambda: chromium_print(page, chrome_html, chrome_pdf)))
    ratios = [r["render_s"] / c for r, c in zip(runs, chrome_s, strict=True)]
    return Row(questions, statistics.median(r["render_s"] for r in runs),
               statistics.median(r["sign_s"] for r in runs), max(r["peak_mb"] for r in runs),
               _pages(weasy_pdf), statistics.median(chrome_s), _pages(chrome_pdf),
               ratio=statistics.median(ratios), rss_mb=min(r["rss_mb"] for r in runs),
               peak_of=runs[-1]["peak_of"], load=timing.machine())


def run(sizes: tuple[int, ...], folder: Path, repeat: int = PAIRS) -> list[Row]:
    """Measure every size with `repeat` WeasyPrint/Chromium pairs.

    The folder gets the HTML, the PDFs and a copy of the CSS.
    """
    (folder / "css").mkdir(exist_ok=True)
    shutil.copy(CSS_PATH, folder / "css" / "report.css")
    p12 = ensure_instance_signer(folder, common_name="vendorcheck benchmark",
                                 passphrase=PASSPHRASE.encode())
    app = seed.make_app("sqlite://")
    worker = WeasyWorker(p12)
    try:
        with warm_chromium() as page:
            warm = folder / "warm-up.html"
            warm.write_text("<p>warm-up</p>")
            chromium_print(page, warm, folder / "warm-up.pdf")
            return [measure(n, folder, app, worker, page, repeat) for n in sizes]
    finally:
        worker.close()


def print_rows(rows: list[Row]) -> None:
    """Print the table, the ratios, the growth and the goals."""
    print(f"{'questions':>9} {'render s':>8} {'sign s':>7} {'total s':>8} {'pages':>5} "
          f"{'peak MB':>8} {'rss MB':>7} {'chromium s':>10} {'pages':>5} {'render/C':>8} "
          f"{'ms/q':>6} {'marginal ms/q':>13}  machine")
    previous: Row | None = None
    for row in rows:
        marginal = ((row.total_s - previous.total_s) * 1000 / (row.questions - previous.questions)
                    if previous else float("nan"))
        print(f"{row.questions:>9} {row.render_s:>8.2f} {row.sign_s:>7.2f} {row.total_s:>8.2f} "
              f"{row.pages:>5} {row.max_rss_mb:>8.0f} {row.rss_mb:>7.0f} {row.chromium_s:>10.3f} "
              f"{row.chromium_pages:>5} {row.ratio:>7.2f}x "
              f"{row.total_s * 1000 / row.questions:>6.1f} {marginal:>13.1f}  {row.load}")
        previous = row
    print("medians of the pairs; render/C = median of the pairs' WeasyPrint render / warm Chromium "
          "print (both unsigned). peak MB = the render worker's own peak during the render"
          f"{'' if all(r.peak_of == 'render' for r in rows) else ' (since it started)'}; "
          "rss MB = its size before (imports, warm-up).")
    print("marginal ms/q = extra time per extra question since the previous size; about constant "
          "means linear growth.")
    by_size = {r.questions: r for r in rows}
    for size, limit in GOAL_RATIO.items():
        if size in by_size:
            r = by_size[size]
            print(timing.goal(f"{size:,} questions rendered {r.ratio:.2f}x warm Chromium "
                              f"(<= {limit:g}x)", r.ratio <= limit))
    if 2000 in by_size:
        r = by_size[2000]
        ok = r.total_s < GOAL_BIG_S and r.max_rss_mb < GOAL_BIG_MB
        print(timing.goal(f"2,000 questions signed in {r.total_s:.1f} s, peak {r.max_rss_mb:.0f} MB "
                          f"(< {GOAL_BIG_S:g} s and < {GOAL_BIG_MB:g} MB)", ok))


# ------------------------------------------------------------------- cached draft downloads

@dataclass(frozen=True)
class Cached:
    """A cached draft download against a fresh render + sign of the same report (pairs)."""

    pairs: timing.Pairs
    answers: int
    load: str


def _answered_draft(app: Flask) -> int:
    """Seed an Art. 28 assessment with the answers of its first embedded test; return its id."""
    from vendorcheck.extensions import db
    from vendorcheck.models.assessments import Answer

    seeded = seed.seed_journey(app)
    with app.app_context():
        q = app.extensions["questionnaires"].get(seed.QUESTIONNAIRE)
        answers = dict(q.tests[0].answers) if q.tests else {}
        db.session.query(Answer).filter_by(assessment_id=seeded.assessment_id).delete()
        db.session.add_all(Answer(assessment_id=seeded.assessment_id, item_id=item, value=value,
                                  version=1) for item, value in answers.items())
        db.session.commit()
    return seeded.assessment_id


def cached_download(folder: Path, pairs: int = PAIRS) -> Cached:
    """Time a draft download served from the cache, then a fresh render + sign, in turn."""
    from vendorcheck.extensions import db
    from vendorcheck.models.assessments import Answer, Assessment
    from vendorcheck.services import reports

    app = seed.make_app(seed.sqlite_url(folder / "reports.sqlite3"), REPORT_RENDER_MODE="inline")
    app.instance_path = str(folder / "instance")  # the signing key and the stored drafts
    assessment_id = _answered_draft(app)
    with app.app_context():
        def download() -> bytes:
            assessment = db.session.get(Assessment, assessment_id)
            assert assessment is not None
            return reports.render_assessment_report(assessment, locale="en", by=None)

        def fresh() -> bytes:
            assessment = db.session.get(Assessment, assessment_id)
            assert assessment is not None
            return reports.build_signed_report(assessment, "en")

        download()  # renders once and fills the cache
        measured = timing.alternate(download, fresh, pairs=pairs)
        answers = db.session.query(Answer).filter_by(assessment_id=assessment_id).count()
        db.session.remove()
        db.engine.dispose()
    return Cached(measured, answers, timing.machine())


def print_cached(cached: Cached) -> None:
    """Print the cached download against the fresh render, and the goal."""
    ms = cached.pairs.a_ms
    print(f"draft report of the Art. 28 questionnaire ({cached.answers} answers): cached download "
          f"{ms:.1f} ms, fresh render + sign {cached.pairs.b_ms:.0f} ms (median of "
          f"{len(cached.pairs.a)} pairs; cached/fresh {cached.pairs.ratio:.3f}x) [{cached.load}]")
    print(timing.goal(f"cached draft download {ms:.1f} ms (< {GOAL_CACHED_MS:g} ms)",
                      ms < GOAL_CACHED_MS))


def main(quick: bool = False, sizes: tuple[int, ...] | None = None) -> None:
    """Print the report rendering benchmark, then the cached draft download."""
    logging.getLogger("pyhanko").setLevel(logging.ERROR)  # "No ROS metadata" on every signature
    with tempfile.TemporaryDirectory() as tmp:
        print_rows(run(sizes or (QUICK_SIZES if quick else SIZES), Path(tmp)))
    with tempfile.TemporaryDirectory() as tmp:
        print_cached(cached_download(Path(tmp)))
