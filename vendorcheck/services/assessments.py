"""Assessments, vendor side: send, answer (autosave, sections), evidence, copy, submit, clarify.

Each service takes the acting user (`by=`), raises a domain exception and commits once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask import current_app
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Row, bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import FileStorage

from vendorcheck import audit, database, mail, storage, uploads
from vendorcheck.extensions import db
from vendorcheck.models import (
    Contact,
    InvitationKind,
    Membership,
    Organisation,
    OutboxMessage,
    Role,
    User,
    Vendor,
    utcnow,
)
from vendorcheck.models.assessments import (
    EDITABLE_STATUSES,
    Answer,
    Assessment,
    AssessmentRecipient,
    AssessmentStatus,
    Attestation,
    AutosaveReceipt,
    Clarification,
    ClarificationState,
    Evidence,
    FindingRecord,
    FindingState,
)
from vendorcheck.questionnaire import Item, Questionnaire, score, validate_answers
from vendorcheck.questionnaire.answers import Invalid, clean_text
from vendorcheck.questionnaire.evaluate import Visibility, evaluate_visibility, make_env
from vendorcheck.questionnaire.reviewed import OverrideValue, ReviewedResult, reviewed_result
from vendorcheck.questionnaire.scoring import ScoreResult, completeness, is_answered
from vendorcheck.services.errors import DomainError, ValidationFailed
from vendorcheck.services.notify import queue_mail

S = AssessmentStatus
SUBMITTED_STATES = frozenset({S.SUBMITTED, S.IN_REVIEW, S.CLARIFICATION_REQUESTED, S.DECIDED})
CLARIFIABLE = frozenset({S.SUBMITTED, S.IN_REVIEW, S.CLARIFICATION_REQUESTED})
MAX_JUSTIFICATION = 5000
MB = 1024 * 1024


# --- domain exceptions ---------------------------------------------------------------------------


class AnswerInvalid(ValidationFailed):
    """One or more answers were refused; `problems` maps item (or cell) → message."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        self.problems = dict(problems)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.problems.items()))


class UnknownItem(ValidationFailed):
    """The item id does not exist in the pinned questionnaire."""


class Conflict(DomainError):
    """Someone saved a newer version in the meantime; nothing was overwritten."""

    status = 409

    def __init__(self, message: object, *, item_id: str = "", current: Any = None,
                 version: int | None = None) -> None:
        self.item_id, self.current, self.version = item_id, current, version
        super().__init__(message)


class NotEditable(DomainError):
    """The assessment is submitted (or closed) and the item has no open clarification."""

    status = 409


class MissingAnswers(DomainError):
    """Required visible items are still unanswered."""

    status = 422

    def __init__(self, missing: Sequence[str]) -> None:
        self.missing = list(missing)
        super().__init__(_l("Some required questions are not answered yet."))


class QuotaExceeded(ValidationFailed):
    """Too many files or bytes for one assessment."""


# --- reading -------------------------------------------------------------------------------------


def questionnaire_of(assessment: Assessment) -> Questionnaire:
    """Return the exact questionnaire version the assessment is pinned to."""
    return current_app.extensions["questionnaires"].get(
        assessment.questionnaire_id, assessment.questionnaire_version)


def answers_of(assessment: Assessment) -> dict[str, Any]:
    """Return the stored answers as the engine reads them."""
    return {a.item_id: a.value for a in assessment.answers if a.value is not None}


def answer_rows(assessment: Assessment) -> dict[str, Answer]:
    """Return the stored answer rows by item id."""
    return {a.item_id: a for a in assessment.answers}


def vendor_assessments(org: Organisation) -> list[Assessment]:
    """Return every assessment sent to this vendor organisation, by any buyer."""
    query = (select(Assessment).join(Assessment.vendor).where(
        Vendor.vendor_org_id == org.id, Assessment.status != S.DRAFT)
        .order_by(Assessment.due_date.is_(None), Assessment.due_date, Assessment.id.desc()))
    return list(db.session.scalars(query))


def open_clarifications(assessment: Assessment) -> dict[str, Clarification]:
    """Return open clarifications by item id."""
    return {c.item_id: c for c in assessment.clarifications if c.state is ClarificationState.OPEN}


