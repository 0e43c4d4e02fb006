"""Database models (SQLAlchemy 2.0 declarative, typed with Mapped[])."""

from vendorcheck.models import (
    api_tokens,  # noqa: F401  (registers API tokens and idempotent creates)
    assessments,  # noqa: F401  (registers the assessment tables)
    dpa,  # noqa: F401  (registers the DPA tables)
    dpa_changes,  # noqa: F401  (registers proposed sub-processor changes)
    dpa_relations,  # noqa: F401  (registers DPA subscriptions, acceptances, objections)
    kit,  # noqa: F401  (registers the processor register's controllers and versions)
    links,  # noqa: F401  (registers answer links)
    mfa,  # noqa: F401  (registers TOTP secrets, recovery codes, passkeys)
    packs,  # noqa: F401  (registers the evidence pack jobs)
    remediation,  # noqa: F401  (registers remediation requests and their history)
    reports,  # noqa: F401  (registers the report tables)
    sso,  # noqa: F401  (registers the single sign-on tables)
    webhooks,  # noqa: F401  (registers the webhook endpoints and deliveries)
)
from vendorcheck.models.accounts import (
    BUYER_ROLES,
    VENDOR_ROLES,
    Contact,
    Criticality,
    Invitation,
    InvitationKind,
    Membership,
    Organisation,
    PasswordResetToken,
    Role,
    User,
    Vendor,
)
from vendorcheck.models.audit import SYSTEM_CHAIN, AuditChainHead, AuditEntry, AuditLogImmutable
from vendorcheck.models.base import UTCDateTime, utcnow
from vendorcheck.models.mail import OutboxMessage, OutboxStatus
from vendorcheck.models.sessions import LoginThrottle, UserSession

__all__ = [
    "BUYER_ROLES", "SYSTEM_CHAIN", "VENDOR_ROLES", "AuditChainHead", "AuditEntry", "AuditLogImmutable",
    "Contact", "Criticality", "Invitation", "InvitationKind", "LoginThrottle", "Membership", "Organisation",
    "OutboxMessage", "OutboxStatus", "PasswordResetToken", "Role", "UTCDateTime", "User", "UserSession",
    "Vendor", "utcnow",
]
