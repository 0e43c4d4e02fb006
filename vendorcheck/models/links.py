"""Answer links: a per-contact link that opens one assessment without an account (issue 22).

Only the token's sha256 is stored. A link is live until its expiry (the due date plus a grace
period), its revocation by the buyer, or its replacement by a newer link (a reminder re-issues it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vendorcheck.extensions import db
from vendorcheck.models.accounts import Contact, User
from vendorcheck.models.assessments import Assessment
from vendorcheck.models.base import UTCDateTime, utcnow


class AnswerLink(db.Model):
    """One contact's link to answer one assessment, as the contact ("contact X via link")."""

    __tablename__ = "answer_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("assessment.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact.id", ondelete="SET NULL"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "revoked" (by the buyer) or "replaced" (a newer link was sent to the same contact)
    revoked_reason: Mapped[str | None] = mapped_column(String(16))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The one-time code of a sensitive assessment: its sha256, when it stops working, tries left.
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    code_attempts: Mapped[int] = mapped_column(Integer, default=0)

    assessment: Mapped[Assessment] = relationship()
    contact: Mapped[Contact | None] = relationship()
    created_by: Mapped[User | None] = relationship()

    @property
    def is_live(self) -> bool:
        """Tell whether the link is neither revoked, replaced nor expired (now)."""
        return self.revoked_at is None and self.expires_at > utcnow()


@dataclass(frozen=True)
class LinkHolder:
    """Whoever holds a live answer link: the contact it was sent to, for one assessment only."""

    link_id: int
    assessment_id: int
    email: str
    name: str
    buyer_org_id: int
    sensitive: bool

    id = None  # no account: rows that name a user (answers, attestation) name nobody
    is_authenticated = False
    locale = None