def is_editable(assessment: Assessment, item_id: str | None = None) -> bool:
    """Tell whether the vendor may change answers (or this item's answer)."""
    if assessment.status in EDITABLE_STATUSES:
        return True
    return (item_id is not None and assessment.status in CLARIFIABLE
            and item_id in open_clarifications(assessment))


def section_progress(q: Questionnaire, vis: Visibility) -> dict[str, tuple[int, int]]:
    """Return (answered, shown) items per section; notes do not count."""
    out: dict[str, tuple[int, int]] = {}
    for section in q.sections:
        shown = [i for i in section.items if i.kind.is_question and vis.is_visible(i.id)]
        done = sum(1 for i in shown if is_answered(i, vis.values.get(i.id), vis))
        out[section.id] = (done, len(shown))
    return out


def overall_progress(counts: Mapping[str, tuple[int, int]]) -> int:
    """Return the percentage of shown items answered, over every section (100 when none shows)."""
    shown = sum(total for _done, total in counts.values())
    return round(100 * sum(done for done, _t in counts.values()) / shown) if shown else 100


def previous_submissions(into: Assessment) -> list[Assessment]:
    """Return this vendor organisation's submitted assessments of the same questionnaire."""
    org_id = into.vendor_org_id
    if org_id is None:
        return []
    query = (select(Assessment).join(Assessment.vendor).where(
        Vendor.vendor_org_id == org_id, Assessment.id != into.id,
        Assessment.questionnaire_id == into.questionnaire_id,
        Assessment.status.in_(SUBMITTED_STATES)).order_by(Assessment.submitted_at.desc()))
    return list(db.session.scalars(query))


# --- private helpers (no commit) ------------------------------------------------------------------


def _user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


def _is_member(user: User, org_id: int | None) -> bool:
    return org_id is not None and db.session.scalar(select(Membership.id).where(
        Membership.user_id == user.id, Membership.organisation_id == org_id)) is not None


def _vendor_link(assessment: Assessment) -> str:
    return mail.external_url("supplier.assessment", assessment_id=assessment.id)


def _check_editable(assessment: Assessment, item_id: str) -> None:
    if is_editable(assessment, item_id):
        return
    if assessment.submitted_at is not None and assessment.status in SUBMITTED_STATES:
        day = assessment.submitted_at.date().isoformat()
        raise NotEditable(_l("Submitted on %(day)s — ask the buyer to reopen the assessment to "
                             "change answers.", day=day))
    raise NotEditable(_l("This assessment can no longer be changed."))


def _item(q: Questionnaire, item_id: str) -> Item:
    if not isinstance(item_id, str) or not q.has_item(item_id):
        raise UnknownItem(_l("Unknown item '%(item)s'.", item=str(item_id)[:64]))
    item = q.item(item_id)
    if not item.kind.typed:
        raise UnknownItem(_l("Item '%(item)s' takes no typed answer.", item=item_id))
    return item


