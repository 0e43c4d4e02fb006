"""Questionnaire engine: load time, validate+score throughput, and growth from 100 to 2,000 items.

Baselines (same run, in turn): a plain JSON round-trip of the same answer set (medians of five
pairs), so the ratio shows what the engine costs beyond touching the data at all; and for growth, the
100-item questionnaire scored in turn with each larger one (nine pairs, about 20,000 items a side per
sample). Growth = (time n / time 100) / (n / 100): 1.0 is linear. Goals: `questionnaires check` of the
shipped files < 500 ms; growth <= 1.5 at the largest size.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks import timing
from vendorcheck.config import ROOT
from vendorcheck.questionnaire import (
    check_catalogue,
    load_catalogue,
    load_questionnaire,
    score,
    validate_answers,
)
from vendorcheck.questionnaire.synthetic import make_synthetic

SIZES = (100, 250, 500, 1000, 2000)
QUICK_SIZES = (100, 250)
GOAL_LOAD_MS, GOAL_GROWTH = 500.0, 1.5
GROWTH_PAIRS = 9  # more than the usual 5: growth is a ratio of ratios, judged at one size
GROWTH_ITEMS = 20_000  # items scored per growth sample, each side


def _load_shipped(repeat: int = 5) -> float:
    """Return seconds of `questionnaires check`'s work: load, check, test and lock (best of `repeat`)."""
    root = ROOT / "questionnaires"
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        problems = check_catalogue(root)
        best = min(best, time.perf_counter() - start)
    assert not problems, problems
    return best


def _scorer(n: int, tmp: Path, datasets: object) -> tuple[float, Callable[[], object], Callable[[], object]]:
    """Load a synthetic questionnaire of n items; return (load s, score(), JSON round-trip())."""
    text, answers = make_synthetic(n)
    path = tmp / f"synthetic-{n}" / "1.0.0.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    start = time.perf_counter()
    q = load_questionnaire(path, datasets=datasets)  # type: ignore[arg-type]
    load_s = time.perf_counter() - start
    return (load_s, lambda: score(q, validate_answers(q, answers).answers),
            lambda: json.loads(json.dumps(answers)))


@dataclass(frozen=True)
class SizeRow:
    """One size: load time, score and JSON medians (in turn), growth against the smallest size."""

    items: int
    load_s: float
    score_ms: float
    json_ms: float
    growth: float
    load: str


def _bench_sizes(sizes: tuple[int, ...], tmp: Path) -> list[SizeRow]:
    """Score every size in turn with its JSON baseline and with the smallest size."""
    datasets = load_catalogue(ROOT / "questionnaires").datasets
    scorers = {n: _scorer(n, tmp, datasets) for n in sizes}
    base_n = sizes[0]
    rows = []
    for n in sizes:
        load_s, run, baseline = scorers[n]
        inner = max(2, 4000 // n)
        vs_json = timing.alternate(run, baseline, pairs=timing.MIN_PAIRS, warmup=2, inner=inner)
        # The smallest size runs n / base_n times as many calls per sample, so both sides of a
        # pair score the same number of items: a 100-item sample is no longer a single
        # sub-millisecond call that any pause of a busy machine doubles. Each sample follows one
        # untimed call of its own size, so that neither is timed on the caches the other left (a
        # 2,000-item sample is 2 calls, the first of them would be; of 40 100-item calls, one).
        # Samples of about GROWTH_ITEMS items each side (2,000 items: 10 calls, not 2), so that one
        # pause of a busy machine is a small part of a sample.
        calls = max(2, GROWTH_ITEMS // n)
        vs_base = timing.alternate(run, scorers[base_n][1], pairs=GROWTH_PAIRS, warmup=2,
                                   inner=calls, inner_b=calls * n // base_n, settle=True)
        rows.append(SizeRow(n, load_s, vs_json.a_ms, vs_json.b_ms, vs_base.ratio / (n / base_n),
                            timing.machine()))
    return rows


def _bench_shipped_art28() -> None:
    """Score the shipped Art. 28 questionnaire with a complete generated answer set."""
    catalogue = load_catalogue(ROOT / "questionnaires")
    q = catalogue.get("art28-processor-audit")
    answers = q.tests[0].answers if q.tests else {}
    pairs = timing.alternate(lambda: score(q, validate_answers(q, answers).answers),
                             lambda: json.loads(json.dumps(answers)), pairs=timing.MIN_PAIRS,
                             warmup=3, inner=40)
    print(f"art28-processor-audit ({len(q.items)} items): validate+score median {pairs.a_ms:.3f} ms "
          f"({1000 / pairs.a_ms:,.0f}/s); JSON baseline {pairs.b_ms:.3f} ms; "
          f"ratio {pairs.ratio:.1f}x (medians of {timing.MIN_PAIRS} pairs in turn)")


def main(quick: bool = False) -> None:
    """Print the scoring benchmark (--quick: two small sizes)."""
    load_ms = _load_shipped(2 if quick else 5) * 1000
    print(f"load + check (embedded tests) all shipped files: {load_ms:.1f} ms")
    print(timing.goal(f"load + check {load_ms:.0f} ms (< {GOAL_LOAD_MS:g} ms)", load_ms < GOAL_LOAD_MS))
    _bench_shipped_art28()
    with tempfile.TemporaryDirectory() as tmp:
        rows = _bench_sizes(QUICK_SIZES if quick else SIZES, Path(tmp))
    print(f"{'items':>6} {'load ms':>9} {'score ms':>9} {'per item us':>12} "
          f"{'growth vs ' + str(rows[0].items):>14} {'JSON ms':>8}  machine")
    for row in rows:
        print(f"{row.items:>6} {row.load_s * 1000:>9.1f} {row.score_ms:>9.3f} "
              f"{row.score_ms * 1000 / row.items:>12.2f} {row.growth:>14.2f} {row.json_ms:>8.3f}  "
              f"{row.load}")
    print("growth column = (time n / time smallest) / (n / smallest), medians of pairs in turn: "
          "about 1.0 means linear.")
    last = rows[-1]
    print(timing.goal(f"scoring growth {last.growth:.2f} at {last.items:,} items (<= {GOAL_GROWTH})",
                      last.growth <= GOAL_GROWTH))
