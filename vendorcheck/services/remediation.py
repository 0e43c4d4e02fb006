"""The remediation loop: a decided assessment's findings shared with the vendor as requests to fix.

Every state change of a request lives here, and each one emits the `remediation.updated` webhook
(and `finding.changed` when the finding's state or due date moved with it): the buyer
requests a fix (due date, note), the vendor answers (what was fixed, an optional evidence file) or
asks for a waiver (with its reason), the buyer accepts the fix, sends it back or grants the waiver
(always with a reason; a waiver may expire). Each step is an event in the request's history, an
audit entry, and an e-mail to the other side in the recipient's language. See docs/remediation.md.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from vendorcheck import audit, mail
from vendorcheck.extensions import db
from vendorcheck.models import Contact, Membership, OutboxMessage, Role, User, utcnow
from vendorcheck.models.assessments import (
    Assessment,
    AssessmentStatus,
    FindingRecord,
    FindingState,
    Override,
)
from vendorcheck.models.remediation import (
    RemediationAction,
    RemediationEvent,
    RemediationRequest,
    RemediationState,
)
from vendorcheck.models.webhooks import WebhookDelivery
from vendorcheck.questionnaire.answers import Invalid, clean_text
from vendorcheck.questionnaire.reviewed import FINDING_REMEDIATED
from vendorcheck.services import notify, uploads, webhooks
from vendorcheck.services.assessments import STILL_OPEN, refresh_results
from vendorcheck.services.errors import DomainError, ValidationFailed
from vendorcheck.services.invitations import recipient_locale
from vendorcheck.storage import Area, current_store

R = RemediationState
A = RemediationAction
MAX_TEXT = 5000
MB = 1024 * 1024
# What an evidence file sent with a fix may be (checked by content, like the answers' evidence).
ACCEPT = ("pdf", "image", "docx", "xlsx", "txt", "csv")
WITH_VENDOR = frozenset({R.REQUESTED})
WITH_BUYER = frozenset({R.RESPONDED, R.WAIVER_REQUESTED})
SETTLED = frozenset({R.ACCEPTED, R.WAIVED})
BUYER_OWNER_ROLES = (Role.ADMIN, Role.ASSESSOR)
log = logging.getLogger(__name__)
# The finding's state that follows each request state.
FINDING_STATE = {R.REQUESTED: FindingState.OPEN, R.RESPONDED: FindingState.VENDOR_RESPONDED,
                 R.WAIVER_REQUESTED: FindingState.VENDOR_RESPONDED,
                 R.ACCEPTED: FindingState.REMEDIATED, R.WAIVED: FindingState.ACCEPTED_RISK}


class NotYours(DomainError):
    status = 409
    default = _l("This remediation request is not waiting for you: it has already been answered "
                 "or settled.")


class NotDecided(DomainError):
    status = 409
    default = _l("Remediation can be requested once the assessment is decided.")


class AlreadyRequested(DomainError):
    status = 409
    default = _l("This finding already has a remediation request.")


class FindingClosed(DomainError):
    status = 409
    default = _l("Only an open finding can be sent to the vendor for remediation.")


# --- reading ------------------------------------------------------------------------------------


def requests_of(assessment: Assessment) -> list[RemediationRequest]:
    """Return an assessment's remediation requests, oldest first."""
    return list(db.session.scalars(select(RemediationRequest).where(
        RemediationRequest.assessment_id == assessment.id).order_by(RemediationRequest.id)))


def request_of(assessment: Assessment, request_id: int) -> RemediationRequest | None:
    """Return one request of this assessment (None for another assessment's)."""
    found = db.session.get(RemediationRequest, request_id)
    return found if found is not None and found.assessment_id == assessment.id else None


def event_of(request: RemediationRequest, event_id: int) -> RemediationEvent | None:
    """Return one event of this request that carries a file (None otherwise)."""
    found = db.session.get(RemediationEvent, event_id)
    if found is None or found.request_id != request.id or not found.storage_key:
        return None
    return found


def last_change(assessment_id: int) -> datetime | None:
    """Return when the assessment's remediation last changed (reports re-render after it)."""
    return db.session.scalar(select(func.max(RemediationEvent.at)).join(
        RemediationRequest).where(RemediationRequest.assessment_id == assessment_id))


def is_overdue(request: RemediationRequest, today: date | None = None) -> bool:
    """Tell whether a request still with the vendor is past its due date."""
    return (request.state in WITH_VENDOR and request.due_date is not None
            and request.due_date < (today or date.today()))


