"""Vendor records kept by a buyer organisation."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, or_, select

from vendorcheck import audit, mail
from vendorcheck.extensions import db
from vendorcheck.models import (
    Contact,
    Criticality,
    Invitation,
    InvitationKind,
    Membership,
    Organisation,
    OutboxMessage,
    User,
    Vendor,
    utcnow,
)
from vendorcheck.models.assessments import Assessment, AssessmentRecipient, AssessmentStatus
from vendorcheck.models.links import AnswerLink
from vendorcheck.services.accounts import normalise_email
from vendorcheck.services.answer_links import issue_link, link_mail
from vendorcheck.services.errors import StillInUse, ValidationFailed

S = AssessmentStatus

# An assessment in one of these is still being answered or reviewed: it keeps its vendor and
# contacts (decided, expired and cancelled ones are records only).
OPEN_STATUSES = frozenset({S.DRAFT, S.SENT, S.IN_PROGRESS, S.SUBMITTED, S.IN_REVIEW,
                           S.CLARIFICATION_REQUESTED})

DATA_CATEGORIES = (
    "identification", "contact", "financial", "hr", "customer", "usage", "location",
    "health", "special", "children", "criminal",
)


@dataclass
class VendorData:
    """The editable fields of a vendor record."""

    legal_name: str
    country: str | None = None
    website: str | None = None
    services: str = ""
    data_categories: list[str] = field(default_factory=list)
    criticality: Criticality = Criticality.MEDIUM
    owner_id: int | None = None


def search_query(org: Organisation, q: str | None, *,
                 archived: bool | None = False) -> Select[tuple[Vendor]]:
    """Return the query for an organisation's vendors, optionally filtered by name or website.

    `archived`: False lists the active vendors (the default), True the archived ones, None both.
    """
    query = select(Vendor).where(Vendor.buyer_org_id == org.id)
    if archived is not None:
        query = query.where(Vendor.archived_at.is_not(None) if archived
                            else Vendor.archived_at.is_(None))
    if q:
        pattern = "%" + q.strip().lower().replace("\\", "\\\\").replace("%", "\\%") \
            .replace("_", "\\_") + "%"
        query = query.where(or_(func.lower(Vendor.legal_name).like(pattern, escape="\\"),
                                func.lower(Vendor.website).like(pattern, escape="\\")))
    return query.order_by(func.lower(Vendor.legal_name), Vendor.id)


def owner_choices(org: Organisation) -> list[User]:
    """Return the users who may own a vendor record (members of the buyer organisation)."""
    query = (select(User).join(Membership).where(Membership.organisation_id == org.id)
             .order_by(User.name))
    return list(db.session.scalars(query))


def _check_owner(org: Organisation, owner_id: int | None) -> int | None:
    """Keep an owner only if they belong to the organisation."""
    if owner_id is None:
        return None
    ok = db.session.scalar(select(Membership.id).where(
        Membership.organisation_id == org.id, Membership.user_id == owner_id))
    return owner_id if ok is not None else None


def create_vendor(org: Organisation, data: VendorData, *, by: User) -> Vendor:
    """Register a vendor for a buyer organisation."""
    values = asdict(data)
    values["owner_id"] = _check_owner(org, data.owner_id) or by.id
    vendor = Vendor(buyer_org_id=org.id, **values)
    db.session.add(vendor)
    db.session.flush()
    audit.record("vendor_created", by=by, org=org, obj=vendor,
                 details={"legal_name": vendor.legal_name})
    db.session.commit()
    return vendor


def update_vendor(vendor: Vendor, data: VendorData, *, by: User) -> Vendor:
    """Edit a vendor record; the audit entry lists the changed fields."""
    values = asdict(data)
    values["owner_id"] = _check_owner(vendor.buyer_org, data.owner_id)
    changed = sorted(k for k, v in values.items() if getattr(vendor, k) != v)
    for key, value in values.items():
        setattr(vendor, key, value)
    audit.record("vendor_updated", by=by, org=vendor.buyer_org_id, obj=vendor,
                 details={"fields": changed})
    db.session.commit()
    return vendor


# --- archiving -------------------------------------------------------------------------------------


def open_assessments(vendor: Vendor) -> list[Assessment]:
    """Return the vendor's assessments still being answered or reviewed, oldest first."""
    return list(db.session.scalars(select(Assessment).where(
        Assessment.vendor_id == vendor.id, Assessment.status.in_(OPEN_STATUSES))
        .order_by(Assessment.id)))


