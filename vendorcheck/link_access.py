"""The link holder: a vendor contact answering one assessment by link, without an account.

A link's token is read once from its URL (`supplier.link_open`), then travels in an HttpOnly
cookie scoped to that one assessment's path, so no later URL, log line or Referer carries it.
The holder is a principal of its own (`LinkHolder`), never a fake user: services take it as
`by=` like a user, and the audit log names it "contact X via link". It reaches the answering
pages of its one assessment and nothing else (tests/integration/authz/matrix.py).
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Flask, g, jsonify, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from vendorcheck.access import deny
from vendorcheck.extensions import db, login_manager
from vendorcheck.models import User
from vendorcheck.models.links import AnswerLink, LinkHolder
from vendorcheck.sessions import hash_secret

F = TypeVar("F", bound=Callable[..., Any])
COOKIE = "vc_link"
MAX_TOKEN = 100  # a token is 43 characters; anything much longer is not one
CODE_CHECKED = "link_code_ok"  # session key: the links whose one-time code this browser entered
_TOKEN_IN_PATH = re.compile(r"(/vendor/link/)[^/?\s\"]+")


Actor = User | LinkHolder


def user_of(actor: Actor | None) -> User | None:
    """Return the account behind an actor (None for a link holder)."""
    return actor if isinstance(actor, User) else None


def token_hash(token: str) -> str | None:
    """Return the sha256 of a plausible token, None for garbage (never looked up)."""
    if not token or len(token) > MAX_TOKEN or not token.isascii():
        return None
    return hash_secret(token)


def find_link(token: str) -> AnswerLink | None:
    """Return the link a token names (live or not), or None."""
    digest = token_hash(token)
    if digest is None:
        return None
    return db.session.scalar(select(AnswerLink).where(AnswerLink.token_hash == digest))


def cookie_path(assessment_id: int) -> str:
    """Return the path the link cookie is scoped to: this assessment's pages only."""
    return url_for("supplier.assessment", assessment_id=assessment_id)


def set_link_cookie(response: Response, token: str, assessment_id: int) -> None:
    """Move the token into an HttpOnly, SameSite=Lax cookie scoped to the assessment's pages."""
    response.set_cookie(COOKIE, token, path=cookie_path(assessment_id), httponly=True,
                        samesite="Lax", secure=request.is_secure)


def clear_link_cookie(response: Response, assessment_id: int) -> None:
    """Forget the link in this browser."""
    response.delete_cookie(COOKIE, path=cookie_path(assessment_id), httponly=True,
                           samesite="Lax", secure=request.is_secure)


def link_holder(assessment_id: int) -> LinkHolder | None:
    """Return the request's holder of a live link to this assessment (cookie), else None."""
    cached = g.get("link_holder")
    if cached is not None and cached.assessment_id == assessment_id:
        return cast(LinkHolder, cached)
    link = find_link(request.cookies.get(COOKIE, ""))
    if link is None or not link.is_live or link.assessment_id != assessment_id:
        return None
    holder = LinkHolder(link_id=link.id, assessment_id=link.assessment_id, email=link.email,
                        name=link.name, buyer_org_id=link.assessment.buyer_org_id,
                        sensitive=link.assessment.sensitive)
    g.link_holder = holder
    return holder


def current_holder() -> LinkHolder | None:
    """Return the link holder this request was let in as (set by `answering`), else None."""
    return cast(LinkHolder | None, g.get("link_holder"))


def actor() -> Actor:
    """Return who acts in this request: the link holder if let in as one, else the user."""
    return current_holder() or cast(User, current_user)


def code_checked(holder: LinkHolder) -> bool:
    """Tell whether this browser entered the one-time code (sensitive assessments only need it)."""
    return not holder.sensitive or holder.link_id in session.get(CODE_CHECKED, [])


def mark_code_checked(holder: LinkHolder) -> None:
    """Remember in this browser's session that the holder entered the one-time code."""
    session[CODE_CHECKED] = [*session.get(CODE_CHECKED, [])[-9:], holder.link_id]


def answering(members: Callable[[F], F]) -> Callable[[F], F]:
    """Decorate an answering view: a live link to its assessment lets the holder in, else `members`.

    `members` is the members' check (`requires("assessments.answer")`). A holder of a sensitive
    assessment's link enters the one-time code before any write.
    """

    def decorator(view: F) -> F:
        guarded = members(view)

        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            holder = link_holder(int(kwargs["assessment_id"]))
            if holder is None:
                return guarded(*args, **kwargs)
            if request.method == "POST" and not code_checked(holder):
                return _code_needed(holder)
            return view(*args, **kwargs)

        return cast(F, wrapped)

    return decorator


def holder_only(view: F) -> F:
    """Decorate a view for link holders only (anonymous → login; members → 403)."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if link_holder(int(kwargs["assessment_id"])) is None:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            deny(403, f"link:{kwargs['assessment_id']}")
        return view(*args, **kwargs)

    return cast(F, wrapped)


def _code_needed(holder: LinkHolder) -> Response:
    """Answer a write that must wait for the one-time code: JSON 403, or the code page."""
    target = url_for("supplier.link_code", assessment_id=holder.assessment_id)
    if request.is_json or request.path.endswith("/autosave"):
        return cast(Response, (jsonify(error="code_required", message=_(
            "Enter the code we e-mailed you before saving."), location=target), 403))
    return cast(Response, redirect(target, 303))


def _holder_headers(response: Response) -> Response:
    """Keep a holder's pages out of other sites' Referer and out of caches.

    Not `no-referrer` here: Flask-WTF's HTTPS referrer check would reject every form the holder
    posts. The one URL with a token (`supplier.link_open`) answers `no-referrer` itself.
    """
    if current_holder() is not None:
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Cache-Control"] = "no-store"
    return response


class RedactLinkTokens(logging.Filter):
    """Replace a link's token by `[token]` in the development server's request lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's arguments; never drop the record."""
        if isinstance(record.args, tuple):
            record.args = tuple(_TOKEN_IN_PATH.sub(r"\1[token]", arg) if isinstance(arg, str)
                                else arg for arg in record.args)
        if isinstance(record.msg, str):
            record.msg = _TOKEN_IN_PATH.sub(r"\1[token]", record.msg)
        return True


def init_app(app: Flask) -> None:
    """Install the holder's response headers and keep tokens out of the development log
    (production's access log is redacted by gunicorn_conf.redact_path)."""
    app.after_request(_holder_headers)
    werkzeug_log = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactLinkTokens) for f in werkzeug_log.filters):
        werkzeug_log.addFilter(RedactLinkTokens())