# --- helpers (no commit) ------------------------------------------------------------------------


def _text(value: str | None, *, required: Any = None) -> str:
    """Clean a free text; refuse it empty when `required` (the message to show)."""
    try:
        text = clean_text(value or "", MAX_TEXT).strip()
    except Invalid as exc:
        raise ValidationFailed(str(exc)) from None
    if required is not None and not text:
        raise ValidationFailed(required)
    return text


def _future(day: date | None, what: Any) -> date | None:
    if day is not None and day < date.today():
        raise ValidationFailed(what)
    return day


def _step(request: RemediationRequest, state: RemediationState, action: RemediationAction, *,
          side: str, text: str, by: User, **file: Any) -> RemediationEvent:
    """Move the request and its finding to `state` and add the step to its history."""
    request.state = state
    request.updated_at = utcnow()
    finding = request.finding
    finding.state, finding.updated_by_id = FINDING_STATE[state], by.id
    event = RemediationEvent(action=action, side=side, text=text, by_id=by.id, **file)
    request.events.append(event)
    db.session.flush()
    return event


def _audit(action: str, request: RemediationRequest, by: User, org: int | None,
           **details: Any) -> None:
    audit.record(f"remediation_{action}", by=by, org=org, obj=request,
                 details={"assessment_id": request.assessment_id,
                          "finding_id": request.finding.finding_id,
                          "state": request.state.value, **details})


def _finding_mark(finding: FindingRecord) -> tuple[FindingState | None, date | None]:
    """Return what `finding.changed` reports of a finding: its state and due date."""
    return finding.state, finding.due_date


def _hooks(request: RemediationRequest,
           before: tuple[FindingState | None, date | None]) -> list[WebhookDelivery]:
    """Emit the request's step, and the finding's change if its state or due date moved."""
    hooks = webhooks.remediation_event(request)
    if _finding_mark(request.finding) != before:
        hooks += webhooks.finding_event(request.assessment, request.finding)
    return hooks


def _store_file(upload: FileStorage) -> dict[str, Any]:
    """Check and store an evidence file; return the event's file columns."""
    cap = float(current_app.config.get("EVIDENCE_MAX_MB", 20))
    checked = uploads.check_upload(upload.stream, upload.filename, ACCEPT, int(cap * MB))
    upload.stream.seek(0)
    key, sha256, size = current_store().save(Area.EVIDENCE, upload.stream)
    return {"file_name": checked.display_name, "storage_key": key,
            "content_type": checked.content_type, "size": size, "sha256": sha256}


def _to_buyer(request: RemediationRequest, context: dict[str, Any]) -> list[OutboxMessage]:
    """Queue the vendor's answer to the buyers who asked (requester and assessment owner)."""
    assessment = request.assessment
    people = {u.id: u for u in (request.requested_by, assessment.created_by) if u is not None}
    link = mail.external_url("buyer.assessment", assessment_id=assessment.id,
                             _anchor=f"remediation-{request.id}")
    return [notify.queue_mail("remediation_responded", to=u.email, locale=u.locale,
                              context={**context, "name": u.name, "link": link,
                                       "vendor": assessment.vendor.legal_name,
                                       "buyer": assessment.buyer_org.name},
                              org_id=assessment.buyer_org_id, ref=("assessment", assessment.id))
            for u in people.values()]


def _count_as_remediated(request: RemediationRequest, reason: str, by: User) -> None:
    """Record the accepted fix as a reviewer override, so the reviewed result (tier, cap, score)
    no longer counts the finding; the finding's computed severity is kept beside it."""
    finding = request.finding
    db.session.add(Override(assessment=request.assessment, kind=FINDING_REMEDIATED,
                            target=finding.finding_id, computed_value=finding.severity,
                            new_value=date.today().isoformat(), comment=reason, by_id=by.id))
    db.session.flush()


def _audit_recomputed(request: RemediationRequest, before: tuple[str | None, float | None],
                      by: User) -> None:
    """Audit the results recomputed after an accepted fix: the tier and score before and after."""
    assessment = request.assessment
    audit.record("assessment_results_recomputed", by=by, org=assessment.buyer_org_id,
                 obj=assessment, details={
                     "assessment_id": assessment.id, "finding_id": request.finding.finding_id,
                     "cause": "remediation_accepted", "old_tier": before[0],
                     "new_tier": assessment.tier, "old_score": before[1],
                     "new_score": assessment.score})


# --- services -----------------------------------------------------------------------------------


