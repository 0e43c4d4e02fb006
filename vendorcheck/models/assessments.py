"""Assessments: what a buyer sends, what a vendor answers, and what the buyer decides.

See docs/assessment-model.md (the data contract).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Enum,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    inspect,
    select,
    text,
    true,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.orm.attributes import set_committed_value

from vendorcheck.extensions import db
from vendorcheck.models.accounts import Contact, Organisation, User, Vendor
from vendorcheck.models.base import UTCDateTime, utcnow


def _enum(cls: type[enum.Enum], name: str) -> Any:
    """Return a non-native Enum column storing values (long enough for every member)."""
    return Enum(
        cls, name=name, native_enum=False, length=32, validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
    )


class AssessmentStatus(enum.StrEnum):
    """Where an assessment is in its journey."""

    DRAFT = "draft"
    SENT = "sent"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    CLARIFICATION_REQUESTED = "clarification_requested"
    DECIDED = "decided"
    EXPIRED = "expired"
    CANCELLED = "cancelled"  # the buyer withdrew it before deciding (reason in cancel_reason)


# Statuses in which the vendor may still edit every answer.
EDITABLE_STATUSES = frozenset({AssessmentStatus.SENT, AssessmentStatus.IN_PROGRESS})


class Decision(enum.StrEnum):
    """The buyer's decision."""

    APPROVED = "approved"
    APPROVED_WITH_CONDITIONS = "approved_with_conditions"
    REJECTED = "rejected"


class FindingState(enum.StrEnum):
    """The life of a finding."""

    OPEN = "open"
    VENDOR_RESPONDED = "vendor_responded"
    ACCEPTED_RISK = "accepted_risk"
    REMEDIATED = "remediated"
    CLOSED = "closed"


class EvidenceReview(enum.StrEnum):
    """The buyer's review of one evidence file."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class ClarificationState(enum.StrEnum):
    """The life of a clarification request."""

    OPEN = "open"
    ANSWERED = "answered"
    CLOSED = "closed"


class Assessment(db.Model):
    """One questionnaire sent by a buyer organisation to one vendor, pinned to a version."""

    __tablename__ = "assessment"
    __table_args__ = (
        # The dashboard's history sorted on a column (services/assessments/dashboard.py, _history_page):
        # a page reads an index range in (column, id) order, never a sort of every assessment.
        Index("ix_assessment_buyer_status", "buyer_org_id", "status", "id"),
        *(Index(f"ix_assessment_buyer_{column}", "buyer_org_id", column, "id") for column in (
            "progress", "score", "open_findings", "due_date", "next_review_date", "sent_at")),
        Index("ix_assessment_buyer_tier", "buyer_org_id", "tier", "id"),  # filter, and sort by rank
        Index("ix_assessment_vendor", "vendor_id"),
        Index("ix_assessment_stale", "results_stale", "buyer_org_id"),
        # The API's keyset pages (vendorcheck/api/paging.py): one index range per page, never a sort of
        # all the buyer's assessments.
        Index("ix_assessment_buyer_id", "buyer_org_id", "id"),
        Index("ix_assessment_buyer_created", "buyer_org_id", "created_at", "id"),
        # At most one latest assessment per vendor (see _refresh_latest), and the dashboard's join
        # from a vendor to it.
        Index("ix_assessment_latest_vendor", "vendor_id", unique=True,
              postgresql_where=text("is_latest"), sqlite_where=text("is_latest")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id", ondelete="CASCADE"))
    questionnaire_id: Mapped[str] = mapped_column(String(80))
    questionnaire_version: Mapped[str] = mapped_column(String(20))
    questionnaire_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[AssessmentStatus] = mapped_column(
        _enum(AssessmentStatus, "assessment_status"), default=AssessmentStatus.DRAFT
    )
    due_date: Mapped[date | None] = mapped_column(Date)
    message: Mapped[str] = mapped_column(Text, default="")
    # Sensitive: a contact answering by link confirms a one-time code mailed to them first.
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    previous_id: Mapped[int | None] = mapped_column(
        ForeignKey("assessment.id", ondelete="SET NULL")
    )
    # Cached results. An autosave keeps progress and completeness current and only marks the
    # score, tier and findings stale; a background re-score brings them back (services.assessments
    # .results), so typing never pays for a full re-score. Pages show the last results and their age.
    score: Mapped[float | None] = mapped_column(Float)
    tier: Mapped[str | None] = mapped_column(String(40))
    completeness: Mapped[float] = mapped_column(Float, default=0.0)
    progress: Mapped[int] = mapped_column(default=0)
    open_findings: Mapped[int] = mapped_column(default=0)
    results_stale: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    results_computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: not known
    # Decision.
    decision: Mapped[Decision | None] = mapped_column(_enum(Decision, "decision"))
    decision_comment: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    next_review_date: Mapped[date | None] = mapped_column(Date)
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    # The vendor's latest assessment, the one its dashboard row shows: kept by _refresh_latest.
    is_latest: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    buyer_org: Mapped[Organisation] = relationship(foreign_keys=[buyer_org_id])
    vendor: Mapped[Vendor] = relationship(foreign_keys=[vendor_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    previous: Mapped[Assessment | None] = relationship(remote_side=[id])
    recipients: Mapped[list[AssessmentRecipient]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan"
    )
    answers: Mapped[list[Answer]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan"
    )
    evidence: Mapped[list[Evidence]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan", order_by="Evidence.id"
    )
    attestation: Mapped[Attestation | None] = relationship(
        back_populates="assessment", cascade="all, delete-orphan", uselist=False
    )
    clarifications: Mapped[list[Clarification]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan", order_by="Clarification.id"
    )
    overrides: Mapped[list[Override]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan", order_by="Override.id"
    )
    findings: Mapped[list[FindingRecord]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan", order_by="FindingRecord.id"
    )

    @property
    def vendor_org_id(self) -> int | None:
        """Return the vendor organisation that answers (None until the vendor has an account)."""
        return self.vendor.vendor_org_id if self.vendor is not None else None

    def __repr__(self) -> str:
        return f"<Assessment {self.id} {self.questionnaire_id}@{self.questionnaire_version}>"


def latest_of_vendor(vendor_id: Any) -> Any:
    """Return the SELECT of a vendor's latest assessment id: its newest one that is not cancelled,
    else its newest (a withdrawn re-assessment gives the row back to the one before)."""
    return (select(Assessment.id).where(Assessment.vendor_id == vendor_id)
            .order_by(Assessment.status == AssessmentStatus.CANCELLED, Assessment.id.desc()).limit(1))


def _changes_latest(target: Assessment) -> bool:
    """Tell whether an update can change which assessment is its vendor's latest (a cancellation)."""
    history = inspect(target).attrs.status.history
    return history.has_changes() and AssessmentStatus.CANCELLED in (*history.added, *history.deleted)


