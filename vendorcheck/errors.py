"""Error pages and JSON errors: a clear message and a 4xx, never a traceback."""

from __future__ import annotations

import logging
import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, has_request_context, jsonify, render_template, request
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)

RETRY_AFTER = 30  # seconds a client should wait when the database is out of reach


def wants_json() -> bool:
    """Tell whether the client asked for JSON (API paths, XHR autosave)."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    accepted = request.accept_mimetypes
    return best == "application/json" and accepted[best] > accepted["text/html"]


def _messages() -> dict[int, str]:
    """Return user-facing explanations per status, in the active language."""
    return {
        400: _("The request could not be understood. Please check what you sent and try again."),
        401: _("A valid API token is required (Authorization: Bearer …)."),
        403: _("You do not have permission to do this."),
        404: _("This page does not exist, or you do not have access to it."),
        405: _("This action is not allowed here."),
        409: _("Someone else changed this in the meantime. Reload to see the latest version."),
        410: _("This link has expired or has already been used."),
        413: _("What you sent is too large. Nothing was saved; please send a smaller file or section."),
        412: _("This was changed since you read it: read it again and retry with its new ETag."),
        415: _("Unsupported content type."),
        422: _("Some of the data could not be accepted."),
        428: _("This change needs an If-Match header with the ETag you read."),
        429: _("Too many attempts. Please wait a moment and try again."),
        500: _("Something went wrong on our side. The error was logged; please try again later."),
        503: _("The service is briefly unavailable. Please try again in a minute."),
    }


BACK_STATUSES = frozenset({400, 409, 413, 422})  # refusals of what the user sent: offer a way back
MAX_BACK = 2000


def local_path(url: str | None) -> str | None:
    """Return `url` if it is a path on this site ("/vendor/…"), else None (no scheme, no host)."""
    if not url or len(url) > MAX_BACK or not url.startswith("/") or url.startswith("//"):
        return None
    if any(ch in url for ch in "\\\r\n\t") or urlsplit(url).scheme or urlsplit(url).netloc:
        return None
    return url


def back_link() -> str | None:
    """Return where the user came from, on this site only: the form's `back` parameter, else the
    Referer when it is this host (as a path, so the link can never leave the site)."""
    asked = local_path(request.args.get("back"))
    if asked:
        return asked
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.scheme not in ("http", "https") or parts.netloc != request.host:
        return None
    path = local_path(parts.path + (f"?{parts.query}" if parts.query else ""))
    return path if path != request.full_path.rstrip("?") else None


# The API's machine-readable error codes (docs/api.md): one per status.
API_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 410: "gone", 412: "precondition_failed",
    413: "too_large", 415: "unsupported_media_type", 422: "validation_failed",
    428: "precondition_required", 429: "rate_limited", 500: "internal_error", 503: "unavailable",
}


def api_error_body(status: int, message: str, details: object = None) -> dict[str, object]:
    """Return the API's one error body: {"error": {"code", "message", "details"}}."""
    return {"error": {"code": API_CODES.get(status, "error"), "message": message,
                      "details": details if details is not None else {}}}


def render_error(status: int, message: str | None = None, *, incident: str | None = None,
                 links: tuple[tuple[str, str], ...] = (), retry_after: int | None = None,
                 details: object = None) -> Response:
    """Build an error response as JSON or as an HTML page (with its next steps and a way back)."""
    text = message or _messages().get(status, _("An error occurred."))
    if request.path.startswith("/api/"):
        extra = {key: value for key, value in (("incident", incident), ("retry_after", retry_after)) if value}
        merged = {**extra, **details} if isinstance(details, dict) else (details or extra)
        response = jsonify(api_error_body(status, str(text), merged))
    elif wants_json():
        body: dict[str, object] = {"error": status, "message": text}
        if incident:
            body["incident"] = incident
        if retry_after:
            body["retry_after"] = retry_after
        response = jsonify(body)
    else:
        actions = [(label, url) for label, url in links if local_path(url)]
        back = back_link() if status in BACK_STATUSES else None
        response = Response(_error_html(status, text, incident, actions, back),
                            mimetype="text/html")
    response.status_code = status
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _error_html(status: int, text: str, incident: str | None,
                actions: list[tuple[str, str]] | None = None, back: str | None = None) -> str:
    """Render the error page; without a URL adapter (an untrusted Host) fall back to a bare page."""
    try:
        return render_template("errors/error.html", status=status, message=text, incident=incident,
                               actions=actions or [], back=back)
    except (AttributeError, RuntimeError):
        # The layout builds links with url_for, which needs the adapter the Host check refused.
        body = escape(text)
        ref = f"<p>Incident: {escape(incident)}</p>" if incident else ""
        return f"<!doctype html><title>Error {status}</title><h1>Error {status}</h1><p>{body}</p>{ref}"


