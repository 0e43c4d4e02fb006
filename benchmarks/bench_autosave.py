"""Autosave throughput under gunicorn, as ratios to a hello-world and to the same-stack floor.

Three apps run at once under the same gunicorn settings (2 sync workers, --preload, 127.0.0.1):
a bare Flask hello-world, the real app, and the real app's floor route (login, CSRF and permission
checks, one UPDATE, commit). They are loaded in turn by the same client processes, a short slice
each (hello, autosave, floor, hello, ...: five rounds), so the ratios are medians of rounds measured
side by side. The database is a file SQLite database (WAL), or PostgreSQL with --pg URL, seeded with
a buyer, a vendor user and an in-progress assessment of the Art. 28 questionnaire; the clients log
in through the login form, then post autosaves as static/js/autosave.js does (JSON body,
X-CSRFToken header, request_id, the version the previous save returned). Then the same autosave
runs one at a time through the Flask test client, also with request id and version, in turn with
a hello-world POST, to show its own cost and SQL count.
Then the issue's own case, 50 concurrent vendors: 50 vendor organisations, each with a user and its own
in-progress assessment, one client process each, on the floor app's workers (which serve the autosave and
the floor route alike), autosave and floor slices in turn. Two phases: *saturated* (each client posts again
as soon as it is answered: the ratio of requests/s) and *paced* (each vendor saves once a second, a person
typing: the latency a vendor sees; saturated, 50 clients on 2 workers, latency is queueing for both sides).
Goals (issue 18), judged on the 50 vendors: autosave >= 0.6x the floor's requests/s (saturated) and p99 <
100 ms (paced). The 4 clients in one assessment are harsher (their saves take turns on the assessment's
row lock) and are printed beside it. Issue 6's: >= 0.4x hello-world, p99 < 50 ms.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import itertools
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask

from benchmarks import load, seed, servers, sqlcount, timing
from benchmarks.load import Sides
from vendorcheck.extensions import db

CLIENTS = 4
IN_PROCESS_REQUESTS = 300
SECONDS = 10.0  # per app, in PAIRS slices
QUICK_SECONDS = 1.5
PAIRS = timing.MIN_PAIRS
GOAL_RATIO, GOAL_P99_MS = 0.4, 50.0  # issue 6, against hello-world
GOAL_FLOOR_RATIO, GOAL_FLOOR_P99_MS = 0.6, 100.0  # issue 18, against the same-stack floor
VENDORS, QUICK_VENDORS = 50, 10  # issue 18: "with 50 concurrent vendors"
VENDOR_SECONDS = {"saturated": 10.0, "paced": 20.0}  # per side, split over the pairs
PACE = 1.0  # seconds between one vendor's saves in the paced phase
VENDORS_BUYER = "vendors-buyer@bench.example"
LOGIN_LIMIT = "1000/minute"  # AUTH_POST_LIMIT_PER_IP for the bench: every client logs in from 127.0.0.1


def _targets(port: int, path: str, items: list[tuple[str, list[object]]], cookie: str = "",
             csrf: str = "", clients: int = CLIENTS) -> list[load.Target]:
    """Give each client its own share of the items (no two clients edit the same answer)."""
    return [load.Target(port, path, cookie, csrf,
                        tuple((i, tuple(v)) for i, v in items[k::clients]))
            for k in range(clients)]


@dataclass(frozen=True)
class InProcess:
    """Median ms per request through the test client, and SQL statements per autosave."""

    autosave_ms: float
    hello_ms: float
    queries: float
    load: str = ""


@dataclass
class Measured:
    """The three apps' results under the same load (slices in turn), and the in-process figures."""

    hello: load.Result
    autosave: load.Result
    items: int
    inproc: InProcess
    floor: load.Result | None = None
    rounds: dict[str, list[float]] = field(default_factory=dict)  # requests/s of each slice
    database: str = "sqlite"
    load: str = ""
    vendors: int = 0
    vendor_sides: Sides = field(default_factory=Sides)  # autosave/floor, saturated and paced

    def median_ratio(self, a: str, b: str) -> float:
        """Return the median over the rounds of app a's requests/s over app b's."""
        pairs = [x / y for x, y in zip(self.rounds.get(a, []), self.rounds.get(b, []), strict=False)
                 if y]
        return statistics.median(pairs) if pairs else 0.0

    @property
    def ratio(self) -> float:
        """Return autosave over hello-world requests/s (median of the rounds)."""
        return self.median_ratio("autosave", "hello")

    @property
    def floor_ratio(self) -> float:
        """Return autosave over floor requests/s (median of the rounds)."""
        return self.median_ratio("autosave", "floor")