def _lock_vendor(connection: Any, vendor_id: int) -> None:
    """Lock the vendor's row until commit, before touching its assessments: two sends (or a send
    and a cancellation) for one vendor then take turns, and the second sees the first's row."""
    connection.execute(select(Vendor.id).where(Vendor.id == vendor_id).with_for_update())


def _refresh_latest(connection: Any, target: Assessment) -> None:
    """Flag the latest assessment of the target's vendor, and only it (one vendor's rows only)."""
    chosen = connection.scalar(latest_of_vendor(target.vendor_id))
    # Cleared before set: the unique partial index allows one flagged row at every moment.
    connection.execute(update(Assessment).where(
        Assessment.vendor_id == target.vendor_id, Assessment.is_latest,
        Assessment.id != chosen if chosen is not None else true()).values(is_latest=False))
    if chosen is not None:
        connection.execute(update(Assessment).where(Assessment.id == chosen,
                                                    Assessment.is_latest.is_(False))
                           .values(is_latest=True))
    if not inspect(target).deleted:
        set_committed_value(target, "is_latest", target.id == chosen)


@event.listens_for(Assessment, "before_insert")
def _before_insert(mapper: Any, connection: Any, target: Assessment) -> None:
    _lock_vendor(connection, target.vendor_id)


@event.listens_for(Assessment, "after_insert")
def _after_insert(mapper: Any, connection: Any, target: Assessment) -> None:
    _refresh_latest(connection, target)


@event.listens_for(Assessment, "before_update")
def _before_update(mapper: Any, connection: Any, target: Assessment) -> None:
    if _changes_latest(target):
        _lock_vendor(connection, target.vendor_id)


@event.listens_for(Assessment, "after_update")
def _after_update(mapper: Any, connection: Any, target: Assessment) -> None:
    if _changes_latest(target):
        _refresh_latest(connection, target)


@event.listens_for(Assessment, "after_delete")
def _after_delete(mapper: Any, connection: Any, target: Assessment) -> None:
    _refresh_latest(connection, target)  # the one before becomes the latest, if it was


