"""The append-only audit log; rows chain by hash, one chain per organisation, and the ORM refuses
to change them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from vendorcheck.extensions import db
from vendorcheck.models.base import UTCDateTime, utcnow


class AuditLogImmutable(RuntimeError):
    """Raised when code tries to update or delete an audit entry."""


SYSTEM_CHAIN = 0  # the chain of entries without an organisation (and of the entries before chains)


class AuditEntry(db.Model):
    """One state change: who, where, what, when; hash = sha256(prev_hash + canonical entry).

    `chain_id` is the organisation's id (SYSTEM_CHAIN without one) and `seq` the position in that
    chain, 1, 2, 3…: organisations append without waiting on each other.
    """

    __tablename__ = "audit_entry"
    __table_args__ = (UniqueConstraint("chain_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chain_id: Mapped[int] = mapped_column(Integer, default=SYSTEM_CHAIN, server_default="0")
    seq: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(index=True)  # no FK: the log outlives accounts
    user_email: Mapped[str | None] = mapped_column(String(254))
    organisation_id: Mapped[int | None] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(40))
    ip: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(db.Model):
    """The newest (seq, hash) of one chain: the row appends lock, so only that chain waits."""

    __tablename__ = "audit_chain_head"

    chain_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


@event.listens_for(AuditEntry, "before_update")
def _refuse_update(mapper: Any, connection: Any, target: AuditEntry) -> None:
    raise AuditLogImmutable(f"audit entry {target.seq} is append-only")


@event.listens_for(AuditEntry, "before_delete")
def _refuse_delete(mapper: Any, connection: Any, target: AuditEntry) -> None:
    raise AuditLogImmutable(f"audit entry {target.seq} is append-only")
