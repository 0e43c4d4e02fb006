"""Small timing helpers shared by the benchmarks: samples, A/B pairs, the machine's load, goals.

Every ratio a bench prints is taken pair by pair: A then its baseline B, again and again
(A B A B ...), so a machine that slows down or speeds up during the run moves both sides of each
pair; the ratio printed is the median of the pairs' ratios. Each result line carries the load
average and the core count read when it was measured.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

MIN_PAIRS = 5


def measure(fn: Callable[[], object], *, repeat: int, warmup: int = 3) -> list[float]:
    """Return `repeat` wall-clock durations of fn() in seconds, after a few warm-up calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def timed(fn: Callable[[], object]) -> float:
    """Return the wall-clock seconds of one call."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


@dataclass(frozen=True)
class Pairs:
    """Durations (s) of A and of its baseline B, measured in turn: a[i] and b[i] are one pair."""

    a: list[float]
    b: list[float]

    @property
    def a_ms(self) -> float:
        """Median of A in milliseconds."""
        return statistics.median(self.a) * 1000

    @property
    def b_ms(self) -> float:
        """Median of B in milliseconds."""
        return statistics.median(self.b) * 1000

    @property
    def ratio(self) -> float:
        """Median of the pairs' ratios A/B."""
        return statistics.median(x / y for x, y in zip(self.a, self.b, strict=True) if y > 0)


def alternate(a: Callable[[], object], b: Callable[[], object], *, pairs: int = MIN_PAIRS,
              warmup: int = 1, inner: int = 1, inner_b: int | None = None,
              settle: bool = False) -> Pairs:
    """Time A then B, `pairs` times (A B A B ...), after `warmup` untimed calls of each.

    With `inner` > 1 each sample is the mean of that many calls (for calls far below a millisecond);
    `inner_b` (default `inner`) lets a much faster B run more calls, so both sides of a pair span
    about the same time and a pause of the machine weighs on each alike. With `settle`, each sample
    follows one untimed call of its own side: otherwise the first call of a sample runs on the
    caches the other side left, which weighs on the side with fewer calls per sample.
    """
    for _ in range(warmup):
        a()
        b()
    a_s, b_s = [], []
    for _ in range(pairs):
        a_s.append(_mean_of(a, inner, settle))
        b_s.append(_mean_of(b, inner if inner_b is None else inner_b, settle))
    return Pairs(a_s, b_s)


def _mean_of(fn: Callable[[], object], calls: int, settle: bool = False) -> float:
    if settle:
        fn()
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def median_ms(samples: list[float]) -> float:
    """Median in milliseconds."""
    return statistics.median(samples) * 1000


def p(samples: list[float], q: float) -> float:
    """Return the q-quantile (0–1) in milliseconds."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def machine() -> str:
    """Return the load averages (1, 5, 15 min) and the number of cores this process may use."""
    one, five, fifteen = os.getloadavg()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}, {cores} cores"


def verdict(ok: bool) -> str:
    """Return how a goal is printed: met or missed."""
    return "met" if ok else "missed"


def goal(text: str, ok: bool) -> str:
    """Return one goal line: what was measured against what, met or missed, and the machine's load."""
    return f"goal: {text}: {verdict(ok)} [{machine()}]"
