"""The REST API: 10,000 assessments listed page by page, and an answer write against the web's autosave.

One database (a file SQLite database in WAL mode, or PostgreSQL with --pg URL) holds two buyers seeded with
bulk inserts: a small one (about 90 assessments) and a large one (about 10,000). Each buyer's read token
walks every page of its assessments (`limit=100`, following `next_cursor`) through the Flask test client,
page by page in turn (small, large, small, ...), so the p95 ratio compares pages fetched side by side; the
SQL statements per page must not grow with the size (keyset pages: page 100 costs what page 1 costs).
Then the same answer write runs through the API (`PUT /api/v1/vendor/assessments/{id}/answers/{item}`,
bearer token) and through the web's autosave (session cookie and CSRF token), in turn, with the version
the previous save returned: the API's cost as a ratio of the autosave's, and SQL statements per write.
Goals (issue 19): p95 per page under 150 ms with 10,000 assessments, constant queries per page; an API
answer write within 1.5x the autosave's time.
"""

from __future__ import annotations

import itertools
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from benchmarks import seed, sqlcount, timing
from benchmarks.bench_autosave import _autosave_poster
from benchmarks.timing import p
from vendorcheck.extensions import db
from vendorcheck.models import Organisation, User
from vendorcheck.models.api_tokens import TokenScope
from vendorcheck.services import api_tokens

SIZES = (100, 11_100)  # vendors; about nine in ten have an assessment: ~90 and ~10,000 assessments
QUICK_SIZES = (100, 1_100)
PAGE = 100
GOAL_P95_MS = 150.0
GOAL_WRITE_RATIO = 1.5
WRITES = 120
QUICK_WRITES = 30
SMALL_EMAIL = "small-buyer@bench.example"


def issue_token(app: Flask, email: str, org_slug: str, scope: TokenScope = TokenScope.READ) -> str:
    """Issue a token for a seeded user in one of its organisations; return the secret."""
    with app.test_request_context():
        user = db.session.scalar(select(User).where(User.email == email))
        org = db.session.scalar(select(Organisation).where(Organisation.slug == org_slug))
        assert user is not None
        assert org is not None
        return api_tokens.create_token(user, org, name="bench", scope=scope, by=user).secret


def measure_pages(sizes: tuple[int, int], database_url: str,
                  assessments: int | None = None) -> dict[int, list[tuple[float, int, int]]]:
    """Seed both buyers, then walk their pages in turn (one small page, one large page, ...).

    With `assessments`, the large buyer is seeded as `vendorcheck seed-scale` does.
    """
    app = seed.make_app(database_url, fresh=True, RATELIMIT_ENABLED=False)
    secrets = {}
    buyers = ((sizes[0], SMALL_EMAIL, "small-buyer"), (sizes[1], seed.BUYER_EMAIL, "big-buyer"))
    for vendors, email, slug in buyers:
        if assessments and vendors == sizes[1]:
            seed.seed_scale(app, vendors, assessments, email=email, slug=slug)
        else:
            seed.seed_dashboard(app, vendors, email=email, slug=slug)
        secrets[vendors] = issue_token(app, email, slug)
    client = app.test_client()
    for _page in _pages(app, client, secrets[sizes[0]]):  # warm-up: statements compiled, pages cached
        pass
    runs: dict[int, list[tuple[float, int, int]]] = {n: [] for n in sizes}
    walks = {n: _pages(app, client, secrets[n]) for n in sizes}
    while walks:
        for n in list(walks):  # one page of each walk in turn
            page = next(walks[n], None)
            if page is None:
                del walks[n]
            else:
                runs[n].append(page)
    with app.app_context():
        db.engine.dispose()
    return runs


