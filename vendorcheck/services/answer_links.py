"""Answer links: issue, re-issue, revoke and open a contact's link to answer without an account.

A link is a random 256-bit token (only its sha256 is stored), scoped to one assessment and one
contact, live until the due date plus `ANSWER_LINK_GRACE_DAYS` (or `ANSWER_LINK_DAYS` after it
is issued when there is no due date). A new link for the same contact replaces the older one, so
only the latest e-mail works. For a sensitive assessment the holder also enters a one-time code
mailed to the contact before the first save in a browser. See docs/answer-by-link.md.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime, time, timedelta

from flask import current_app
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from vendorcheck import audit, mail
from vendorcheck.extensions import db
from vendorcheck.link_access import LinkHolder, find_link
from vendorcheck.models import Contact, InvitationKind, OutboxMessage, User, utcnow
from vendorcheck.models.assessments import EDITABLE_STATUSES, Assessment, AssessmentStatus
from vendorcheck.models.links import AnswerLink
from vendorcheck.services.accounts import hash_token, new_token
from vendorcheck.services.errors import DomainError, ValidationFailed
from vendorcheck.services.invitations import contact_role, new_invitation, recipient_locale
from vendorcheck.services.notify import queue_mail

CODE_DIGITS = 6


class LinkUnknown(DomainError):
    """No such link, or the buyer withdrew it, or a newer e-mail replaced it."""

    status = 404


class LinkExpired(DomainError):
    """The link's time is over."""

    status = 410


class LinkSubmitted(DomainError):
    """The answers were already submitted: there is nothing left to do with the link."""

    status = 409


class CodeRefused(DomainError):
    """The one-time code is wrong, expired or tried too often."""

    status = 422


# --- the buyer's side ------------------------------------------------------------------------------


def link_expiry(assessment: Assessment, now: datetime | None = None) -> datetime:
    """Return when a link issued now stops working: end of the due day plus the grace period."""
    cfg = current_app.config
    if assessment.due_date is not None:
        grace = timedelta(days=int(cfg.get("ANSWER_LINK_GRACE_DAYS", 14)))
        return datetime.combine(assessment.due_date + grace, time.max, tzinfo=UTC)
    return (now or utcnow()) + timedelta(days=int(cfg.get("ANSWER_LINK_DAYS", 60)))


def issue_link(assessment: Assessment, contact: Contact, *, by: User | None) -> tuple[AnswerLink, str]:
    """Add a fresh link for a contact, replacing the contact's older ones; return it and the raw
    token (never stored). No commit: the caller commits, then mails the token."""
    now = utcnow()
    for older in live_links(assessment, email=contact.email):
        older.revoked_at, older.revoked_reason = now, "replaced"
        audit.record("answer_link_replaced", by=by, org=assessment.buyer_org_id, obj=older,
                     details={"assessment_id": assessment.id, "email": older.email})
    token, digest = new_token()
    link = AnswerLink(assessment_id=assessment.id, contact_id=contact.id, email=contact.email,
                      name=contact.name, token_hash=digest, expires_at=link_expiry(assessment, now),
                      created_by_id=by.id if by is not None else None)
    db.session.add(link)
    db.session.flush()
    audit.record("answer_link_issued", by=by, org=assessment.buyer_org_id, obj=link,
                 details={"assessment_id": assessment.id, "email": link.email,
                          "expires_at": link.expires_at.isoformat()})
    return link, token


def link_url(token: str) -> str:
    """Return the absolute link a contact opens (the only URL that carries the token)."""
    return mail.external_url("supplier.link_open", token=token)


def live_links(assessment: Assessment, email: str | None = None) -> list[AnswerLink]:
    """Return the assessment's links that still work (one contact's, if `email` is given)."""
    query = select(AnswerLink).where(AnswerLink.assessment_id == assessment.id,
                                     AnswerLink.revoked_at.is_(None),
                                     AnswerLink.expires_at > utcnow())
    if email is not None:
        query = query.where(AnswerLink.email == email)
    return list(db.session.scalars(query.order_by(AnswerLink.id)))


def assessment_links(assessment: Assessment) -> list[AnswerLink]:
    """Return every link of an assessment, newest first (the buyer's page lists them)."""
    return list(db.session.scalars(select(AnswerLink).where(
        AnswerLink.assessment_id == assessment.id).order_by(AnswerLink.id.desc())))


def revoke_link(link: AnswerLink, *, by: User) -> None:
    """Withdraw a link: it answers 404 from now on, in every browser that used it."""
    if link.revoked_at is not None:
        raise DomainError(_l("This link was already withdrawn or replaced."))
    link.revoked_at, link.revoked_reason = utcnow(), "revoked"
    audit.record("answer_link_revoked", by=by, org=link.assessment.buyer_org_id, obj=link,
                 details={"assessment_id": link.assessment_id, "email": link.email})
    db.session.commit()


def reissue_links(assessment: Assessment) -> dict[str, str]:
    """Replace each contact's live link with a new one (a reminder carries it); return e-mail →
    new URL. No commit. Contacts who had no live link get none: they answer with an account."""
    out: dict[str, str] = {}
    for link in live_links(assessment):
        if link.email in out or link.contact is None:
            continue
        _new, token = issue_link(assessment, link.contact, by=None)
        out[link.email] = link_url(token)
    return out