def buyer_owners(assessment: Assessment) -> list[User]:
    """Return who may own a request on the buyer's side: the buyer's admins and assessors."""
    return list(db.session.scalars(select(User).join(Membership, Membership.user_id == User.id).where(
        Membership.organisation_id == assessment.buyer_org_id,
        Membership.role.in_(BUYER_OWNER_ROLES)).order_by(User.name, User.id)))


def vendor_owners(assessment: Assessment) -> list[Contact]:
    """Return who may own a request on the vendor's side: the contacts it was sent to."""
    return sorted((r.contact for r in assessment.recipients), key=lambda c: (c.name, c.id))


def _owners(assessment: Assessment, buyer_owner_id: int | None, vendor_owner_id: int | None,
            by: User) -> tuple[User, Contact | None]:
    """Check the chosen owners (buyer side defaults to the acting user; vendor side to nobody,
    which means every contact)."""
    buyer = by
    if buyer_owner_id is not None:
        buyer = next((u for u in buyer_owners(assessment) if u.id == buyer_owner_id), None)
        if buyer is None:
            raise ValidationFailed(_l("Choose the buyer-side owner among your organisation's "
                                      "administrators and assessors."))
    vendor = None
    if vendor_owner_id is not None:
        vendor = next((c for c in vendor_owners(assessment) if c.id == vendor_owner_id), None)
        if vendor is None:
            raise ValidationFailed(_l("Choose the vendor-side owner among the contacts the "
                                      "assessment was sent to."))
    return buyer, vendor


def add_request(assessment: Assessment, finding_id: str, *, due_date: date | None,
                note: str | None, by: User, buyer_owner_id: int | None = None,
                vendor_owner_id: int | None = None
                ) -> tuple[RemediationRequest, list[OutboxMessage], list[WebhookDelivery]]:
    """Create a request on a decided assessment without committing; return it, its e-mails and
    its webhook deliveries.

    Shared by a request made on the review page and the requests chosen in the decision form.
    """
    if assessment.status is not AssessmentStatus.DECIDED:
        raise NotDecided()
    finding = next((f for f in assessment.findings if f.finding_id == finding_id), None)
    if finding is None:
        raise ValidationFailed(_l("This finding does not exist in this assessment."))
    if db.session.scalar(select(RemediationRequest.id).where(
            RemediationRequest.finding_record_id == finding.id)) is not None:
        raise AlreadyRequested()
    if finding.state not in STILL_OPEN:
        raise FindingClosed()
    text = _text(note)
    due = _future(due_date, _l("The due date cannot be in the past."))
    buyer_owner, vendor_owner = _owners(assessment, buyer_owner_id, vendor_owner_id, by)
    before = _finding_mark(finding)
    request = RemediationRequest(assessment=assessment, finding=finding, due_date=due, note=text,
                                 requested_by_id=by.id, buyer_owner=buyer_owner,
                                 vendor_owner=vendor_owner)
    db.session.add(request)
    finding.due_date = due
    _step(request, R.REQUESTED, A.REQUESTED, side="buyer", text=text, by=by)
    refresh_results(assessment)
    _audit("requested", request, by, assessment.buyer_org_id,
           due_date=due.isoformat() if due else None, buyer_owner=buyer_owner.email,
           vendor_owner=vendor_owner.email if vendor_owner else None)
    messages = notify.notify_recipients(
        assessment, "remediation_requested", finding=finding.title, note=text, due=due,
        link=mail.external_url("supplier.assessment", assessment_id=assessment.id,
                               _anchor=f"remediation-{request.id}"))
    return request, messages, _hooks(request, before)


def request_remediation(assessment: Assessment, finding_id: str, *, due_date: date | None,
                        note: str | None, by: User, buyer_owner_id: int | None = None,
                        vendor_owner_id: int | None = None) -> RemediationRequest:
    """Share an open finding of a decided assessment with the vendor as a request to fix it."""
    request, messages, hooks = add_request(
        assessment, finding_id, due_date=due_date, note=note, by=by,
        buyer_owner_id=buyer_owner_id, vendor_owner_id=vendor_owner_id)
    db.session.commit()
    mail.dispatch(messages)
    webhooks.dispatch(hooks)
    return request


