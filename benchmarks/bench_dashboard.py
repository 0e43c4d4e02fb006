"""The buyer's dashboard with 10,000 vendors: latency per page and SQL queries per page.

The same 50 dashboard URLs (filters, sorts, search, pages) are requested through the Flask test
client on a file SQLite database (WAL) seeded with bulk inserts. Baseline (same run): the same
URLs on a database of 100 vendors; the number of SQL statements per page must not change.
Goal (issue 6): p95 under 150 ms with 10,000 vendors, constant query count.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from benchmarks import load, seed, sqlcount
from benchmarks.timing import p
from vendorcheck.extensions import db
from vendorcheck.services.assessments.dashboard import SORTS, TIERS

SIZES = (100, 10_000)
QUICK_SIZES = (100, 1_000)
GOAL_P95_MS = 150.0
PATH = "/buyer/assessments"


def dashboard_urls(vendors: int) -> list[str]:
    """Return 50 dashboard URLs: every sort both ways, filters, search and deep pages."""
    last = max(1, -(-vendors // 25))
    urls = [PATH, f"{PATH}?per_page=100", f"{PATH}?page=2", f"{PATH}?page={last}",
            f"{PATH}?page={max(1, last // 2)}", f"{PATH}?overdue=1", f"{PATH}?status=none",
            f"{PATH}?q=acme", f"{PATH}?q=cloud+data", f"{PATH}?q=zzz-nothing",
            f"{PATH}?q=0042", f"{PATH}?status=in_review&sort=-score",
            f"{PATH}?tier=high&overdue=1", f"{PATH}?status=sent&sort=due_date&page=3"]
    urls += [f"{PATH}?sort={s}" for s in SORTS] + [f"{PATH}?sort=-{s}" for s in SORTS]
    urls += [f"{PATH}?tier={t}" for t in TIERS]
    urls += [f"{PATH}?status={s}" for s in ("in_progress", "submitted", "decided", "expired")]
    urls += [f"{PATH}?q=sky&sort=-progress", f"{PATH}?tier=low&sort=-next_review_date&page=2",
             f"{PATH}?per_page=100&page=3&sort=open_findings", f"{PATH}?q=gmbh&per_page=50",
             f"{PATH}?page=3", f"{PATH}?page=4&sort=-tier", f"{PATH}?q=nord&sort=status",
             f"{PATH}?q=vega&tier=medium", f"{PATH}?status=clarification_requested",
             f"{PATH}?overdue=1&sort=-due_date&page=2"]
    return urls[:50]


def login_buyer(app: Flask) -> FlaskClient:
    """Return a test client logged in as the buyer through the login form."""
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    match = load.CSRF_INPUT.search(page)
    token = next(g for g in match.groups() if g) if match else ""
    response = client.post("/auth/login", data={"email": seed.BUYER_EMAIL,
                                                "password": seed.PASSWORD, "csrf_token": token})
    if response.status_code != 302:
        raise RuntimeError(f"buyer login failed ({response.status_code})")
    return client


def measure_size(vendors: int, folder: Path, repeat: int = 1) -> dict[str, Any]:
    """Seed `vendors` vendors; return seed time, latencies and queries per URL."""
    db_url = seed.sqlite_url(folder / f"dashboard-{vendors}.sqlite3")
    app = seed.make_app(db_url)
    start = time.perf_counter()
    seed.seed_dashboard(app, vendors)
    seeded_s = time.perf_counter() - start
    client = login_buyer(app)
    urls = dashboard_urls(vendors)
    for url in urls:  # warm-up: templates compiled, SQLite pages cached
        client.get(url)
    latencies, queries = [], [0] * len(urls)
    for _ in range(repeat):
        for index, url in enumerate(urls):
            with sqlcount.count_queries(app) as statements:
                began = time.perf_counter()
                response = client.get(url)
                latencies.append(time.perf_counter() - began)
            if response.status_code != 200:
                raise RuntimeError(f"{url} answered {response.status_code}")
            queries[index] = len(statements)
    with app.app_context():
        db.engine.dispose()
    return {"seed_s": seeded_s, "latencies": latencies, "queries": queries, "urls": urls}


def main(quick: bool = False, sizes: tuple[int, int] | None = None) -> None:
    """Print dashboard latency and queries per page at both sizes."""
    sizes = sizes or (QUICK_SIZES if quick else SIZES)
    with tempfile.TemporaryDirectory() as tmp:
        runs = {n: measure_size(n, Path(tmp), repeat=1 if quick else 2) for n in sizes}
    print(f"{'vendors':>8} {'seed s':>7} {'requests':>8} {'p50 ms':>7} {'p95 ms':>7} "
          f"{'max ms':>7} {'queries/page':>13}")
    for n, run in runs.items():
        lat, counts = run["latencies"], sorted(set(run["queries"]))
        print(f"{n:>8} {run['seed_s']:>7.1f} {len(lat):>8} {statistics.median(lat) * 1000:>7.1f} "
              f"{p(lat, 0.95):>7.1f} {max(lat) * 1000:>7.1f} {'/'.join(map(str, counts)):>13}")
    small, large = (runs[n] for n in sizes)
    ratio = p(large["latencies"], 0.95) / p(small["latencies"], 0.95)
    # An empty page runs one more query (are there vendors at all?), so only growth counts.
    changed = [url for url, a, b in zip(large["urls"], small["queries"], large["queries"], strict=True)
               if b > a]
    print(f"p95 ratio {sizes[1]:,} vs {sizes[0]:,} vendors: {ratio:.2f}x; queries per page "
          f"{'constant' if not changed else 'GROW on ' + ', '.join(changed)}")
    verdict = "met" if p(large["latencies"], 0.95) < GOAL_P95_MS and not changed else "MISSED"
    print(f"goal p95 < {GOAL_P95_MS:g} ms with {sizes[1]:,} vendors and constant queries: {verdict}")
