"""API tokens: create (the secret is shown once), list, revoke, and authenticate a bearer token.

A token acts as its user in its organisation: the role the user holds there now, narrowed by the
token's scope (read < write < admin). A token whose user left the organisation stops working.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from vendorcheck import audit
from vendorcheck.extensions import db
from vendorcheck.models import Membership, Organisation, Role, User, utcnow
from vendorcheck.models.api_tokens import ApiIdempotency, ApiToken, TokenKind, TokenScope
from vendorcheck.services.errors import DomainError, ValidationFailed

TOKEN_PREFIX = "vc_"  # noqa: S105 - how a token starts, not a secret
MAX_EXPIRY_DAYS = 3650
TOUCH_EVERY = timedelta(minutes=1)  # last-used time and address are written at most this often


class TokenRefused(DomainError):
    """The bearer token is missing, unknown, expired or revoked (401)."""

    status = 401
    default = _l("A valid API token is required (Authorization: Bearer …).")


class TokenNotFound(DomainError):
    status = 404
    default = _l("This token does not exist.")


@dataclass(frozen=True)
class Issued:
    """A new token and its secret, which is shown once and never stored."""

    token: ApiToken
    secret: str


def hash_token(secret: str) -> str:
    """Return the sha256 kept for a token's secret."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def _membership(user: User, org: Organisation) -> Membership | None:
    return db.session.scalar(select(Membership).where(
        Membership.user_id == user.id, Membership.organisation_id == org.id))


def create_token(user: User, org: Organisation, *, name: str, scope: TokenScope,
                 kind: TokenKind = TokenKind.PERSONAL, expires_in_days: int | None = None,
                 by: User) -> Issued:
    """Issue a token for a member of an organisation; an organisation token needs an admin."""
    membership = _membership(user, org)
    if membership is None:
        raise ValidationFailed(_l("This person is not a member of the organisation."))
    if kind is TokenKind.ORGANISATION and membership.role is not Role.ADMIN:
        raise ValidationFailed(_l("Only an administrator can create an organisation token."))
    name = (name or "").strip()[:100]
    if not name:
        raise ValidationFailed(_l("Give the token a name, so you recognise it later."))
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
        raise ValidationFailed(_l("A token expires after 1 to %(max)s days.", max=MAX_EXPIRY_DAYS))
    prefix = secrets.token_hex(4)
    secret = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    expires = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    token = ApiToken(user_id=user.id, organisation_id=org.id, kind=kind, name=name, scope=scope,
                     prefix=prefix, token_hash=hash_token(secret), expires_at=expires)
    db.session.add(token)
    db.session.flush()
    audit.record("api_token_created", by=by, org=org, obj=token, details={
        "name": name, "scope": scope.value, "kind": kind.value, "prefix": prefix,
        "expires_at": expires.isoformat() if expires else None, "user_id": user.id})
    db.session.commit()
    return Issued(token, secret)


def visible_tokens(user: User, org: Organisation) -> list[ApiToken]:
    """Return the user's own tokens, and the organisation's tokens when the user is its admin."""
    membership = _membership(user, org)
    query = select(ApiToken).where(ApiToken.organisation_id == org.id)
    if membership is None or membership.role is not Role.ADMIN:
        query = query.where(ApiToken.user_id == user.id)
    else:
        query = query.where(or_(ApiToken.user_id == user.id, ApiToken.kind == TokenKind.ORGANISATION))
    return list(db.session.scalars(query.order_by(ApiToken.revoked_at.is_not(None),
                                                  ApiToken.created_at.desc(), ApiToken.id.desc())))


def all_tokens(email: str | None = None) -> list[ApiToken]:
    """Return every token (the command line), optionally of one user."""
    query = select(ApiToken).join(ApiToken.user)
    if email:
        query = query.where(User.email == email.strip().lower())
    return list(db.session.scalars(query.order_by(ApiToken.id)))


def find_visible(token_id: int, user: User, org: Organisation) -> ApiToken:
    """Return a token the user may manage in this organisation, or raise TokenNotFound."""
    token = next((t for t in visible_tokens(user, org) if t.id == token_id), None)
    if token is None:
        raise TokenNotFound()
    return token


def revoke_token(token: ApiToken, *, by: User | None) -> ApiToken:
    """Revoke a token at once (a second revocation changes nothing)."""
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record("api_token_revoked", by=by, org=token.organisation_id, obj=token,
                     details={"prefix": token.prefix, "name": token.name})
        db.session.commit()
    return token


def authenticate(secret: str, ip: str | None, now: datetime | None = None) -> tuple[ApiToken, Membership]:
    """Return the live token and its user's membership, or raise TokenRefused (401)."""
    now = now or utcnow()
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        raise TokenRefused()
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
    if token is None:
        raise TokenRefused()
    if token.state(now) != "active":
        raise TokenRefused(_l("This API token has expired or was revoked."))
    membership = db.session.scalar(
        select(Membership).join(Membership.user).where(
            Membership.user_id == token.user_id, Membership.organisation_id == token.organisation_id,
            User.is_active.is_(True)))
    if membership is None:
        raise TokenRefused(_l("The owner of this API token is no longer a member of its organisation."))
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY or token.last_used_ip != ip:
        _touch(token, now, ip)
    return token, membership


def _touch(token: ApiToken, now: datetime, ip: str | None) -> None:
    """Write the token's last use in its own short transaction: the request's session keeps what it loaded."""
    address = (ip or "")[:45] or None
    with db.engine.begin() as conn:
        conn.execute(ApiToken.__table__.update().where(ApiToken.__table__.c.id == token.id)
                     .values(last_used_at=now, last_used_ip=address))
    token.last_used_at, token.last_used_ip = now, address
    db.session.expunge(token)  # the row changed behind the session: never flush this copy back


# --- idempotent creates ----------------------------------------------------------------------------


class KeyReused(DomainError):
    status = 422
    default = _l("This Idempotency-Key was already used for a different request.")


def stored_answer(token: ApiToken, key: str, request_sha256: str) -> ApiIdempotency | None:
    """Return the stored answer to an earlier create with this key, or None; another request → 422."""
    row = db.session.scalar(select(ApiIdempotency).where(
        ApiIdempotency.token_id == token.id, ApiIdempotency.key == key))
    if row is not None and row.request_sha256 != request_sha256:
        raise KeyReused()
    return row


def remember_answer(token: ApiToken, key: str, request_sha256: str, status: int, body: Any) -> None:
    """Keep a create's answer under its key (a key raced by a twin request keeps the first)."""
    db.session.add(ApiIdempotency(token_id=token.id, key=key, request_sha256=request_sha256,
                                  status=status, body=body))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
