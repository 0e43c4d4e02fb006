"""Deciding with open points: the decision form lists serious findings and unanswered clarifications,
and approving anyway needs a reason that the audit trail keeps with the decision."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.factories.assessments import make_scored_assessment
from tests.factories.questionnaires import GOOD
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry
from vendorcheck.models.assessments import (
    Assessment,
    AssessmentStatus,
    Clarification,
    ClarificationState,
    Decision,
    FindingRecord,
)

NEXT = (date.today() + timedelta(days=180)).isoformat()


def _decision_audit(app):
    with app.app_context():
        return db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "assessment_decided")).one_or_none()


def _high_titles(app, assessment_id):
    with app.app_context():
        records = db.session.scalars(select(FindingRecord).where(
            FindingRecord.assessment_id == assessment_id, FindingRecord.severity == "high")).all()
        return [r.title["en"] for r in records]


def test_decision_form_warns_and_lists_open_high_findings(app, client, world, login_as, submitted):
    login_as(world.user("a.admin"))
    body = client.get(f"/buyer/assessments/{submitted}/decide").get_data(as_text=True)
    assert 'id="decision-concerns"' in body
    assert "Approving now means accepting these open points" in body
    titles = _high_titles(app, submitted)
    assert len(titles) == 2 and all(t in body for t in titles)
    assert 'aria-describedby="decision-concerns reason-error"' in body
    assert '<fieldset class="field" aria-describedby="decision-concerns">' in body


@pytest.mark.parametrize("decision", ["approved", "approved_with_conditions"])
def test_approving_with_open_high_findings_needs_a_reason(app, client, world, login_as, submitted,
                                                          decision):
    login_as(world.user("a.admin"))
    response = client.post(f"/buyer/assessments/{submitted}/decide", data={
        "decision": decision, "comment": "Enable MFA within 3 months.", "next_review_date": NEXT})
    assert response.status_code == 422
    assert "give the reason for approving anyway" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Assessment, submitted).decision is None
    assert _decision_audit(app) is None


def test_the_reason_is_kept_in_the_audit_trail(app, client, world, login_as, submitted):
    login_as(world.user("a.admin"))
    response = client.post(f"/buyer/assessments/{submitted}/decide", data={
        "decision": "approved_with_conditions", "comment": "Enable MFA within 3 months.",
        "reason": "Low-volume pilot; findings fixed by contract.", "next_review_date": NEXT})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Assessment, submitted).decision is Decision.APPROVED_WITH_CONDITIONS
    entry = _decision_audit(app)
    assert entry.details["reason"] == "Low-volume pilot; findings fixed by contract."
    assert len(entry.details["open_findings"]) == 2
    assert all(f.endswith("(high)") for f in entry.details["open_findings"])


def test_a_rejection_needs_no_reason(app, client, world, login_as, submitted):
    login_as(world.user("a.admin"))
    response = client.post(f"/buyer/assessments/{submitted}/decide", data={
        "decision": "rejected", "comment": "Too many gaps.", "next_review_date": NEXT})
    assert response.status_code == 302


def test_no_warning_and_no_reason_when_nothing_serious_is_open(app, client, world, login_as):
    with app.app_context():
        assessment_id = make_scored_assessment(world["a"].buyer, world["a"].vendor, answers=GOOD).id
    login_as(world.user("a.admin"))
    body = client.get(f"/buyer/assessments/{assessment_id}/decide").get_data(as_text=True)
    assert 'id="decision-concerns"' not in body and 'name="reason"' not in body
    response = client.post(f"/buyer/assessments/{assessment_id}/decide", data={
        "decision": "approved", "next_review_date": NEXT})
    assert response.status_code == 302
    assert "reason" not in _decision_audit(app).details


def test_an_unanswered_clarification_is_listed_and_needs_a_reason(app, client, world, login_as):
    with app.app_context():
        a = make_scored_assessment(world["a"].buyer, world["a"].vendor, answers=GOOD)
        a.status = AssessmentStatus.IN_REVIEW
        db.session.add(Clarification(assessment=a, item_id="vendor_legal_name",
                                     question="Which entity signs the DPA?",
                                     asked_by_id=world.user("a.admin").id,
                                     state=ClarificationState.OPEN))
        db.session.commit()
        assessment_id = a.id
    login_as(world.user("a.admin"))
    body = client.get(f"/buyer/assessments/{assessment_id}/decide").get_data(as_text=True)
    assert "Clarifications the vendor has not answered" in body
    assert "Which entity signs the DPA?" in body
    refused = client.post(f"/buyer/assessments/{assessment_id}/decide", data={
        "decision": "approved", "next_review_date": NEXT})
    assert refused.status_code == 422
    accepted = client.post(f"/buyer/assessments/{assessment_id}/decide", data={
        "decision": "approved", "reason": "Answered by phone.", "next_review_date": NEXT})
    assert accepted.status_code == 302
    assert _decision_audit(app).details["open_clarifications"] == ["vendor_legal_name"]


def test_the_warning_is_in_french(client, world, login_as, submitted):
    login_as(world.user("a.admin"))
    body = client.get(f"/buyer/assessments/{submitted}/decide?lang=fr").get_data(as_text=True)
    assert "Approuver maintenant revient à accepter ces points ouverts" in body
    refused = client.post(f"/buyer/assessments/{submitted}/decide?lang=fr", data={
        "decision": "approved", "next_review_date": NEXT})
    assert "indiquez la raison" in refused.get_data(as_text=True)