def respond(request: RemediationRequest, *, waiver: bool, text: str | None,
            upload: FileStorage | None, by: User) -> RemediationEvent:
    """The vendor answers a request: what was fixed (with an optional file), or why to waive it."""
    if request.state not in WITH_VENDOR:
        raise NotYours()
    if waiver:
        body = _text(text, required=_l("Give the reason for asking the buyer to accept the risk."))
        if upload is not None and upload.filename:
            raise ValidationFailed(_l("A waiver request takes a reason, not a file."))
    else:
        body = _text(text, required=_l("Describe what was fixed."))
    file = _store_file(upload) if upload is not None and upload.filename and not waiver else {}
    assessment, before = request.assessment, _finding_mark(request.finding)
    try:
        state, action = (R.WAIVER_REQUESTED, A.WAIVER_REQUESTED) if waiver else (R.RESPONDED,
                                                                                 A.RESPONDED)
        event = _step(request, state, action, side="vendor", text=body, by=by, **file)
        refresh_results(assessment)
        _audit(action.value, request, by, assessment.vendor_org_id,
               file=file.get("file_name"), sha256=file.get("sha256"))
        messages = _to_buyer(request, {"finding": request.finding.title, "text": body,
                                       "waiver": waiver, "file_name": file.get("file_name")})
        hooks = _hooks(request, before)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        if file:
            current_store().delete(Area.EVIDENCE, file["storage_key"])
        raise
    mail.dispatch(messages)
    webhooks.dispatch(hooks)
    return event


OUTCOMES = {"accept": (R.ACCEPTED, A.ACCEPTED), "send_back": (R.REQUESTED, A.SENT_BACK),
            "waive": (R.WAIVED, A.WAIVED)}


def review_response(request: RemediationRequest, outcome: str, *, reason: str | None,
                    waiver_expires: date | None = None, by: User) -> RemediationEvent:
    """The buyer settles a request: accept the fix, send it back, or accept the risk (a waiver).

    Accepting needs the vendor's answer; sending back needs one too; a waiver may be granted at any
    time before the request is settled. Every outcome needs a reason, kept in the history.
    """
    if outcome not in OUTCOMES:
        raise ValidationFailed(_l("Choose accept, send back or accept the risk."))
    state, action = OUTCOMES[outcome]
    allowed = WITH_BUYER if outcome != "waive" else WITH_BUYER | WITH_VENDOR
    if request.state not in allowed:
        raise NotYours(_l("Nothing to review: the vendor has not answered this request yet.")
                       if request.state in WITH_VENDOR else None)
    body = _text(reason, required=_l("Give the reason; it is kept in the remediation history."))
    expires = _future(waiver_expires, _l("The waiver's expiry date cannot be in the past.")) \
        if outcome == "waive" else None
    assessment, before = request.assessment, _finding_mark(request.finding)
    request.waiver_expires = expires
    before = (assessment.tier, assessment.score)
    event = _step(request, state, action, side="buyer", text=body, by=by)
    if state is R.ACCEPTED:
        _count_as_remediated(request, body, by)
    refresh_results(assessment)
    _audit(action.value, request, by, assessment.buyer_org_id, reason=body,
           waiver_expires=expires.isoformat() if expires else None)
    if state is R.ACCEPTED:
        _audit_recomputed(request, before, by)
    messages = notify.notify_recipients(
        assessment, "remediation_reviewed", finding=request.finding.title, outcome=action.value,
        reason=body, expires=expires, due=request.due_date,
        link=mail.external_url("supplier.assessment", assessment_id=assessment.id,
                               _anchor=f"remediation-{request.id}"))
    hooks = _hooks(request, before)
    db.session.commit()
    mail.dispatch(messages)
    webhooks.dispatch(hooks)
    return event


# --- daily: reminders before the due date, overdue notices, waivers that expire ---------------------


def reminder_days() -> list[int]:
    """Return the days before a request's due date that its owner is reminded
    (`REMEDIATION_REMINDER_DAYS`, "7,1" by default; a list or a comma-separated text)."""
    value = current_app.config.get("REMEDIATION_REMINDER_DAYS", "7,1")
    parts = value.split(",") if isinstance(value, str) else value
    days = {int(p) for p in (str(p).strip() for p in parts) if p.isdigit()}
    if len(days) != len([p for p in parts if str(p).strip()]):
        # a typo must not stop the daily run (which also sends the assessments' reminders)
        log.warning("REMEDIATION_REMINDER_DAYS should list whole days, e.g. 7,1: %r", value)
    return sorted(days, reverse=True)


def _vendor_side(request: RemediationRequest) -> list[tuple[str, str]]:
    """Return (name, e-mail) of who answers the request: its vendor-side owner, else every contact."""
    if request.vendor_owner is not None:
        return [(request.vendor_owner.name, request.vendor_owner.email)]
    return [(r.contact.name, r.contact.email) for r in request.assessment.recipients]


