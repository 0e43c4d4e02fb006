"""The request's server-side session: cookies name a `UserSession` row, checked on every request.

The signed `session` cookie and Flask-Login's `remember_token` both carry `user_id:secret`; the database keeps
only the secret's sha256. A session that is revoked (logout, "log out everywhere", password change), past its
absolute end or idle too long loads no user, so a copied cookie stops working the moment the session ends.
See docs/security.md.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from flask import Flask, flash, g, redirect, request
from flask_babel import gettext as _
from flask_login import current_user, login_url, logout_user
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from vendorcheck.extensions import db, login_manager
from vendorcheck.models import Membership, User, UserSession, utcnow

SEEN_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often (no write per request)
MAX_SECRET = 100


def hash_secret(secret: str) -> str:
    """Return the hex sha256 of a session secret (only the hash is stored)."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def cookie_id(user_id: int, secret: str) -> str:
    """Return what the cookies carry for a session: `user_id:secret`."""
    return f"{user_id}:{secret}"


def parse_cookie_id(value: str) -> tuple[int, str] | None:
    """Split `user_id:secret`; None when it is not one (an old `id:epoch` cookie, garbage)."""
    user_id, _sep, secret = value.partition(":")
    if not user_id.isdigit() or len(user_id) > 18 or not 20 <= len(secret) <= MAX_SECRET:
        return None
    return int(user_id), secret


def live_session(value: str, now: datetime) -> UserSession | None:
    """Return the live session a cookie names, with its active user; None if it ended or never was."""
    parsed = parse_cookie_id(value)
    if parsed is None:
        return None
    user_id, secret = parsed
    # One query per request: the session, its user and the user's memberships with their
    # organisations (access.current_membership reads them from here).
    row = db.session.scalars(
        select(UserSession).where(UserSession.secret_hash == hash_secret(secret))
        .options(joinedload(UserSession.user).joinedload(User.memberships)
                 .joinedload(Membership.organisation))).unique().first()
    if row is None or row.user_id != user_id or row.ended(now) or not row.user.is_active:
        return None
    return row


def load_user(value: str) -> User | None:
    """Flask-Login's user loader: the user of the live session `value` names, else None (and note it)."""
    now = utcnow()
    row = live_session(value, now)
    if row is None:
        g.session_ended = True
        return None
    g.user_session = row
    g.pop("session_ended", None)  # an ended id in the session, then a live remember cookie: logged in
    _touch(row, now)
    user = row.user
    user.session_cookie_id = value
    return user


def _touch(row: UserSession, now: datetime) -> None:
    """Record activity at most once a minute, so the idle timeout slides without a write per request."""
    if now - row.last_seen_at < SEEN_EVERY:
        return
    db.session.execute(update(UserSession).where(UserSession.id == row.id)
                       .values(last_seen_at=now, ip=request.remote_addr)
                       .execution_options(synchronize_session=False))
    db.session.commit()  # the loader runs in before_request (check_session): nothing else is pending
    row.last_seen_at = now


def current_session() -> UserSession | None:
    """Return the server-side session of this request's user (None when anonymous)."""
    current_user._get_current_object()  # runs the loader once
    return g.get("user_session")


def check_session() -> None:
    """Before each request: load the user now; a session that ended logs the browser out, once, saying so."""
    if request.endpoint == "static":
        return
    current_user._get_current_object()
    if g.get("session_ended"):
        logout_user()  # forgets the id and deletes the remember cookie
        flash(_("Your session has ended. Please log in again."), "info")


def unauthorized() -> Response:
    """Send an anonymous visitor to login; after a session ended, its own message is enough."""
    if not g.get("session_ended"):
        flash(_("Please log in to see this page."), "info")
    return redirect(login_url("auth.login", next_url=request.url))


def init_app(app: Flask) -> None:
    """Install the user loader and the per-request check."""
    login_manager.user_loader(load_user)
    login_manager.unauthorized_handler(unauthorized)
    login_manager.login_view = "auth.login"
    app.before_request(check_session)
