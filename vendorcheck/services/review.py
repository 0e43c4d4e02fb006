"""The buyer's review: clarifications, evidence, overrides, findings, reopening, decision, cancelling,
re-assessment.

Each service takes the acting user (`by=`), raises a domain exception, writes one audit entry and
commits once. E-mails to the vendor's contacts are queued in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l

from vendorcheck import audit, mail
from vendorcheck.extensions import db
from vendorcheck.models import Contact, User, utcnow
from vendorcheck.models.assessments import (
    Answer,
    Assessment,
    AssessmentStatus,
    Clarification,
    ClarificationState,
    Decision,
    Evidence,
    EvidenceReview,
    FindingRecord,
    FindingState,
    Override,
)
from vendorcheck.questionnaire import Questionnaire
from vendorcheck.questionnaire.reviewed import (
    FINDING_SEVERITY,
    ITEM_POINTS,
    SEVERITIES,
    ReviewedResult,
    carried_answers,
)
from vendorcheck.services import notify, remediation, webhooks
from vendorcheck.services.assessments import (
    STILL_OPEN,
    create_sent_assessment,
    ensure_fresh,
    questionnaire_of,
    refresh_results,
    reviewed_of,
)
from vendorcheck.services.assessments.results import rescore
from vendorcheck.services.errors import DomainError, ValidationFailed

S = AssessmentStatus
REVIEWABLE = frozenset({S.SUBMITTED, S.IN_REVIEW, S.CLARIFICATION_REQUESTED})
REVIEW_MONTHS = {"unacceptable": 3, "high": 6}
MAX_COMMENT = 5000


class InvalidTransition(DomainError):
    status = 409
    default = _l("This assessment is not in a state that allows this action.")


class CommentRequired(ValidationFailed):
    default = _l("Explain the change in a comment; it is kept in the audit trail.")


class ReasonRequired(ValidationFailed):
    default = _l("Critical or high findings are open or clarifications are unanswered: give the "
                 "reason for approving anyway; it is kept in the audit trail.")


# Approving while these are open needs a stated reason (a conscious risk decision, audit-logged).
SERIOUS = frozenset({"critical", "high"})
APPROVALS = frozenset({Decision.APPROVED, Decision.APPROVED_WITH_CONDITIONS})


@dataclass(frozen=True)
class DecisionConcerns:
    """What is still open when the buyer decides: serious findings and unanswered clarifications."""

    findings: list[FindingRecord]
    clarifications: list[Clarification]

    def __bool__(self) -> bool:
        return bool(self.findings or self.clarifications)


# --- reading ------------------------------------------------------------------------------------


def result_of(assessment: Assessment, q: Questionnaire | None = None) -> ReviewedResult:
    """Score the pinned version and apply the reviewer's overrides; the cached columns (tier,
    score, findings) are first brought up to date with the vendor's latest autosave."""
    ensure_fresh(assessment)
    return reviewed_of(assessment, q)


def page_result(assessment: Assessment, q: Questionnaire | None = None) -> ReviewedResult:
    """Read the answers as scored for the review page, writing nothing: the page shows the last
    stored results with their age and never re-scores (`refresh_now` does, when asked)."""
    return reviewed_of(assessment, q)


def refresh_now(assessment: Assessment, *, by: User) -> None:
    """Recompute one assessment's results now, stale or not, and commit ("Refresh results now").

    Not audited: it decides nothing, and the re-score writes what the background job would.
    `by` is the viewer who asked; any buyer who can see the review may.
    """
    del by  # kept for the services' calling convention; nothing is recorded in their name
    rescore(assessment.id, force=True)


def decision_concerns(assessment: Assessment) -> DecisionConcerns:
    """List the open critical or high findings (as the review page shows them) and the
    clarifications the vendor has not answered."""
    raised = {f.id for f in result_of(assessment).computed.findings}
    findings = [f for f in assessment.findings
                if f.state in STILL_OPEN and f.severity in SERIOUS
                and (f.source == "manual" or f.finding_id in raised)]
    findings.sort(key=lambda f: (f.severity != "critical", f.finding_id))
    clarifications = [c for c in assessment.clarifications if c.state is ClarificationState.OPEN]
    return DecisionConcerns(findings, clarifications)