def _serve(stack: ExitStack, spec: str, env: dict[str, str] | None = None) -> int:
    return stack.enter_context(servers.gunicorn(f"benchmarks.servers:{spec}", env=env))


def measure(folder: Path, *, seconds: float, warmup: float = 0.5, clients: int = CLIENTS,
            requests: int = IN_PROCESS_REQUESTS, pairs: int = PAIRS, vendors: int = VENDORS,
            vendor_seconds: dict[str, float] | None = None, pace: float = PACE,
            database_url: str | None = None) -> Measured:
    """Seed a database, load the three apps in turn (`pairs` rounds), then the vendors, then in-process."""
    db_url = database_url or seed.sqlite_url(folder / "autosave.sqlite3")
    app = seed.make_app(db_url, fresh=True)
    seeded = seed.seed_journey(app)
    items = seed.autosave_items(app)
    many = seed.seed_vendors(app, vendors, buyer_email=VENDORS_BUYER) if vendors else []
    env = {"BENCH_DATABASE_URL": db_url, "VENDORCHECK_AUTH_POST_LIMIT_PER_IP": LOGIN_LIMIT}
    with ExitStack() as stack:
        ports = {"hello": _serve(stack, "hello_app()"),
                 "autosave": _serve(stack, "vendorcheck_app()", env),
                 "floor": _serve(stack, "floor_app()", env)}
        page = f"/vendor/assessments/{seeded.assessment_id}/sections/contract"
        targets = {"hello": _targets(ports["hello"], "/autosave", items, clients=clients)}
        for name in ("autosave", "floor"):
            cookie, csrf = load.login(ports[name], seed.VENDOR_EMAIL, seed.PASSWORD, page)
            targets[name] = _targets(ports[name], f"/vendor/assessments/{seeded.assessment_id}/{name}",
                                     items, cookie, csrf, clients=clients)
        for name in targets:
            load.run_load(targets[name], warmup)  # both workers of each app serve a few first
        slices: dict[str, list[load.Result]] = {name: [] for name in targets}
        for _ in range(pairs):
            for name in targets:
                slices[name].append(load.run_load(targets[name], seconds / pairs))
        sides = _load_vendors(ports["floor"], many, items, pairs, vendor_seconds or VENDOR_SECONDS, pace)
    inproc = in_process(db_url, seeded.assessment_id, items, requests)
    with app.app_context():
        db.engine.dispose()
    results = {name: load.combined(parts) for name, parts in slices.items()}
    rounds = {name: [part.summary()["rps"] for part in parts] for name, parts in slices.items()}
    return Measured(results["hello"], results["autosave"], len(items), inproc, results["floor"],
                    rounds, db_url.split(":", 1)[0], timing.machine(), len(many), sides)


def _load_vendors(port: int, many: list[tuple[str, int]], items: list[tuple[str, list[object]]],
                  pairs: int, seconds: dict[str, float], pace: float) -> load.Sides:
    """Load every vendor's own assessment, autosave and floor in turn: saturated, then paced."""
    sides = load.Sides()
    if not many:
        return sides
    targets = load.vendor_targets(port, many, items, pace, seed.PASSWORD)
    sides.slices = {name: [] for name in targets}
    for name in ("autosave", "floor"):
        load.run_load(targets[name], 0.5)
    for phase, names in (("saturated", ("autosave", "floor")), ("paced", ("autosave paced", "floor paced"))):
        for _ in range(pairs):
            for name in names:
                sides.slices[name].append(load.run_load(targets[name], seconds[phase] / pairs))
    return sides


def _row(name: str, result: load.Result) -> str:
    s = result.summary()
    return (f"{name:<22} {result.count:>7} {s['rps']:>8.1f} {s['p50']:>7.1f} {s['p95']:>7.1f} "
            f"{s['p99']:>7.1f} {int(s['errors']):>6}")


