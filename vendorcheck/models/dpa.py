"""Publishable data processing agreements: a vendor's DPA profile, its immutable versions and PDFs.

See docs/dpa.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vendorcheck.extensions import db
from vendorcheck.models.accounts import Organisation, User
from vendorcheck.models.base import UTCDateTime, utcnow

# A public slug: lower-case letters, digits and hyphens, 3 to 80 characters.
SLUG_PATTERN = r"[a-z0-9-]{3,80}"
DEFAULT_OBJECTION_DAYS = 30


class DpaProfile(db.Model):
    """A vendor organisation's DPA: its public slug, its current draft and its settings."""

    __tablename__ = "dpa_profile"

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_org_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), unique=True
    )
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    # The self-assessment of the dpa-questionnaire the vendor is editing (see docs/dpa.md).
    draft_assessment_id: Mapped[int | None] = mapped_column(
        ForeignKey("assessment.id", ondelete="SET NULL")
    )
    objection_days: Mapped[int] = mapped_column(default=DEFAULT_OBJECTION_DAYS)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    vendor_org: Mapped[Organisation] = relationship()
    versions: Mapped[list[DpaVersion]] = relationship(
        back_populates="profile", order_by="DpaVersion.number"
    )


class DpaVersion(db.Model):
    """One published, immutable version of a vendor's DPA (never updated once written)."""

    __tablename__ = "dpa_version"
    __table_args__ = (UniqueConstraint("profile_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(
        ForeignKey("dpa_profile.id", ondelete="CASCADE"), index=True
    )
    vendor_org_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column()
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    # SHA-256 of the canonical JSON of `content` (vendorcheck.agreement.assemble.content_sha256).
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    questionnaire_id: Mapped[str] = mapped_column(String(80))
    questionnaire_version: Mapped[str] = mapped_column(String(20))
    questionnaire_sha256: Mapped[str] = mapped_column(String(64))
    objection_days: Mapped[int] = mapped_column()

    profile: Mapped[DpaProfile] = relationship(back_populates="versions")
    vendor_org: Mapped[Organisation] = relationship()
    published_by: Mapped[User | None] = relationship()


class DpaPdf(db.Model):
    """The signed PDF of one DPA version in one locale, rendered once and kept as bytes."""

    __tablename__ = "dpa_pdf"
    __table_args__ = (UniqueConstraint("version_id", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("dpa_version.id", ondelete="CASCADE"), index=True
    )
    locale: Mapped[str] = mapped_column(String(5))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column()
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    version: Mapped[DpaVersion] = relationship()


class DpaAcceptanceParty(db.Model):
    """The controller's part of Annex I, given by the buyer when it accepted a DPA version.

    A published version cannot name its future controllers; each accepted copy is completed with
    the identity and contact details recorded here (one row per acceptance).
    """

    __tablename__ = "dpa_acceptance_party"

    id: Mapped[int] = mapped_column(primary_key=True)
    acceptance_id: Mapped[int] = mapped_column(
        ForeignKey("dpa_acceptance.id", ondelete="CASCADE"), unique=True
    )
    legal_name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300))
    contact_name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str] = mapped_column(String(254))
    dpo: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


__all__ = ["DEFAULT_OBJECTION_DAYS", "SLUG_PATTERN", "DpaAcceptanceParty", "DpaPdf", "DpaProfile",
           "DpaVersion"]
