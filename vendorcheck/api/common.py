"""What every API blueprint shares: bearer tokens, no CSRF, a rate limit per token, idempotent creates."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Response, current_app, jsonify, request
from flask_babel import gettext as _
from flask_smorest import Blueprint

from vendorcheck.api.auth import authenticate_request, current_token, rate_key
from vendorcheck.errors import abort_with
from vendorcheck.extensions import csrf, limiter
from vendorcheck.services import api_tokens

F = TypeVar("F", bound=Callable[..., Any])

PREFIX = "/api/v1"
MAX_KEY = 200
IDEMPOTENCY_DOC = {
    "in": "header", "name": "Idempotency-Key", "required": False,
    "schema": {"type": "string", "maxLength": MAX_KEY},
    "description": "Send the same key again (after a timeout) to get the first answer instead of a second "
                   "create; the same key with another body answers 422.",
}


def api_limit() -> str:
    """Return the per-token rate limit (API_RATE_LIMIT, e.g. "600 per minute")."""
    return str(current_app.config.get("API_RATE_LIMIT", "600 per minute"))


def api_blueprint(name: str, url_prefix: str, description: str) -> Blueprint:
    """Make a blueprint of the API: bearer tokens only (so no CSRF), rate limited per token."""
    blp = Blueprint(f"api_{name}", __name__, url_prefix=PREFIX + url_prefix, description=description)
    blp.before_request(authenticate_request)
    csrf.exempt(blp)
    limiter.limit(api_limit, key_func=rate_key)(blp)
    return blp


def _request_digest() -> str:
    """Return the sha256 of what a create asked for (path and body).

    A multipart body counts by its fields and files: its boundary changes at every send, a retry's too.
    """
    digest = hashlib.sha256(request.path.encode() + b"\n")
    if request.mimetype != "multipart/form-data":
        digest.update(request.get_data())
        return digest.hexdigest()
    for name, value in sorted(request.form.items(multi=True)):
        digest.update(f"{len(name)}:{name}{len(value)}:{value}".encode())
    for name, upload in sorted(request.files.items(multi=True), key=lambda pair: pair[0]):
        content = upload.stream.read()
        upload.stream.seek(0)
        digest.update(f"{len(name)}:{name}{len(upload.filename or '')}:{upload.filename or ''}"
                      f"{len(content)}:".encode() + content)
    return digest.hexdigest()


def idempotent(view: F) -> F:
    """Decorate a create: a repeated Idempotency-Key returns the first answer instead of creating twice."""
    return idempotent_forgetting()(view)


def idempotent_forgetting(*secret_fields: str) -> Callable[[F], F]:
    """Like `idempotent`, but the stored answer keeps `secret_fields` as null (a secret is shown once)."""
    return functools.partial(_idempotent, forget=secret_fields)  # type: ignore[return-value]


def _idempotent(view: F, forget: tuple[str, ...]) -> F:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view(*args, **kwargs)
        if not key.strip() or len(key) > MAX_KEY or not key.isprintable():
            abort_with(400, _("An Idempotency-Key is 1 to %(max)s printable characters.", max=MAX_KEY))
        token, digest = current_token(), _request_digest()
        stored = api_tokens.stored_answer(token, key, digest)
        if stored is not None:
            response = jsonify(stored.body)
            response.status_code = stored.status
            response.headers["Idempotent-Replayed"] = "true"
            return response
        response = cast(Response, current_app.make_response(view(*args, **kwargs)))
        if 200 <= response.status_code < 300 and response.is_json:
            body = response.get_json()
            kept = {**body, **dict.fromkeys(forget)} if forget and isinstance(body, dict) else body
            api_tokens.remember_answer(token, key, digest, response.status_code, kept)
        return response

    return cast(F, wrapped)
