"""Who relies on a published DPA: e-mail subscribers, accepting buyers, their objections, links.

See docs/dpa.md ("Subscriptions, acceptance and objections").
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vendorcheck.extensions import db
from vendorcheck.models.accounts import Organisation, User
from vendorcheck.models.base import UTCDateTime, utcnow
from vendorcheck.models.dpa import DpaVersion

# What a vendor may record as the outcome of an objection (Art. 28(2): the buyer objected).
OBJECTION_OUTCOMES = ("change_withdrawn", "alternative_offered", "contract_terminated",
                      "objection_withdrawn", "maintained")


class DpaSubscription(db.Model):
    """An e-mail address that asked for a vendor's sub-processor change notices (double opt-in)."""

    __tablename__ = "dpa_subscription"
    __table_args__ = (UniqueConstraint("vendor_org_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_org_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(5), default="en")
    # SHA-256 of the random part of the latest confirmation token (the token itself is e-mailed).
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    vendor_org: Mapped[Organisation] = relationship()

    @property
    def active(self) -> bool:
        """True when notices go to this address: confirmed and not unsubscribed."""
        return self.confirmed_at is not None and self.unsubscribed_at is None


class DpaAcceptance(db.Model):
    """A buyer organisation's click-to-accept of one DPA version, with its signed certificate."""

    __tablename__ = "dpa_acceptance"
    __table_args__ = (UniqueConstraint("buyer_org_id", "dpa_version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dpa_version_id: Mapped[int] = mapped_column(
        ForeignKey("dpa_version.id", ondelete="CASCADE"), index=True
    )
    buyer_org_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    signer_name: Mapped[str] = mapped_column(String(200))
    signer_role: Mapped[str] = mapped_column(String(200))
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Copy of DpaVersion.sha256 at acceptance: what the signer saw, even if rows were tampered with.
    version_sha256: Mapped[str] = mapped_column(String(64))
    certificate_storage_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    certificate_sha256: Mapped[str | None] = mapped_column(String(64), index=True)

    version: Mapped[DpaVersion] = relationship()
    buyer_org: Mapped[Organisation] = relationship()
    user: Mapped[User | None] = relationship()


class DpaObjection(db.Model):
    """A buyer's objection to a version's sub-processor change, and the vendor's answer."""

    __tablename__ = "dpa_objection"

    id: Mapped[int] = mapped_column(primary_key=True)
    dpa_version_id: Mapped[int] = mapped_column(
        ForeignKey("dpa_version.id", ondelete="CASCADE"), index=True
    )
    buyer_org_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    # Denormalised from the version so the vendor's list is one indexed query.
    vendor_org_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    raised_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    reasons: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    vendor_response: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(30))
    responded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    version: Mapped[DpaVersion] = relationship()
    buyer_org: Mapped[Organisation] = relationship(foreign_keys=[buyer_org_id])
    vendor_org: Mapped[Organisation] = relationship(foreign_keys=[vendor_org_id])
    raised_by: Mapped[User | None] = relationship(foreign_keys=[raised_by_id])
    responded_by: Mapped[User | None] = relationship(foreign_keys=[responded_by_id])


class AssessmentDpaLink(db.Model):
    """The DPA version a buyer attached to an assessment, shown to reviewers beside the answers."""

    __tablename__ = "assessment_dpa_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("assessment.id", ondelete="CASCADE"), unique=True
    )
    dpa_version_id: Mapped[int] = mapped_column(
        ForeignKey("dpa_version.id", ondelete="CASCADE"), index=True
    )
    attached_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    attached_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    version: Mapped[DpaVersion] = relationship()
    attached_by: Mapped[User | None] = relationship()


__all__ = ["OBJECTION_OUTCOMES", "AssessmentDpaLink", "DpaAcceptance", "DpaObjection",
           "DpaSubscription"]