def _autosave_poster(db_url: str, assessment_id: int, items: list[tuple[str, list[object]]]
                     ) -> tuple[Flask, Callable[[int], int]]:
    """Log the vendor in on a test client; return the app and post(n) -> status of autosave n."""
    app = seed.make_app(db_url)
    client = app.test_client()
    login_page = client.get("/auth/login").get_data(as_text=True)
    match = load.CSRF_INPUT.search(login_page)
    token = next(g for g in match.groups() if g) if match else ""
    client.post("/auth/login", data={"email": seed.VENDOR_EMAIL, "password": seed.PASSWORD,
                                     "csrf_token": token})
    page = client.get(f"/vendor/assessments/{assessment_id}/sections/contract")
    meta = load.CSRF_META.search(page.get_data(as_text=True))
    if meta is None:
        raise RuntimeError("could not log the vendor in")
    path, headers = f"/vendor/assessments/{assessment_id}/autosave", {"X-CSRFToken": meta.group(1)}
    versions: dict[str, int | None] = {}

    def post(n: int) -> int:
        """Post like static/js/autosave.js: a new request id, the version the last save returned."""
        item_id, values = items[n % len(items)]
        body = {"item_id": item_id, "value": values[(n // len(items)) % len(values)],
                "request_id": uuid.uuid4().hex, "version": versions.get(item_id)}
        response = client.post(path, json=body, headers=headers)
        if response.status_code == 200:
            versions[item_id] = (response.get_json(silent=True) or {}).get("version")
        return response.status_code

    return app, post


def in_process(db_url: str, assessment_id: int, items: list[tuple[str, list[object]]],
               requests: int) -> InProcess:
    """Time autosaves and hello-world POSTs through the Flask test client (no HTTP, no load)."""
    app, post = _autosave_poster(db_url, assessment_id, items)
    hello = servers.hello_app().test_client()
    counter = itertools.count()

    def autosave() -> None:
        if post(next(counter)) != 200:
            raise RuntimeError("an in-process autosave failed")

    def hello_post() -> None:
        hello.post("/autosave", json={"item_id": "x", "request_id": uuid.uuid4().hex, "version": 1})

    inner = max(1, requests // PAIRS)
    with sqlcount.count_queries(app) as statements:
        pairs = timing.alternate(autosave, hello_post, pairs=PAIRS, warmup=3, inner=inner)
    saves = 3 + PAIRS * inner
    inproc = InProcess(pairs.a_ms, pairs.b_ms, len(statements) / saves, timing.machine())
    with app.app_context():
        db.engine.dispose()
    return inproc


def profile_autosave(db_url: str, assessment_id: int, items: list[tuple[str, list[object]]],
                     requests: int = 200, top: int = 25, sort: str = "cumulative",
                     cpu: bool = False) -> str:
    """Profile `requests` autosaves in-process (Flask test client); return the top functions.

    With `cpu`, on this process's CPU clock: on a loaded machine the wall clock charges other
    processes' turns to whatever happened to be waiting (mostly the database's round trips)."""
    app, post = _autosave_poster(db_url, assessment_id, items)
    statuses: dict[int, int] = {}
    profiler = cProfile.Profile(time.process_time) if cpu else cProfile.Profile()
    with sqlcount.count_queries(app) as statements:
        profiler.enable()
        for n in range(requests):
            status = post(n)
            statuses[status] = statuses.get(status, 0) + 1
        profiler.disable()
    out = io.StringIO()
    out.write(f"statuses: {statuses}; SQL statements per autosave: "
              f"{len(statements) / requests:.1f}\n")
    pstats.Stats(profiler, stream=out).sort_stats(sort).print_stats(top)
    return out.getvalue()


def print_result(result: Measured, seconds: float, pace: float = PACE) -> None:
    """Print both apps' figures, the ratio and the goal."""
    real = result.autosave
    rounds = len(result.rounds.get("autosave", []))
    print(f"gunicorn {servers.WORKERS} {servers.WORKER_CLASS} workers, {CLIENTS} client "
          f"processes, {seconds:g} s per app in {rounds} rounds taken in turn, {result.items} items, "
          f"{result.database}, 127.0.0.1 [{result.load}]")
    print(f"{'app':<22} {'requests':>7} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} "
          f"{'p99 ms':>7} {'errors':>6}")
    print(_row("hello-world (baseline)", result.hello))
    print(_row("vendorcheck autosave", real))
    if result.floor is not None:
        print(_row("floor: login+1 UPDATE", result.floor))
    p99 = real.summary()["p99"]
    print(f"ratio autosave/hello-world: {result.ratio:.2f}x (median of the rounds)")
    if result.floor is not None:
        floor_vs_hello = result.median_ratio("floor", "hello")
        print(f"floor (same login, CSRF and permission checks, one UPDATE, commit): "
              f"{floor_vs_hello:.2f}x hello-world; autosave = {result.floor_ratio:.2f}x the floor")
        print(f"{CLIENTS} clients in one assessment (harsher than issue 18's case: their saves take turns "
              f"on its row lock): autosave {result.floor_ratio:.2f}x the floor, p99 {p99:.1f} ms")
    print(timing.goal(f"issue 6: autosave {result.ratio:.2f}x hello-world (>= {GOAL_RATIO}x) and "
                      f"p99 {p99:.1f} ms (< {GOAL_P99_MS:g} ms)",
                      result.ratio >= GOAL_RATIO and p99 < GOAL_P99_MS))
    if result.vendors:
        print_vendors(result.vendors, result.vendor_sides, pace)
    inproc = result.inproc
    print(f"in-process (test client, one at a time, request id and version sent): autosave "
          f"{inproc.autosave_ms:.2f} ms, hello-world {inproc.hello_ms:.2f} ms, ratio "
          f"{inproc.hello_ms / inproc.autosave_ms:.2f}x (medians of {PAIRS} rounds in turn); "
          f"{inproc.queries:.1f} SQL statements per autosave [{inproc.load}]")
    if real.errors or result.hello.errors:
        print(f"errors by kind: autosave {real.errors}, hello-world {result.hello.errors}")


def print_vendors(vendors: int, sides: load.Sides, pace: float = PACE) -> None:
    """Print the concurrent vendors' phases and issue 18's goal."""
    pairs = len(sides.slices["autosave"])
    print(f"{vendors} concurrent vendors, each on its own assessment, one client process each; autosave and "
          f"floor on the same {servers.WORKERS} workers, in {pairs} pairs per phase taken in turn")
    for name in sides.slices:
        label = f"{name}, saturated" if not name.endswith("paced") else f"{name} 1/{pace:g} s"
        print(_row(label[:22], sides.total(name)))
    ratio, p99 = sides.ratio(), sides.total("autosave paced").summary()["p99"]
    print(f"saturated: autosave {ratio:.2f}x the floor's requests/s; paced: autosave p50 "
          f"{sides.ratio('autosave paced', 'floor paced', 'p50'):.2f}x the floor's (medians of the pairs)")
    for name in sides.slices:
        if sides.total(name).errors:
            print(f"errors of {name}: {sides.total(name).errors}")
    print(timing.goal(f"issue 18: autosave {ratio:.2f}x the floor (>= {GOAL_FLOOR_RATIO}x, saturated) and "
                      f"p99 {p99:.1f} ms (< {GOAL_FLOOR_P99_MS:g} ms, paced), {vendors} concurrent vendors",
                      ratio >= GOAL_FLOOR_RATIO and p99 < GOAL_FLOOR_P99_MS))


def main(quick: bool = False, pg: str | None = None) -> None:
    """Print autosave throughput and latency against the hello-world and the floor (SQLite, or --pg)."""
    seconds = QUICK_SECONDS if quick else SECONDS
    with tempfile.TemporaryDirectory() as tmp:
        vendors = QUICK_VENDORS if quick else VENDORS
        vendor_seconds = {phase: QUICK_SECONDS for phase in VENDOR_SECONDS} if quick else VENDOR_SECONDS
        print_result(measure(Path(tmp), seconds=seconds, vendors=vendors, vendor_seconds=vendor_seconds,
                             database_url=pg), seconds)


def profile_main(requests: int = 300, pg: str | None = None, sort: str = "cumulative",
                 top: int = 25, cpu: bool = False) -> None:
    """Print a cProfile of the autosave path, in-process (`python -m benchmarks.bench_autosave`)."""
    with tempfile.TemporaryDirectory() as tmp:
        db_url = pg or seed.sqlite_url(Path(tmp) / "profile.sqlite3")
        app = seed.make_app(db_url, fresh=True)
        seeded = seed.seed_journey(app)
        print(profile_autosave(db_url, seeded.assessment_id, seed.autosave_items(app), requests,
                               top, sort, cpu))


def _profile_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_autosave",
                                     description="cProfile of the autosave path, in-process")
    parser.add_argument("--pg", help="a PostgreSQL database of your own (emptied and seeded)")
    parser.add_argument("--sort", default="cumulative", help="pstats order: cumulative, tottime…")
    parser.add_argument("--top", type=int, default=25, help="how many functions to print")
    parser.add_argument("--requests", type=int, default=300, help="autosaves to profile")
    parser.add_argument("--cpu", action="store_true",
                        help="this process's CPU time rather than the wall clock")
    return parser.parse_args(argv)


if __name__ == "__main__":
    _args = _profile_args(sys.argv[1:])
    profile_main(_args.requests, _args.pg, _args.sort, _args.top, _args.cpu)