def _pages(app: Flask, client: FlaskClient, secret: str) -> Iterator[tuple[float, int, int]]:
    """Yield the pages of one walk one at a time (so two walks can interleave)."""
    headers, cursor = {"Authorization": f"Bearer {secret}"}, None
    while True:
        url = f"/api/v1/assessments?limit={PAGE}" + (f"&cursor={cursor}" if cursor else "")
        with sqlcount.count_queries(app) as statements:
            began = time.perf_counter()
            response = client.get(url, headers=headers)
            elapsed = time.perf_counter() - began
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
        body = response.get_json()
        yield elapsed, len(statements), len(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return


def measure_writes(database_url: str, writes: int) -> tuple[timing.Pairs, float, float]:
    """Time API answer writes and web autosaves in turn; return the pairs and SQL statements per write."""
    app = seed.make_app(database_url, fresh=True, RATELIMIT_ENABLED=False)
    seeded = seed.seed_journey(app)
    every = seed.autosave_items(app)
    items, web_items = every[::2], every[1::2]  # the same kinds of items, never the same answer
    secret = issue_token(app, seed.VENDOR_EMAIL, "bench-vendor", TokenScope.WRITE)
    api_client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    stored = api_client.get(f"/api/v1/vendor/assessments/{seeded.assessment_id}", headers=headers)
    versions = {a["item_id"]: a["version"] for a in stored.get_json()["answers"]}
    web_app, web_post = _autosave_poster(database_url, seeded.assessment_id, web_items)
    counter_api, counter_web = itertools.count(), itertools.count()

    def api_write() -> None:
        n = next(counter_api)
        item_id, values = items[n % len(items)]
        response = api_client.put(f"/api/v1/vendor/assessments/{seeded.assessment_id}/answers/{item_id}",
                                  headers=headers, json={"value": values[(n // len(items)) % len(values)],
                                                         "version": versions.get(item_id, 0)})
        if response.status_code != 200:
            raise RuntimeError(f"an API answer write failed: {response.get_json()}")
        versions[item_id] = response.get_json()["version"]

    def web_write() -> None:
        if web_post(next(counter_web)) != 200:
            raise RuntimeError("an autosave failed")

    inner = max(1, writes // timing.MIN_PAIRS)
    pairs = timing.alternate(api_write, web_write, pairs=timing.MIN_PAIRS, warmup=3, inner=inner)
    per_api = _statements(app, api_write, 20)
    per_web = _statements(web_app, web_write, 20)
    for application in (app, web_app):
        with application.app_context():
            db.engine.dispose()
    return pairs, per_api, per_web


def _statements(app: Flask, write: Callable[[], None], calls: int) -> float:
    """Return the SQL statements per call of `write`."""
    with sqlcount.count_queries(app) as statements:
        for _ in range(calls):
            write()
    return len(statements) / calls


def main(quick: bool = False, pg: str | None = None) -> None:
    """Print page latency and queries at both sizes, then the answer write's ratio to autosave."""
    scale = bool(pg) and not quick
    sizes = (SIZES[0], seed.SCALE[0]) if scale else QUICK_SIZES if quick else SIZES
    with tempfile.TemporaryDirectory() as tmp:
        runs = measure_pages(sizes, pg or seed.sqlite_url(Path(tmp) / "api.sqlite3"),
                             seed.SCALE[1] if scale else None)
        pairs, per_api, per_web = measure_writes(pg or seed.sqlite_url(Path(tmp) / "write.sqlite3"),
                                                 QUICK_WRITES if quick else WRITES)
    print(f"database: {'postgresql' if pg else 'sqlite'}; both buyers in one database, page by page in turn")
    print(f"{'assessments':>11} {'pages':>6} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'queries/page':>13}")
    for n in sizes:
        lat = [e for e, _q, _i in runs[n]]
        counts = sorted({q for _e, q, i in runs[n] if i})
        total = sum(i for _e, _q, i in runs[n])
        print(f"{total:>11,} {len(lat):>6} {statistics.median(lat) * 1000:>7.1f} {p(lat, 0.95):>7.1f} "
              f"{max(lat) * 1000:>7.1f} {'/'.join(map(str, counts)):>13}")
    small, large = ([e for e, _q, _i in runs[n]] for n in sizes)
    # A token's last use is written once a minute (one UPDATE on that page): compare the usual page.
    small_q = statistics.median_low(q for _e, q, i in runs[sizes[0]] if i)
    large_q = statistics.median_low(q for _e, q, i in runs[sizes[1]] if i)
    constant = large_q <= small_q
    print(f"p95 ratio large vs small: {p(large, 0.95) / p(small, 0.95):.2f}x; queries per page "
          f"{'constant' if constant else 'GROW'} ({small_q} vs {large_q}, the usual page)")
    print(timing.goal(f"p95 {p(large, 0.95):.1f} ms per page (< {GOAL_P95_MS:g} ms) and constant queries",
                      p(large, 0.95) < GOAL_P95_MS and constant))
    print(f"answer write: API {pairs.a_ms:.2f} ms, autosave {pairs.b_ms:.2f} ms (median of "
          f"{len(pairs.a)} pairs in turn): {pairs.ratio:.2f}x; SQL per write: API {per_api:.1f}, "
          f"autosave {per_web:.1f} [{timing.machine()}]")
    print(timing.goal(f"API answer write {pairs.ratio:.2f}x the autosave (< {GOAL_WRITE_RATIO:g}x)",
                      pairs.ratio < GOAL_WRITE_RATIO))