def _numbers(assessments: list[Assessment]) -> str:
    return ", ".join(f"#{a.id}" for a in assessments)


def archive_vendor(vendor: Vendor, *, by: User) -> Vendor:
    """Archive a vendor: hidden from lists, sent nothing new; every record it has is kept.

    Refused while an assessment is open: the buyer cancels (with a reason) or decides it first,
    so nothing the vendor is working on disappears silently. Archiving twice changes nothing.
    """
    if vendor.archived_at is not None:
        return vendor
    still_open = open_assessments(vendor)
    if still_open:
        raise StillInUse(_l("This vendor still has open assessments (%(ids)s): decide or cancel them "
                            "before archiving the vendor.", ids=_numbers(still_open)))
    revoked = _revoke_invitations(vendor, None, by=by)
    vendor.archived_at, vendor.archived_by_id = utcnow(), by.id
    audit.record("vendor_archived", by=by, org=vendor.buyer_org_id, obj=vendor,
                 details={"legal_name": vendor.legal_name, "invitations_revoked": revoked})
    db.session.commit()
    return vendor


def restore_vendor(vendor: Vendor, *, by: User) -> Vendor:
    """Bring an archived vendor back to the lists; restoring an active vendor changes nothing."""
    if vendor.archived_at is None:
        return vendor
    vendor.archived_at, vendor.archived_by_id = None, None
    audit.record("vendor_restored", by=by, org=vendor.buyer_org_id, obj=vendor,
                 details={"legal_name": vendor.legal_name})
    db.session.commit()
    return vendor


# --- contacts --------------------------------------------------------------------------------------


@dataclass
class ContactData:
    """The editable fields of a vendor's contact."""

    name: str
    email: str
    language: str | None = None
    role: str = ""


def _revoke_invitations(vendor: Vendor, email: str | None, *, by: User) -> int:
    """Revoke the open contact invitations of this vendor (one address's, if given); no commit."""
    query = select(Invitation).where(
        Invitation.kind == InvitationKind.VENDOR_CONTACT, Invitation.vendor_id == vendor.id,
        Invitation.used_at.is_(None), Invitation.revoked_at.is_(None))
    if email is not None:
        query = query.where(Invitation.email == email)
    invitations = list(db.session.scalars(query))
    for invitation in invitations:
        invitation.revoked_at = utcnow()
        audit.record("invitation_revoked", by=by, org=vendor.buyer_org_id, obj=invitation,
                     details={"email": invitation.email, "vendor_id": vendor.id})
    return len(invitations)


def _live_links(contact: Contact, email: str) -> list[AnswerLink]:
    """Return the links that still work for this contact (by id or by their address)."""
    return list(db.session.scalars(select(AnswerLink).join(Assessment).where(
        Assessment.vendor_id == contact.vendor_id,
        or_(AnswerLink.contact_id == contact.id, AnswerLink.email == email),
        AnswerLink.revoked_at.is_(None), AnswerLink.expires_at > utcnow()).order_by(AnswerLink.id)))


def _check_contact(vendor: Vendor, data: ContactData, contact: Contact | None) -> ContactData:
    """Normalise the fields and refuse a language we do not write in or a taken address."""
    name, email, role = data.name.strip(), normalise_email(data.email), data.role.strip()
    if not name or len(name) > 200:
        raise ValidationFailed(_l("Give the contact's name (at most 200 characters)."))
    if "@" not in email or len(email) > 254:
        raise ValidationFailed(_l("Give a valid e-mail address."))
    if len(role) > 200:
        raise ValidationFailed(_l("The role is too long (at most 200 characters)."))
    language = data.language or None
    if language is not None and language not in current_app.config["LANGUAGES"]:
        raise ValidationFailed(_l("Choose a language the application writes in."))
    taken = db.session.scalar(select(Contact.id).where(
        Contact.vendor_id == vendor.id, Contact.email == email,
        Contact.id != (contact.id if contact else None)))
    if taken is not None:
        raise ValidationFailed(_l("Another contact of this vendor already has this e-mail address."))
    return ContactData(name=name, email=email, language=language, role=role)


