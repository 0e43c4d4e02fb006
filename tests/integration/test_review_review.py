"""The buyer's review: answers in words, clarifications, evidence, overrides, findings, decision."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests.factories.assessments import make_scored_assessment
from tests.factories.evidence import make_evidence_row
from tests.factories.questionnaires import GOOD, HIGH, UNACCEPTABLE, embedded_answers
from tests.integration.conftest import outbox
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry
from vendorcheck.models.assessments import (
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
from vendorcheck.services import review

S = AssessmentStatus


def _get(app, assessment_id):
    return db.session.get(Assessment, assessment_id)


def _audit_actions(app):
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_opening_the_review_starts_it(app, client, world, login_as, submitted):
    login_as(world.user("a.assessor"))
    assert client.get(f"/buyer/assessments/{submitted}").status_code == 200
    with app.app_context():
        assert _get(app, submitted).status is S.IN_REVIEW
    assert "assessment_review_opened" in _audit_actions(app)


def test_legal_reading_does_not_start_the_review(app, client, world, login_as, submitted):
    login_as(world.user("a.legal"))
    assert client.get(f"/buyer/assessments/{submitted}").status_code == 200
    with app.app_context():
        assert _get(app, submitted).status is S.SUBMITTED


def test_review_shows_answers_in_words(app, client, world, login_as, submitted):
    login_as(world.user("a.legal"))
    body = client.get(f"/buyer/assessments/{submitted}/sections/service").get_data(as_text=True)
    assert "Categories of data subjects" in body
    assert "Employees and contractors" in body     # option label, not the value "employees"
    assert "France" in body                         # country name, not "FR"
    body_fr = client.get(f"/buyer/assessments/{submitted}/sections/service?lang=fr")
    assert "Salariés et prestataires" in body_fr.get_data(as_text=True)
    assert "France" in body_fr.get_data(as_text=True)
    contract = client.get(f"/buyer/assessments/{submitted}/sections/contract?lang=en")
    assert ">Yes<" in contract.get_data(as_text=True) or "Yes" in contract.get_data(as_text=True)


def test_unknown_section_answers_404(client, world, login_as, submitted):
    login_as(world.user("a.admin"))
    assert client.get(f"/buyer/assessments/{submitted}/sections/nope").status_code == 404


def test_overview_shows_findings_and_categories(client, world, login_as, submitted):
    login_as(world.user("a.admin"))
    body = client.get(f"/buyer/assessments/{submitted}").get_data(as_text=True)
    assert "Category scores" in body and "Security (Art. 32)" in body
    assert "Findings" in body and "High" in body


def test_clarification_round_trip(app, client, world, login_as, submitted):
    login_as(world.user("a.assessor"))
    response = client.post(f"/buyer/assessments/{submitted}/clarifications", data={
        "item_id": "vendor_legal_name", "question": "Which entity signs?", "section": "service"})
    assert response.status_code == 302
    assert "/sections/service" in response.headers["Location"]
    with app.app_context():
        a = _get(app, submitted)
        assert a.status is S.CLARIFICATION_REQUESTED
        clar = db.session.scalars(select(Clarification)).one()
        clar_id = clar.id
    mails = [m for m in outbox(app) if m.template == "review_clarification"]
    assert [m.to_email for m in mails] == ["contact@vendor-a.example"]
    assert "Which entity signs?" in mails[0].body_text
    # the vendor answers through its own page
    login_as(world.user("a.vendor"))
    answered = client.post(f"/vendor/assessments/{submitted}/clarifications/{clar_id}",
                           data={"answer": "Vendor A SAS signs."})
    assert answered.status_code == 302
    with app.app_context():
        assert _get(app, submitted).status is S.IN_REVIEW
        assert db.session.get(Clarification, clar_id).state is ClarificationState.ANSWERED
    login_as(world.user("a.assessor"))
    body = client.get(f"/buyer/assessments/{submitted}").get_data(as_text=True)
    assert "Vendor A SAS signs." in body


def test_clarification_needs_a_question(app, client, world, login_as, submitted):
    login_as(world.user("a.assessor"))
    response = client.post(f"/buyer/assessments/{submitted}/clarifications", data={
        "item_id": "vendor_legal_name", "question": "  ", "section": "service"})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count(Clarification.id))) == 0


def test_clarification_on_unknown_item_is_refused(app, client, world, login_as, submitted):
    login_as(world.user("a.assessor"))
    response = client.post(f"/buyer/assessments/{submitted}/clarifications", data={
        "item_id": "no_such_item", "question": "Why?"})
    assert response.status_code == 422


def test_override_points_keeps_the_computed_value(app, client, world, login_as, submitted):
    with app.app_context():
        before = review.result_of(_get(app, submitted))
        entry = next(i for i in before.computed.items if i.maximum > 0 and i.earned == 0)
        item_id, maximum = entry.item_id, entry.maximum
    login_as(world.user("a.assessor"))
    response = client.post(f"/buyer/assessments/{submitted}/overrides/item", data={
        "item_id": item_id, "points": str(maximum), "comment": "Evidence shows it is done."})
    assert response.status_code == 302
    with app.app_context():
        override = db.session.scalars(select(Override)).one()
        assert (override.computed_value, override.new_value) == ("0", f"{maximum:g}")
        after = review.result_of(_get(app, submitted))
        assert after.computed.score == before.computed.score
        # the override counts; the score shown stays capped by the tier its high findings set
        assert after.verdict.uncapped_score > before.verdict.uncapped_score
        assert after.score >= before.score
        assert _get(app, submitted).score == after.score
    assert "item_points_overridden" in _audit_actions(app)


def test_override_without_comment_is_a_form_error(app, client, world, login_as, submitted):
    login_as(world.user("a.assessor"))
    response = client.post(f"/buyer/assessments/{submitted}/overrides/item", data={
        "item_id": "dpa_signed", "points": "1", "comment": "", "section": "contract"})
    assert response.status_code == 422
    assert "comment" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Override.id))) == 0


def test_override_finding_severity_shows_both(app, client, world, login_as, submitted):
    with app.app_context():
        finding = review.result_of(_get(app, submitted)).computed.findings[0]
    login_as(world.user("a.admin"))
    response = client.post(f"/buyer/assessments/{submitted}/overrides/finding", data={
        "finding_id": finding.id, "severity": "low", "comment": "Compensating control."})
    assert response.status_code == 302
    with app.app_context():
        result = review.result_of(_get(app, submitted))
        assert result.severity_of(finding.id, finding.severity) == "low"
        override = db.session.scalars(select(Override)).one()
        assert override.computed_value == finding.severity
    body = client.get(f"/buyer/assessments/{submitted}").get_data(as_text=True)
    assert "Compensating control." in body and "computed" in body


def test_manual_finding_and_state_change(app, client, world, login_as, submitted):
    login_as(world.user("a.assessor"))
    due = (date.today() + timedelta(days=60)).isoformat()
    response = client.post(f"/buyer/assessments/{submitted}/findings", data={
        "severity": "high", "title_fr": "Pas de plan de continuité", "due_date": due})
    assert response.status_code == 302
    with app.app_context():
        record = db.session.scalars(select(FindingRecord).where(
            FindingRecord.source == "manual")).one()
        assert record.title == {"fr": "Pas de plan de continuité"}
        finding_id = record.finding_id
    response = client.post(f"/buyer/assessments/{submitted}/findings/state", data={
        "finding_id": finding_id, "state": "accepted_risk", "due_date": due,
        "comment": "Accepted for one year."})
    assert response.status_code == 302
    with app.app_context():
        record = db.session.scalars(select(FindingRecord).where(
            FindingRecord.finding_id == finding_id)).one()
        assert record.state is FindingState.ACCEPTED_RISK
        assert record.comment == "Accepted for one year."


def test_manual_finding_needs_a_title(app, client, world, login_as, submitted):
    login_as(world.user("a.assessor"))
    response = client.post(f"/buyer/assessments/{submitted}/findings", data={"severity": "low"})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalars(select(FindingRecord).where(
            FindingRecord.source == "manual")).first() is None


def test_computed_finding_state_change(app, client, world, login_as, submitted):
    with app.app_context():
        finding_id = review.result_of(_get(app, submitted)).computed.findings[0].id
        open_before = _get(app, submitted).open_findings
    login_as(world.user("a.admin"))
    response = client.post(f"/buyer/assessments/{submitted}/findings/state", data={
        "finding_id": finding_id, "state": "remediated"})
    assert response.status_code == 302
    with app.app_context():
        assert _get(app, submitted).open_findings == open_before - 1


def test_evidence_review(app, client, world, login_as, submitted):
    with app.app_context():
        evidence_id = make_evidence_row(_get(app, submitted), "dpa_signed").id
    login_as(world.user("a.assessor"))
    body = client.get(f"/buyer/assessments/{submitted}/sections/contract").get_data(as_text=True)
    assert "policy.pdf" in body
    assert f"/buyer/assessments/{submitted}/evidence/{evidence_id}" in body
    refused = client.post(f"/buyer/assessments/{submitted}/evidence/{evidence_id}",
                          data={"state": "rejected", "comment": ""})
    assert refused.status_code == 422
    ok = client.post(f"/buyer/assessments/{submitted}/evidence/{evidence_id}",
                     data={"state": "rejected", "comment": "Unsigned copy."})
    assert ok.status_code == 302
    with app.app_context():
        evidence = db.session.get(Evidence, evidence_id)
        assert evidence.review_state is EvidenceReview.REJECTED
        assert evidence.review_comment == "Unsigned copy."


@pytest.mark.parametrize(("answers", "months"), [(GOOD, 12), (HIGH, 6), (UNACCEPTABLE, 3)])
def test_decision_page_prefills_next_review_by_tier(app, client, world, login_as, answers,
                                                    months):
    with app.app_context():
        a = make_scored_assessment(world["a"].buyer, world["a"].vendor, answers=answers)
        expected = review.default_next_review(a.tier)
        assessment_id = a.id
    login_as(world.user("a.admin"))
    body = client.get(f"/buyer/assessments/{assessment_id}/decide").get_data(as_text=True)
    assert f'value="{expected.isoformat()}"' in body
    assert 28 * months <= (expected - date.today()).days <= 31 * months


def test_default_next_review_dates():
    start = date(2026, 1, 31)
    assert review.default_next_review("low", start) == date(2027, 1, 31)
    assert review.default_next_review("high", start) == date(2026, 7, 31)
    assert review.default_next_review("unacceptable", start) == date(2026, 4, 30)
    assert review.default_next_review(None, date(2024, 2, 29)) == date(2025, 2, 28)


def test_decision_is_recorded_and_mailed(app, client, world, login_as, submitted):
    login_as(world.user("a.admin"))
    next_review = (date.today() + timedelta(days=180)).isoformat()
    response = client.post(f"/buyer/assessments/{submitted}/decide", data={
        "decision": "approved_with_conditions", "comment": "Enable MFA within 3 months.",
        "reason": "Pilot only; MFA is the condition.", "next_review_date": next_review})
    assert response.status_code == 302
    with app.app_context():
        a = _get(app, submitted)
        assert a.status is S.DECIDED and a.decision is Decision.APPROVED_WITH_CONDITIONS
        assert a.next_review_date.isoformat() == next_review and a.decided_at is not None
    mails = [m for m in outbox(app) if m.template == "review_decision"]
    assert mails and "Enable MFA within 3 months." in mails[0].body_text


def test_conditions_need_a_comment(app, client, world, login_as, submitted):
    login_as(world.user("a.admin"))
    response = client.post(f"/buyer/assessments/{submitted}/decide", data={
        "decision": "rejected", "comment": "",
        "next_review_date": (date.today() + timedelta(days=90)).isoformat()})
    assert response.status_code == 422
    with app.app_context():
        assert _get(app, submitted).decision is None


def test_no_decision_while_a_clarification_is_open(app, client, world, login_as, submitted):
    login_as(world.user("a.admin"))
    client.post(f"/buyer/assessments/{submitted}/clarifications", data={
        "item_id": "vendor_legal_name", "question": "Which entity?"})
    response = client.post(f"/buyer/assessments/{submitted}/decide", data={
        "decision": "approved", "next_review_date": (date.today() + timedelta(days=90)).isoformat()})
    assert response.status_code == 422
    assert "clarifications" in response.get_data(as_text=True)
    with app.app_context():
        assert _get(app, submitted).decision is None


def test_reopen_gives_the_assessment_back(app, client, world, login_as, submitted):
    login_as(world.user("a.assessor"))
    page = client.get(f"/buyer/assessments/{submitted}/reopen")
    assert page.status_code == 200 and "Reopen" in page.get_data(as_text=True)
    with app.app_context():
        assert _get(app, submitted).status is S.SUBMITTED   # the confirmation page changes nothing
    assert client.post(f"/buyer/assessments/{submitted}/reopen").status_code == 302
    with app.app_context():
        a = _get(app, submitted)
        assert a.status is S.IN_PROGRESS and a.reopened_at is not None
    assert any(m.template == "review_reopened" for m in outbox(app))


def test_reopen_of_an_assessment_being_answered_is_refused(app, client, world, login_as):
    with app.app_context():
        a = make_scored_assessment(world["a"].buyer, world["a"].vendor, status=S.IN_PROGRESS)
        assessment_id = a.id
    login_as(world.user("a.admin"))
    assert client.post(f"/buyer/assessments/{assessment_id}/reopen").status_code == 409


POSTS = ["clarifications", "overrides/item", "overrides/finding", "findings", "findings/state",
         "reopen", "decide", "reassess"]


@pytest.mark.parametrize("path", POSTS)
def test_legal_can_read_but_not_act(app, client, world, login_as, submitted, fingerprint, path):
    login_as(world.user("a.legal"))
    assert client.get(f"/buyer/assessments/{submitted}").status_code == 200
    before = fingerprint()
    assert client.post(f"/buyer/assessments/{submitted}/{path}",
                       data={"comment": "x", "question": "x"}).status_code == 403
    assert fingerprint() == before


@pytest.mark.parametrize("path", ["", "/sections/service", "/reopen", "/decide"])
def test_another_tenants_assessment_answers_404(client, world, login_as, submitted, path):
    login_as(world.user("b.admin"))
    assert client.get(f"/buyer/assessments/{submitted}{path}").status_code == 404


@pytest.mark.parametrize("path", POSTS)
def test_another_tenants_posts_answer_404(client, world, login_as, submitted, fingerprint, path):
    login_as(world.user("b.admin"))
    before = fingerprint()
    assert client.post(f"/buyer/assessments/{submitted}/{path}",
                       data={"comment": "x", "question": "x"}).status_code == 404
    assert fingerprint() == before


def test_another_tenants_evidence_answers_404(app, client, world, login_as, submitted):
    with app.app_context():
        evidence_id = make_evidence_row(_get(app, submitted), "dpa_signed").id
        mine = make_scored_assessment(world["b"].buyer, world["b"].vendor).id
    login_as(world.user("b.admin"))
    assert client.get(f"/buyer/assessments/{submitted}/evidence/{evidence_id}").status_code == 404
    # an evidence id of another assessment under one's own assessment id: 404 too
    assert client.get(f"/buyer/assessments/{mine}/evidence/{evidence_id}").status_code == 404
    assert client.post(f"/buyer/assessments/{mine}/evidence/{evidence_id}",
                       data={"state": "accepted"}).status_code == 404


@pytest.mark.parametrize("bad_id", ["0", "99999999999999999999", "-1"])
def test_hostile_ids_answer_404(client, world, login_as, bad_id):
    login_as(world.user("a.admin"))
    assert client.get(f"/buyer/assessments/{bad_id}").status_code == 404


def test_country_names_follow_the_readers_language(app, client, world, login_as):
    with app.app_context():
        answers = {**embedded_answers(HIGH), "vendor_establishment_country": "DE"}
        assessment_id = make_scored_assessment(world["a"].buyer, world["a"].vendor, answers=answers).id
    login_as(world.user("a.legal"))
    path = f"/buyer/assessments/{assessment_id}/sections/service"
    assert "Germany" in client.get(f"{path}?lang=en").get_data(as_text=True)
    assert "Allemagne" in client.get(f"{path}?lang=fr").get_data(as_text=True)


def test_legal_sees_no_action_forms(client, world, login_as, submitted):
    login_as(world.user("a.legal"))
    for path in ("", "/sections/contract"):
        body = client.get(f"/buyer/assessments/{submitted}{path}").get_data(as_text=True)
        # the only form: refreshing the results, which decides nothing
        forms = re.findall(r'method="post" action="(/buyer/assessments[^"]*)"', body)
        assert forms == [f"/buyer/assessments/{submitted}/refresh-results"], path
        assert "Record the decision" not in body


@pytest.mark.parametrize("path", ["", "/sections/contract", "/decide", "/reopen"])
def test_pages_render_in_french(client, world, login_as, submitted, path):
    login_as(world.user("a.admin"))
    assert client.get(f"/buyer/assessments/{submitted}{path}?lang=fr").status_code == 200
    assert client.get("/buyer/assessments?lang=fr").status_code == 200
    assert client.get("/buyer/assessments/new?lang=fr").status_code == 200


@pytest.mark.parametrize(("lang", "because", "row"), [
    ("en", "Unacceptable because of:", "United States"),
    ("fr", "Inacceptable en raison de :", "États-Unis"),
])
def test_review_page_says_why_the_tier_and_what_triggered_each_finding(app, client, world, login_as,
                                                                      lang, because, row):
    with app.app_context():
        a = make_scored_assessment(world["a"].buyer, world["a"].vendor, answers=UNACCEPTABLE,
                                   by=world.user("a.assessor"))
        assessment_id = a.id
        critical = [f for f in review.result_of(a).computed.findings if f.severity == "critical"]
        assert critical and all(f.triggers for f in critical)
    login_as(world.user("a.legal"))
    page = client.get(f"/buyer/assessments/{assessment_id}?lang={lang}").get_data(as_text=True)
    assert because in page
    assert row in page                                   # the country that raised the finding
    assert page.count('class="small finding-trigger"') >= len(critical)


def test_review_page_shows_not_assessed_for_an_empty_assessment(app, client, world, login_as):
    with app.app_context():
        a = make_scored_assessment(world["a"].buyer, world["a"].vendor, answers=None,
                                   status=S.IN_PROGRESS, by=world.user("a.assessor"))
        assert (a.score, a.tier) == (None, None)
        assessment_id = a.id
    login_as(world.user("a.legal"))
    page = client.get(f"/buyer/assessments/{assessment_id}").get_data(as_text=True)
    assert "Not assessed yet" in page and "0 % of the required answers are given" in page
