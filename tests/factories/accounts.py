"""Plain factory functions for tests: keyword overrides, commit, return the object."""

from __future__ import annotations

import secrets
from datetime import timedelta
from functools import cache

from werkzeug.security import generate_password_hash

from vendorcheck.extensions import db
from vendorcheck.models import (
    Criticality,
    Invitation,
    InvitationKind,
    Membership,
    Organisation,
    PasswordResetToken,
    Role,
    User,
    UserSession,
    Vendor,
    utcnow,
)
from vendorcheck.services.accounts import new_token
from vendorcheck.sessions import cookie_id, hash_secret

PASSWORD = "correct-horse-battery"


@cache
def password_hash(password: str = PASSWORD) -> str:
    """Hash once per password with the production parameters (scrypt is slow on purpose)."""
    return generate_password_hash(password, method="scrypt:32768:8:3")


def make_org(name: str, *, buyer: bool = True, vendor: bool = False, country: str = "FR",
             slug: str | None = None) -> Organisation:
    """Create an organisation."""
    org = Organisation(name=name, slug=slug or name.lower().replace(" ", "-"), country=country,
                       is_buyer=buyer, is_vendor=vendor)
    db.session.add(org)
    db.session.commit()
    db.session.refresh(org)
    return org


def make_user(email: str, *, org: Organisation | None = None, role: Role = Role.ADMIN,
              name: str | None = None, locale: str = "en", password: str = PASSWORD) -> User:
    """Create a user, optionally a member of `org` with `role`."""
    user = User(email=email, name=name or email.split("@")[0], locale=locale,
                password_hash=password_hash(password))
    db.session.add(user)
    if org is not None:
        db.session.add(Membership(user=user, organisation_id=org.id, role=role))
    db.session.commit()
    db.session.refresh(user)
    return user


def add_member(user: User, org: Organisation, role: Role) -> Membership:
    """Add an existing user to an organisation."""
    membership = Membership(user_id=user.id, organisation_id=org.id, role=role)
    db.session.add(membership)
    db.session.commit()
    db.session.refresh(membership)
    return membership


def membership_of(user: User, org: Organisation) -> Membership:
    """Return the user's membership in an organisation."""
    return db.session.scalars(db.select(Membership).filter_by(
        user_id=user.id, organisation_id=org.id)).one()


def make_vendor(buyer: Organisation, legal_name: str, *, vendor_org: Organisation | None = None,
                owner: User | None = None, country: str = "FR") -> Vendor:
    """Create a vendor record for a buyer."""
    vendor = Vendor(buyer_org_id=buyer.id, legal_name=legal_name, country=country,
                    website="https://example.com", services="CRM", data_categories=["contact"],
                    criticality=Criticality.HIGH, owner_id=owner.id if owner else None,
                    vendor_org_id=vendor_org.id if vendor_org else None)
    db.session.add(vendor)
    db.session.commit()
    db.session.refresh(vendor)
    return vendor


def make_invitation(org: Organisation, email: str, *, vendor: Vendor | None = None,
                    role: Role = Role.ADMIN, by: User | None = None, days: float = 14,
                    used: bool = False, revoked: bool = False) -> tuple[Invitation, str]:
    """Create an invitation; return it and its raw token."""
    token, token_hash = new_token()
    kind = InvitationKind.VENDOR_CONTACT if vendor else InvitationKind.COLLEAGUE
    invitation = Invitation(
        kind=kind, organisation_id=org.id, vendor_id=vendor.id if vendor else None, email=email,
        name="Invitee", role=role, token_hash=token_hash,
        expires_at=utcnow() + timedelta(days=days), invited_by_id=by.id if by else None,
        used_at=utcnow() if used else None, revoked_at=utcnow() if revoked else None)
    db.session.add(invitation)
    db.session.commit()
    return invitation, token


def make_reset_token(user: User, *, hours: float = 1) -> str:
    """Create a password reset token; return the raw token."""
    token, token_hash = new_token()
    db.session.add(PasswordResetToken(user_id=user.id, token_hash=token_hash,
                                      expires_at=utcnow() + timedelta(hours=hours)))
    db.session.commit()
    return token


def make_session(user_id: int, *, remember: bool = False, idle_minutes: int | None = 30, hours: float = 12,
                 device: str = "Firefox, Linux", ip: str = "127.0.0.1") -> tuple[UserSession, str]:
    """Open a server-side session for a user; return it (detached) and what the cookies carry."""
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    row = UserSession(user_id=user_id, secret_hash=hash_secret(secret), created_at=now, last_seen_at=now,
                      expires_at=now + timedelta(hours=hours), idle_minutes=idle_minutes,
                      device=device, ip=ip, remember=remember)
    db.session.add(row)
    db.session.commit()
    db.session.refresh(row)
    db.session.expunge(row)
    return row, cookie_id(user_id, secret)
