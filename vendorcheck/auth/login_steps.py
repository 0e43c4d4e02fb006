"""The browser's side of a login: start the session, hold a login waiting for its second factor, note devices.

A login waiting for its second factor is only a mark in the signed session (`mfa_pending`: the user id,
"keep me logged in", where to go, when): no server-side session exists, so nothing else opens until the
second factor passes. It lasts PENDING_SECONDS. The device cookie is a long-lived signed list of the
accounts that signed in from this browser; a login from a browser without it e-mails the user.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from flask import after_this_request, current_app, g, redirect, request, session, url_for
from flask_login import login_user
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.wrappers import Response

from vendorcheck.access import home_url
from vendorcheck.extensions import db
from vendorcheck.models import User
from vendorcheck.security import is_safe_next
from vendorcheck.services import login_flow, mfa, sessions
from vendorcheck.sessions import current_session

PENDING = "mfa_pending"
PENDING_SECONDS = 600
ENROL_REQUIRED = "mfa_enrol"  # this login must set up a second factor before anything else
DEVICE_COOKIE = "vc_device"
DEVICE_MAX_AGE = 400 * 24 * 3600  # the longest browsers keep a cookie
DEVICE_MAX_ACCOUNTS = 20


def start_session(user: User, remember: bool = False, org_id: int | None = None) -> None:
    """Start a fresh server-side session for the user (no fixation), keeping the chosen language."""
    previous = current_session()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    if org_id:
        session["org_id"] = org_id
    g.pop("membership", None)
    sessions.start(user, remember=remember, user_agent=request.headers.get("User-Agent"),
                   ip=request.remote_addr, replaces=previous)
    login_user(user, remember=remember, duration=current_app.config["REMEMBER_COOKIE_DURATION"])
    mark_enrolment(user)


def mark_enrolment(user: User) -> None:
    """Note in the session whether this login must set up a second factor first (checked once per login)."""
    if mfa.must_enrol(user):
        session[ENROL_REQUIRED] = True
    else:
        session.pop(ENROL_REQUIRED, None)


def after_password(user: User, *, remember: bool, target: str | None) -> Response:
    """Continue a login whose password was right: to the second factor, or logged in."""
    if login_flow.after_password(user) is login_flow.Next.SECOND_FACTOR:
        session[PENDING] = {"uid": user.id, "remember": remember, "next": target or "",
                            "at": int(time.time())}
        return redirect(url_for("auth.mfa_verify"))
    login_flow.finish(user, "password")
    return redirect(complete(user, remember=remember, target=target))


def pending() -> tuple[User, dict[str, Any]] | None:
    """Return the user of the login waiting for its second factor, and its mark; None if none or stale."""
    mark = session.get(PENDING)
    if not isinstance(mark, dict) or time.time() - int(mark.get("at", 0)) > PENDING_SECONDS:
        session.pop(PENDING, None)
        return None
    user = db.session.get(User, int(mark.get("uid", 0)))
    if user is None or not user.is_active:
        session.pop(PENDING, None)
        return None
    return user, mark


def complete(user: User, *, remember: bool, target: str | None) -> str:
    """Log the browser in (a fresh session), e-mail about a new device; return where to go."""
    start_session(user, remember=remember)
    note_device(user)
    return target if target and is_safe_next(target) else home_url()


def _serializer() -> URLSafeSerializer:
    """Sign the device cookie with the app's secret key (salted: no other signed value fits)."""
    return URLSafeSerializer(current_app.secret_key or "", salt="vendorcheck device")


def _device_accounts() -> tuple[str, list[int]]:
    """Return this browser's device id and the accounts that signed in from it (none when unsigned)."""
    raw = request.cookies.get(DEVICE_COOKIE, "")
    try:
        value = _serializer().loads(raw) if raw else None
    except BadSignature:
        value = None
    if not isinstance(value, dict) or not isinstance(value.get("d"), str):
        return secrets.token_urlsafe(16), []
    return value["d"], [uid for uid in value.get("u", []) if isinstance(uid, int)]


def note_device(user: User, *, mail_if_new: bool = True) -> None:
    """Mail the user if this browser never signed in to their account; remember it either way."""
    device_id, accounts = _device_accounts()
    if user.id not in accounts:
        if mail_if_new:
            login_flow.new_device(user, sessions.device_summary(request.headers.get("User-Agent")),
                                  request.remote_addr)
        accounts = [*accounts, user.id][-DEVICE_MAX_ACCOUNTS:]
    value = _serializer().dumps({"d": device_id, "u": accounts})

    @after_this_request
    def _set(response: Response) -> Response:
        response.set_cookie(DEVICE_COOKIE, value, max_age=DEVICE_MAX_AGE, httponly=True, samesite="Lax",
                            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE", False)))
        return response
