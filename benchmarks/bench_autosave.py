"""Autosave throughput under gunicorn, as a ratio to a bare Flask hello-world in the same run.

Both apps run under the same gunicorn settings (2 sync workers, --preload, 127.0.0.1), loaded by
the same client processes. The real app uses a
file SQLite database (WAL) seeded with a buyer, a vendor user and an in-progress assessment of
the Art. 28 questionnaire; the clients log in through the login form, then post autosaves as
static/js/autosave.js does (JSON body, X-CSRFToken header, request_id, version). Then the same
autosave runs one at a time through the Flask test client, to show its own cost and SQL count.
Goal (issue 6): at least 0.4x the hello-world requests/s, p99 under 50 ms.
"""

from __future__ import annotations

import cProfile
import io
import itertools
import pstats
import statistics
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask import Flask

from benchmarks import load, seed, servers, sqlcount, timing

CLIENTS = 4
IN_PROCESS_REQUESTS = 300
SECONDS = 10.0
QUICK_SECONDS = 1.5
GOAL_RATIO, GOAL_P99_MS = 0.4, 50.0


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


@dataclass
class Measured:
    """Both apps' results under the same load, and the in-process figures."""

    hello: load.Result
    autosave: load.Result
    items: int
    inproc: InProcess
    floor: load.Result | None = None

    @property
    def ratio(self) -> float:
        """Return autosave requests/s over hello-world requests/s."""
        base = self.hello.summary()["rps"]
        return self.autosave.summary()["rps"] / base if base else 0.0


def _hello(seconds: float, warmup: float, items: list[tuple[str, list[object]]],
           clients: int) -> load.Result:
    with servers.gunicorn("benchmarks.servers:hello_app()") as port:
        targets = _targets(port, "/autosave", items, clients=clients)
        load.run_load(targets, warmup)  # both workers serve a few requests first
        return load.run_load(targets, seconds)


def _vendorcheck(seconds: float, warmup: float, items: list[tuple[str, list[object]]],
                 db_url: str, assessment_id: int, clients: int, endpoint: str = "autosave"
                 ) -> load.Result:
    env = {"BENCH_DATABASE_URL": db_url}
    app = "floor_app()" if endpoint == "floor" else "vendorcheck_app()"
    with servers.gunicorn(f"benchmarks.servers:{app}", env=env) as port:
        page = f"/vendor/assessments/{assessment_id}/sections/contract"
        cookie, csrf = load.login(port, seed.VENDOR_EMAIL, seed.PASSWORD, page)
        targets = _targets(port, f"/vendor/assessments/{assessment_id}/{endpoint}", items,
                           cookie, csrf, clients=clients)
        load.run_load(targets, warmup)
        return load.run_load(targets, seconds)


def measure(folder: Path, *, seconds: float, warmup: float = 0.5, clients: int = CLIENTS,
            requests: int = IN_PROCESS_REQUESTS) -> Measured:
    """Seed a database in `folder`, load hello-world then the real autosave, then in-process."""
    db_url = seed.sqlite_url(folder / "autosave.sqlite3")
    app = seed.make_app(db_url)
    seeded = seed.seed_journey(app)
    items = seed.autosave_items(app)
    hello = _hello(seconds, warmup, items, clients)
    real = _vendorcheck(seconds, warmup, items, db_url, seeded.assessment_id, clients)
    floor = _vendorcheck(seconds, warmup, items, db_url, seeded.assessment_id, clients, "floor")
    inproc = in_process(db_url, seeded.assessment_id, items, requests)
    return Measured(hello, real, len(items), inproc, floor)


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

    def post(n: int) -> int:
        item_id, values = items[n % len(items)]
        body = {"item_id": item_id, "value": values[(n // len(items)) % len(values)]}
        return client.post(path, json=body, headers=headers).status_code

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

    with sqlcount.count_queries(app) as statements:
        autosave_s = timing.measure(autosave, repeat=requests, warmup=3)
    hello_s = timing.measure(lambda: hello.post("/autosave", json={"item_id": "x"}),
                             repeat=requests, warmup=3)
    return InProcess(statistics.median(autosave_s) * 1000, statistics.median(hello_s) * 1000,
                     len(statements) / (requests + 3))


def profile_autosave(db_url: str, assessment_id: int, items: list[tuple[str, list[object]]],
                     requests: int = 200, top: int = 25) -> str:
    """Profile `requests` autosaves in-process (Flask test client); return the top functions."""
    app, post = _autosave_poster(db_url, assessment_id, items)
    statuses: dict[int, int] = {}
    profiler = cProfile.Profile()
    with sqlcount.count_queries(app) as statements:
        profiler.enable()
        for n in range(requests):
            status = post(n)
            statuses[status] = statuses.get(status, 0) + 1
        profiler.disable()
    out = io.StringIO()
    out.write(f"statuses: {statuses}; SQL statements per autosave: "
              f"{len(statements) / requests:.1f}\n")
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def print_result(result: Measured, seconds: float) -> None:
    """Print both apps' figures, the ratio and the goal."""
    real = result.autosave
    print(f"gunicorn {servers.WORKERS} {servers.WORKER_CLASS} workers, {CLIENTS} client "
          f"processes, {seconds:g} s each, {result.items} items, 127.0.0.1")
    print(f"{'app':<22} {'requests':>7} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} "
          f"{'p99 ms':>7} {'errors':>6}")
    print(_row("hello-world (baseline)", result.hello))
    print(_row("vendorcheck autosave", real))
    if result.floor is not None:
        print(_row("floor: login+1 UPDATE", result.floor))
    p99 = real.summary()["p99"]
    verdict = "met" if result.ratio >= GOAL_RATIO and p99 < GOAL_P99_MS else "MISSED"
    print(f"ratio autosave/hello-world: {result.ratio:.2f}x (goal >= {GOAL_RATIO}x, p99 < "
          f"{GOAL_P99_MS:g} ms): {verdict}")
    base = result.hello.summary()["rps"]
    if result.floor is not None and base:
        floor = result.floor.summary()["rps"]
        print(f"floor (same login, CSRF and permission checks, one UPDATE, commit): "
              f"{floor / base:.2f}x hello-world; autosave = {real.summary()['rps'] / floor:.2f}x "
              f"the floor")
    inproc = result.inproc
    print(f"in-process (test client, one at a time): autosave {inproc.autosave_ms:.2f} ms, "
          f"hello-world {inproc.hello_ms:.2f} ms, ratio {inproc.hello_ms / inproc.autosave_ms:.2f}x;"
          f" {inproc.queries:.1f} SQL statements per autosave")
    if real.errors or result.hello.errors:
        print(f"errors by kind: autosave {real.errors}, hello-world {result.hello.errors}")


def main(quick: bool = False) -> None:
    """Print autosave throughput and latency against the hello-world baseline."""
    seconds = QUICK_SECONDS if quick else SECONDS
    with tempfile.TemporaryDirectory() as tmp:
        print_result(measure(Path(tmp), seconds=seconds), seconds)


def profile_main(requests: int = 300) -> None:
    """Print a cProfile of the autosave path, in-process (`python -m benchmarks.bench_autosave`)."""
    with tempfile.TemporaryDirectory() as tmp:
        db_url = seed.sqlite_url(Path(tmp) / "profile.sqlite3")
        app = seed.make_app(db_url)
        seeded = seed.seed_journey(app)
        print(profile_autosave(db_url, seeded.assessment_id, seed.autosave_items(app), requests))


if __name__ == "__main__":
    profile_main()
