"""The remediation loop: the buyer shares findings of a decided assessment with the vendor, the vendor
answers each (a fix with evidence, or a waiver request), the buyer accepts, sends back or waives.

Every state change, its refusals, e-mails, audit entries, files and the report's history."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from babel.dates import format_date
from sqlalchemy import select

from tests.integration.conftest import outbox
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry
from vendorcheck.models.assessments import Assessment, FindingRecord, FindingState
from vendorcheck.models.remediation import RemediationRequest, RemediationState

NEXT = (date.today() + timedelta(days=180)).isoformat()
DUE = (date.today() + timedelta(days=30)).isoformat()


@pytest.fixture
def decided(app, client, world, login_as, submitted, tmp_path, monkeypatch):
    """Tenant A's submitted assessment (two high findings), decided with conditions by the admin."""
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path / "evidence"))
    login_as(world.user("a.admin"))
    response = client.post(f"/buyer/assessments/{submitted}/decide", data={
        "decision": "approved_with_conditions", "comment": "Enable MFA within 3 months.",
        "reason": "Pilot only.", "next_review_date": NEXT})
    assert response.status_code == 302
    return submitted


def _high_findings(app, assessment_id):
    with app.app_context():
        return [f.finding_id for f in db.session.scalars(select(FindingRecord).where(
            FindingRecord.assessment_id == assessment_id, FindingRecord.severity == "high")
            .order_by(FindingRecord.id))]


def _request(app, assessment_id):
    with app.app_context():
        found = db.session.scalars(select(RemediationRequest).where(
            RemediationRequest.assessment_id == assessment_id)).one()
        return found.id, found.state, found.finding.state, found.waiver_expires


def _ask(client, assessment_id, finding_id, **extra):
    return client.post(f"/buyer/assessments/{assessment_id}/remediation", data={
        "finding_id": finding_id, "due_date": DUE, "note": "Show us the MFA policy.", **extra})


def _answer(client, assessment_id, request_id, **data):
    return client.post(f"/vendor/assessments/{assessment_id}/remediation/{request_id}",
                       data=data, content_type="multipart/form-data")


def _review(client, assessment_id, request_id, **data):
    return client.post(f"/buyer/assessments/{assessment_id}/remediation/{request_id}", data=data)


def _actions(app):
    with app.app_context():
        return [a for a in db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))
                if a.startswith("remediation_")]


def test_the_vendor_sees_the_outcome_and_what_to_fix(app, client, world, login_as, decided):
    finding = _high_findings(app, decided)[0]
    before = len(outbox(app))
    response = _ask(client, decided, finding)
    assert response.status_code == 302
    request_id, state, finding_state, _ = _request(app, decided)
    assert state is RemediationState.REQUESTED and finding_state is FindingState.OPEN
    mails = outbox(app)[before:]
    assert [m.to_email for m in mails] == ["contact@vendor-a.example"]
    assert "asks you to fix a finding" in mails[0].subject
    due = format_date(date.fromisoformat(DUE), "long", locale="en")  # "January 4, 2027"
    assert "Show us the MFA policy." in mails[0].body_text and f"To fix by {due}." in mails[0].body_text

    login_as(world.user("a.vendor"))
    body = client.get(f"/vendor/assessments/{decided}").get_data(as_text=True)
    assert "Outcome of the review" in body and "Approved with conditions" in body
    assert "Enable MFA within 3 months." in body
    assert f'id="remediation-{request_id}"' in body and "Show us the MFA policy." in body
    assert "Legal references:" in body and "GDPR" in body
    assert "Pilot only." not in body  # the buyer's risk reason stays with the buyer


