"""Organisations, users, memberships, vendors, contacts, invitations and reset tokens."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import cast

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vendorcheck.extensions import db
from vendorcheck.models.base import UTCDateTime, enum_type, utcnow


class Role(enum.StrEnum):
    """A member's role in one organisation."""

    ADMIN = "admin"
    ASSESSOR = "assessor"
    LEGAL = "legal"
    CONTRIBUTOR = "contributor"


BUYER_ROLES = frozenset({Role.ADMIN, Role.ASSESSOR, Role.LEGAL})
VENDOR_ROLES = frozenset({Role.ADMIN, Role.CONTRIBUTOR})


class Criticality(enum.StrEnum):
    """How much the buyer depends on a vendor."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class InvitationKind(enum.StrEnum):
    """What accepting an invitation does."""

    VENDOR_CONTACT = "vendor_contact"
    COLLEAGUE = "colleague"


class Organisation(db.Model):
    """A company: a buyer (controller), a vendor (processor), or both."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(220), unique=True)
    country: Mapped[str | None] = mapped_column(String(2))
    is_buyer: Mapped[bool] = mapped_column(Boolean, default=False)
    is_vendor: Mapped[bool] = mapped_column(Boolean, default=False)
    # Members without a second factor must enrol one at their next login (docs/security.md, MFA).
    mfa_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.slug}>"


class User(db.Model):
    """A person who logs in; belongs to organisations through memberships."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    locale: Mapped[str] = mapped_column(String(5), default="en")
    # The IANA time zone the user chose in the profile; None follows the browser (cookie `tz`).
    timezone: Mapped[str | None] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    session_epoch: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    # Flask-Login protocol. The id the cookies carry names a server-side session (vendorcheck/sessions.py),
    # set here by whoever started or loaded it; it is not a column. session_epoch is no longer read.
    is_authenticated = True
    is_anonymous = False
    session_cookie_id = cast("str | None", None)  # a plain attribute (set per request), not a column

    def get_id(self) -> str:
        """Return what the cookies carry: `user_id:secret` of this login's server-side session."""
        if not self.session_cookie_id:
            raise RuntimeError("start a server-side session (services.sessions.start) before login_user")
        return self.session_cookie_id

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class Membership(db.Model):
    """A user's role in one organisation."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[Role] = mapped_column(enum_type(Role, "role"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation] = relationship(back_populates="memberships")


class Vendor(db.Model):
    """A supplier record kept by a buyer organisation."""

    __tablename__ = "vendor"
    __table_args__ = (
        # The dashboard's default order (services/assessments/dashboard.py): a page of 25 reads 25
        # index entries, however many vendors the buyer has.
        Index("ix_vendor_buyer_name", "buyer_org_id", text("lower(legal_name)"), "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_org_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    legal_name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2))
    website: Mapped[str | None] = mapped_column(String(500))
    services: Mapped[str] = mapped_column(Text, default="")
    data_categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    criticality: Mapped[Criticality] = mapped_column(
        enum_type(Criticality, "criticality"), default=Criticality.MEDIUM
    )
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    vendor_org_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Archived, not deleted: its assessments, evidence, reports and audit trail are legal records.
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    archived_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))

    buyer_org: Mapped[Organisation] = relationship(foreign_keys=[buyer_org_id])
    vendor_org: Mapped[Organisation | None] = relationship(foreign_keys=[vendor_org_id])
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    archived_by: Mapped[User | None] = relationship(foreign_keys=[archived_by_id])
    contacts: Mapped[list[Contact]] = relationship(
        back_populates="vendor", cascade="all, delete-orphan", order_by="Contact.id"
    )


class Contact(db.Model):
    """A person at a vendor whom the buyer invites."""

    __tablename__ = "contact"
    __table_args__ = (UniqueConstraint("vendor_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    # The language to write to them in when they have no account (None: from the vendor's country).
    language: Mapped[str | None] = mapped_column(String(8))
    # Their role at the vendor, in words ("Data protection officer").
    role: Mapped[str] = mapped_column(String(200), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    vendor: Mapped[Vendor] = relationship(back_populates="contacts")


class Invitation(db.Model):
    """A single-use, expiring link bound to one e-mail address; only the token's sha256 is kept."""

    __tablename__ = "invitation"
    __table_args__ = (Index("ix_invitation_org_email", "organisation_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[InvitationKind] = mapped_column(enum_type(InvitationKind, "invitation_kind"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    vendor_id: Mapped[int | None] = mapped_column(ForeignKey("vendor.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[Role] = mapped_column(enum_type(Role, "role"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    invited_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )

    organisation: Mapped[Organisation] = relationship()
    vendor: Mapped[Vendor | None] = relationship()
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])

    @property
    def state(self) -> str:
        """Return pending, accepted, revoked or expired."""
        if self.used_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= utcnow():
            return "expired"
        return "pending"


class PasswordResetToken(db.Model):
    """A single-use password reset link (one hour); only the token's sha256 is kept."""

    __tablename__ = "password_reset_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


__all__ = [
    "BUYER_ROLES", "VENDOR_ROLES", "Contact", "Criticality", "Invitation", "InvitationKind",
    "Membership", "Organisation", "PasswordResetToken", "Role", "User", "Vendor",
]
