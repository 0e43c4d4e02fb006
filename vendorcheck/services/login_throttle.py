"""Per-address login lockout with exponential back-off, kept in the database (shared by every process).

Failures are counted per e-mail address tried (its sha256), whether an account exists or not, so a lockout
tells nothing about which addresses have accounts; the IP plays no part (rate limits handle addresses).
After LOGIN_LOCK_AFTER failures in a row the address is locked LOGIN_LOCK_MINUTES, then twice as long at
each further failure, at most LOGIN_LOCK_MAX_MINUTES. Attempts while locked are refused without checking
the password and do not count. A successful login or a password reset clears the count.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from vendorcheck import audit, mail
from vendorcheck.extensions import db
from vendorcheck.models import LoginThrottle, OutboxMessage, User, utcnow

FORGET_AFTER = timedelta(hours=24)  # failures older than this no longer count towards a lock


def email_hash(address: str) -> str:
    """Return the hex sha256 of a normalised e-mail address (tried addresses are not kept in clear)."""
    return hashlib.sha256(address.encode("utf-8", "surrogatepass")).hexdigest()


def is_locked(address: str, now: datetime | None = None) -> bool:
    """Tell whether logging in with this address is paused."""
    until = db.session.scalar(
        select(LoginThrottle.locked_until).where(LoginThrottle.email_hash == email_hash(address)))
    return until is not None and until > (now or utcnow())


def lock_minutes(failures: int) -> int:
    """Return how long the n-th failure in a row locks the address (0: not yet)."""
    cfg = current_app.config
    over = failures - int(cfg["LOGIN_LOCK_AFTER"])
    if over < 0:
        return 0
    return int(min(cfg["LOGIN_LOCK_MINUTES"] * 2 ** min(over, 30), cfg["LOGIN_LOCK_MAX_MINUTES"]))


def record_failure(address: str, user: User | None) -> OutboxMessage | None:
    """Count a failure atomically; lock when due (audit entry, e-mail to the account). The caller commits."""
    now = utcnow()
    failures = _count_failure(email_hash(address), now)
    minutes = lock_minutes(failures)
    if not minutes:
        return None
    db.session.execute(update(LoginThrottle).where(LoginThrottle.email_hash == email_hash(address))
                       .values(locked_until=now + timedelta(minutes=minutes)))
    details = {"failures": failures, "minutes": minutes}
    if user is None:
        audit.record("auth.locked", email=address, details=details)
        return None
    audit.record("auth.locked", by=user, details=details)
    return mail.queue("account_locked", to=user.email, locale=user.locale, context={
        "name": user.name, "minutes": minutes,
        "reset_link": mail.external_url("auth.reset_request")})


def _count_failure(key: str, now: datetime) -> int:
    """Add one failure with a single upsert (safe across processes); return the count."""
    table = LoginThrottle.__table__
    dialect = db.session.get_bind().dialect.name
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table).values(email_hash=key, failures=1, last_failure_at=now)
    stale = table.c.last_failure_at < now - FORGET_AFTER
    stmt = stmt.on_conflict_do_update(index_elements=[table.c.email_hash], set_={
        "failures": case((stale, 1), else_=table.c.failures + 1), "last_failure_at": now,
    }).returning(table.c.failures)
    return int(db.session.execute(stmt).scalar_one())


def clear(address: str) -> None:
    """Forget the failures of an address (successful login, password reset). The caller commits."""
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.email_hash == email_hash(address)))
