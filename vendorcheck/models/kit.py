"""The vendor's compliance kit: controllers of its processor register and the register's versions.

See docs/compliance-kit.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vendorcheck.extensions import db
from vendorcheck.models.accounts import Organisation, User
from vendorcheck.models.base import UTCDateTime, utcnow


class KitController(db.Model):
    """A controller of the processor register the vendor added or edited by hand.

    `buyer_org_id` is set when the row completes (or removes) a controller vendorcheck found among
    the buyers the vendor works with. A removed controller keeps its row (`removed_at`), and the
    register versions that listed it are kept too.
    """

    __tablename__ = "kit_controller"

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_org_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    buyer_org_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300), default="")
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    dpo: Mapped[str] = mapped_column(String(300), default="")
    eu_representative: Mapped[str] = mapped_column(String(300), default="")
    categories: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    vendor_org: Mapped[Organisation] = relationship(foreign_keys=[vendor_org_id])


class RegisterVersion(db.Model):
    """One dated version of a vendor's processor register (Art. 30(2)); never updated."""

    __tablename__ = "register_version"
    __table_args__ = (UniqueConstraint("vendor_org_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_org_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    sha256: Mapped[str] = mapped_column(String(64))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)

    vendor_org: Mapped[Organisation] = relationship()
    created_by: Mapped[User | None] = relationship()


class CharterVersion(db.Model):
    """One published version of a vendor's GDPR charter; never updated (like a DPA version)."""

    __tablename__ = "charter_version"
    __table_args__ = (UniqueConstraint("vendor_org_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_org_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)

    vendor_org: Mapped[Organisation] = relationship()


class AssessmentCharterLink(db.Model):
    """The vendor's published charter version a buyer attached to an assessment as evidence."""

    __tablename__ = "assessment_charter_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("assessment.id", ondelete="CASCADE"), unique=True)
    charter_version_id: Mapped[int] = mapped_column(
        ForeignKey("charter_version.id", ondelete="CASCADE"), index=True)
    attached_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    attached_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    version: Mapped[CharterVersion] = relationship()
    attached_by: Mapped[User | None] = relationship()


__all__ = ["AssessmentCharterLink", "CharterVersion", "KitController", "RegisterVersion"]
