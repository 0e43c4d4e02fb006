"""Questionnaire engine: load time, validate+score throughput, and growth from 100 to 2,000 items.

Baseline (same run): a plain JSON round-trip of the same answer set, so the ratio shows what the
engine costs beyond touching the data at all.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from benchmarks.timing import measure, median_ms
from vendorcheck.config import ROOT
from vendorcheck.questionnaire import check_paths, load_catalogue, load_questionnaire, score, validate_answers
from vendorcheck.questionnaire.synthetic import make_synthetic

SIZES = (100, 250, 500, 1000, 2000)
QUICK_SIZES = (100, 250)


def _load_shipped(repeat: int = 5) -> float:
    """Return seconds to load every shipped file and run its embedded tests (best of `repeat`)."""
    root = ROOT / "questionnaires"
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        problems = check_paths([root], root)
        best = min(best, time.perf_counter() - start)
    assert not problems, problems
    return best


def _bench_size(n: int, tmp: Path) -> tuple[float, float, float]:
    """Return (load s, validate+score median ms, JSON baseline median ms) for n items."""
    text, answers = make_synthetic(n)
    path = tmp / f"synthetic-{n}" / "1.0.0.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    datasets = load_catalogue(ROOT / "questionnaires").datasets
    start = time.perf_counter()
    q = load_questionnaire(path, datasets=datasets)
    load_s = time.perf_counter() - start

    def run() -> None:
        score(q, validate_answers(q, answers).answers)

    engine = measure(run, repeat=50)
    baseline = measure(lambda: json.loads(json.dumps(answers)), repeat=50)
    return load_s, median_ms(engine), median_ms(baseline)


def _bench_shipped_art28() -> None:
    """Score the shipped Art. 28 questionnaire with a complete generated answer set."""
    catalogue = load_catalogue(ROOT / "questionnaires")
    q = catalogue.get("art28-processor-audit")
    answers = q.tests[0].answers if q.tests else {}
    engine = measure(lambda: score(q, validate_answers(q, answers).answers), repeat=200)
    baseline = measure(lambda: json.loads(json.dumps(answers)), repeat=200)
    print(f"art28-processor-audit ({len(q.items)} items): validate+score median {median_ms(engine):.3f} ms "
          f"({1000 / median_ms(engine):,.0f}/s); JSON baseline {median_ms(baseline):.3f} ms; "
          f"ratio {median_ms(engine) / median_ms(baseline):.1f}x")


def main(quick: bool = False) -> None:
    """Print the scoring benchmark (--quick: two small sizes)."""
    load_ms = _load_shipped(2 if quick else 5) * 1000
    print(f"load + check (embedded tests) all shipped files: {load_ms:.1f} ms (goal < 500 ms)")
    _bench_shipped_art28()
    with tempfile.TemporaryDirectory() as tmp:
        rows = [(n, *_bench_size(n, Path(tmp))) for n in (QUICK_SIZES if quick else SIZES)]
    base_n, _, base_ms, _ = rows[0]
    print(f"{'items':>6} {'load ms':>9} {'score ms':>9} {'per item us':>12} "
          f"{'vs 100 (x/size x)':>18} {'JSON ms':>8}")
    for n, load_s, ms, json_ms in rows:
        growth = (ms / base_ms) / (n / base_n)
        print(f"{n:>6} {load_s * 1000:>9.1f} {ms:>9.3f} {ms * 1000 / n:>12.2f} "
              f"{growth:>18.2f} {json_ms:>8.3f}")
    print("growth column ≈ 1.0 means linear; > 1.5 at 2,000 items would mean super-linear.")
