"""The buyer's dashboard with 10,000 vendors: latency per page and SQL queries per page.

One database (a file SQLite database in WAL mode, or PostgreSQL with --pg URL) holds two buyers
seeded with bulk inserts: a small one (100 vendors) and a large one (10,000). The same 50 dashboard
URLs (filters, sorts, search, pages), in each of its two views (each vendor's latest assessment, and
"all assessments (history)"), are requested through the Flask test client by each buyer in turn,
URL by URL (small, large, small, large ...), so the p95 ratio compares requests made side by side;
the number of SQL statements per page must not change with the size.
Goal (issues 6 and 18): p95 under 150 ms with 10,000 vendors (100,000 assessments on PostgreSQL),
both views together, constant query count.
"""

from __future__ import annotations

import html
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from benchmarks import load, seed, sqlcount, timing
from benchmarks.timing import p
from vendorcheck.extensions import db
from vendorcheck.services.assessments.dashboard import SORTS, TIERS

SIZES = (100, 10_000)
QUICK_SIZES = (100, 1_000)
GOAL_P95_MS = 150.0
PATH = "/buyer/assessments"
HISTORY = "history=1"  # the switch to every assessment of each vendor


def dashboard_urls(rows: int) -> list[str]:
    """Return 50 dashboard URLs (every sort both ways, filters, search and deep pages), then the
    same 50 in the history view."""
    last = max(1, -(-rows // 25))
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
    urls = urls[:50]
    return urls + [f"{url}{'&' if '?' in url else '?'}{HISTORY}" for url in urls]


SMALL_EMAIL = "small-buyer@bench.example"


def login_buyer(app: Flask, email: str = seed.BUYER_EMAIL) -> FlaskClient:
    """Return a test client logged in as a buyer through the login form."""
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    match = load.CSRF_INPUT.search(page)
    token = next(g for g in match.groups() if g) if match else ""
    response = client.post("/auth/login", data={"email": email,
                                                "password": seed.PASSWORD, "csrf_token": token})
    if response.status_code != 302:
        raise RuntimeError(f"buyer login failed ({response.status_code})")
    return client


NEXT_LINK = re.compile(r'<a rel="next" href="([^"]+)"')
PAGE_ARG = re.compile(r"([?&])page=(\d+)")


def follow_links(client: FlaskClient, urls: list[str]) -> list[str]:
    """Return the URLs with each page number N > 1 replaced by the "next page" link of page N - 1
    (a cursor), as a buyer paging through reaches it; not timed."""
    followed = []
    for url in urls:
        number = PAGE_ARG.search(url)
        if number is None or int(number.group(2)) < 2:
            followed.append(url)
            continue
        previous = PAGE_ARG.sub(lambda m: f"{m.group(1)}page={int(m.group(2)) - 1}", url)
        link = NEXT_LINK.search(client.get(previous).get_data(as_text=True))
        followed.append(html.unescape(link.group(1)) if link else url)
    return followed


def _get(app: Flask, client: FlaskClient, url: str) -> tuple[float, int]:
    """Request one page; return (seconds, SQL statements)."""
    with sqlcount.count_queries(app) as statements:
        began = time.perf_counter()
        response = client.get(url)
        elapsed = time.perf_counter() - began
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    return elapsed, len(statements)


def measure_sizes(sizes: tuple[int, int], folder: Path, repeat: int = 1,
                  database_url: str | None = None,
                  assessments: int | None = None) -> dict[int, dict[str, Any]]:
    """Seed both buyers in one database; request every URL as each in turn; figures per size.

    With `assessments`, the large buyer is seeded as `vendorcheck seed-scale` does: that many
    assessments spread over its vendors (several each, 30 % of the results stale).
    """
    db_url = database_url or seed.sqlite_url(folder / "dashboard.sqlite3")
    app = seed.make_app(db_url, fresh=True)
    small, large = sizes
    runs: dict[int, dict[str, Any]] = {}
    for vendors, email, slug in ((small, SMALL_EMAIL, "small-buyer"),
                                 (large, seed.BUYER_EMAIL, "big-buyer")):
        start = time.perf_counter()
        if assessments and vendors == large:
            seed.seed_scale(app, vendors, assessments, email=email, slug=slug)
        else:
            seed.seed_dashboard(app, vendors, email=email, slug=slug)
        rows = assessments if assessments and vendors == large else vendors
        runs[vendors] = {"seed_s": time.perf_counter() - start, "latencies": [],
                         "urls": dashboard_urls(rows), "queries": [0] * 100, "rows": rows,
                         "client": login_buyer(app, email)}
    for run in runs.values():  # deep pages through the links, then warm-up: templates compiled, pages cached
        run["urls"] = follow_links(run["client"], run["urls"])
        for url in run["urls"]:
            run["client"].get(url)
    for _ in range(repeat):
        for index in range(len(runs[small]["urls"])):
            for run in (runs[small], runs[large]):  # in turn, URL by URL
                elapsed, queries = _get(app, run["client"], run["urls"][index])
                run["latencies"].append(elapsed)
                # The fewest of the repeats: a signed-in session's once-a-minute "last seen"
                # write lands on whichever request comes due, and is not the page's.
                run["queries"][index] = min(queries, run["queries"][index] or queries)
    with app.app_context():
        db.engine.dispose()
    for run in runs.values():
        run["queries"] = run["queries"][:len(run["urls"])]
        run["load"] = timing.machine()
        del run["client"]
    return runs


def main(quick: bool = False, sizes: tuple[int, int] | None = None, pg: str | None = None) -> None:
    """Print dashboard latency and queries per page at both sizes (SQLite, or PostgreSQL with pg)."""
    scale = pg and not quick and sizes is None
    sizes = (SIZES[0], seed.SCALE[0]) if scale else sizes or (QUICK_SIZES if quick else SIZES)
    with tempfile.TemporaryDirectory() as tmp:
        runs = measure_sizes(sizes, Path(tmp), repeat=1 if quick else 2, database_url=pg,
                             assessments=seed.SCALE[1] if scale else None)
    rows = ", ".join(f"{run['rows']:,}" for run in runs.values())
    print(f"database: {'postgresql' if pg else 'sqlite'}; both buyers in one database, URL by URL "
          f"in turn; rows (assessments, or vendors): {rows}")
    print(f"{'vendors':>8} {'seed s':>7} {'requests':>8} {'p50 ms':>7} {'p95 ms':>7} "
          f"{'max ms':>7} {'queries/page':>13}  machine")
    for n, run in runs.items():
        lat, counts = run["latencies"], sorted(set(run["queries"]))
        print(f"{n:>8} {run['seed_s']:>7.1f} {len(lat):>8} {statistics.median(lat) * 1000:>7.1f} "
              f"{p(lat, 0.95):>7.1f} {max(lat) * 1000:>7.1f} {'/'.join(map(str, counts)):>13}  "
              f"{run['load']}")
    small, large = (runs[n] for n in sizes)
    ratio = p(large["latencies"], 0.95) / p(small["latencies"], 0.95)
    pair_ratio = statistics.median(b / a for a, b in zip(small["latencies"], large["latencies"],
                                                         strict=True))
    # An empty page runs one more query (are there vendors at all?), so only growth counts.
    changed = [url for url, a, b in zip(large["urls"], small["queries"], large["queries"], strict=True)
               if b > a]
    print(f"p95 ratio {sizes[1]:,} vs {sizes[0]:,} vendors: {ratio:.2f}x (median of the "
          f"{len(small['latencies'])} URL pairs: {pair_ratio:.2f}x); queries per page "
          f"{'constant' if not changed else 'GROW on ' + ', '.join(changed)}")
    for view, is_view in (("latest per vendor", lambda url: HISTORY not in url),
                          ("history", lambda url: HISTORY in url)):
        urls = large["urls"]
        picked = [t for at, t in enumerate(large["latencies"]) if is_view(urls[at % len(urls)])]
        print(f"{sizes[1]:,} vendors, {view} view: p50 {statistics.median(picked) * 1000:.1f} ms, "
              f"p95 {p(picked, 0.95):.1f} ms ({len(picked)} requests)")
    p95 = p(large["latencies"], 0.95)
    print(timing.goal(f"p95 {p95:.1f} ms (< {GOAL_P95_MS:g} ms) with {sizes[1]:,} vendors and "
                      "constant queries", p95 < GOAL_P95_MS and not changed))
