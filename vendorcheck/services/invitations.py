"""Invitations: vendor contacts and colleagues; single-use, expiring, bound to one e-mail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from vendorcheck import audit, mail
from vendorcheck.extensions import db
from vendorcheck.link_access import Actor
from vendorcheck.models import (
    Contact,
    Invitation,
    InvitationKind,
    Membership,
    Organisation,
    OutboxMessage,
    Role,
    User,
    Vendor,
    utcnow,
)
from vendorcheck.services.accounts import (
    hash_password,
    hash_token,
    new_token,
    normalise_email,
    unique_slug,
)
from vendorcheck.services.errors import (
    DomainError,
    DuplicateEmail,
    InvitationClosed,
    TokenExpired,
    TokenInvalid,
    TokenRevoked,
    TokenUsed,
    VendorArchived,
    WrongInvitee,
)

# --- helpers shared with organisations.py (no commit) -------------------------------------------


FRENCH_SPEAKING = frozenset({"FR", "BE", "LU", "MC"})


def contact_role(vendor: Vendor) -> Role:
    """Return the role a vendor contact joins with: contributor of an existing vendor organisation,
    admin of the one their sign-up creates."""
    return Role.CONTRIBUTOR if vendor.vendor_org_id else Role.ADMIN


def new_invitation(*, kind: InvitationKind, org: Organisation, vendor: Vendor | None, email: str,
                   name: str, role: Role, by: Actor) -> tuple[Invitation, str]:
    """Add an invitation with a fresh token; return it and the raw token (never stored).

    A vendor contact holds one open invitation per buyer: a new one revokes the older link, so
    only the latest e-mail works (the older link then answers 410).
    """
    if kind is InvitationKind.VENDOR_CONTACT and vendor is not None:
        _revoke_older(org, vendor, email, by=by)
    token, token_hash = new_token()
    days = int(current_app.config.get("INVITATION_DAYS", 14))
    invitation = Invitation(kind=kind, organisation_id=org.id, vendor_id=vendor.id if vendor else None,
                            email=normalise_email(email), name=name.strip(), role=role,
                            token_hash=token_hash, expires_at=utcnow() + timedelta(days=days),
                            invited_by_id=by.id)
    db.session.add(invitation)
    db.session.flush()
    return invitation, token


def _revoke_older(org: Organisation, vendor: Vendor, email: str, *, by: Actor) -> None:
    """Revoke the contact's open invitations from this buyer for this vendor (no commit)."""
    older = db.session.scalars(select(Invitation).where(
        Invitation.kind == InvitationKind.VENDOR_CONTACT, Invitation.organisation_id == org.id,
        Invitation.vendor_id == vendor.id, Invitation.email == normalise_email(email),
        Invitation.used_at.is_(None), Invitation.revoked_at.is_(None)))
    for invitation in older:
        invitation.revoked_at = utcnow()
        audit.record("invitation_replaced", by=by, org=org.id, obj=invitation,
                     details={"email": invitation.email})


def recipient_locale(email: str, vendor: Vendor | None = None, fallback: str | None = None) -> str:
    """Return the language to write to someone in: their account's; else, for a vendor contact,
    the language the buyer chose for them, else the language of the vendor's country; else
    `fallback` or the default language."""
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is not None and user.locale in current_app.config["LANGUAGES"]:
        return str(user.locale)
    if vendor is not None:
        chosen = db.session.scalar(select(Contact.language).where(
            Contact.vendor_id == vendor.id, Contact.email == normalise_email(email)))
        if chosen in current_app.config["LANGUAGES"]:
            return str(chosen)
        org = vendor.vendor_org
        country = (org.country if org is not None and org.country else vendor.country) or ""
        return "fr" if country.upper() in FRENCH_SPEAKING else "en"
    return fallback or str(current_app.config["BABEL_DEFAULT_LOCALE"])


