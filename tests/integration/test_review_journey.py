"""The main journey through the test client: send → answer → submit → review → clarify → decide."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from tests.factories.assessments import make_contact
from tests.factories.questionnaires import install_questionnaire
from tests.integration.conftest import outbox
from vendorcheck.extensions import db
from vendorcheck.models.assessments import (
    Assessment,
    AssessmentStatus,
    Clarification,
    Decision,
)
from vendorcheck.services import review

S = AssessmentStatus


def _assessment(app):
    with app.app_context():
        a = db.session.scalars(select(Assessment)).one()
        db.session.expunge(a)
        return a


def test_buyer_and_vendor_go_through_the_whole_journey(app, client, world, login_as):
    q = install_questionnaire(app)
    with app.app_context():
        contact = make_contact(world["a"].vendor, "contact@vendor-a.example", "Contact A").id
    vendor_id = world["a"].vendor.id

    # 1. the assessor sends the test questionnaire to the vendor's contact
    login_as(world.user("a.assessor"))
    sent = client.post("/buyer/assessments/new", data={
        "vendor_id": vendor_id, "questionnaire": q.id, "contacts": [contact],
        "due_date": (date.today() + timedelta(days=14)).isoformat()})
    assert sent.status_code == 302
    assessment_id = _assessment(app).id
    assert any(m.template == "assessment_sent" for m in outbox(app))
    dashboard = client.get("/buyer/assessments").get_data(as_text=True)
    assert "Sent" in dashboard

    # 2. the vendor answers (autosave) and submits with an attestation
    login_as(world.user("a.vendor"))
    for item_id, value in (("has_dpa", "no"), ("audits", "yes"), ("uses_sub", "no")):
        saved = client.post(f"/vendor/assessments/{assessment_id}/autosave",
                            json={"item_id": item_id, "value": value})
        assert saved.status_code == 200, saved.get_json()
    submitted = client.post(f"/vendor/assessments/{assessment_id}/submit", data={
        "name": "Contact A", "role": "DPO", "statement": "All true."})
    assert submitted.status_code == 302
    assert _assessment(app).status is S.SUBMITTED

    # 3. the assessor opens the review (in review), reads the answers in words
    login_as(world.user("a.assessor"))
    overview = client.get(f"/buyer/assessments/{assessment_id}")
    assert overview.status_code == 200 and "No DPA" in overview.get_data(as_text=True)
    assert _assessment(app).status is S.IN_REVIEW
    main = client.get(f"/buyer/assessments/{assessment_id}/sections/main").get_data(as_text=True)
    assert "DPA signed?" in main and "Audits allowed?" in main
    assert "Not answered" not in main.split("Audits allowed?")[0]

    # 4. ... and asks for a clarification
    asked = client.post(f"/buyer/assessments/{assessment_id}/clarifications", data={
        "item_id": "has_dpa", "question": "Is a DPA being negotiated?", "section": "main"})
    assert asked.status_code == 302
    assert _assessment(app).status is S.CLARIFICATION_REQUESTED
    assert any(m.template == "review_clarification" for m in outbox(app))

    # 5. the vendor changes the answer under clarification and replies
    login_as(world.user("a.vendor"))
    changed = client.post(f"/vendor/assessments/{assessment_id}/autosave",
                          json={"item_id": "has_dpa", "value": "yes"})
    assert changed.status_code == 200, changed.get_json()
    with app.app_context():
        clarification_id = db.session.scalars(select(Clarification.id)).one()
    replied = client.post(f"/vendor/assessments/{assessment_id}/clarifications/{clarification_id}",
                          data={"answer": "Signed yesterday, uploaded."})
    assert replied.status_code == 302
    assert _assessment(app).status is S.IN_REVIEW

    # 6. the assessor decides: the next review date is prefilled from the tier
    login_as(world.user("a.assessor"))
    overview = client.get(f"/buyer/assessments/{assessment_id}").get_data(as_text=True)
    assert "Signed yesterday, uploaded." in overview
    decide_page = client.get(f"/buyer/assessments/{assessment_id}/decide").get_data(as_text=True)
    assert f'value="{review.default_next_review("low").isoformat()}"' in decide_page
    decided = client.post(f"/buyer/assessments/{assessment_id}/decide", data={
        "decision": "approved", "comment": "",
        "next_review_date": (date.today() + timedelta(days=365)).isoformat()})
    assert decided.status_code == 302
    final = _assessment(app)
    assert final.status is S.DECIDED and final.decision is Decision.APPROVED
    assert final.tier == "low"
    assert any(m.template == "review_decision" for m in outbox(app))
    dashboard = client.get("/buyer/assessments?status=decided").get_data(as_text=True)
    assert "Decided" in dashboard and "Low" in dashboard