class AssessmentRecipient(db.Model):
    """A vendor contact the assessment was sent to."""

    __tablename__ = "assessment_recipient"
    __table_args__ = (UniqueConstraint("assessment_id", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("assessment.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"))

    assessment: Mapped[Assessment] = relationship(back_populates="recipients")
    contact: Mapped[Contact] = relationship()


class Answer(db.Model):
    """One item's answer; `version` guards against lost updates (optimistic locking)."""

    __tablename__ = "answer"
    __table_args__ = (UniqueConstraint("assessment_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(64))
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    justification: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(nullable=False)
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    needs_reconfirmation: Mapped[bool] = mapped_column(Boolean, default=False)

    assessment: Mapped[Assessment] = relationship(back_populates="answers")
    updated_by: Mapped[User | None] = relationship()

    __mapper_args__ = {"version_id_col": version}


class AutosaveReceipt(db.Model):
    """The result of one autosave request, so a replayed request_id returns the same answer."""

    __tablename__ = "autosave_receipt"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("assessment.id", ondelete="CASCADE"), index=True
    )
    request_id: Mapped[str] = mapped_column(String(64), unique=True)
    item_id: Mapped[str] = mapped_column(String(64))
    answer_version: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Evidence(db.Model):
    """An uploaded file; stored under a random key outside static, never under its own name."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("assessment.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(200))
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What the document itself says (a certificate's validity, a signed DPA's term), set by the
    # vendor; separate from the upload time. Expiry drives renewal reminders and findings.
    effective_on: Mapped[date | None] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date, index=True)
    review_state: Mapped[EvidenceReview] = mapped_column(
        _enum(EvidenceReview, "evidence_review"), default=EvidenceReview.PENDING
    )
    review_comment: Mapped[str | None] = mapped_column(Text)
    # Set when the file came with the vendor's answer to a buyer's clarification (shown with it).
    clarification_id: Mapped[int | None] = mapped_column(
        ForeignKey("clarification.id", ondelete="SET NULL"), index=True
    )

    assessment: Mapped[Assessment] = relationship(back_populates="evidence")
    uploaded_by: Mapped[User | None] = relationship()


class Attestation(db.Model):
    """Who submitted the answers, in which role, with which statement."""

    __tablename__ = "attestation"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("assessment.id", ondelete="CASCADE"), unique=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(200))
    statement: Mapped[str] = mapped_column(Text)
    attested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    assessment: Mapped[Assessment] = relationship(back_populates="attestation")
    user: Mapped[User | None] = relationship()


class Clarification(db.Model):
    """A buyer's question about one item, and the vendor's answer."""

    __tablename__ = "clarification"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("assessment.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[str] = mapped_column(String(64))
    question: Mapped[str] = mapped_column(Text)
    asked_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[ClarificationState] = mapped_column(
        _enum(ClarificationState, "clarification_state"), default=ClarificationState.OPEN
    )

    assessment: Mapped[Assessment] = relationship(back_populates="clarifications")
    asked_by: Mapped[User | None] = relationship(foreign_keys=[asked_by_id])
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])
    files: Mapped[list[Evidence]] = relationship(order_by="Evidence.id", viewonly=True)


class Override(db.Model):
    """A reviewer's change to computed points or a finding's severity (buyer-only)."""

    __tablename__ = "override"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("assessment.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))  # item_points | finding_severity
    target: Mapped[str] = mapped_column(String(64))
    computed_value: Mapped[str] = mapped_column(String(64))
    new_value: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    assessment: Mapped[Assessment] = relationship(back_populates="overrides")
    by: Mapped[User | None] = relationship()


class FindingRecord(db.Model):
    """A finding of one assessment: computed by the engine or added by hand, with its state."""

    __tablename__ = "finding_record"
    __table_args__ = (UniqueConstraint("assessment_id", "finding_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id", ondelete="CASCADE"))
    finding_id: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(20), default="computed")  # computed | manual
    severity: Mapped[str] = mapped_column(String(20))
    title: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    refs: Mapped[list[str]] = mapped_column(JSON, default=list)
    remediation: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    state: Mapped[FindingState] = mapped_column(
        _enum(FindingState, "finding_state"), default=FindingState.OPEN
    )
    due_date: Mapped[date | None] = mapped_column(Date)
    comment: Mapped[str | None] = mapped_column(Text)
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    assessment: Mapped[Assessment] = relationship(back_populates="findings")
    updated_by: Mapped[User | None] = relationship()


__all__ = [
    "EDITABLE_STATUSES", "Answer", "Assessment", "AssessmentRecipient", "AssessmentStatus",
    "Attestation", "AutosaveReceipt", "Clarification", "ClarificationState", "Decision",
    "Evidence", "EvidenceReview", "FindingRecord", "FindingState", "Override",
]