def queue_invitation_mail(invitation: Invitation, token: str,
                          assessment: dict[str, Any] | None = None) -> OutboxMessage:
    """Queue the invitation e-mail in the invitee's language (`recipient_locale`; a colleague
    without an account reads the inviter's). `assessment` adds what the buyer asks: the
    questionnaire's title, the due date and the buyer's message, so one e-mail says it all."""
    inviter = invitation.invited_by
    locale = recipient_locale(invitation.email, invitation.vendor,
                              fallback=inviter.locale if inviter else None)
    org = db.session.get(Organisation, invitation.organisation_id)
    vendor = invitation.vendor
    template = "vendor_invitation" if invitation.kind is InvitationKind.VENDOR_CONTACT \
        else "colleague_invitation"
    context = {
        "name": invitation.name, "org": org.name if org else "", "buyer": org.name if org else "",
        "vendor": vendor.legal_name if vendor else "", "inviter": inviter.name if inviter else "",
        "role": invitation.role.value, "days": int(current_app.config.get("INVITATION_DAYS", 14)),
        "link": mail.external_url("auth.accept_invitation", token=token),
        **(assessment or {}),
    }
    return mail.queue(template, to=invitation.email, locale=locale, context=context,
                      org_id=invitation.organisation_id, ref=("invitation", invitation.id))


# --- buyer side ------------------------------------------------------------------------------------


def invite_vendor_contact(vendor: Vendor, name: str, email: str, *, by: User) -> Invitation:
    """Record a contact at the vendor (if new) and e-mail them an invitation."""
    if vendor.archived_at is not None:
        raise VendorArchived(_l("This vendor is archived: restore it before inviting a contact."))
    address = normalise_email(email)
    contact = db.session.scalar(select(Contact).where(Contact.vendor_id == vendor.id,
                                                      Contact.email == address))
    if contact is None:
        db.session.add(Contact(vendor_id=vendor.id, name=name.strip(), email=address))
    role = contact_role(vendor)
    invitation, token = new_invitation(kind=InvitationKind.VENDOR_CONTACT, org=vendor.buyer_org,
                                       vendor=vendor, email=address, name=name, role=role, by=by)
    message = queue_invitation_mail(invitation, token)
    audit.record("invitation_sent", by=by, org=vendor.buyer_org_id, obj=invitation,
                 details={"email": address, "vendor_id": vendor.id, "kind": "vendor_contact"})
    db.session.commit()
    mail.dispatch([message])
    return invitation


def vendor_invitations(vendor: Vendor) -> list[tuple[Invitation, OutboxMessage | None]]:
    """Return a vendor's invitations, newest first, each with its latest e-mail."""
    invitations = list(db.session.scalars(
        select(Invitation).where(Invitation.vendor_id == vendor.id).order_by(Invitation.id.desc())))
    return [(inv, latest_message(inv)) for inv in invitations]


def latest_message(invitation: Invitation) -> OutboxMessage | None:
    """Return the latest e-mail sent for an invitation (to show its delivery state)."""
    return db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.ref_type == "invitation",
                                    OutboxMessage.ref_id == invitation.id)
        .order_by(OutboxMessage.id.desc()).limit(1))


def resend_invitation(invitation: Invitation, *, by: User) -> Invitation:
    """Issue a new token (the old link stops working), extend the expiry and e-mail it again."""
    if invitation.used_at is not None or invitation.revoked_at is not None:
        raise InvitationClosed()
    token, token_hash = new_token()
    invitation.token_hash = token_hash
    invitation.expires_at = utcnow() + timedelta(days=int(current_app.config["INVITATION_DAYS"]))
    message = queue_invitation_mail(invitation, token)
    audit.record("invitation_resent", by=by, org=invitation.organisation_id, obj=invitation,
                 details={"email": invitation.email})
    db.session.commit()
    mail.dispatch([message])
    return invitation


def revoke_invitation(invitation: Invitation, *, by: User) -> None:
    """Withdraw an invitation; its link then answers 410."""
    if invitation.used_at is not None or invitation.revoked_at is not None:
        raise InvitationClosed()
    invitation.revoked_at = utcnow()
    audit.record("invitation_revoked", by=by, org=invitation.organisation_id, obj=invitation,
                 details={"email": invitation.email})
    db.session.commit()


# --- invitee side -----------------------------------------------------------------------------------


