"""Bearer-token authentication and access for every API route.

The API accepts only `Authorization: Bearer <token>`: a browser's session cookie is never read, so a
page on another site cannot make a logged-in browser call the API, and the API needs no CSRF token.
A token acts as its user's membership in its organisation; its scope narrows what that role may do.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import g, request

from vendorcheck.access import PERMISSIONS, can, deny
from vendorcheck.errors import abort_with
from vendorcheck.models import Membership, User
from vendorcheck.models.api_tokens import ApiToken, TokenScope
from vendorcheck.services import api_tokens
from vendorcheck.services.api_tokens import TokenRefused

F = TypeVar("F", bound=Callable[..., Any])

READ, WRITE, ADMIN = TokenScope.READ, TokenScope.WRITE, TokenScope.ADMIN


def bearer() -> str | None:
    """Return the bearer token the request carries, if any."""
    header = request.headers.get("Authorization", "")
    kind, _sep, value = header.partition(" ")
    return value.strip() if kind.lower() == "bearer" and value.strip() else None


def rate_key() -> str:
    """Key the rate limit by token (its digest), or by address when there is none."""
    secret = bearer()
    if secret:
        return "api-token:" + hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return "api-ip:" + (request.remote_addr or "")


def authenticate_request() -> None:
    """Before every API request: find the token's user and membership, or answer 401."""
    secret = bearer()
    if request.method == "OPTIONS":
        return
    try:
        if secret is None:
            raise TokenRefused()
        token, membership = api_tokens.authenticate(secret, request.remote_addr)
    except TokenRefused as exc:
        abort_with(401, exc.message)
        return
    g.api_token, g.api_token_id = token, token.id
    g.membership = membership  # what access.current_membership() answers for this request
    g._login_user = membership.user  # Flask-Login's slot: current_user is the token's user


def current_user_of_token() -> User:
    """Return the user a request's token acts as (the acting user services take as `by=`)."""
    return cast(Membership, g.membership).user


def current_token() -> ApiToken:
    """Return the token of the request (authenticate_request guarantees there is one)."""
    return cast(ApiToken, g.api_token)


def allows(permission: str, scope: TokenScope) -> Callable[[F], F]:
    """Decorate an API view: the token's scope must reach `scope`, its user's role `permission` (403)."""
    if permission not in PERMISSIONS:
        raise KeyError(permission)

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_token().scope.rank < scope.rank:
                deny(403, f"scope:{scope.value}")
            if not can(g.membership, permission):
                deny(403, permission)
            return view(*args, **kwargs)

        wrapped._api_access = (permission, scope)  # type: ignore[attr-defined]
        return cast(F, wrapped)

    return decorator
