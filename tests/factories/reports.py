"""The assessment a report is made from: scored, reviewed and decided, built straight from models.

Call inside an app context.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from typing import Any

from tests.factories.assessments import new_assessment
from tests.factories.questionnaires import WEAK, embedded_answers_as_written, shipped_questionnaire
from vendorcheck.extensions import db
from vendorcheck.models import Organisation, User, Vendor, utcnow
from vendorcheck.models.assessments import (
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
from vendorcheck.questionnaire import ScoreResult, score


def make_reviewed_assessment(buyer: Organisation, vendor: Vendor, *, by: User | None = None,
                             answers: dict[str, Any] | None = None, decided: bool = True,
                             extra_answers: dict[str, Any] | None = None,
                             justifications: dict[str, str] | None = None) -> Assessment:
    """Create an assessment with answers, findings, evidence, a clarification and an override.

    The answers default to the Art. 28 questionnaire's weak US vendor; `decided` adds the decision
    (approved with conditions), else the assessment stays in review.
    """
    q = shipped_questionnaire()
    values = dict(answers if answers is not None else embedded_answers_as_written(WEAK))
    values.update(extra_answers or {})
    result = score(q, values, today=date(2026, 3, 12))
    now = utcnow()
    assessment = new_assessment(
        buyer, vendor, q, status=AssessmentStatus.DECIDED if decided else AssessmentStatus.IN_REVIEW,
        by=by, answers=values, justifications=justifications, **_decision(by, decided, now),
        due_date=date(2026, 2, 28), message="Please answer", sent_at=now - timedelta(days=30),
        submitted_at=now - timedelta(days=3), score=result.score, tier=result.tier,
        completeness=result.completeness, progress=100, open_findings=len(result.findings))
    _add_review(assessment, result, by, now)
    db.session.commit()
    db.session.refresh(assessment)
    return assessment


def _decision(by: User | None, decided: bool, now: datetime) -> dict[str, Any]:
    """Return the decision columns of a decided assessment (none while in review)."""
    if not decided:
        return {}
    return {"decided_at": now - timedelta(hours=1),
            "decision": Decision.APPROVED_WITH_CONDITIONS,
            "decision_comment": "Approved provided the transfer findings are fixed by Q3.",
            "decided_by_id": by.id if by else None, "next_review_date": date(2027, 3, 12)}


def _add_review(assessment: Assessment, result: ScoreResult, by: User | None, now: datetime) -> None:
    """Add what review leaves: findings in several states, an override, evidence, a clarification."""
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