def find_invitation(token: str) -> Invitation:
    """Return the open invitation for a raw token, or raise why it cannot be used."""
    if len(token) > 100:
        raise TokenInvalid()
    invitation = db.session.scalar(select(Invitation).where(Invitation.token_hash == hash_token(token)))
    if invitation is None:
        raise TokenInvalid()
    if invitation.used_at is not None:
        raise _closed(TokenUsed, invitation, _("This invitation link was already used."))
    if invitation.revoked_at is not None:
        raise _closed(TokenRevoked, invitation,
                      _("This invitation link was replaced by a newer one or withdrawn."))
    if invitation.expires_at <= utcnow():
        raise _closed(TokenExpired, invitation, _("This invitation link expired on %(day)s.",
                                                  day=format_date(invitation.expires_at, "long")))
    return invitation


def _closed(error: type[DomainError], invitation: Invitation, why: str) -> DomainError:
    """Explain why an invitation link is closed and offer the next step: log in if the invitee
    has an account, else ask the inviter for a new link (410, never a dead end)."""
    org = db.session.get(Organisation, invitation.organisation_id)
    inviter = invitation.invited_by
    ask = _("To join %(org)s, ask %(who)s for a new invitation.", org=org.name if org else "",
            who=inviter.name if inviter else _("the sender"))
    if db.session.scalar(select(User.id).where(User.email == invitation.email)) is not None:
        return error(" ".join((why, _("An account exists for %(email)s: log in to continue.",
                                        email=invitation.email), ask)),
                     links=((_("Log in"), url_for("auth.login")),))
    return error(f"{why} {ask}")


@dataclass(frozen=True)
class NewAccount:
    """What an invitee without an account gives when accepting."""

    name: str
    password: str
    locale: str = "en"


def accept_invitation(token: str, *, by: User | None,
                      account: NewAccount | None = None) -> tuple[User, Organisation]:
    """Use the invitation once (atomic UPDATE), create or link the account and the membership.

    :raises WrongInvitee: a logged-in user with another e-mail address.
    """
    invitation = find_invitation(token)
    if by is not None and by.email != invitation.email:
        raise WrongInvitee()
    user = by or _new_invitee(invitation, account)
    _consume(invitation)
    org = _join(invitation, user)
    invitation.accepted_by_id = user.id
    audit.record("invitation_accepted", by=user, org=invitation.organisation_id, obj=invitation,
                 details={"joined_org_id": org.id, "kind": invitation.kind.value})
    db.session.commit()
    return user, org


def _new_invitee(invitation: Invitation, account: NewAccount | None) -> User:
    """Create the invitee's account (their e-mail is the invited address)."""
    if account is None or db.session.scalar(
            select(User.id).where(User.email == invitation.email)) is not None:
        raise DuplicateEmail()
    user = User(email=invitation.email, name=account.name.strip(),
                password_hash=hash_password(account.password), locale=account.locale)
    db.session.add(user)
    db.session.flush()
    return user


def _consume(invitation: Invitation) -> None:
    """Mark the invitation used in one statement, so two clicks cannot both succeed."""
    now = utcnow()
    result = db.session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.used_at.is_(None),
               Invitation.revoked_at.is_(None), Invitation.expires_at > now)
        .values(used_at=now).execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        db.session.rollback()
        raise TokenUsed()
    invitation.used_at = now


def _join(invitation: Invitation, user: User) -> Organisation:
    """Add the user to the right organisation (creating the vendor organisation if needed)."""
    if invitation.kind is InvitationKind.COLLEAGUE:
        org = invitation.organisation
        role = invitation.role
    else:
        org, role = _vendor_org_for(invitation, user)
    existing = db.session.scalar(select(Membership).where(
        Membership.user_id == user.id, Membership.organisation_id == org.id))
    if existing is None:
        db.session.add(Membership(user_id=user.id, organisation_id=org.id, role=role))
    db.session.flush()
    return org


def _vendor_org_for(invitation: Invitation, user: User) -> tuple[Organisation, Role]:
    """Return the vendor organisation to join: linked, the user's own, or a new one."""
    vendor = invitation.vendor
    assert vendor is not None
    if vendor.vendor_org is not None:
        return vendor.vendor_org, invitation.role
    admin_of = [m.organisation for m in user.memberships if m.role is Role.ADMIN]
    if len(admin_of) == 1:  # one company may be both buyer and vendor
        org = admin_of[0]
    else:
        org = Organisation(name=vendor.legal_name, slug=unique_slug(vendor.legal_name),
                           country=vendor.country)
        db.session.add(org)
    org.is_vendor = True
    db.session.flush()
    vendor.vendor_org_id = org.id
    return org, Role.ADMIN
