"""API tokens and the requests that carry them. Call inside an app context."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from vendorcheck.extensions import db
from vendorcheck.models import Organisation, User, utcnow
from vendorcheck.models.api_tokens import ApiToken, TokenKind, TokenScope
from vendorcheck.services import api_tokens


def make_token(user: User, org: Organisation, scope: str = "write", *, kind: str = "personal",
               expired: bool = False, revoked: bool = False, name: str = "Test token") -> str:
    """Issue a token for a member and return its secret (expired or revoked on demand)."""
    user = db.session.get_one(User, user.id)
    org = db.session.get_one(Organisation, org.id)
    issued = api_tokens.create_token(user, org, name=name, scope=TokenScope(scope), kind=TokenKind(kind),
                                     by=user)
    token = db.session.get_one(ApiToken, issued.token.id)
    if expired:
        token.expires_at = utcnow() - timedelta(minutes=1)
    if revoked:
        token.revoked_at = utcnow()
    db.session.commit()
    return issued.secret


def token_for(world: object, actor: str, scope: str = "write") -> str:
    """Issue a token for an actor of the two-tenant world ("a.admin", "b.vendor") in its organisation."""
    user, org = world.user(actor), world.org_of(actor)  # type: ignore[attr-defined]
    return make_token(user, org, scope)


def bearer(secret: str) -> dict[str, str]:
    """Return the Authorization header for a token."""
    return {"Authorization": f"Bearer {secret}"}


def token_id(secret: str) -> int:
    """Return a token's id from its secret."""
    found = db.session.scalar(select(ApiToken.id).where(ApiToken.token_hash == api_tokens.hash_token(secret)))
    assert found is not None
    return found


__all__ = ["bearer", "make_token", "token_for", "token_id"]
