"""Autosave through the production stack: nginx (TLS) → `vendorcheck serve --workers 4` → PostgreSQL, Redis.

Issue 17: 50 vendors, each logged in through the proxy and autosaving its own in-progress assessment at
once, against the floor route (login, CSRF and permission checks, one UPDATE, commit) served by the
same workers: one gunicorn on our shipped settings (vendorcheck/gunicorn_conf.py, as `vendorcheck serve`
runs it) serving the real app plus the floor route (`benchmarks.servers:production_floor_app()`), so
both sides of every pair go through the same proxy, workers, database and Redis. Autosave and floor
slices alternate (A B A B ..., at least 5 pairs); the ratio printed is the median of the pairs'.
The database is a PostgreSQL database of its own (created, then dropped; never `test`), Redis one
database index (emptied before and after). The per-address limit on the login form is raised for the
bench through the AUTH_POST_LIMIT_PER_IP setting: its 50 logins all come from 127.0.0.1.
Two phases, each in pairs: *saturated* (every client posts again as soon as it is answered: the stack's
throughput, and latency = queueing behind 50 clients) and *paced* (each vendor saves once every
PACE seconds, about a person typing with static/js/autosave.js's 600 ms pause: the latency a vendor sees).
Goal (issue 17): autosave p99 < 100 ms, judged on both phases.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks import load, seed, stack, timing
from vendorcheck.commands.serving import gunicorn_argv, serve_environment
from vendorcheck.extensions import db

PG_ADMIN_URL = os.environ.get("VENDORCHECK_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("VENDORCHECK_BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
APP_SPEC = "benchmarks.servers:production_floor_app()"
WORKERS = 4
VENDORS, QUICK_VENDORS = 50, 10
SECONDS, QUICK_SECONDS = 30.0, 4.0  # per side, split over the pairs
PAIRS, QUICK_PAIRS = timing.MIN_PAIRS, 2
PACE = 1.0  # seconds between one vendor's saves in the paced phase
WARMUP = 1.0  # seconds of each side before the pairs
LOGIN_LIMIT = "1000/minute"  # AUTH_POST_LIMIT_PER_IP for the bench: every client logs in from 127.0.0.1
GOAL_P99_MS = 100.0


@dataclass
class Measured(load.Sides):
    """Both sides' slices (autosave, floor), in the order they ran, and the machine's load."""

    vendors: int = 0
    workers: int = 0
    load: str = ""


def _environment(database_url: str, redis_url: str, proxy: int, tmp: Path) -> dict[str, str]:
    """Return the production settings the app runs with behind the proxy."""
    return {**os.environ,
            "VENDORCHECK_ENV": "production",
            "VENDORCHECK_SECRET_KEY": uuid.uuid4().hex + uuid.uuid4().hex,
            "VENDORCHECK_SQLALCHEMY_DATABASE_URI": database_url,
            "VENDORCHECK_REDIS_URL": redis_url,
            "VENDORCHECK_BASE_URL": f"https://127.0.0.1:{proxy}",
            "VENDORCHECK_PROXY_COUNT": "1",
            "VENDORCHECK_INSTANCES": "1",
            "VENDORCHECK_INSTANCE_PATH": str(tmp / "instance"),
            "VENDORCHECK_AUTH_POST_LIMIT_PER_IP": LOGIN_LIMIT,
            "PYTHONUNBUFFERED": "1"}




def _seed(database_url: str, vendors: int) -> tuple[list[tuple[str, int]], list[tuple[str, list[object]]]]:
    """Create the tables and the vendors; return (login, assessment id) per vendor and the items to save."""
    app = seed.make_app(database_url)
    seeded = seed.seed_vendors(app, vendors)
    items = seed.autosave_items(app)
    with app.app_context():
        with db.engine.connect() as conn:  # fresh statistics, as autovacuum gives a live database
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
        db.engine.dispose()
    return seeded, items


@contextmanager
def running(tmp: Path, vendors: int, workers: int = WORKERS
            ) -> Iterator[tuple[int, str, list[tuple[str, int]], list[tuple[str, list[object]]]]]:
    """Start nginx → gunicorn (our settings, the app plus the floor) → PostgreSQL and Redis.

    Yield (proxy port, CA file, seeded vendors, items); stop everything and drop the database after.
    """
    with ExitStack() as stack_:
        database_url = stack_.enter_context(stack.database(PG_ADMIN_URL, "vc_bench_proxy"))
        redis_url = stack_.enter_context(stack.emptied_redis(REDIS_URL))
        seeded, items = _seed(database_url, vendors)
        cert, key = stack.certificate(tmp)
        app_port, proxy = stack.free_port(), stack.free_port()
        env = serve_environment(_environment(database_url, redis_url, proxy, tmp), workers)
        argv = [*gunicorn_argv(bind=f"127.0.0.1:{app_port}", workers=workers)[:-1], APP_SPEC]
        log = tmp / "gunicorn.log"
        server = stack_.enter_context(stack.process(argv, env, log))
        stack.wait_http(app_port, server, log)
        stack_.enter_context(stack.nginx(tmp, env, cert, key, {"app": f"server 127.0.0.1:{app_port};"},
                                         [(proxy, "app")]))
        yield proxy, str(cert), seeded, items


def measure(folder: Path, *, vendors: int, seconds: float, pairs: int, warmup: float = WARMUP,
            workers: int = WORKERS, pace: float = PACE) -> Measured:
    """Run the stack, log the vendors in, then load autosave and floor in turn (`pairs` pairs a phase)."""
    with running(folder, vendors, workers) as (proxy, cafile, seeded, items):
        targets = load.vendor_targets(proxy, seeded, items, pace, seed.PASSWORD, cafile)
        for name in ("autosave", "floor"):
            load.run_load(targets[name], warmup)
        measured = Measured({name: [] for name in targets}, vendors=vendors, workers=workers)
        for phase in (("autosave", "floor"), ("autosave paced", "floor paced")):
            for _ in range(pairs):
                for name in phase:
                    measured.slices[name].append(load.run_load(targets[name], seconds / pairs))
        measured.load = timing.machine()
    return measured


def _row(name: str, result: load.Result) -> str:
    s = result.summary()
    return (f"{name:<30} {result.count:>8} {s['rps']:>8.1f} {s['p50']:>7.1f} {s['p95']:>7.1f} "
            f"{s['p99']:>7.1f} {int(s['errors']):>6}")


def print_result(result: Measured, seconds: float, pace: float = PACE) -> None:
    """Print both phases' figures, the ratios and the goal."""
    pairs = len(result.slices["autosave"])
    print(f"nginx TLS -> gunicorn {result.workers} sync workers (vendorcheck/gunicorn_conf.py) -> "
          f"PostgreSQL, Redis; {result.vendors} vendors, one client process each on its own assessment; "
          f"{seconds:g} s per side and phase in {pairs} pairs taken in turn [{result.load}]")
    print(f"{'endpoint':<30} {'requests':>8} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
          f"{'errors':>6}")
    print(_row("autosave, saturated", result.total("autosave")))
    print(_row("floor, saturated", result.total("floor")))
    print(_row(f"autosave, paced 1/{pace:g} s", result.total("autosave paced")))
    print(_row(f"floor, paced 1/{pace:g} s", result.total("floor paced")))
    paced_p50 = result.ratio("autosave paced", "floor paced", "p50")
    print(f"saturated: autosave/floor {result.ratio():.2f}x the requests/s; paced: autosave p50 "
          f"{paced_p50:.2f}x the floor's (medians of {pairs} pairs, same stack, same run)")
    for name in result.slices:
        if result.total(name).errors:
            print(f"errors of {name}: {result.total(name).errors}")
    for phase in ("saturated", "paced"):
        p99 = result.total("autosave" if phase == "saturated" else "autosave paced").summary()["p99"]
        print(timing.goal(f"issue 17: autosave p99 {p99:.1f} ms (< {GOAL_P99_MS:g} ms) through the proxy, "
                          f"{result.vendors} vendors {phase}, {result.workers} workers", p99 < GOAL_P99_MS))


def main(quick: bool = False) -> None:
    """Print autosave through nginx and `vendorcheck serve` on PostgreSQL against the same-stack floor."""
    seconds = QUICK_SECONDS if quick else SECONDS
    with tempfile.TemporaryDirectory() as tmp:
        result = measure(Path(tmp), vendors=QUICK_VENDORS if quick else VENDORS, seconds=seconds,
                         pairs=QUICK_PAIRS if quick else PAIRS)
    print_result(result, seconds)
