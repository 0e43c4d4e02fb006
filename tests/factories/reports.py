"""Factories for report tests: a scored, reviewed, decided assessment built straight from models."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Any

from flask import current_app

from vendorcheck.extensions import db
from vendorcheck.models import Organisation, User, Vendor, utcnow
from vendorcheck.models.assessments import (
    Answer,
    Assessment,
    AssessmentStatus,
    Attestation,
    Clarification,
    ClarificationState,
    Decision,
    Evidence,
    FindingRecord,
    FindingState,
    Override,
)
from vendorcheck.questionnaire import Questionnaire, score

QUESTIONNAIRE = "art28-processor-audit"
ANSWER_SET = "weak_vendor_without_knockout_is_high_risk"


def questionnaire(qid: str = QUESTIONNAIRE) -> Questionnaire:
    """Return the latest published version of a shipped questionnaire."""
    q: Questionnaire = current_app.extensions["questionnaires"].get(qid)
    return q


def sample_answers(q: Questionnaire, name: str = ANSWER_SET) -> dict[str, Any]:
    """Return the answers of one of the questionnaire's embedded tests (a weak US vendor)."""
    test = next(t for t in q.tests if t.name == name)
    return {key: value for key, value in test.answers.items()}


def make_assessment(buyer: Organisation, vendor: Vendor, *, by: User | None = None,
                    answers: dict[str, Any] | None = None, decided: bool = True,
                    extra_answers: dict[str, Any] | None = None,
                    justifications: dict[str, str] | None = None) -> Assessment:
    """Create an assessment with answers, findings, evidence, a clarification and an override."""
    q = questionnaire()
    values = dict(answers if answers is not None else sample_answers(q))
    values.update(extra_answers or {})
    result = score(q, values, today=date(2026, 3, 12))
    now = utcnow()
    assessment = Assessment(
        buyer_org_id=buyer.id, vendor_id=vendor.id, questionnaire_id=q.id,
        questionnaire_version=q.version, questionnaire_sha256=q.sha256,
        status=AssessmentStatus.DECIDED if decided else AssessmentStatus.IN_REVIEW,
        due_date=date(2026, 2, 28), message="Please answer", created_by_id=by.id if by else None,
        sent_at=now - timedelta(days=30), submitted_at=now - timedelta(days=3),
        score=result.score, tier=result.tier, completeness=result.completeness, progress=100,
        open_findings=len(result.findings))
    if decided:
        assessment.decided_at = now - timedelta(hours=1)
        assessment.decision = Decision.APPROVED_WITH_CONDITIONS
        assessment.decision_comment = "Approved provided the transfer findings are fixed by Q3."
        assessment.decided_by_id = by.id if by else None
        assessment.next_review_date = date(2027, 3, 12)
    db.session.add(assessment)
    db.session.flush()
    for item_id, value in values.items():
        db.session.add(Answer(assessment_id=assessment.id, item_id=item_id, value=value,
                              justification=(justifications or {}).get(item_id),
                              updated_by_id=None))
    for index, finding in enumerate(result.findings):
        db.session.add(FindingRecord(
            assessment_id=assessment.id, finding_id=finding.id, source="computed",
            severity="medium" if index == 0 else finding.severity,
            title=finding.title.as_dict(), refs=list(finding.refs),
            remediation=finding.remediation.as_dict() if finding.remediation else {},
            state=FindingState.OPEN if index % 3 else FindingState.ACCEPTED_RISK,
            due_date=date(2026, 9, 30) if index % 2 == 0 else None,
            comment="Vendor committed to fix this." if index == 0 else None))
    if result.findings:
        first = result.findings[0]
        db.session.add(Override(assessment_id=assessment.id, kind="finding_severity",
                                target=first.id, computed_value=first.severity,
                                new_value="medium", comment="Mitigated by contract clause 12.",
                                by_id=by.id if by else None))
    content = b"%PDF-1.7 fake certificate"
    db.session.add(Evidence(
        assessment_id=assessment.id, item_id="certifications", file_name="iso27001-cert.pdf",
        storage_key=hashlib.sha256(str(assessment.id).encode() + content).hexdigest(),
        content_type="application/pdf", size=len(content),
        sha256=hashlib.sha256(content).hexdigest(), uploaded_by_id=None))
    db.session.add(Clarification(
        assessment_id=assessment.id, item_id="hosting_countries",
        question="Which US region hosts the backups?", asked_by_id=by.id if by else None,
        answer="us-east-1 only.", answered_at=now - timedelta(days=2),
        state=ClarificationState.ANSWERED))
    db.session.add(Attestation(assessment_id=assessment.id, user_id=None, name="Jane Vendor",
                               role="DPO", statement="I confirm the answers are accurate."))
    db.session.commit()
    db.session.refresh(assessment)
    return assessment