def _clean_justification(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        return clean_text(text, MAX_JUSTIFICATION).strip() or None
    except Invalid as exc:
        raise AnswerInvalid({"justification": str(exc)}) from None


def _conflict(answer: Answer) -> Conflict:
    """Describe a newer stored answer: who saved it and when, and its value and version."""
    author = db.session.get(User, answer.updated_by_id) if answer.updated_by_id else None
    who = author.name if author is not None else _("someone else")
    when = format_datetime(answer.updated_at, "HH:mm") if answer.updated_at else ""
    return Conflict(_l("Changed by %(who)s at %(when)s — your text is kept; reload to merge.",
                       who=who, when=when), item_id=answer.item_id, current=answer.value,
                    version=answer.version)


def reviewed_of(assessment: Assessment, q: Questionnaire | None = None) -> ReviewedResult:
    """Score the pinned version and apply the reviewer's overrides and manual findings."""
    q = q or questionnaire_of(assessment)
    overrides = [OverrideValue(o.kind, o.target, o.new_value) for o in assessment.overrides]
    manual = [f.severity for f in assessment.findings if f.source == "manual"]
    return reviewed_result(q, answers_of(assessment), overrides, extra_severities=manual)


def refresh_results(assessment: Assessment, q: Questionnaire | None = None) -> ReviewedResult:
    """Re-score with the reviewer's overrides, refresh the cached columns and sync findings.

    The cached score, tier and open findings are the reviewed ones, so the dashboard, the review
    page, the report and the exports agree even when the vendor saves during a clarification.
    """
    q = q or questionnaire_of(assessment)
    reviewed = reviewed_of(assessment, q)
    result = reviewed.computed
    assessment.score, assessment.tier = reviewed.score, reviewed.tier
    assessment.completeness = result.completeness
    assessment.progress = overall_progress(section_progress(q, result.visibility))
    _sync_findings(assessment, reviewed)
    assessment.open_findings = _count_open(assessment, result)
    assessment.results_stale = False
    return reviewed


def _store_progress(assessment: Assessment, q: Questionnaire, answers: Mapping[str, Any]) -> None:
    """Write progress and completeness only, and mark the score, tier and findings stale.

    Visibility alone is a fraction of a full re-score; the rest waits for `ensure_fresh`. One
    plain UPDATE (the unit of work costs more), mirrored on the loaded object.
    """
    visibility = evaluate_visibility(q, answers, env=make_env(q, None))
    values: dict[str, Any] = {
        "completeness": completeness(q, visibility)[0],
        "progress": overall_progress(section_progress(q, visibility)),
        "results_stale": True}
    if assessment.status is S.SENT:
        values["status"] = S.IN_PROGRESS
    db.session.execute(update(Assessment.__table__)
                       .where(Assessment.__table__.c.id == assessment.id).values(values))
    for name, value in values.items():
        set_committed_value(assessment, name, value)


def ensure_fresh(assessment: Assessment) -> None:
    """Re-score an assessment whose results an autosave marked stale, and commit."""
    if assessment.results_stale:
        _refresh_in_turn(assessment.id)


def refresh_stale(buyer_org_id: int) -> int:
    """Re-score every assessment of a buyer whose results are stale; return how many.

    Called before a buyer page is built, so the dashboard, the review pages, the reports and the
    exports always read results that include the vendor's latest autosave.
    """
    stale = db.session.scalars(select(Assessment.id).where(
        Assessment.results_stale.is_(True), Assessment.buyer_org_id == buyer_org_id)).all()
    for assessment_id in stale:
        _refresh_in_turn(assessment_id)
    return len(stale)


def _refresh_in_turn(assessment_id: int) -> None:
    """Take the assessment's save turn, re-read it and re-score it if still stale; commit."""
    assessment = _lock_for_rescore(assessment_id)
    if assessment is not None and assessment.results_stale:
        refresh_results(assessment)
    db.session.commit()  # also ends the turn when there was nothing left to do


STILL_OPEN = frozenset({FindingState.OPEN, FindingState.VENDOR_RESPONDED})


def _count_open(assessment: Assessment, result: ScoreResult) -> int:
    """Count the findings the review page lists (raised or manual) that are still open."""
    raised = {f.id for f in result.findings}
    return sum(1 for r in assessment.findings if r.state in STILL_OPEN
               and (r.source == "manual" or r.finding_id in raised))


def _sync_findings(assessment: Assessment, reviewed: ReviewedResult) -> None:
    """Insert newly raised computed findings; drop untouched ones no longer raised; keep states.

    A raised finding's record carries its effective severity (the reviewer's override, if any),
    since the report and the exports read the records.
    """
    raised = {f.id: f for f in reviewed.computed.findings}
    existing = {f.finding_id: f for f in assessment.findings}
    for record in list(assessment.findings):
        untouched = record.state is FindingState.OPEN and not record.comment and not record.updated_by_id
        if record.source == "computed" and record.finding_id not in raised and untouched:
            assessment.findings.remove(record)
    for fid, finding in raised.items():
        severity = reviewed.severity_of(fid, finding.severity)
        stored = existing.get(fid)
        if stored is None:
            assessment.findings.append(FindingRecord(
                finding_id=fid, source="computed", severity=severity,
                title=finding.title.as_dict(), refs=list(finding.refs),
                remediation=finding.remediation.as_dict() if finding.remediation else {},
                state=FindingState.OPEN))
        elif stored.source == "computed" and stored.severity != severity:
            stored.severity = severity


def _store(assessment: Assessment, item_id: str, value: Any, justification: str | None, *,
           by: User, keep_justification: bool = False) -> Answer:
    """Create or update one answer row (no version check here)."""
    answer = next((a for a in assessment.answers if a.item_id == item_id), None)
    if answer is None:
        answer = Answer(item_id=item_id)
        assessment.answers.append(answer)
    answer.value = value
    if not keep_justification:
        answer.justification = justification
    answer.updated_by_id, answer.updated_by = by.id, by
    answer.updated_at = utcnow()
    answer.needs_reconfirmation = False
    return answer


def _started(assessment: Assessment) -> None:
    if assessment.status is S.SENT:
        assessment.status = S.IN_PROGRESS


def _lost_race(item_id: str) -> Conflict:
    """Roll back a save that lost a race with another one, and describe it (409)."""
    db.session.rollback()
    return Conflict(_l("Someone saved this answer at the same moment; reload to see it."),
                    item_id=item_id)


def _flush_or_conflict(item_id: str) -> None:
    try:
        db.session.flush()
    except (StaleDataError, IntegrityError):
        raise _lost_race(item_id) from None


# --- services: buyer sends -------------------------------------------------------------------------


def create_sent_assessment(buyer_org: Organisation, vendor: Vendor, questionnaire: Questionnaire,
                           *, due_date: date | None, contacts: Sequence[Contact], message: str,
                           by: User) -> tuple[Assessment, list[OutboxMessage]]:
    """Create a sent assessment and queue its e-mails in the outbox (flush only, no commit).

    The caller commits once, then dispatches the returned messages.
    """
    from vendorcheck.services.invitations import new_invitation, queue_invitation_mail

    if vendor.buyer_org_id != buyer_org.id or any(c.vendor_id != vendor.id for c in contacts):
        raise ValidationFailed(_l("Choose contacts of this vendor."))
    if not contacts:
        raise ValidationFailed(_l("Choose at least one contact."))
    assessment = Assessment(
        buyer_org_id=buyer_org.id, vendor_id=vendor.id, questionnaire_id=questionnaire.id,
        questionnaire_version=questionnaire.version, questionnaire_sha256=questionnaire.sha256,
        status=S.SENT, due_date=due_date, message=(message or "").strip(), created_by_id=by.id,
        sent_at=utcnow())
    assessment.recipients = [AssessmentRecipient(contact_id=c.id) for c in contacts]
    db.session.add(assessment)
    db.session.flush()
    messages = []
    context = {"buyer": buyer_org.name, "vendor": vendor.legal_name, "due_date": due_date,
               "message": assessment.message, "title": questionnaire.title}
    for contact in contacts:
        user = _user_by_email(contact.email)
        if user is not None and _is_member(user, vendor.vendor_org_id):
            messages.append(queue_mail(
                "assessment_sent", to=contact.email, locale=user.locale,
                context={**context, "name": contact.name, "link": _vendor_link(assessment)},
                org_id=buyer_org.id, ref=("assessment", assessment.id)))
        else:
            role = Role.CONTRIBUTOR if vendor.vendor_org_id else Role.ADMIN
            invitation, token = new_invitation(
                kind=InvitationKind.VENDOR_CONTACT, org=buyer_org, vendor=vendor,
                email=contact.email, name=contact.name, role=role, by=by)
            messages.append(queue_invitation_mail(invitation, token))
    audit.record("assessment_sent", by=by, org=buyer_org.id, obj=assessment, details={
        "vendor_id": vendor.id, "questionnaire": questionnaire.key,
        "recipients": [c.email for c in contacts]})
    db.session.flush()
    return assessment, messages


def send_assessment(buyer_org: Organisation, vendor: Vendor, questionnaire: Questionnaire, *,
                    due_date: date | None, contacts: Sequence[Contact], message: str,
                    by: User) -> Assessment:
    """Send a questionnaire version to a vendor's contacts; invite those without an account."""
    try:
        assessment, messages = create_sent_assessment(
            buyer_org, vendor, questionnaire, due_date=due_date, contacts=contacts,
            message=message, by=by)
        db.session.commit()
    except BaseException:
        db.session.rollback()  # no half-sent assessment, invitation or e-mail stays behind
        raise
    mail.dispatch(messages)
    return assessment


# --- services: vendor answers ----------------------------------------------------------------------


@dataclass
class Saved:
    """The result of one autosave: the item, its new version and when."""

    item_id: str
    version: int
    saved_at: datetime | None
    progress: int = 0
    replayed: bool = False


def preload(assessment_id: int) -> Assessment | None:
    """Load an assessment with its vendor in one query; `get_owned_or_404` then finds it."""
    return db.session.scalars(select(Assessment).where(Assessment.id == assessment_id)
                              .options(joinedload(Assessment.vendor))).first()


def _take_turn(assessment: Assessment) -> None:
    """Wait for the assessment's save turn, then re-read what decides whether it may change.

    Saves of one assessment run one at a time from here to their commit (a row lock on
    PostgreSQL, the write queue on SQLite), and read the answers only once it is their turn:
    two people saving different items at the same moment each compute progress with the other's
    answer, and a re-score never commits results that miss an answer saved meanwhile. Checks
    that need no stored state (the item, the value) run before, outside the turn.
    """
    database.queue_for_write(db.session)
    db.session.refresh(assessment, ["status", "submitted_at", "progress"], with_for_update=True)


def _lock_for_rescore(assessment_id: int) -> Assessment | None:
    """Take the assessment's save turn and load what a re-score reads, fresh."""
    database.queue_for_write(db.session)
    return db.session.scalars(
        select(Assessment).where(Assessment.id == assessment_id)
        .options(joinedload(Assessment.vendor), selectinload(Assessment.answers),
                 selectinload(Assessment.overrides), selectinload(Assessment.findings))
        .with_for_update(of=Assessment).execution_options(populate_existing=True)).first()


# Built once: an autosave runs these on every change of a field, and building a statement
# costs about as much as running it.
ANSWER_STATES = select(Answer.id, Answer.item_id, Answer.value, Answer.version).where(
    Answer.assessment_id == bindparam("assessment_id"))
RECEIPT = select(AutosaveReceipt.assessment_id, AutosaveReceipt.item_id,
                 AutosaveReceipt.answer_version, AutosaveReceipt.created_at).where(
    AutosaveReceipt.request_id == bindparam("request_id"))


def _answer_states(assessment_id: int) -> dict[str, Row[Any]]:
    """Read an assessment's answers as plain rows: an autosave compares them, never edits them."""
    rows = db.session.execute(ANSWER_STATES, {"assessment_id": assessment_id})
    return {row.item_id: row for row in rows}


def _replay(assessment: Assessment, item_id: str, request_id: str) -> Saved | None:
    """Return the stored result of an autosave request already handled, if any."""
    receipt = db.session.execute(RECEIPT, {"request_id": request_id[:64]}).first()
    if receipt is None:
        return None
    if receipt.assessment_id != assessment.id or receipt.item_id != item_id:
        raise Conflict(_l("This request was already used for another answer."))
    return Saved(item_id, receipt.answer_version, receipt.created_at, assessment.progress,
                 replayed=True)


def _write_answer(assessment_id: int, item_id: str, current: Row[Any] | None,
                  changes: dict[str, Any]) -> int:
    """Insert or update one answer row, guarded by its version; return the new version.

    Plain UPDATE/INSERT statements: the ORM's unit of work costs more than the rest of an
    autosave. The version check is in the WHERE clause, so a lost race updates nothing.
    """
    table = Answer.__table__
    try:
        if current is None:
            db.session.execute(table.insert().values(
                assessment_id=assessment_id, item_id=item_id, version=1, **changes))
            return 1
        updated = db.session.execute(table.update().where(
            table.c.id == current.id, table.c.version == current.version,
        ).values(version=current.version + 1, **changes))
    except IntegrityError:
        updated = None
    if updated is None or updated.rowcount != 1:  # type: ignore[attr-defined]
        raise _lost_race(item_id)
    return int(current.version) + 1


def _keep_receipt(assessment_id: int, request_id: str, item_id: str, version: int) -> None:
    """Record the request id, so a retried request returns this result instead of saving twice."""
    try:
        db.session.execute(AutosaveReceipt.__table__.insert().values(
            assessment_id=assessment_id, request_id=request_id[:64], item_id=item_id,
            answer_version=version, created_at=utcnow()))
    except IntegrityError:  # the same request id at the same moment: 409, not 500
        raise _lost_race(item_id) from None


def save_answer(assessment: Assessment, item_id: str, value: Any, *, seen_version: int | None,
                request_id: str | None, by: User, justification: str | None = None,
                keep_justification: bool = True) -> Saved:
    """Save one item's answer (autosave): validate, check the version, update progress, commit.

    The score, tier and findings are only marked stale here and recomputed before they are read
    (`ensure_fresh`, `refresh_stale`): an autosave comes with every change of a field.
    """
    q = questionnaire_of(assessment)
    _item(q, item_id)
    checked = validate_answers(q, {item_id: value})
    if checked.problems:
        raise AnswerInvalid({p.item: p.message for p in checked.problems})
    text = _clean_justification(justification)
    _take_turn(assessment)
    if request_id:
        replayed = _replay(assessment, item_id, str(request_id))
        if replayed is not None:
            db.session.rollback()  # ends the turn
            return replayed
    _check_editable(assessment, item_id)
    rows = _answer_states(assessment.id)
    current = rows.get(item_id)
    if current is not None and seen_version is not None and current.version != seen_version:
        raise _conflict(db.session.get_one(Answer, current.id))  # who saved it, and when
    if current is None and seen_version:
        raise Conflict(_l("This answer was removed in the meantime; reload the page."),
                       item_id=item_id)
    new, saved_at = checked.answers.get(item_id), utcnow()
    changes = {"value": new, "updated_by_id": by.id, "updated_at": saved_at,
               "needs_reconfirmation": False}
    if not (keep_justification and justification is None):
        changes["justification"] = text
    version = _write_answer(assessment.id, item_id, current, changes)
    answers = {k: r.value for k, r in rows.items() if r.value is not None and k != item_id}
    if new is not None:
        answers[item_id] = new
    _store_progress(assessment, q, answers)
    audit.record("answer_saved", by=by, org=assessment.vendor_org_id, obj=assessment,
                 details={"item": item_id, "version": version})
    if request_id:
        _keep_receipt(assessment.id, str(request_id), item_id, version)
    saved = Saved(item_id, version, saved_at, assessment.progress)
    db.session.commit()
    return saved


@dataclass
class SectionInput:
    """What a section form posted: values, justifications and the versions the form showed."""

    values: dict[str, Any]
    justifications: dict[str, str | None] = field(default_factory=dict)
    versions: dict[str, int | None] = field(default_factory=dict)


def save_section(assessment: Assessment, section_id: str, data: SectionInput, *,
                 by: User) -> int:
    """Save a section's visible answers at once (hidden items' values are ignored); return count."""
    q = questionnaire_of(assessment)
    section = next((s for s in q.sections if s.id == section_id), None)
    if section is None:
        raise UnknownItem(_l("Unknown section."))
    rows = answer_rows(assessment)
    editable = [i for i in section.items if i.kind.typed
                and is_editable(assessment, i.id) and i.id in data.values]
    if not editable:
        _check_editable(assessment, "")
    merged = {**answers_of(assessment), **{i.id: data.values[i.id] for i in editable}}
    visibility = score(q, {k: v for k, v in merged.items()
                           if not validate_answers(q, {k: v}).problems}).visibility
    shown = [i for i in editable if visibility.is_visible(i.id)]
    checked = validate_answers(q, {i.id: data.values[i.id] for i in shown})
    problems = {p.item: p.message for p in checked.problems}
    for item in shown:
        stored = rows.get(item.id)
        seen = data.versions.get(item.id)
        new = checked.answers.get(item.id)
        if stored is not None and seen is not None and stored.version != seen and stored.value != new:
            problems[item.id] = str(_conflict(stored))
    if problems:
        raise AnswerInvalid(problems)
    changed = 0
    for item in shown:
        new, text = checked.answers.get(item.id), _clean_justification(data.justifications.get(item.id))
        stored = rows.get(item.id)
        if stored is None and new is None and text is None:
            continue
        if stored is not None and stored.value == new and stored.justification == text:
            continue
        _store(assessment, item.id, new, text, by=by)
        changed += 1
    _started(assessment)
    _flush_or_conflict(section_id)
    refresh_results(assessment, q)
    audit.record("section_saved", by=by, org=assessment.vendor_org_id, obj=assessment,
                 details={"section": section_id, "changed": changed})
    db.session.commit()
    return changed


def add_evidence(assessment: Assessment, item_id: str, upload: FileStorage, *,
                 by: User) -> Evidence:
    """Check and store one evidence file for an item; refuse over quota or by content."""
    q = questionnaire_of(assessment)
    if not q.has_item(item_id):
        raise UnknownItem(_l("Unknown item '%(item)s'.", item=str(item_id)[:64]))
    item = q.item(item_id)
    if not item.kind.is_upload and item.evidence is None:
        raise UnknownItem(_l("This question takes no file."))
    _check_editable(assessment, item_id)
    accept, max_mb = _evidence_rules(item)
    cfg = current_app.config
    if len(assessment.evidence) >= int(cfg.get("EVIDENCE_MAX_FILES", 200)):
        raise QuotaExceeded(_l("This assessment already has the maximum number of files."))
    checked = uploads.check_upload(upload.stream, upload.filename, accept, int(max_mb * MB))
    key, sha256, size = storage.save(upload.stream)
    total = sum(e.size for e in assessment.evidence) + size
    if total > int(cfg.get("EVIDENCE_MAX_TOTAL_MB", 200)) * MB:
        storage.delete(key)
        raise QuotaExceeded(_l("The files of this assessment would exceed %(mb)d MB in total.",
                               mb=int(cfg.get("EVIDENCE_MAX_TOTAL_MB", 200))))
    evidence = Evidence(item_id=item_id, file_name=checked.display_name, storage_key=key,
                        content_type=checked.content_type, size=size, sha256=sha256,
                        uploaded_by_id=by.id)
    try:
        assessment.evidence.append(evidence)
        db.session.flush()
        if item.kind.is_upload:
            ids = [str(e.id) for e in assessment.evidence if e.item_id == item_id]
            _store(assessment, item_id, ids, None, by=by, keep_justification=True)
        _started(assessment)
        refresh_results(assessment, q)
        audit.record("evidence_uploaded", by=by, org=assessment.vendor_org_id, obj=evidence,
                     details={"assessment_id": assessment.id, "item": item_id, "sha256": sha256,
                              "size": size})
        db.session.commit()
    except BaseException:
        db.session.rollback()
        storage.delete(key)
        raise
    return evidence


def _evidence_rules(item: Item) -> tuple[tuple[str, ...], float]:
    """Return (accepted kinds, max MB) of an item, capped by EVIDENCE_MAX_MB."""
    cap = float(current_app.config.get("EVIDENCE_MAX_MB", 20))
    if item.kind.is_upload:
        return item.accept or ("pdf",), min(float(item.max_mb or cap), cap)
    assert item.evidence is not None
    return item.evidence.accept, min(float(item.evidence.max_mb or cap), cap)


def remove_evidence(evidence: Evidence, *, by: User) -> None:
    """Delete an evidence file while the item is still editable."""
    assessment = evidence.assessment
    _check_editable(assessment, evidence.item_id)
    key, item_id = evidence.storage_key, evidence.item_id
    assessment.evidence.remove(evidence)
    q = questionnaire_of(assessment)
    if q.has_item(item_id) and q.item(item_id).kind.is_upload:
        ids = [str(e.id) for e in assessment.evidence if e.item_id == item_id]
        _store(assessment, item_id, ids or None, None, by=by, keep_justification=True)
    refresh_results(assessment, q)
    audit.record("evidence_removed", by=by, org=assessment.vendor_org_id, obj=assessment,
                 details={"item": item_id, "file": evidence.file_name})
    db.session.commit()
    storage.delete(key)


def copy_answers_from(previous: Assessment, into: Assessment, *, by: User) -> int:
    """Copy the vendor's own previous answers into empty items; they must be re-confirmed."""
    if (previous.vendor_org_id is None or previous.vendor_org_id != into.vendor_org_id
            or previous.questionnaire_id != into.questionnaire_id
            or previous.status not in SUBMITTED_STATES or previous.id == into.id):
        raise ValidationFailed(_l("Answers can only be copied from one of your own submitted "
                                  "assessments of the same questionnaire."))
    if into.status not in EDITABLE_STATUSES:
        _check_editable(into, "")
    q = questionnaire_of(into)
    current, copied = answers_of(into), 0
    for old in previous.answers:
        if old.value is None or old.item_id in current or not q.has_item(old.item_id):
            continue
        if not q.item(old.item_id).kind.carried_over:
            continue
        checked = validate_answers(q, {old.item_id: old.value})
        if checked.problems or old.item_id not in checked.answers:
            continue
        answer = _store(into, old.item_id, checked.answers[old.item_id], old.justification, by=by)
        answer.needs_reconfirmation = True
        copied += 1
    _started(into)
    db.session.flush()
    refresh_results(into, q)
    audit.record("answers_copied", by=by, org=into.vendor_org_id, obj=into,
                 details={"from": previous.id, "copied": copied})
    db.session.commit()
    return copied


def missing_items(assessment: Assessment) -> list[str]:
    """Return the required visible items still unanswered."""
    return score(questionnaire_of(assessment), answers_of(assessment)).missing_required


def submit_assessment(assessment: Assessment, *, name: str, role: str, statement: str,
                      by: User) -> Assessment:
    """Submit with an attestation when every required visible item is answered."""
    if assessment.status not in EDITABLE_STATUSES:
        _check_editable(assessment, "")
    missing = missing_items(assessment)
    if missing:
        raise MissingAnswers(missing)
    try:
        name, role = clean_text(name, 200).strip(), clean_text(role, 200).strip()
        statement = clean_text(statement, MAX_JUSTIFICATION).strip()
    except Invalid as exc:
        raise ValidationFailed(str(exc)) from None
    if not (name and role and statement):
        raise ValidationFailed(_l("Give your name, your role and the statement."))
    if assessment.attestation is not None:
        db.session.delete(assessment.attestation)
        db.session.flush()
    assessment.attestation = Attestation(user_id=by.id, name=name, role=role,
                                         statement=statement)
    assessment.status, assessment.submitted_at = S.SUBMITTED, utcnow()
    refresh_results(assessment)
    audit.record("assessment_submitted", by=by, org=assessment.vendor_org_id, obj=assessment,
                 details={"name": name, "role": role})
    messages = _notify_buyer(assessment)
    db.session.commit()
    mail.dispatch(messages)
    return assessment


def _notify_buyer(assessment: Assessment) -> list[OutboxMessage]:
    creator = assessment.created_by
    if creator is None:
        return []
    link = mail.external_url("buyer.assessment", assessment_id=assessment.id)
    return [queue_mail("assessment_submitted", to=creator.email, locale=creator.locale,
                       context={"name": creator.name, "vendor": assessment.vendor.legal_name,
                                "buyer": assessment.buyer_org.name, "link": link},
                       org_id=assessment.buyer_org_id, ref=("assessment", assessment.id))]


def answer_clarification(clarification: Clarification, text: str, *, by: User) -> Clarification:
    """Answer a buyer's clarification; the last answer puts the assessment back in review."""
    assessment = clarification.assessment
    if clarification.state is not ClarificationState.OPEN:
        raise NotEditable(_l("This clarification is already answered."))
    try:
        body = clean_text(text or "", MAX_JUSTIFICATION).strip()
    except Invalid as exc:
        raise ValidationFailed(str(exc)) from None
    if not body:
        raise ValidationFailed(_l("Write your answer to the question."))
    clarification.answer, clarification.answered_by_id = body, by.id
    clarification.answered_at, clarification.state = utcnow(), ClarificationState.ANSWERED
    db.session.flush()
    if assessment.status is S.CLARIFICATION_REQUESTED and not open_clarifications(assessment):
        assessment.status = S.IN_REVIEW
    audit.record("clarification_answered", by=by, org=assessment.vendor_org_id, obj=clarification,
                 details={"assessment_id": assessment.id, "item": clarification.item_id})
    db.session.commit()
    return clarification