# --- the holder's side -----------------------------------------------------------------------------


def open_link(token: str) -> AnswerLink:
    """Return the live link a token names, or raise why it cannot be used (404, 410, 409)."""
    link = find_link(token)
    if link is None or link.revoked_at is not None:
        raise LinkUnknown(_l("This link does not work: it was withdrawn, or a newer e-mail "
                             "replaced it. Use the link in the most recent e-mail, or ask the "
                             "sender for a new one."))
    assessment = link.assessment
    if link.expires_at <= utcnow():
        raise LinkExpired(_("This link expired on %(day)s. Ask %(buyer)s for more time and a new "
                            "link.", day=format_date(link.expires_at, "long"),
                            buyer=assessment.buyer_org.name))
    if is_closed(assessment):
        raise LinkSubmitted(_("The answers to this questionnaire were already submitted to "
                              "%(buyer)s. If something must change, ask them to reopen it.",
                              buyer=assessment.buyer_org.name))
    link.last_used_at = utcnow()
    audit.record("answer_link_opened", by=holder_of(link), org=assessment.vendor_org_id,
                 obj=assessment)
    db.session.commit()
    return link


def is_closed(assessment: Assessment) -> bool:
    """Tell whether there is nothing left to answer (submitted and no question open)."""
    return assessment.status not in EDITABLE_STATUSES and \
        assessment.status is not AssessmentStatus.CLARIFICATION_REQUESTED


def holder_of(link: AnswerLink) -> LinkHolder:
    """Return the principal a live link stands for."""
    return LinkHolder(link_id=link.id, assessment_id=link.assessment_id, email=link.email,
                      name=link.name, buyer_org_id=link.assessment.buyer_org_id,
                      sensitive=link.assessment.sensitive)


def send_code(holder: LinkHolder) -> None:
    """Mail a fresh one-time code to the link's contact (a sensitive assessment's second factor)."""
    link = _link(holder)
    code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
    minutes = int(current_app.config.get("ANSWER_LINK_CODE_MINUTES", 15))
    link.code_hash, link.code_attempts = hash_token(code), 0
    link.code_expires_at = utcnow() + timedelta(minutes=minutes)
    assessment = link.assessment
    message = queue_mail("answer_link_code", to=link.email,
                         locale=recipient_locale(link.email, assessment.vendor),
                         context={"name": link.name, "code": code, "minutes": minutes,
                                  "buyer": assessment.buyer_org.name},
                         org_id=assessment.buyer_org_id, ref=("assessment", assessment.id))
    audit.record("answer_link_code_sent", by=holder, org=assessment.vendor_org_id, obj=assessment)
    db.session.commit()
    mail.dispatch([message])


def check_code(holder: LinkHolder, code: str) -> None:
    """Accept the one-time code once, or raise; a few wrong tries spend it."""
    link = _link(holder)
    tries = int(current_app.config.get("ANSWER_LINK_CODE_TRIES", 5))
    given = "".join(str(code or "").split())[:20]
    if link.code_hash is None or link.code_expires_at is None or link.code_expires_at <= utcnow() \
            or link.code_attempts >= tries:
        raise CodeRefused(_l("This code no longer works. Ask for a new code."))
    if not hmac.compare_digest(hash_token(given), link.code_hash):
        link.code_attempts += 1
        audit.record("answer_link_code_refused", by=holder, org=link.assessment.vendor_org_id,
                     obj=link.assessment)
        db.session.commit()
        raise CodeRefused(_l("This code is not the one we sent. Check the latest e-mail."))
    link.code_hash = link.code_expires_at = None
    audit.record("answer_link_code_confirmed", by=holder, org=link.assessment.vendor_org_id,
                 obj=link.assessment)
    db.session.commit()


def account_invitation(holder: LinkHolder) -> str:
    """Invite the holder to an account (sign up prefilled, joining the vendor organisation by the
    invitation rules); return the invitation's raw token for an immediate redirect."""
    link = _link(holder)
    assessment = link.assessment
    if link.contact is None:
        raise ValidationFailed(_l("The buyer removed this contact; ask them for an invitation."))
    invitation, token = new_invitation(
        kind=InvitationKind.VENDOR_CONTACT, org=assessment.buyer_org, vendor=assessment.vendor,
        email=link.email, name=link.name, role=contact_role(assessment.vendor), by=holder)
    audit.record("answer_link_account_requested", by=holder, org=assessment.vendor_org_id,
                 obj=invitation)
    db.session.commit()
    return token


def link_mail(link: AnswerLink, token: str, template: str, context: dict[str, object]
              ) -> OutboxMessage:
    """Queue an assessment e-mail that carries a contact's link (no commit)."""
    assessment = link.assessment
    return queue_mail(template, to=link.email, locale=recipient_locale(link.email, assessment.vendor),
                      context={**context, "name": link.name, "link": link_url(token),
                               "link_expires": link.expires_at.date()},
                      org_id=assessment.buyer_org_id, ref=("assessment", assessment.id))


def _link(holder: LinkHolder) -> AnswerLink:
    """Load the holder's link (it was live when the request began)."""
    link = db.session.get(AnswerLink, holder.link_id)
    if link is None:
        raise LinkUnknown()
    return link

