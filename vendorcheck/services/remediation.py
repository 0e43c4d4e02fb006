"""The remediation loop: a decided assessment's findings shared with the vendor as requests to fix.

Every state change of a request lives here, and each one emits the `remediation.updated` webhook
(and `finding.changed` when the finding's state or due date moved with it): the buyer
requests a fix (due date, note), the vendor answers (what was fixed, an optional evidence file) or
asks for a waiver (with its reason), the buyer accepts the fix, sends it back or grants the waiver
(always with a reason; a waiver may expire). Each step is an event in the request's history, an
audit entry, and an e-mail to the other side in the recipient's language. See docs/remediation.md.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from vendorcheck import audit, mail
from vendorcheck.extensions import db
from vendorcheck.models import OutboxMessage, User, utcnow
from vendorcheck.models.assessments import Assessment, AssessmentStatus, FindingRecord, FindingState
from vendorcheck.models.remediation import (
    RemediationAction,
    RemediationEvent,
    RemediationRequest,
    RemediationState,
)
from vendorcheck.models.webhooks import WebhookDelivery
from vendorcheck.questionnaire.answers import Invalid, clean_text
from vendorcheck.services import notify, uploads, webhooks
from vendorcheck.services.assessments import STILL_OPEN, refresh_results
from vendorcheck.services.errors import DomainError, ValidationFailed
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


# --- services -----------------------------------------------------------------------------------


def request_remediation(assessment: Assessment, finding_id: str, *, due_date: date | None,
                        note: str | None, by: User) -> RemediationRequest:
    """Share an open finding of a decided assessment with the vendor as a request to fix it."""
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
    before = _finding_mark(finding)
    request = RemediationRequest(assessment=assessment, finding=finding, due_date=due, note=text,
                                 requested_by_id=by.id)
    db.session.add(request)
    finding.due_date = due
    _step(request, R.REQUESTED, A.REQUESTED, side="buyer", text=text, by=by)
    refresh_results(assessment)
    _audit("requested", request, by, assessment.buyer_org_id,
           due_date=due.isoformat() if due else None)
    messages = notify.notify_recipients(
        assessment, "remediation_requested", finding=finding.title, note=text, due=due,
        link=mail.external_url("supplier.assessment", assessment_id=assessment.id,
                               _anchor=f"remediation-{request.id}"))
    hooks = _hooks(request, before)
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
    event = _step(request, state, action, side="buyer", text=body, by=by)
    refresh_results(assessment)
    _audit(action.value, request, by, assessment.buyer_org_id, reason=body,
           waiver_expires=expires.isoformat() if expires else None)
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
