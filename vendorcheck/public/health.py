"""Health checks for load balancers and monitoring: /healthz (the process answers) and /readyz (it can work).

No login, no rate limit, no session cookie, and nothing in the answer but check names and "ok"/"unavailable":
why a check failed goes to the log, never to the caller.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Response, current_app, jsonify
from sqlalchemy import text

from vendorcheck.extensions import db, limiter
from vendorcheck.public.blueprint import bp
from vendorcheck.storage import current_store

log = logging.getLogger(__name__)

REDIS_TIMEOUT = 2.0  # seconds: a readiness probe must answer before the balancer gives up on it


@bp.get("/healthz")
@limiter.exempt
def healthz() -> Response:
    """Answer 200 while the process serves requests; touches neither the database nor Redis."""
    return _answer({})


@bp.get("/readyz")
@limiter.exempt
def readyz() -> Response:
    """Answer 200 when the database, Redis (when configured) and the storage answer, else 503."""
    checks: dict[str, Callable[[], None]] = {"database": _database}
    if current_app.config.get("REDIS_URL"):
        checks["redis"] = _redis
    checks["storage"] = _storage
    return _answer({name: _run(name, check) for name, check in checks.items()})


def _answer(results: dict[str, bool]) -> Response:
    """Return the JSON verdict: 200 "ok" when every check passed, else 503 "unavailable"."""
    healthy = all(results.values())
    response = jsonify(status="ok" if healthy else "unavailable",
                       checks={name: "ok" if passed else "unavailable" for name, passed in results.items()})
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response


def _run(name: str, check: Callable[[], None]) -> bool:
    """Run one check; log why it failed (the log may name hosts, the answer never does)."""
    try:
        check()
    except Exception as exc:  # any failure of a dependency means "not ready", whatever its type
        log.warning("readiness check %s failed: %s: %s", name, type(exc).__name__, exc)
        return False
    return True


def _database() -> None:
    """Run SELECT 1 on a pooled connection (pool_pre_ping replaces a dead one first)."""
    try:
        db.session.execute(text("SELECT 1"))
    finally:
        db.session.rollback()


def _redis() -> None:
    """PING the configured Redis with a short timeout."""
    from redis import Redis

    client = Redis.from_url(current_app.config["REDIS_URL"], socket_connect_timeout=REDIS_TIMEOUT,
                            socket_timeout=REDIS_TIMEOUT)
    try:
        client.ping()
    finally:
        client.close()


def _storage() -> None:
    """Ask the store whether it can be used now."""
    current_store().ping()