def _buyer_side(request: RemediationRequest) -> list[User]:
    """Return who follows the request up at the buyer: its owner, else who asked."""
    owner = request.buyer_owner or request.requested_by
    return [owner] if owner is not None else []


def _mail_both(request: RemediationRequest, template: str, kind: str,
               context: dict[str, Any], *, buyer_copy: bool) -> list[OutboxMessage]:
    """Queue one e-mail to the vendor side (and, with `buyer_copy`, one to the buyer side), each
    in its recipient's language; the outbox row's kind records that this step went out."""
    assessment = request.assessment
    base = {"buyer": assessment.buyer_org.name, "vendor": assessment.vendor.legal_name,
            "finding": request.finding.title, "due": request.due_date,
            "expires": request.waiver_expires, **context}
    ref = ("remediation_request", request.id)
    vendor_link = mail.external_url("supplier.assessment", assessment_id=assessment.id,
                                    _anchor=f"remediation-{request.id}")
    out = [notify.queue_mail(template, to=email,
                             locale=recipient_locale(email, assessment.vendor),
                             context={**base, "name": name, "link": vendor_link, "side": "vendor"},
                             org_id=assessment.buyer_org_id, ref=ref, kind=kind)
           for name, email in _vendor_side(request)]
    if buyer_copy:
        buyer_link = mail.external_url("buyer.assessment", assessment_id=assessment.id,
                                       _anchor=f"remediation-{request.id}")
        out += [notify.queue_mail(template, to=u.email, locale=u.locale,
                                  context={**base, "name": u.name, "link": buyer_link,
                                           "side": "buyer"},
                                  org_id=assessment.buyer_org_id, ref=ref, kind=f"{kind}_buyer")
                for u in _buyer_side(request)]
    return out


def _already_sent(request: RemediationRequest, kind: str) -> bool:
    return db.session.scalar(select(OutboxMessage.id).where(
        OutboxMessage.template.in_((kind, f"{kind}_buyer")),
        OutboxMessage.ref_type == "remediation_request",
        OutboxMessage.ref_id == request.id).limit(1)) is not None


def _reminder_step(days_left: int, steps: list[int]) -> int | None:
    """Return the step a request `days_left` before its due date is in (-1: overdue; None: none)."""
    if days_left < 0:
        return -1
    inside = [s for s in steps if days_left <= s]
    return min(inside) if inside else None


def queue_due_reminders(today: date) -> list[OutboxMessage]:
    """Remind the vendor side of each request still with it, N days before its due date and once
    overdue (then with a copy to the buyer-side owner); each step once per request (no commit)."""
    steps = reminder_days()
    out: list[OutboxMessage] = []
    waiting = db.session.scalars(select(RemediationRequest).where(
        RemediationRequest.state.in_(WITH_VENDOR), RemediationRequest.due_date.is_not(None))
        .order_by(RemediationRequest.id))
    for request in waiting:
        assert request.due_date is not None
        days_left = (request.due_date - today).days
        step = _reminder_step(days_left, steps)
        if step is None:
            continue
        kind = "remediation_overdue" if step < 0 else f"remediation_before_{step}"
        if _already_sent(request, kind):
            continue
        out += _mail_both(request, "remediation_reminder", kind,
                          {"days": max(days_left, 0), "overdue": step < 0}, buyer_copy=step < 0)
    return out


def expire_waivers(today: date) -> list[OutboxMessage]:
    """Reopen the findings whose waiver expired (the request goes back to the vendor), audit it and
    tell both owners (no commit)."""
    out: list[OutboxMessage] = []
    expired = db.session.scalars(select(RemediationRequest).where(
        RemediationRequest.state == R.WAIVED, RemediationRequest.waiver_expires.is_not(None),
        RemediationRequest.waiver_expires <= today).order_by(RemediationRequest.id))
    for request in expired:
        expires = request.waiver_expires
        assert expires is not None
        request.state, request.updated_at = R.REQUESTED, utcnow()
        request.finding.state = FindingState.OPEN
        request.events.append(RemediationEvent(action=A.WAIVER_EXPIRED, side="buyer", text=""))
        db.session.flush()
        refresh_results(request.assessment)
        audit.record("remediation_waiver_expired", org=request.assessment.buyer_org_id,
                     obj=request, details={"assessment_id": request.assessment_id,
                                           "finding_id": request.finding.finding_id,
                                           "state": request.state.value,
                                           "waiver_expires": expires.isoformat()})
        out += _mail_both(request, "remediation_waiver_expired", "remediation_waiver_expired",
                          {}, buyer_copy=True)
    return out
