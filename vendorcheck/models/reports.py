"""Signed reports: stored decided-assessment reports and organisations' signing certificates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vendorcheck.extensions import db
from vendorcheck.models.accounts import Organisation, User
from vendorcheck.models.base import UTCDateTime, utcnow


class OrganisationCertificate(db.Model):
    """A buyer organisation's PKCS#12 signing certificate, encrypted with a key from SECRET_KEY."""

    __tablename__ = "organisation_certificate"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), unique=True
    )
    p12_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    passphrase_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    cert_pem: Mapped[str] = mapped_column(String(8000))
    subject: Mapped[str] = mapped_column(String(500))
    not_after: Mapped[datetime] = mapped_column(UTCDateTime)
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation] = relationship()
    uploaded_by: Mapped[User | None] = relationship()


class StoredReport(db.Model):
    """The signed report of a decided assessment, rendered once per locale and kept as bytes."""

    __tablename__ = "stored_report"
    __table_args__ = (UniqueConstraint("assessment_id", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("assessment.id", ondelete="CASCADE"), index=True
    )
    locale: Mapped[str] = mapped_column(String(5))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column()
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


class DraftReport(db.Model):
    """The signed draft report of an undecided assessment, kept while its inputs stay the same.

    `inputs_sha256` digests everything the draft shows (see services/reports.draft_inputs_sha256):
    a download whose inputs digest matches is served from the store without rendering. One draft
    per assessment and locale: a new render replaces the row and deletes the previous file.
    """

    __tablename__ = "draft_report"
    __table_args__ = (UniqueConstraint("assessment_id", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(5))
    inputs_sha256: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column()
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


__all__ = ["DraftReport", "OrganisationCertificate", "StoredReport"]
