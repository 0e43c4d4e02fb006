"""Audit appends from several threads: each in its own organisation's chain, against all in one.

Each thread has its own app context (its own session and connection) and appends entries, one
transaction each (`audit.record` then commit), as the autosaves of that many organisations would.
A: every thread appends to a chain of its own (one organisation each); B: every thread appends to
the same organisation's chain, so each append waits for the others' head lock, as every append of
the installation did before the chains were split (one lock from insert to commit). Rounds in
turn, A B A B ...; the ratio is the median of the rounds' appends/s A over B. On SQLite writes
serialise anyway, so expect about 1×; on PostgreSQL (--pg) the gap is the lock the chains removed.
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

from flask import Flask

from benchmarks import seed, timing
from vendorcheck import audit
from vendorcheck.extensions import db

THREADS = 4
PAIRS = timing.MIN_PAIRS


def _appends(app: Flask, orgs: list[int], seconds: float) -> int:
    """Run one thread per organisation id for `seconds`; return how many entries they committed."""
    counts = [0] * len(orgs)
    deadline = time.perf_counter() + seconds

    def work(slot: int, org: int) -> None:
        with app.app_context():
            while time.perf_counter() < deadline:
                audit.record("bench.append", org=org, email="bench@bench.example",
                             details={"slot": slot})
                db.session.commit()
                counts[slot] += 1
            db.session.remove()

    threads = [threading.Thread(target=work, args=(i, org)) for i, org in enumerate(orgs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts)


def measure(app: Flask, *, seconds: float, pairs: int = PAIRS, threads: int = THREADS) -> timing.Pairs:
    """Return rounds of (1 / appends per second) for own chains (A) and one shared chain (B)."""
    own, shared = list(range(1, threads + 1)), [threads + 1] * threads
    _appends(app, own, seconds / 4)  # warm up connections and both kinds of chain
    _appends(app, shared, seconds / 4)
    a, b = [], []
    for _ in range(pairs):
        a.append(seconds / max(1, _appends(app, own, seconds)))
        b.append(seconds / max(1, _appends(app, shared, seconds)))
    return timing.Pairs(a, b)


def main(quick: bool = False, pg: str | None = None) -> None:
    """Print appends/s with one chain per thread and with one chain for all, and their ratio."""
    seconds = 0.5 if quick else 2.0
    with tempfile.TemporaryDirectory() as tmp:
        url = pg or seed.sqlite_url(Path(tmp) / "audit.sqlite3")
        app = seed.make_app(url, fresh=True)
        pairs = measure(app, seconds=seconds, pairs=2 if quick else PAIRS)
        with app.app_context():
            intact = audit.verify() == []
            db.engine.dispose()
    own, shared = 1000 / pairs.a_ms, 1000 / pairs.b_ms
    speedup = 1 / pairs.ratio
    print(f"database: {'postgresql' if pg else 'sqlite'}; {THREADS} threads, {seconds:.1f} s per round, "
          f"rounds in turn")
    print(f"audit appends, one organisation per thread: {own:8.0f} /s")
    print(f"audit appends, one organisation for all:     {shared:8.0f} /s")
    print(f"ratio own chains / one chain: {speedup:.2f}× (median of {len(pairs.a)} rounds) "
          f"[{timing.machine()}]")
    print(f"every chain verifies: {intact}")
    if pg:
        print(timing.goal("appends of different organisations do not queue on one lock "
                          "(own chains ≥ 1.0× one chain)", speedup >= 1.0))