def test_fix_with_evidence_then_accepted(app, client, world, login_as, decided):
    finding = _high_findings(app, decided)[0]
    _ask(client, decided, finding)
    request_id = _request(app, decided)[0]
    login_as(world.user("a.vendor"))
    before = len(outbox(app))
    response = _answer(client, decided, request_id, kind="fix", text="MFA is on for every admin.",
                       file=(io.BytesIO(b"MFA policy v2\n"), "mfa-policy.txt"))
    assert response.status_code == 303
    _, state, finding_state, _ = _request(app, decided)
    assert state is RemediationState.RESPONDED and finding_state is FindingState.VENDOR_RESPONDED
    mails = outbox(app)[before:]
    # the buyer who asked and the one who sent the assessment, each in their language
    assert sorted(m.to_email for m in mails) == ["admin@a.example", "assessor@a.example"]
    assert all("mfa-policy.txt" in m.body_text for m in mails)

    login_as(world.user("a.legal"))  # any buyer may read the evidence
    page = client.get(f"/buyer/assessments/{decided}").get_data(as_text=True)
    assert "MFA is on for every admin." in page
    with app.app_context():
        event = db.session.get(RemediationRequest, request_id).events[-1]
        file_url = (f"/buyer/assessments/{decided}/remediation/{request_id}/files/{event.id}")
    download = client.get(file_url)
    assert download.status_code == 200 and download.data == b"MFA policy v2\n"
    assert download.headers["Content-Security-Policy"].startswith("sandbox")

    login_as(world.user("a.assessor"))
    with app.app_context():
        open_before = db.session.get(Assessment, decided).open_findings
    before = len(outbox(app))
    assert _review(client, decided, request_id, outcome="accept",
                   reason="Policy and screenshots checked.").status_code == 302
    _, state, finding_state, _ = _request(app, decided)
    assert state is RemediationState.ACCEPTED and finding_state is FindingState.REMEDIATED
    with app.app_context():
        assert db.session.get(Assessment, decided).open_findings == open_before - 1
    mails = outbox(app)[before:]
    assert [m.to_email for m in mails] == ["contact@vendor-a.example"]
    assert "accepted your fix" in mails[0].body_text
    assert _actions(app) == ["remediation_requested", "remediation_responded",
                             "remediation_accepted"]


def test_waiver_requested_sent_back_then_waived_with_expiry(app, client, world, login_as, decided):
    _ask(client, decided, _high_findings(app, decided)[0])
    request_id = _request(app, decided)[0]
    login_as(world.user("a.vendor"))
    assert _answer(client, decided, request_id, kind="waiver",
                   text="Legacy system retired in June.").status_code == 303
    assert _request(app, decided)[1] is RemediationState.WAIVER_REQUESTED
    login_as(world.user("a.admin"))
    assert _review(client, decided, request_id, outcome="send_back",
                   reason="Retirement date is not certain.").status_code == 302
    _, state, finding_state, _ = _request(app, decided)
    assert state is RemediationState.REQUESTED and finding_state is FindingState.OPEN
    expires = (date.today() + timedelta(days=90)).isoformat()
    assert _review(client, decided, request_id, outcome="waive", reason="Accepted until June.",
                   waiver_expires=expires).status_code == 302
    _, state, finding_state, waiver_expires = _request(app, decided)
    assert state is RemediationState.WAIVED and finding_state is FindingState.ACCEPTED_RISK
    assert waiver_expires.isoformat() == expires
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "remediation_waived")).one()
        assert entry.details["reason"] == "Accepted until June."
        assert entry.details["waiver_expires"] == expires
    login_as(world.user("a.vendor"))
    page = client.get(f"/vendor/assessments/{decided}").get_data(as_text=True)
    assert "Risk accepted (waiver)" in page and "Retirement date is not certain." in page
    in_words = format_date(date.fromisoformat(expires), "long", locale="en")  # "March 5, 2027"
    assert f"Waiver expires on {in_words}" in page and f"Waiver expires on {expires}" not in page


def test_report_context_carries_the_history(app, client, world, login_as, decided):
    from vendorcheck.pdf.report import build_report_context
    from vendorcheck.services import reports

    _ask(client, decided, _high_findings(app, decided)[0])
    request_id = _request(app, decided)[0]
    login_as(world.user("a.vendor"))
    _answer(client, decided, request_id, kind="fix", text="Done on 1 May.",
            file=(io.BytesIO(b"proof\n"), "proof.txt"))
    with app.test_request_context():
        assessment = db.session.get(Assessment, decided)
        data = reports.report_data(assessment)
        q = reports.questionnaire_for(assessment)
        for locale, words in (("en", "Fix described"), ("fr", "Correction décrite")):
            html = reports.render_report_html(build_report_context(q, data, locale,
                                                                   base_url="http://x"))
            assert 'id="remediation"' in html and words in html
            assert "Done on 1 May." in html and "proof.txt" in html


