"""Remediation chosen at the decision, owners on each side, and an accepted fix that improves the tier.

The buyer ticks open findings in the decision form (due date and comment each, an owner on each
side); accepting the vendor's fix takes the finding out of the tier (audited old → new), while a
waiver keeps it counted as an accepted risk."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.factories.assessments import make_contact
from tests.integration.conftest import outbox
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry
from vendorcheck.models.assessments import Assessment, FindingRecord, FindingState, Override
from vendorcheck.models.remediation import RemediationRequest, RemediationState

NEXT = (date.today() + timedelta(days=180)).isoformat()
DUE = (date.today() + timedelta(days=30)).isoformat()


@pytest.fixture
def findings(app, submitted):
    """The two high findings of the submitted assessment, by id."""
    with app.app_context():
        return [f.finding_id for f in db.session.scalars(select(FindingRecord).where(
            FindingRecord.assessment_id == submitted).order_by(FindingRecord.id))]


@pytest.fixture
def second_contact(app, world, submitted):
    """A second contact the assessment was sent to (the vendor-side owner in these tests)."""
    from vendorcheck.models.assessments import AssessmentRecipient

    with app.app_context():
        contact = make_contact(world["a"].vendor, "second@vendor-a.example", "Second Contact")
        db.session.add(AssessmentRecipient(assessment_id=submitted, contact_id=contact.id))
        db.session.commit()
        return contact.id


def _decide(client, assessment_id, shared=(), **extra):
    data = {"decision": "approved_with_conditions", "comment": "Fix both within a month.",
            "reason": "Pilot only.", "next_review_date": NEXT, "share": list(shared), **extra}
    for fid in shared:
        data.setdefault(f"due-{fid}", DUE)
        data.setdefault(f"note-{fid}", f"Please fix {fid}.")
    return client.post(f"/buyer/assessments/{assessment_id}/decide", data=data)


def _requests(app, assessment_id):
    with app.app_context():
        return [(r.id, r.finding.finding_id, r.state, r.due_date, r.note,
                 r.buyer_owner.email if r.buyer_owner else None,
                 r.vendor_owner.email if r.vendor_owner else None)
                for r in db.session.scalars(select(RemediationRequest).where(
                    RemediationRequest.assessment_id == assessment_id)
                    .order_by(RemediationRequest.id))]


def _actions(app, prefix=""):
    with app.app_context():
        return [a for a in db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))
                if a.startswith(prefix)]


def test_the_decision_form_offers_the_open_findings_and_the_owners(
        app, client, world, login_as, submitted, findings, second_contact):
    login_as(world.user("a.admin"))
    page = client.get(f"/buyer/assessments/{submitted}/decide").get_data(as_text=True)
    assert "Remediation requests to send with the decision" in page
    for fid in findings:
        assert f'name="share" value="{fid}"' in page and f'name="due-{fid}"' in page
    admin = world.user("a.admin")
    assert f'<option selected value="{admin.id}">' in page  # the decider by default
    assert "second@vendor-a.example" in page and "Every contact" in page
    assert world.user("a.legal").name not in page.split("buyer_owner")[1].split("</select>")[0]


def test_deciding_with_requests_creates_them_through_the_remediation_service(
        app, client, world, login_as, submitted, findings, second_contact):
    login_as(world.user("a.admin"))
    before = len(outbox(app))
    response = _decide(client, submitted, findings, buyer_owner=str(world.user("a.assessor").id),
                       vendor_owner=str(second_contact))
    assert response.status_code == 302
    made = _requests(app, submitted)
    assert [(fid, state, due.isoformat(), note, buyer, vendor)
            for _id, fid, state, due, note, buyer, vendor in made] == [
        (fid, RemediationState.REQUESTED, DUE, f"Please fix {fid}.", "assessor@a.example",
         "second@vendor-a.example") for fid in findings]
    # one audit entry per request, after the decision's, as when asked from the review page
    assert _actions(app, "assessment_decided") == ["assessment_decided"]
    assert _actions(app, "remediation_") == ["remediation_requested"] * 2
    mails = outbox(app)[before:]
    assert sum("asks you to fix a finding" in m.subject for m in mails) == 2 * 2  # two contacts
    assert sum("has reviewed your answers" in m.subject for m in mails) == 2

    # both sides see the owners
    page = client.get(f"/buyer/assessments/{submitted}").get_data(as_text=True)
    assert "Owner at the buyer:" in page and world.user("a.assessor").name in page
    assert "Owner at the vendor:" in page and "Second Contact" in page
    login_as(world.user("a.vendor"))
    page = client.get(f"/vendor/assessments/{submitted}").get_data(as_text=True)
    assert "Owner at the vendor:" in page and "Second Contact" in page


def test_the_decider_owns_the_requests_by_default_and_every_contact_answers(
        app, client, world, login_as, submitted, findings):
    login_as(world.user("a.admin"))
    assert _decide(client, submitted, findings[:1]).status_code == 302
    [(_id, _fid, _state, _due, _note, buyer, vendor)] = _requests(app, submitted)
    assert (buyer, vendor) == ("admin@a.example", None)


@pytest.mark.parametrize(("extra", "message"), [
    ({"buyer_owner": "999999"}, "buyer-side owner"),
    ({"vendor_owner": "999999"}, "vendor-side owner"),
    ({"due-PLACEHOLDER": (date.today() - timedelta(days=1)).isoformat()}, "cannot be in the past"),
    ({"due-PLACEHOLDER": "next week"}, "YYYY-MM-DD"),
    ({"share": ["no-such-finding"]}, "still open"),
])
def test_a_bad_request_refuses_the_whole_decision(app, client, world, login_as, submitted,
                                                   findings, extra, message):
    login_as(world.user("a.admin"))
    extra = {k.replace("PLACEHOLDER", findings[0]): v for k, v in extra.items()}
    shared = extra.pop("share", findings[:1])
    response = _decide(client, submitted, shared, **extra)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _requests(app, submitted) == []
    with app.app_context():
        assert db.session.get(Assessment, submitted).decision is None  # nothing half-recorded
    assert _actions(app, "assessment_decided") == []


# --- an accepted fix improves the tier; a waiver does not ------------------------------------------


def _fix_and_accept(app, client, world, login_as, assessment_id, request_id):
    login_as(world.user("a.vendor"))
    assert client.post(f"/vendor/assessments/{assessment_id}/remediation/{request_id}", data={
        "kind": "fix", "text": "Done.", "file": (io.BytesIO(b"proof\n"), "proof.txt")},
        content_type="multipart/form-data").status_code == 303
    login_as(world.user("a.admin"))
    assert client.post(f"/buyer/assessments/{assessment_id}/remediation/{request_id}", data={
        "outcome": "accept", "reason": "Checked."}).status_code == 302


def _tier(app, assessment_id):
    with app.app_context():
        a = db.session.get(Assessment, assessment_id)
        return a.tier, a.score


def test_accepting_every_fix_improves_the_tier_and_says_why(app, client, world, login_as,
                                                            submitted, findings):
    login_as(world.user("a.admin"))
    assert _decide(client, submitted, findings).status_code == 302
    tier_before, score_before = _tier(app, submitted)
    assert tier_before == "high"
    first, second = [r[0] for r in _requests(app, submitted)]

    _fix_and_accept(app, client, world, login_as, submitted, first)
    # one high finding is left: the tier is still capped by it
    assert _tier(app, submitted)[0] == "high"
    _fix_and_accept(app, client, world, login_as, submitted, second)
    tier_after, score_after = _tier(app, submitted)
    assert tier_after != "high" and tier_after is not None
    assert score_after is not None and score_after >= score_before

    with app.app_context():
        kept = db.session.scalars(select(Override).where(
            Override.assessment_id == submitted, Override.kind == "finding_remediated")).all()
        assert sorted(o.target for o in kept) == sorted(findings)
        assert {o.new_value for o in kept} == {date.today().isoformat()}
        entries = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "assessment_results_recomputed").order_by(AuditEntry.id)).all()
        assert [(e.details["old_tier"], e.details["new_tier"]) for e in entries] == [
            ("high", "high"), ("high", tier_after)]
        assert entries[-1].details["cause"] == "remediation_accepted"

    page = client.get(f"/buyer/assessments/{submitted}").get_data(as_text=True)
    assert "was remediated on" in page and "it no longer counts toward the tier" in page
    dashboard = client.get("/buyer/assessments").get_data(as_text=True)
    row = next(part for part in dashboard.split("<tr") if f"/buyer/assessments/{submitted}" in part)
    assert f"review-tier--{tier_after}" in row and "review-tier--high" not in row

    from vendorcheck.pdf.report import build_report_context
    from vendorcheck.services import reports
    with app.test_request_context():
        assessment = db.session.get(Assessment, submitted)
        data = reports.report_data(assessment)
        q = reports.questionnaire_for(assessment)
        context = build_report_context(q, data, "fr", base_url="http://x")
        assert context["summary"]["tier"] == tier_after
        html = reports.render_report_html(context)
        assert "a été corrigé le" in html and "Responsable chez l’acheteur" in html


def test_a_waiver_keeps_the_finding_in_the_tier_as_an_accepted_risk(app, client, world, login_as,
                                                                    submitted, findings):
    login_as(world.user("a.admin"))
    assert _decide(client, submitted, findings).status_code == 302
    first, second = [r[0] for r in _requests(app, submitted)]
    _fix_and_accept(app, client, world, login_as, submitted, first)
    expires = date.today() + timedelta(days=60)
    assert client.post(f"/buyer/assessments/{submitted}/remediation/{second}", data={
        "outcome": "waive", "reason": "Legacy system.",
        "waiver_expires": expires.isoformat()}).status_code == 302
    assert _tier(app, submitted)[0] == "high"  # the accepted risk still counts
    with app.app_context():
        record = db.session.scalars(select(FindingRecord).where(
            FindingRecord.assessment_id == submitted, FindingRecord.finding_id == findings[1])).one()
        assert record.state is FindingState.ACCEPTED_RISK
    page = client.get(f"/buyer/assessments/{submitted}").get_data(as_text=True)
    assert "is an accepted risk (waiver) until" in page and "it still counts toward the tier" in page


def test_a_request_from_the_review_page_takes_owners_too(app, client, world, login_as, submitted,
                                                         findings, second_contact):
    login_as(world.user("a.admin"))
    assert _decide(client, submitted).status_code == 302
    page = client.get(f"/buyer/assessments/{submitted}").get_data(as_text=True)
    assert 'name="buyer_owner_id"' in page and 'name="vendor_owner_id"' in page
    ask = {"finding_id": findings[0], "due_date": DUE, "note": "x"}
    refused = client.post(f"/buyer/assessments/{submitted}/remediation",
                          data={**ask, "vendor_owner_id": "nope"})
    assert refused.status_code == 422 and "vendor-side owner" in refused.get_data(as_text=True)
    assert _requests(app, submitted) == []
    assert client.post(f"/buyer/assessments/{submitted}/remediation", data={
        **ask, "buyer_owner_id": str(world.user("a.assessor").id),
        "vendor_owner_id": str(second_contact)}).status_code == 302
    [(*_rest, buyer, vendor)] = _requests(app, submitted)
    assert (buyer, vendor) == ("assessor@a.example", "second@vendor-a.example")


def test_a_fixed_manual_finding_stops_forcing_the_worst_tier(app, client, world, login_as,
                                                             submitted, findings):
    login_as(world.user("a.admin"))
    assert _decide(client, submitted).status_code == 302
    tier_before = _tier(app, submitted)[0]
    assert client.post(f"/buyer/assessments/{submitted}/findings", data={
        "severity": "critical", "title_en": "Backups never tested"}).status_code == 302
    assert _tier(app, submitted)[0] == "unacceptable"  # a critical finding forces the worst tier
    assert client.post(f"/buyer/assessments/{submitted}/remediation", data={
        "finding_id": "manual-1", "due_date": DUE}).status_code == 302
    request_id = next(r[0] for r in _requests(app, submitted) if r[1] == "manual-1")
    _fix_and_accept(app, client, world, login_as, submitted, request_id)
    assert _tier(app, submitted)[0] == tier_before
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "assessment_results_recomputed")).one()
        assert (entry.details["old_tier"], entry.details["new_tier"]) == ("unacceptable",
                                                                          tier_before)
