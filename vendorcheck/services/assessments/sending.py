"""Sending an assessment, buyer side: a questionnaire version to the vendor's contacts, mailed or invited."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from vendorcheck import audit, mail
from vendorcheck.extensions import db
from vendorcheck.models import (
    Contact,
    InvitationKind,
    Membership,
    Organisation,
    OutboxMessage,
    User,
    Vendor,
    utcnow,
)
from vendorcheck.models.assessments import Assessment, AssessmentRecipient, AssessmentStatus
from vendorcheck.questionnaire import Questionnaire
from vendorcheck.services import webhooks
from vendorcheck.services.answer_links import issue_link, link_mail
from vendorcheck.services.errors import ValidationFailed, VendorArchived
from vendorcheck.services.invitations import (
    contact_role,
    new_invitation,
    queue_invitation_mail,
    recipient_locale,
)
from vendorcheck.services.notify import queue_mail

S = AssessmentStatus


def create_sent_assessment(buyer_org: Organisation, vendor: Vendor, questionnaire: Questionnaire,
                           *, due_date: date | None, contacts: Sequence[Contact], message: str,
                           by: User, by_link: bool = False, sensitive: bool = False
                           ) -> tuple[Assessment, list[OutboxMessage]]:
    """Create a sent assessment and queue its e-mails in the outbox (flush only, no commit).

    With `by_link`, each contact gets a link that answers without an account (answer_links.py);
    `sensitive` asks a link's holder for a one-time code before the first save in a browser.
    The caller commits once, then dispatches the returned messages.
    """
    if vendor.buyer_org_id != buyer_org.id or any(c.vendor_id != vendor.id for c in contacts):
        raise ValidationFailed(_l("Choose contacts of this vendor."))
    if vendor.archived_at is not None:
        raise VendorArchived()
    if not contacts:
        raise ValidationFailed(_l("Choose at least one contact."))
    assessment = Assessment(
        buyer_org_id=buyer_org.id, vendor_id=vendor.id, questionnaire_id=questionnaire.id,
        questionnaire_version=questionnaire.version, questionnaire_sha256=questionnaire.sha256,
        status=S.SENT, due_date=due_date, message=(message or "").strip(), created_by_id=by.id,
        sent_at=utcnow(), sensitive=sensitive)
    assessment.recipients = [AssessmentRecipient(contact_id=c.id) for c in contacts]
    db.session.add(assessment)
    db.session.flush()
    messages = []
    context = {"buyer": buyer_org.name, "vendor": vendor.legal_name, "due_date": due_date,
               "message": assessment.message, "title": questionnaire.title}
    # One e-mail per contact and send, in the contact's language: the questionnaire's link for
    # a member of the vendor's organisation, else one invitation that also names what is asked
    # (it revokes the contact's older invitation link).
    for contact in contacts:
        user = _user_by_email(contact.email)
        if by_link:
            link, token = issue_link(assessment, contact, by=by)
            messages.append(link_mail(link, token, "assessment_sent", context))
        elif user is not None and _is_member(user, vendor.vendor_org_id):
            messages.append(queue_mail(
                "assessment_sent", to=contact.email, locale=recipient_locale(contact.email, vendor),
                context={**context, "name": contact.name, "link": _vendor_link(assessment)},
                org_id=buyer_org.id, ref=("assessment", assessment.id)))
        else:
            role = contact_role(vendor)
            invitation, token = new_invitation(
                kind=InvitationKind.VENDOR_CONTACT, org=buyer_org, vendor=vendor,
                email=contact.email, name=contact.name, role=role, by=by)
            messages.append(queue_invitation_mail(invitation, token, assessment=context))
    audit.record("assessment_sent", by=by, org=buyer_org.id, obj=assessment, details={
        "vendor_id": vendor.id, "questionnaire": questionnaire.key,
        "recipients": [c.email for c in contacts], "by_link": by_link, "sensitive": sensitive})
    db.session.flush()
    return assessment, messages


def send_assessment(buyer_org: Organisation, vendor: Vendor, questionnaire: Questionnaire, *,
                    due_date: date | None, contacts: Sequence[Contact], message: str,
                    by: User, by_link: bool = False, sensitive: bool = False) -> Assessment:
    """Send a questionnaire version to a vendor's contacts; invite those without an account."""
    if not questionnaire.for_buyers:
        raise ValidationFailed(_l("This questionnaire is filled in by vendors for themselves; it cannot "
                                  "be sent."))
    try:
        assessment, messages = create_sent_assessment(
            buyer_org, vendor, questionnaire, due_date=due_date, contacts=contacts,
            message=message, by=by, by_link=by_link, sensitive=sensitive)
        hooks = webhooks.assessment_event(assessment, "assessment.sent")
        db.session.commit()
    except BaseException:
        db.session.rollback()  # no half-sent assessment, invitation or e-mail stays behind
        raise
    mail.dispatch(messages)
    webhooks.dispatch(hooks)
    return assessment


def _user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


def _is_member(user: User, org_id: int | None) -> bool:
    return org_id is not None and db.session.scalar(select(Membership.id).where(
        Membership.user_id == user.id, Membership.organisation_id == org_id)) is not None


def _vendor_link(assessment: Assessment) -> str:
    return mail.external_url("supplier.assessment", assessment_id=assessment.id)