def default_next_review(tier: str | None, today: date | None = None) -> date:
    """Return the default next review date: 1 year; 6 months for high; 3 months for unacceptable."""
    start = today or date.today()
    months = REVIEW_MONTHS.get(tier or "", 12)
    month = start.month - 1 + months
    year, month = start.year + month // 12, month % 12 + 1
    for day in (start.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    return start + timedelta(days=30 * months)  # pragma: no cover


# --- private helpers (no commit) ----------------------------------------------------------------


def _require_status(assessment: Assessment, allowed: frozenset[AssessmentStatus]) -> None:
    if assessment.status not in allowed:
        raise InvalidTransition()


def _comment(text: str | None, *, required: bool = True) -> str | None:
    value = (text or "").strip()
    if required and not value:
        raise CommentRequired()
    if len(value) > MAX_COMMENT:
        raise ValidationFailed(_l("The comment is too long (at most %(n)d characters).",
                                  n=MAX_COMMENT))
    return value or None


def _item_label(assessment: Assessment, item_id: str) -> dict[str, str]:
    item = questionnaire_of(assessment).item(item_id)
    return item.label.as_dict() if item.label else {"en": item_id}


def _record(action: str, assessment: Assessment, by: User, obj: Any = None, **details: Any) -> None:
    audit.record(action, by=by, org=assessment.buyer_org_id, obj=obj or assessment,
                 details={"assessment_id": assessment.id, **details})


# --- services -----------------------------------------------------------------------------------


def open_review(assessment: Assessment, *, by: User) -> bool:
    """Move a submitted assessment to in review when a reviewer opens it; tell whether it moved."""
    if assessment.status is not S.SUBMITTED:
        return False
    assessment.status = S.IN_REVIEW
    _record("assessment_review_opened", assessment, by)
    db.session.commit()
    return True


def request_clarification(assessment: Assessment, item_id: str, question: str, *,
                          by: User) -> Clarification:
    """Ask the vendor about one item; the vendor may change that answer until it is answered."""
    _require_status(assessment, REVIEWABLE)
    if not questionnaire_of(assessment).has_item(item_id):
        raise ValidationFailed(_l("This question does not exist in this questionnaire."))
    text = _comment(question)
    clarification = Clarification(assessment=assessment, item_id=item_id, question=text,
                                  asked_by_id=by.id, state=ClarificationState.OPEN)
    db.session.add(clarification)
    assessment.status = S.CLARIFICATION_REQUESTED
    db.session.flush()
    _record("clarification_requested", assessment, by, obj=clarification, item_id=item_id)
    messages = notify.notify_recipients(assessment, "review_clarification", question=text,
                       item=_item_label(assessment, item_id))
    db.session.commit()
    mail.dispatch(messages)
    return clarification


def review_evidence(evidence: Evidence, state: EvidenceReview, comment: str | None, *,
                    by: User) -> Evidence:
    """Accept or reject an evidence file; a rejection needs a comment."""
    assessment = evidence.assessment
    _require_status(assessment, REVIEWABLE)
    evidence.review_state = state
    evidence.review_comment = _comment(comment, required=state is EvidenceReview.REJECTED)
    _record("evidence_reviewed", assessment, by, obj=evidence, state=state.value)
    db.session.commit()
    return evidence


def override_item_points(assessment: Assessment, item_id: str, points: float, comment: str, *,
                         by: User) -> Override:
    """Replace an item's computed points (0 … maximum); the computed value is kept beside it."""
    _require_status(assessment, REVIEWABLE)
    text = _comment(comment)
    scored = result_of(assessment).computed.items
    entry = next((i for i in scored if i.item_id == item_id and i.maximum > 0), None)
    if entry is None:
        raise ValidationFailed(_l("Only a scored, shown and answered question can be overridden."))
    if not 0 <= points <= entry.maximum:
        raise ValidationFailed(_l("Points must be between 0 and %(max)s.", max=f"{entry.maximum:g}"))
    override = Override(assessment=assessment, kind=ITEM_POINTS, target=item_id,
                        computed_value=f"{entry.earned:g}", new_value=f"{points:g}",
                        comment=text or "", by_id=by.id)
    db.session.add(override)
    db.session.flush()
    refresh_results(assessment)
    _record("item_points_overridden", assessment, by, obj=override, item_id=item_id,
            computed=override.computed_value, new=override.new_value)
    db.session.commit()
    return override


def override_finding_severity(assessment: Assessment, finding_id: str, severity: str,
                              comment: str, *, by: User) -> Override:
    """Change a raised finding's severity; the computed severity is kept beside it."""
    _require_status(assessment, REVIEWABLE)
    text = _comment(comment)
    if severity not in SEVERITIES:
        raise ValidationFailed(_l("Choose a severity from the list."))
    raised = {f.id: f.severity for f in result_of(assessment).computed.findings}
    if finding_id not in raised:
        raise ValidationFailed(_l("Only a finding raised by the answers can be overridden."))
    override = Override(assessment=assessment, kind=FINDING_SEVERITY, target=finding_id,
                        computed_value=raised[finding_id], new_value=severity, comment=text or "",
                        by_id=by.id)
    db.session.add(override)
    db.session.flush()
    refresh_results(assessment)
    _record("finding_severity_overridden", assessment, by, obj=override, finding_id=finding_id,
            computed=override.computed_value, new=severity)
    db.session.commit()
    return override


def add_manual_finding(assessment: Assessment, *, severity: str, title: dict[str, str],
                       remediation: dict[str, str], due_date: date | None,
                       by: User) -> FindingRecord:
    """Add a finding by hand (a title in at least one language)."""
    _require_status(assessment, REVIEWABLE | {S.DECIDED})
    title = {k: v.strip() for k, v in title.items() if v and v.strip()}
    if not title:
        raise ValidationFailed(_l("Give the finding a title in at least one language."))
    if severity not in SEVERITIES:
        raise ValidationFailed(_l("Choose a severity from the list."))
    count = sum(1 for f in assessment.findings if f.source == "manual")
    record = FindingRecord(
        assessment=assessment, finding_id=f"manual-{count + 1}", source="manual",
        severity=severity, title=title, refs=[], due_date=due_date, updated_by_id=by.id,
        remediation={k: v.strip() for k, v in remediation.items() if v and v.strip()})
    db.session.add(record)
    db.session.flush()
    refresh_results(assessment)
    _record("finding_added", assessment, by, obj=record, severity=severity)
    db.session.commit()
    return record


def _finding_record(assessment: Assessment, finding_id: str) -> FindingRecord:
    """Return a finding's record, creating it for a raised finding the sync has not stored yet."""
    record = next((f for f in assessment.findings if f.finding_id == finding_id), None)
    if record is not None:
        return record
    raised = next((f for f in result_of(assessment).computed.findings if f.id == finding_id), None)
    if raised is None:
        raise ValidationFailed(_l("This finding does not exist in this assessment."))
    record = FindingRecord(assessment=assessment, finding_id=raised.id, source="computed",
                           severity=raised.severity, title=raised.title.as_dict(),
                           refs=list(raised.refs), state=FindingState.OPEN,
                           remediation=raised.remediation.as_dict() if raised.remediation else {})
    db.session.add(record)
    return record


def set_finding_state(assessment: Assessment, finding_id: str, state: FindingState, *,
                      due_date: date | None, comment: str | None, by: User) -> FindingRecord:
    """Move a finding to another state and set its due date."""
    record = _finding_record(assessment, finding_id)
    record.state, record.due_date = state, due_date
    record.comment = _comment(comment, required=False)
    record.updated_by_id = by.id
    db.session.flush()
    refresh_results(assessment)
    _record("finding_state_changed", assessment, by, obj=record, finding_id=record.finding_id,
            state=state.value)
    hooks = webhooks.finding_event(assessment, record)
    db.session.commit()
    webhooks.dispatch(hooks)
    return record


def reopen_assessment(assessment: Assessment, *, by: User) -> Assessment:
    """Give a submitted assessment back to the vendor (in progress); the vendor submits again."""
    _require_status(assessment, REVIEWABLE)
    assessment.status = S.IN_PROGRESS
    assessment.reopened_at = utcnow()
    _record("assessment_reopened", assessment, by)
    messages = notify.notify_recipients(assessment, "review_reopened")
    db.session.commit()
    mail.dispatch(messages)
    return assessment


def shareable_findings(assessment: Assessment) -> list[FindingRecord]:
    """Return the open findings (raised by the answers or added by hand) the buyer may send to the
    vendor as remediation requests when deciding, the worst first."""
    raised = {f.id for f in result_of(assessment).computed.findings}
    found = [f for f in assessment.findings if f.state in STILL_OPEN
             and (f.source == "manual" or f.finding_id in raised)]
    found.sort(key=lambda f: (SEVERITIES.index(f.severity) if f.severity in SEVERITIES
                              else len(SEVERITIES), f.finding_id))
    return found


@dataclass(frozen=True)
class SharedFinding:
    """A finding the buyer sends to the vendor with the decision: its due date and note."""

    finding_id: str
    due_date: date | None = None
    note: str = ""


# Until it is decided, the buyer may withdraw an assessment it sent.
CANCELLABLE = frozenset({S.SENT, S.IN_PROGRESS, S.SUBMITTED, S.IN_REVIEW, S.CLARIFICATION_REQUESTED})


def cancel_assessment(assessment: Assessment, reason: str | None, *, by: User) -> Assessment:
    """Withdraw a sent, undecided assessment with a reason; the vendor's contacts are told why."""
    if assessment.status not in CANCELLABLE:
        raise InvalidTransition(_l("Only an assessment that is not decided, expired or cancelled yet "
                                   "can be cancelled."))
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed(_l("Give the reason for cancelling; the vendor's contacts receive it."))
    if len(text) > MAX_COMMENT:
        raise ValidationFailed(_l("The reason is too long (at most %(n)d characters).", n=MAX_COMMENT))
    previous = assessment.status
    assessment.status, assessment.cancelled_at, assessment.cancel_reason = S.CANCELLED, utcnow(), text
    _record("assessment_cancelled", assessment, by, reason=text, previous_status=previous.value)
    messages = notify.notify_recipients(assessment, "assessment_cancelled", reason=text)
    db.session.commit()
    mail.dispatch(messages)
    return assessment


def decide_assessment(assessment: Assessment, decision: Decision, comment: str | None, *,
                      next_review_date: date, by: User, reason: str | None = None,
                      shared: Sequence[SharedFinding] = (), buyer_owner_id: int | None = None,
                      vendor_owner_id: int | None = None) -> Assessment:
    """Record the decision; conditions and rejections need a comment, and approving while
    serious findings or clarifications are open needs a reason (kept in the audit trail).

    The findings in `shared` become remediation requests (each audited and e-mailed like one made
    later on the review page) with the owners chosen: the buyer side defaults to the decider.
    """
    try:
        messages = _decide(assessment, decision, comment, next_review_date=next_review_date,
                           by=by, reason=reason)
        hooks = webhooks.assessment_event(assessment, "assessment.decided")
        for one in shared:
            _request, mails, request_hooks = remediation.add_request(
                assessment, one.finding_id, due_date=one.due_date, note=one.note, by=by,
                buyer_owner_id=buyer_owner_id, vendor_owner_id=vendor_owner_id)
            messages += mails
            hooks += request_hooks
        db.session.commit()
    except BaseException:
        db.session.rollback()  # no half-recorded decision, no request without its decision
        raise
    mail.dispatch(messages)
    webhooks.dispatch(hooks)
    return assessment


def _decide(assessment: Assessment, decision: Decision, comment: str | None, *,
            next_review_date: date, by: User, reason: str | None) -> list[Any]:
    """Check and record the decision (no commit); return its e-mails."""
    if assessment.status is S.CLARIFICATION_REQUESTED:
        raise InvalidTransition(_l("Wait for the vendor's answers to the open clarifications "
                                   "(or reopen the assessment) before deciding."))
    _require_status(assessment, frozenset({S.SUBMITTED, S.IN_REVIEW}))
    if next_review_date < date.today():
        raise ValidationFailed(_l("The next review date cannot be in the past."))
    assessment.decision_comment = _comment(comment, required=decision is not Decision.APPROVED)
    concerns = decision_concerns(assessment)
    risk_reason = _risk_reason(reason, needed=decision in APPROVALS and bool(concerns))
    assessment.decision, assessment.status = decision, S.DECIDED
    assessment.decided_at, assessment.decided_by_id = utcnow(), by.id
    assessment.next_review_date = next_review_date
    refresh_results(assessment)
    _record("assessment_decided", assessment, by, decision=decision.value,
            next_review_date=next_review_date.isoformat(), **_concern_details(concerns, risk_reason))
    return notify.notify_recipients(assessment, "review_decision", decision=decision.value,
                                    comment=assessment.decision_comment or "",
                                    next_review=next_review_date)


def _risk_reason(text: str | None, *, needed: bool) -> str | None:
    """Return the reason for approving despite open concerns; refuse when needed and missing."""
    value = (text or "").strip()
    if needed and not value:
        raise ReasonRequired()
    if len(value) > MAX_COMMENT:
        raise ValidationFailed(_l("The reason is too long (at most %(n)d characters).",
                                  n=MAX_COMMENT))
    return value or None


def _concern_details(concerns: DecisionConcerns, reason: str | None) -> dict[str, Any]:
    """Return the audit details of what was open at the decision, and the reason given."""
    if not concerns and reason is None:
        return {}
    return {"reason": reason,
            "open_findings": [f"{f.finding_id} ({f.severity})" for f in concerns.findings],
            "open_clarifications": [c.item_id for c in concerns.clarifications]}


# --- re-assessment ------------------------------------------------------------------------------


# A submitted assessment, at any step of its review, can be the basis of the next one.
REASSESSABLE = frozenset({S.SUBMITTED, S.IN_REVIEW, S.CLARIFICATION_REQUESTED, S.DECIDED})


def start_reassessment(previous: Assessment, *, due_date: date | None, contacts: Sequence[Contact],
                       message: str, by: User) -> Assessment:
    """Send next year's assessment (latest published version), answers carried forward."""
    if previous.status not in REASSESSABLE:
        raise InvalidTransition(_l("Only a submitted assessment can be the basis of the next one."))
    catalogue = current_app.extensions["questionnaires"]
    new_q, old_q = catalogue.get(previous.questionnaire_id), questionnaire_of(previous)
    carried = carried_answers(old_q, new_q, previous.answers)
    try:
        assessment, messages = create_sent_assessment(
            previous.buyer_org, previous.vendor, new_q, due_date=due_date,
            contacts=list(contacts), message=message, by=by)
        assessment.previous_id = previous.id
        for item_id, value, justification, changed in carried:
            assessment.answers.append(Answer(item_id=item_id, value=value,
                                             justification=justification, updated_by_id=by.id,
                                             needs_reconfirmation=changed))
        db.session.flush()
        refresh_results(assessment, new_q)
        _record("reassessment_started", assessment, by, previous_id=previous.id,
                carried=len(carried), to_reconfirm=sum(1 for c in carried if c[3]))
        hooks = webhooks.assessment_event(assessment, "assessment.sent")
        db.session.commit()
    except BaseException:
        db.session.rollback()  # nothing of a half-built re-assessment (nor its e-mails) stays
        raise
    mail.dispatch(messages)
    webhooks.dispatch(hooks)
    return assessment
