"""Remediation: findings a buyer shares with the vendor as requests, and what each side did about them.

A request follows one finding of a decided assessment; every step (request, answer, waiver request,
acceptance, sending back, waiver) is an event with its author, text and, for the vendor's answers, an
optional evidence file. See docs/remediation.md.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vendorcheck.extensions import db
from vendorcheck.models.accounts import Contact, User
from vendorcheck.models.assessments import Assessment, FindingRecord
from vendorcheck.models.base import UTCDateTime, enum_type, utcnow


class RemediationState(enum.StrEnum):
    """Where a remediation request is: with the vendor, with the buyer, or settled."""

    REQUESTED = "requested"
    RESPONDED = "responded"
    WAIVER_REQUESTED = "waiver_requested"
    ACCEPTED = "accepted"
    WAIVED = "waived"


class RemediationAction(enum.StrEnum):
    """One step of a remediation request's history."""

    REQUESTED = "requested"
    RESPONDED = "responded"
    WAIVER_REQUESTED = "waiver_requested"
    ACCEPTED = "accepted"
    SENT_BACK = "sent_back"
    WAIVED = "waived"
    WAIVER_EXPIRED = "waiver_expired"


class RemediationRequest(db.Model):
    """A finding the buyer asked the vendor to fix, with a due date and the buyer's note."""

    __tablename__ = "remediation_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("assessment.id", ondelete="CASCADE"), index=True)
    finding_record_id: Mapped[int] = mapped_column(
        ForeignKey("finding_record.id", ondelete="CASCADE"), unique=True)
    state: Mapped[RemediationState] = mapped_column(
        enum_type(RemediationState, "remediation_state"), default=RemediationState.REQUESTED)
    due_date: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    waiver_expires: Mapped[date | None] = mapped_column(Date)
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # who follows it up on each side: a buyer member, and one of the contacts it was sent to
    # (none: every contact)
    buyer_owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    vendor_owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact.id", ondelete="SET NULL"))

    assessment: Mapped[Assessment] = relationship()
    finding: Mapped[FindingRecord] = relationship()
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    buyer_owner: Mapped[User | None] = relationship(foreign_keys=[buyer_owner_id])
    vendor_owner: Mapped[Contact | None] = relationship()
    events: Mapped[list[RemediationEvent]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="RemediationEvent.id")


class RemediationEvent(db.Model):
    """One step of a request: who did what, when, why, and the evidence file the vendor sent."""

    __tablename__ = "remediation_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("remediation_request.id", ondelete="CASCADE"), index=True)
    action: Mapped[RemediationAction] = mapped_column(
        enum_type(RemediationAction, "remediation_action"))
    side: Mapped[str] = mapped_column(String(10))  # buyer | vendor
    text: Mapped[str] = mapped_column(Text, default="")
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    file_name: Mapped[str | None] = mapped_column(String(200))
    storage_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    content_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column()
    sha256: Mapped[str | None] = mapped_column(String(64))

    request: Mapped[RemediationRequest] = relationship(back_populates="events")
    by: Mapped[User | None] = relationship()


__all__ = ["RemediationAction", "RemediationEvent", "RemediationRequest", "RemediationState"]
