"""Proposed sub-processor changes: announced first, in force for each buyer only at their date.

Art. 28(2) GDPR: under a general authorisation the processor informs the controller of an
intended change so that it can object; under a specific authorisation nothing changes for a
controller until it authorises. A proposal points to the immutable `DpaVersion` that lists the
new sub-processors; that version is in force only once the proposal is applied. See docs/dpa.md
("Proposed sub-processor changes").
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, exists, not_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vendorcheck.extensions import db
from vendorcheck.models.accounts import Organisation, User
from vendorcheck.models.base import UTCDateTime, utcnow
from vendorcheck.models.dpa import DpaProfile, DpaVersion

PENDING, APPLIED, WITHDRAWN = "pending", "applied", "withdrawn"
PROPOSAL_STATUSES = (PENDING, APPLIED, WITHDRAWN)
GENERAL, SPECIFIC = "general", "specific"
AUTHORISED, REFUSED = "authorised", "refused"
# What a change did for one buyer at its effective date.
MOVED = "moved"                          # the new version is in force for this buyer
KEPT_OBJECTED = "kept_objected"          # objected (general authorisation): previous version stays
KEPT_REFUSED = "kept_refused"            # refused (specific authorisation)
KEPT_NOT_AUTHORISED = "kept_not_authorised"  # no answer under specific authorisation
KEPT_OTHER_VERSION = "kept_other_version"    # was not on the version the change was based on
OUTCOME_RESULTS = (MOVED, KEPT_OBJECTED, KEPT_REFUSED, KEPT_NOT_AUTHORISED, KEPT_OTHER_VERSION)


class DpaChangeProposal(db.Model):
    """A vendor's announced change of sub-processors, and the version that will carry it."""

    __tablename__ = "dpa_change_proposal"

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(
        ForeignKey("dpa_profile.id", ondelete="CASCADE"), index=True
    )
    # Denormalised from the profile so vendor pages find their own proposals in one query.
    vendor_org_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    # The version that lists the proposed sub-processors (published with the announcement).
    version_id: Mapped[int] = mapped_column(
        ForeignKey("dpa_version.id", ondelete="CASCADE"), unique=True
    )
    # The version in force when the change was proposed: buyers on it may be moved.
    base_version_id: Mapped[int] = mapped_column(
        ForeignKey("dpa_version.id", ondelete="CASCADE"), index=True
    )
    # The authorisation model of the agreement in force (not of the proposed text).
    authorisation: Mapped[str] = mapped_column(String(10))
    notice_days: Mapped[int | None] = mapped_column()
    objection_days: Mapped[int] = mapped_column()
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    proposed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    status: Mapped[str] = mapped_column(String(12), default=PENDING, index=True)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)

    profile: Mapped[DpaProfile] = relationship()
    vendor_org: Mapped[Organisation] = relationship()
    version: Mapped[DpaVersion] = relationship(foreign_keys=[version_id])
    base_version: Mapped[DpaVersion] = relationship(foreign_keys=[base_version_id])
    proposed_by: Mapped[User | None] = relationship(foreign_keys=[proposed_by_id])
    withdrawn_by: Mapped[User | None] = relationship(foreign_keys=[withdrawn_by_id])

    @property
    def objection_deadline(self) -> datetime:
        """Return the end of the objection period (the same rule as every published version)."""
        return self.version.published_at + timedelta(days=self.objection_days)

    @property
    def is_pending(self) -> bool:
        """True while the change is announced and neither applied nor withdrawn."""
        return self.status == PENDING

    @property
    def is_specific(self) -> bool:
        """True when each buyer must authorise the change before it applies to it."""
        return self.authorisation == SPECIFIC


class DpaChangeConsent(db.Model):
    """A buyer's written decision on a proposed change under specific authorisation."""

    __tablename__ = "dpa_change_consent"
    __table_args__ = (UniqueConstraint("proposal_id", "buyer_org_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("dpa_change_proposal.id", ondelete="CASCADE"), index=True
    )
    buyer_org_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    decision: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    # Copied so the record still names the person if the account is deleted later.
    decided_by_name: Mapped[str] = mapped_column(String(200))
    decided_by_email: Mapped[str] = mapped_column(String(254))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # SHA-256 of the proposed version the decision was made on.
    version_sha256: Mapped[str] = mapped_column(String(64))

    proposal: Mapped[DpaChangeProposal] = relationship()
    buyer_org: Mapped[Organisation] = relationship()
    decided_by: Mapped[User | None] = relationship()


class DpaChangeOutcome(db.Model):
    """What an applied change did for one buyer: the version in force for it afterwards."""

    __tablename__ = "dpa_change_outcome"
    __table_args__ = (UniqueConstraint("proposal_id", "buyer_org_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("dpa_change_proposal.id", ondelete="CASCADE"), index=True
    )
    buyer_org_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    result: Mapped[str] = mapped_column(String(20))
    from_version_id: Mapped[int] = mapped_column(
        ForeignKey("dpa_version.id", ondelete="CASCADE")
    )
    version_id: Mapped[int] = mapped_column(
        ForeignKey("dpa_version.id", ondelete="CASCADE"), index=True
    )
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    proposal: Mapped[DpaChangeProposal] = relationship()
    buyer_org: Mapped[Organisation] = relationship()
    from_version: Mapped[DpaVersion] = relationship(foreign_keys=[from_version_id])
    version: Mapped[DpaVersion] = relationship(foreign_keys=[version_id])


def in_force_filter() -> Any:
    """SQL condition on DpaVersion: not the version of a pending or withdrawn proposal."""
    return not_(exists().where(DpaChangeProposal.version_id == DpaVersion.id,
                               DpaChangeProposal.status != APPLIED))


__all__ = [
    "APPLIED", "AUTHORISED", "GENERAL", "KEPT_NOT_AUTHORISED", "KEPT_OBJECTED",
    "KEPT_OTHER_VERSION", "KEPT_REFUSED", "MOVED", "OUTCOME_RESULTS", "PENDING",
    "PROPOSAL_STATUSES", "REFUSED", "SPECIFIC", "WITHDRAWN", "DpaChangeConsent",
    "DpaChangeOutcome", "DpaChangeProposal", "in_force_filter",
]