def handle_http_error(exc: HTTPException) -> Response:
    """Render any HTTP error with our own page."""
    original = getattr(exc, "original_exception", None)
    if isinstance(original, Exception) and database_unreachable(original):
        return handle_database_error(original)  # raised outside a view (an after-request hook)
    status = exc.code or 500
    custom = exc.description if getattr(exc, "vendorcheck_message", False) else None
    if status == 413 and custom is None:
        custom = too_large_message()
    response = render_error(status, custom, details=_validation_details(exc))
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="vendorcheck"'
    if status == 429 and exc.response is not None and "Retry-After" in exc.response.headers:
        response.headers["Retry-After"] = exc.response.headers["Retry-After"]
    return response


def _validation_details(exc: HTTPException) -> object:
    """Return the field problems a request parser attached to its error (webargs' `messages`)."""
    data = getattr(exc, "data", None)
    if not isinstance(data, dict):
        return None
    return data.get("messages") or data.get("errors")


def too_large_message() -> str:
    """Name the file (when the form's script put its name in the address) and the size limit."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    mb = format_decimal(limit / (1024 * 1024), format="#,##0.#")
    name = (request.args.get("file") or "").strip()[:200]
    if name:
        return str(_("“%(name)s” is too large: one upload may be at most %(mb)s MB. Nothing "
                     "was saved: send a smaller file, or split it.", name=name, mb=mb))
    return str(_("What you sent is too large: one upload may be at most %(mb)s MB. Nothing was "
                 "saved: send a smaller file, or split it.", mb=mb))


def handle_refusal(exc: Exception) -> Response:
    """A business rule refused the action: undo what the request started and say why, with its status."""
    from vendorcheck.extensions import db

    db.session.rollback()
    return render_error(getattr(exc, "status", 422), getattr(exc, "message", None) or str(exc),
                        links=tuple(getattr(exc, "links", ())), details=getattr(exc, "problems", None))


def database_unreachable(exc: BaseException) -> bool:
    """Tell whether a database error means the server is out of reach, rather than a bad statement."""
    if isinstance(exc, sa_exc.TimeoutError):  # no pooled connection came free in time
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        return exc.connection_invalidated or isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError)
    return False


def handle_database_error(exc: Exception) -> Response:
    """The database is out of reach: answer 503 with Retry-After; pool_pre_ping reconnects once it is back."""
    if not database_unreachable(exc):
        return handle_unexpected(exc)
    reason = getattr(exc, "orig", None) or exc
    log.error("database unavailable, answered 503: %s: %s", type(reason).__name__,
              str(reason).splitlines()[0] if str(reason) else "")
    _forget_database_state()
    return render_error(503, retry_after=RETRY_AFTER)


def _forget_database_state() -> None:
    """Drop the failed transaction and the half-loaded user: the error page must not query the database."""
    from vendorcheck.extensions import db, login_manager

    try:
        db.session.rollback()
    except Exception:  # the connection is gone: nothing to roll back, the pool replaces it later
        log.debug("rollback after a lost database connection failed", exc_info=True)
    if has_request_context():
        g._login_user = login_manager.anonymous_user()  # Flask-Login's slot: the menu must not load the user


def handle_csrf_error(exc: CSRFError) -> Response:
    """Explain a missing or stale CSRF token without losing the user's work silently."""
    return render_error(400, _("Your form expired or was sent from elsewhere (CSRF check failed). "
                               "Reload the page and try again; nothing was changed."))


def handle_unexpected(exc: Exception) -> Response:
    """Log the traceback with an incident id and show a generic page."""
    if isinstance(exc, HTTPException):
        return handle_http_error(exc)
    incident = secrets.token_hex(4)
    log.exception("unhandled error, incident %s", incident)
    return render_error(InternalServerError.code, incident=incident)


def handle_unicode_error(exc: UnicodeError) -> Response:
    """A lone surrogate or undecodable input is the client's mistake, not ours."""
    return render_error(400, _("The request contains invalid Unicode text."))


def handle_recursion_error(exc: RecursionError) -> Response:
    """Deeply nested JSON is refused rather than crashing the worker."""
    return render_error(400, _("The data is nested too deeply."))


def init_app(app: Flask) -> None:
    """Register the handlers."""
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(UnicodeError, handle_unicode_error)
    app.register_error_handler(RecursionError, handle_recursion_error)
    app.register_error_handler(sa_exc.DBAPIError, handle_database_error)
    app.register_error_handler(sa_exc.TimeoutError, handle_database_error)
    app.register_error_handler(Exception, handle_unexpected)


def abort_with(status: int, message: str) -> None:
    """Abort with `status` and show `message` to the user instead of the generic text."""
    from werkzeug.exceptions import default_exceptions

    exc = default_exceptions[status](description=message)
    exc.vendorcheck_message = True  # type: ignore[attr-defined]
    raise exc