# --- refusals -----------------------------------------------------------------------------------


def test_no_request_before_the_decision(app, client, world, login_as, submitted):
    login_as(world.user("a.admin"))
    response = _ask(client, submitted, _high_findings(app, submitted)[0])
    assert response.status_code == 409
    assert "once the assessment is decided" in response.get_data(as_text=True)


def test_refusals_say_why_and_store_nothing(app, client, world, login_as, decided):
    finding = _high_findings(app, decided)[0]
    past = (date.today() - timedelta(days=1)).isoformat()
    assert _ask(client, decided, finding, due_date=past).status_code == 422
    assert _ask(client, decided, "no-such-finding").status_code == 422
    assert _ask(client, decided, finding).status_code == 302
    again = _ask(client, decided, finding)
    assert again.status_code == 409 and "already has a remediation request" in again.get_data(
        as_text=True)
    request_id = _request(app, decided)[0]
    early = _review(client, decided, request_id, outcome="accept", reason="ok")
    assert early.status_code == 409
    assert "has not answered this request yet" in early.get_data(as_text=True)

    login_as(world.user("a.vendor"))
    empty = _answer(client, decided, request_id, kind="fix", text="  ")
    assert empty.status_code == 422 and "Describe what was fixed." in empty.get_data(as_text=True)
    bad = _answer(client, decided, request_id, kind="fix", text="Fixed",
                  file=(io.BytesIO(b"MZ\x90\x00"), "tool.exe"))
    assert bad.status_code == 422 and "not accepted" in bad.get_data(as_text=True)
    assert _request(app, decided)[1] is RemediationState.REQUESTED
    assert _answer(client, decided, request_id, kind="fix", text="Fixed").status_code == 303
    twice = _answer(client, decided, request_id, kind="fix", text="Fixed again")
    assert twice.status_code == 409 and "not waiting for you" in twice.get_data(as_text=True)

    login_as(world.user("a.admin"))
    no_reason = _review(client, decided, request_id, outcome="accept", reason="")
    assert no_reason.status_code == 422 and "Give the reason" in no_reason.get_data(as_text=True)
    bad_outcome = _review(client, decided, request_id, outcome="delete", reason="x")
    assert bad_outcome.status_code == 422
    old = _review(client, decided, request_id, outcome="waive", reason="x", waiver_expires=past)
    assert old.status_code == 422
    assert _request(app, decided)[1] is RemediationState.RESPONDED
    assert _actions(app) == ["remediation_requested", "remediation_responded"]


def test_another_assessments_request_answers_404(app, client, world, login_as, decided):
    from tests.factories.remediation import make_remediation

    with app.app_context():
        other = make_remediation(db.session.get(Assessment, decided), finding_id="manual-other")
        own_file = other.events[-1].id
    # tenant B's buyer and vendor cannot reach tenant A's request
    login_as(world.user("b.admin"))
    assert _review(client, decided, other.id, outcome="waive", reason="x").status_code == 404
    login_as(world.user("b.vendor"))
    assert _answer(client, decided, other.id, kind="fix", text="x").status_code == 404
    assert client.get(f"/vendor/assessments/{decided}/remediation/{other.id}/files/"
                      f"{own_file}").status_code == 404
    # tenant A's vendor: a file id of another request, or an event without a file, answers 404
    login_as(world.user("a.vendor"))
    with app.app_context():
        first_event = db.session.get(RemediationRequest, other.id).events[0].id
    assert client.get(f"/vendor/assessments/{decided}/remediation/{other.id}/files/"
                      f"{first_event}").status_code == 404
    assert client.get(f"/vendor/assessments/{decided}/remediation/{other.id}/files/"
                      f"{own_file}").status_code == 200


def test_remediation_files_are_among_the_stored_files_a_storage_move_copies(app, decided):
    from tests.factories.remediation import make_remediation
    from vendorcheck.services.storage_migration import references

    with app.app_context():
        made = make_remediation(db.session.get(Assessment, decided))
        event = made.events[-1]
        found = {(r.area.value, r.key, r.sha256) for r in references()}
        assert ("evidence", event.storage_key, event.sha256) in found
