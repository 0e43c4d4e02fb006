"""Database models (SQLAlchemy 2.0 declarative, typed with Mapped[])."""

from vendorcheck.models import (
    assessments,  # noqa: F401  (registers the assessment tables)
    dpa,  # noqa: F401  (registers the DPA tables)
    dpa_changes,  # noqa: F401  (registers proposed sub-processor changes)
    dpa_relations,  # noqa: F401  (registers DPA subscriptions, acceptances, objections)
    packs,  # noqa: F401  (registers the evidence pack jobs)
    reports,  # noqa: F401  (registers the report tables)
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
