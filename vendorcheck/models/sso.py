"""Single sign-on: an organisation's identity provider (OpenID Connect or SAML) and SAML replays seen."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vendorcheck.extensions import db
from vendorcheck.models.accounts import Organisation, Role, User
from vendorcheck.models.base import UTCDateTime, enum_type, utcnow


class SsoProtocol(enum.StrEnum):
    """How the organisation's identity provider speaks."""

    OIDC = "oidc"
    SAML = "saml"


class SsoConfig(db.Model):
    """One organisation's identity provider and its sign-in rules (one per organisation)."""

    __tablename__ = "sso_config"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), unique=True)
    protocol: Mapped[SsoProtocol] = mapped_column(enum_type(SsoProtocol, "sso_protocol"))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Lower-case e-mail domains whose addresses sign in here; one domain belongs to one organisation.
    allowed_domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The claim (OIDC) or attribute (SAML) holding group or role values, and value -> role.
    role_claim: Mapped[str] = mapped_column(String(200), default="")
    role_map: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    default_role: Mapped[Role] = mapped_column(enum_type(Role, "role"), default=Role.ASSESSOR)
    jit_provisioning: Mapped[bool] = mapped_column(Boolean, default=False)
    sso_required: Mapped[bool] = mapped_column(Boolean, default=False)
    # The one member who may still log in with a password when SSO is required (the IdP may fail).
    break_glass_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    # OpenID Connect
    issuer: Mapped[str] = mapped_column(String(500), default="")
    client_id: Mapped[str] = mapped_column(String(300), default="")
    client_secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    # SAML 2.0
    idp_metadata_xml: Mapped[str] = mapped_column(Text, default="")
    idp_metadata_url: Mapped[str] = mapped_column(String(500), default="")
    idp_entity_id: Mapped[str] = mapped_column(String(500), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    organisation: Mapped[Organisation] = relationship()
    break_glass_user: Mapped[User | None] = relationship()


class SamlSeenAssertion(db.Model):
    """A SAML assertion id already used, kept until the assertion expires (replays are refused)."""

    __tablename__ = "saml_seen_assertion"

    id: Mapped[int] = mapped_column(primary_key=True)
    assertion_id: Mapped[str] = mapped_column(String(300), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


__all__ = ["SamlSeenAssertion", "SsoConfig", "SsoProtocol"]
