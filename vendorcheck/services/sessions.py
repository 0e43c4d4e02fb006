"""Login sessions: start one, list a user's live ones, end one, end them all."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, or_, select, update

from vendorcheck import audit
from vendorcheck.extensions import db
from vendorcheck.models import LoginThrottle, User, UserSession, utcnow
from vendorcheck.services import login_throttle
from vendorcheck.services.errors import SessionNotFound
from vendorcheck.sessions import cookie_id, hash_secret

# (pattern, name), first match wins: Edge and Opera also say "Chrome", Chrome also says "Safari".
BROWSERS = ((r"Edg(e|A|iOS)?/", "Edge"), (r"OPR/|Opera", "Opera"), (r"Firefox/|FxiOS/", "Firefox"),
            (r"Chrome/|CriOS/|Chromium/", "Chrome"), (r"Safari/", "Safari"), (r"curl/", "curl"))
SYSTEMS = ((r"Android", "Android"), (r"iPhone|iPad|iPod", "iOS"), (r"Windows", "Windows"),
           (r"Mac OS X|Macintosh", "macOS"), (r"CrOS", "ChromeOS"), (r"Linux|X11", "Linux"))


def device_summary(user_agent: str | None) -> str:
    """Return "Browser, system" from a User-Agent ("" when nothing is recognised); never the raw text."""
    text = (user_agent or "")[:1000]
    names = [next((name for pattern, name in table if re.search(pattern, text)), "")
             for table in (BROWSERS, SYSTEMS)]
    return ", ".join(name for name in names if name)


def idle_minutes_for(user: User) -> int:
    """Return the idle timeout of a new session: the buyers' one unless every organisation is a vendor."""
    cfg = current_app.config
    orgs = [m.organisation for m in user.memberships]
    if orgs and all(org.is_vendor and not org.is_buyer for org in orgs):
        return int(cfg["SESSION_IDLE_MINUTES_VENDOR"])
    return int(cfg["SESSION_IDLE_MINUTES"])


def start(user: User, *, remember: bool, user_agent: str | None, ip: str | None,
          replaces: UserSession | None = None) -> str:
    """Open a server-side session and return what the cookies carry (`user_id:secret`).

    `replaces` is the browser's previous session (logging in again, accepting an invitation): it ends.
    """
    cfg = current_app.config
    now = utcnow()
    if replaces is not None:
        _revoke([replaces.id])
    secret = secrets.token_urlsafe(32)
    if remember:
        expires_at, idle = now + cfg["REMEMBER_COOKIE_DURATION"], None
    else:
        expires_at, idle = now + timedelta(hours=cfg["SESSION_MAX_HOURS"]), idle_minutes_for(user)
    db.session.add(UserSession(
        user_id=user.id, secret_hash=hash_secret(secret), created_at=now, last_seen_at=now,
        expires_at=expires_at, idle_minutes=idle, device=device_summary(user_agent),
        ip=(ip or "")[:45] or None, remember=remember))
    db.session.commit()
    value = user.session_cookie_id = cookie_id(user.id, secret)
    return value


def active_sessions(user: User) -> list[UserSession]:
    """Return the user's sessions that have not ended, most recently used first."""
    now = utcnow()
    rows = db.session.scalars(
        select(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None),
                                  UserSession.expires_at > now)
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc()))
    return [row for row in rows if not row.ended(now)]


def own_session(session_id: int, *, by: User) -> UserSession:
    """Return one of the user's own sessions; anyone else's (or none) is SessionNotFound (404)."""
    row = db.session.get(UserSession, session_id)
    if row is None or row.user_id != by.id:
        raise SessionNotFound()
    return row


def logout(session: UserSession | None, *, by: User) -> None:
    """End this session (logout) and write it to the audit log."""
    if session is not None:
        _revoke([session.id])
    audit.record("logout", by=by)
    db.session.commit()


def revoke(session_id: int, *, by: User) -> UserSession:
    """End one of the user's sessions from the profile page (ending an ended one changes nothing)."""
    row = own_session(session_id, by=by)
    if row.revoked_at is None:
        _revoke([row.id])
        audit.record("session_revoked", by=by, obj=row, details={"device": row.device})
        db.session.commit()
    return row


def revoke_all(*, by: User) -> int:
    """Log out everywhere: end every session of the user, this one included; return how many."""
    count = revoke_others(by, keep=None)
    audit.record("sessions_revoked_all", by=by, details={"count": count})
    db.session.commit()
    return count


def revoke_others(user: User, *, keep: int | None) -> int:
    """End the user's sessions except `keep` (no commit: the caller's transaction)."""
    ids = [row_id for row_id in db.session.scalars(
        select(UserSession.id).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None)))
        if row_id != keep]
    return _revoke(ids)


def _revoke(ids: list[int]) -> int:
    """Mark sessions revoked now; return how many."""
    if not ids:
        return 0
    db.session.execute(update(UserSession).where(UserSession.id.in_(ids), UserSession.revoked_at.is_(None))
                       .values(revoked_at=utcnow()).execution_options(synchronize_session="fetch"))
    return len(ids)


def prune(*, older_than: timedelta) -> tuple[int, int]:
    """Delete sessions ended longer ago than `older_than` and login failures no longer counted.

    Return (sessions, throttle rows) deleted. Ended sessions are kept a while so the audit log's
    `session_revoked` entries still point at something; failures older than FORGET_AFTER count no more.
    """
    now = utcnow()
    cutoff = now - older_than
    ended = delete(UserSession).where(or_(UserSession.revoked_at < cutoff, UserSession.expires_at < cutoff))
    stale = delete(LoginThrottle).where(
        LoginThrottle.last_failure_at < now - login_throttle.FORGET_AFTER,
        or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until < now))
    sessions_deleted = db.session.execute(ended).rowcount  # type: ignore[attr-defined]
    throttles_deleted = db.session.execute(stale).rowcount  # type: ignore[attr-defined]
    db.session.commit()
    return sessions_deleted, throttles_deleted