def update_contact(contact: Contact, data: ContactData, *, by: User) -> Contact:
    """Edit a contact. A new e-mail address revokes what was mailed to the old one (invitations and
    answer links); each open assessment answered by link gets a new link at the new address."""
    vendor = contact.vendor
    clean = _check_contact(vendor, data, contact)
    old_email = contact.email
    changed = sorted(k for k, v in asdict(clean).items() if getattr(contact, k) != v)
    messages: list[OutboxMessage] = []
    revoked_invitations = revoked_links = 0
    if clean.email != old_email:
        revoked_invitations = _revoke_invitations(vendor, old_email, by=by)
        links = _live_links(contact, old_email)
        revoked_links = len(links)
    for key, value in asdict(clean).items():
        setattr(contact, key, value)
    if clean.email != old_email:
        db.session.flush()
        messages = _replace_links(contact, links, by=by)
    audit.record("contact_updated", by=by, org=vendor.buyer_org_id, obj=contact, details={
        "vendor_id": vendor.id, "fields": changed, "old_email": old_email if "email" in changed else None,
        "invitations_revoked": revoked_invitations, "links_revoked": revoked_links})
    db.session.commit()
    mail.dispatch(messages)
    return contact


def _replace_links(contact: Contact, links: list[AnswerLink], *, by: User) -> list[OutboxMessage]:
    """Withdraw the links mailed to the old address; mail a new one for each open assessment."""
    messages = []
    renewed: set[int] = set()
    for link in links:
        link.revoked_at, link.revoked_reason = utcnow(), "revoked"
        audit.record("answer_link_revoked", by=by, org=link.assessment.buyer_org_id, obj=link,
                     details={"assessment_id": link.assessment_id, "email": link.email,
                              "why": "contact_email_changed"})
        assessment = link.assessment
        if assessment.id in renewed or assessment.status not in OPEN_STATUSES:
            continue
        renewed.add(assessment.id)
        new_link, token = issue_link(assessment, contact, by=by)
        messages.append(link_mail(new_link, token, "assessment_sent", _sent_context(assessment)))
    return messages


def _sent_context(assessment: Assessment) -> dict[str, object]:
    """Return what the "assessment sent" e-mail says about an assessment."""
    questionnaire = current_app.extensions["questionnaires"].get(
        assessment.questionnaire_id, assessment.questionnaire_version)
    return {"buyer": assessment.buyer_org.name, "vendor": assessment.vendor.legal_name,
            "due_date": assessment.due_date, "message": assessment.message,
            "title": questionnaire.title}


def contact_open_assessments(contact: Contact) -> list[Assessment]:
    """Return the open assessments this contact receives, oldest first."""
    return list(db.session.scalars(select(Assessment).join(AssessmentRecipient).where(
        AssessmentRecipient.contact_id == contact.id, Assessment.status.in_(OPEN_STATUSES))
        .order_by(Assessment.id)))


def remove_contact(contact: Contact, *, by: User) -> None:
    """Remove a contact; their open invitations are revoked.

    Refused while they receive an open assessment (the message names it): the buyer cancels or
    decides it, or removes them once it is closed. Who a closed assessment was sent to stays in
    its `assessment_sent` audit entry.
    """
    vendor = contact.vendor
    still_open = contact_open_assessments(contact)
    if still_open:
        raise StillInUse(_l("%(name)s receives open assessments (%(ids)s): decide or cancel them "
                            "before removing this contact.", name=contact.name,
                            ids=_numbers(still_open)))
    revoked = _revoke_invitations(vendor, contact.email, by=by)
    audit.record("contact_removed", by=by, org=vendor.buyer_org_id, obj=contact, details={
        "vendor_id": vendor.id, "name": contact.name, "email": contact.email,
        "invitations_revoked": revoked})
    db.session.delete(contact)
    db.session.commit()
