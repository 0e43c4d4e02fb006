"""API tokens (personal or organisation, with a scope) and the stored results of idempotent creates."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vendorcheck.extensions import db
from vendorcheck.models.accounts import Organisation, User
from vendorcheck.models.base import UTCDateTime, enum_type, utcnow


class TokenScope(enum.StrEnum):
    """What a token may do: read ⊂ write ⊂ admin, never more than its user's role allows."""

    READ = "read"
    WRITE = "write"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """Return the scope's place in read < write < admin."""
        return list(TokenScope).index(self)


class TokenKind(enum.StrEnum):
    """A personal token is its owner's; an organisation token is managed by every admin."""

    PERSONAL = "personal"
    ORGANISATION = "organisation"


class ApiToken(db.Model):
    """A bearer token; only the sha256 of the secret is kept, the prefix identifies it in lists."""

    __tablename__ = "api_token"
    __table_args__ = (Index("ix_api_token_org_revoked", "organisation_id", "revoked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    kind: Mapped[TokenKind] = mapped_column(enum_type(TokenKind, "api_token_kind"))
    name: Mapped[str] = mapped_column(String(100))
    scope: Mapped[TokenScope] = mapped_column(enum_type(TokenScope, "api_token_scope"))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_ip: Mapped[str | None] = mapped_column(String(45))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
    organisation: Mapped[Organisation] = relationship()

    def state(self, now: datetime) -> str:
        """Return active, expired or revoked."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


class ApiIdempotency(db.Model):
    """The answer to a create sent with an Idempotency-Key, replayed when the same key comes back."""

    __tablename__ = "api_idempotency"
    __table_args__ = (UniqueConstraint("token_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_token.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    request_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column()
    body: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


__all__ = ["ApiIdempotency", "ApiToken", "TokenKind", "TokenScope"]
