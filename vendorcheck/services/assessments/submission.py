"""Submitting an assessment with an attestation, and answering the buyer's clarifications.

Each service takes the acting user (`by=`), raises a domain exception and commits once.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from vendorcheck import audit, mail
from vendorcheck.extensions import db
from vendorcheck.link_access import Actor
from vendorcheck.models import OutboxMessage, utcnow
from vendorcheck.models.assessments import (
    EDITABLE_STATUSES,
    Assessment,
    AssessmentStatus,
    Attestation,
    Clarification,
    ClarificationState,
)
from vendorcheck.questionnaire import score
from vendorcheck.questionnaire.answers import Invalid, clean_text
from vendorcheck.services import webhooks
from vendorcheck.services.assessments.evidence import clarification_file_rules, store_evidence_file
from vendorcheck.services.assessments.reading import (
    MAX_JUSTIFICATION,
    NotEditable,
    answers_of,
    check_editable,
    open_clarifications,
    questionnaire_of,
)
from vendorcheck.services.assessments.results import refresh_results
from vendorcheck.services.errors import DomainError, ValidationFailed
from vendorcheck.services.notify import queue_mail
from vendorcheck.storage import Area, current_store

S = AssessmentStatus


class MissingAnswers(DomainError):
    """Required visible items are still unanswered."""

    status = 422

    def __init__(self, missing: Sequence[str]) -> None:
        self.missing = list(missing)
        super().__init__(_l("Some required questions are not answered yet."))


def missing_items(assessment: Assessment) -> list[str]:
    """Return the required visible items still unanswered."""
    return score(questionnaire_of(assessment), answers_of(assessment)).missing_required


def known_signatory(assessment: Assessment, user: Actor) -> tuple[str, str]:
    """Return the name and role that prefill the submit attestation, so the vendor does not retype
    them: the user's name; the role given in this questionnaire's own attestation under that
    name, else the role of the user's latest attestation, else empty."""
    name = user.name or ""
    answers = answers_of(assessment)
    for item in questionnaire_of(assessment).items:
        value = answers.get(item.id)
        if item.kind.widget.reader == "agreement" and isinstance(value, dict) \
                and _same_person(value.get("name"), name) and str(value.get("role") or "").strip():
            return name, str(value["role"]).strip()
    latest = db.session.scalar(select(Attestation.role).where(Attestation.user_id == user.id)
                               .order_by(Attestation.attested_at.desc(), Attestation.id.desc())
                               .limit(1))
    return name, latest or ""


def _same_person(typed: object, name: str) -> bool:
    """Tell whether a name typed in an answer is the user's (case and spacing aside)."""
    return " ".join(str(typed or "").split()).casefold() == " ".join(name.split()).casefold()


def submit_assessment(assessment: Assessment, *, name: str, role: str, statement: str,
                      by: Actor) -> Assessment:
    """Submit with an attestation when every required visible item is answered."""
    if assessment.status not in EDITABLE_STATUSES:
        check_editable(assessment, "")
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
    hooks = webhooks.assessment_event(assessment, "assessment.submitted")
    db.session.commit()
    mail.dispatch(messages)
    webhooks.dispatch(hooks)
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


def answer_clarification(clarification: Clarification, text: str, *, by: Actor,
                         upload: FileStorage | None = None) -> Clarification:
    """Answer a buyer's clarification, with an optional file kept as evidence (checked like
    evidence uploads); the last answer puts the assessment back in review."""
    assessment = clarification.assessment
    if assessment.status in (S.CANCELLED, S.EXPIRED):
        raise NotEditable(_l("This assessment can no longer be changed."))
    if clarification.state is not ClarificationState.OPEN:
        raise NotEditable(_l("This clarification is already answered."))
    try:
        body = clean_text(text or "", MAX_JUSTIFICATION).strip()
    except Invalid as exc:
        raise ValidationFailed(str(exc)) from None
    if not body:
        raise ValidationFailed(_l("Write your answer to the question."))
    stored = None
    if upload is not None and upload.filename:
        accept, max_mb = clarification_file_rules()
        stored = store_evidence_file(assessment, clarification.item_id, upload, accept, max_mb, by=by)
        stored.clarification_id = clarification.id
    try:
        clarification.answer, clarification.answered_by_id = body, by.id
        clarification.answered_at, clarification.state = utcnow(), ClarificationState.ANSWERED
        if stored is not None:
            assessment.evidence.append(stored)
        db.session.flush()
        if assessment.status is S.CLARIFICATION_REQUESTED and not open_clarifications(assessment):
            assessment.status = S.IN_REVIEW
        file = {"file": stored.file_name, "evidence_id": stored.id, "sha256": stored.sha256,
                "size": stored.size} if stored is not None else {}
        audit.record("clarification_answered", by=by, org=assessment.vendor_org_id, obj=clarification,
                     details={"assessment_id": assessment.id, "item": clarification.item_id, **file})
        db.session.commit()
    except BaseException:
        db.session.rollback()
        if stored is not None:
            current_store().delete(Area.EVIDENCE, stored.storage_key)
        raise
    return clarification
