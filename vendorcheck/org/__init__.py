"""The organisation's administration: members, invitations, audit log, outbox, signing certificate (/org)."""

from vendorcheck.org import certificates, views  # noqa: F401  (their routes register on bp)
from vendorcheck.org.blueprint import bp

__all__ = ["bp"]
