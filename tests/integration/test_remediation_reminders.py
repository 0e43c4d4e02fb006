"""Reminders of remediation requests still with the vendor, and waivers that expire.

N days before the due date (REMEDIATION_REMINDER_DAYS) and once overdue, each step once, to the
vendor-side owner (else every contact) in the recipient's language, the overdue one with a copy to the
buyer-side owner; an expired waiver reopens the finding and tells both owners."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from babel.dates import format_date
from sqlalchemy import select

from tests.factories.accounts import make_user
from tests.factories.assessments import make_contact
from tests.integration.conftest import outbox
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry
from vendorcheck.models.assessments import Assessment, AssessmentRecipient, FindingRecord, FindingState
from vendorcheck.models.remediation import RemediationAction, RemediationRequest, RemediationState
from vendorcheck.services import remediation
from vendorcheck.services.reminders import send_reminders

TODAY = date.today()
DUE = TODAY + timedelta(days=20)


@pytest.fixture
def asked(app, client, world, login_as, submitted):
    """The submitted assessment decided; both high findings sent to the vendor, due in 20 days."""
    login_as(world.user("a.admin"))
    with app.app_context():
        findings = [f.finding_id for f in db.session.scalars(select(FindingRecord).where(
            FindingRecord.assessment_id == submitted).order_by(FindingRecord.id))]
    data = {"decision": "approved_with_conditions", "comment": "Fix both.", "reason": "Pilot.",
            "next_review_date": (TODAY + timedelta(days=180)).isoformat(), "share": findings}
    for fid in findings:
        data[f"due-{fid}"] = DUE.isoformat()
    assert client.post(f"/buyer/assessments/{submitted}/decide", data=data).status_code == 302
    with app.app_context():
        return [r.id for r in db.session.scalars(select(RemediationRequest).where(
            RemediationRequest.assessment_id == submitted).order_by(RemediationRequest.id))]


@pytest.fixture
def french_owner(app, world, submitted, asked):
    """The first request's vendor-side owner: a second contact whose account reads French."""
    with app.app_context():
        contact = make_contact(world["a"].vendor, "owner@vendor-a.example", "Owner FR")
        make_user("owner@vendor-a.example", locale="fr")
        db.session.add(AssessmentRecipient(assessment_id=submitted, contact_id=contact.id))
        db.session.get(RemediationRequest, asked[0]).vendor_owner_id = contact.id
        db.session.commit()
    return asked[0]


def _sent(app, since, kind_prefix="remediation_"):
    return [(m.template, m.to_email, m.locale, m.subject) for m in outbox(app)[since:]
            if m.template.startswith(kind_prefix)]


def test_reminders_before_the_due_date_each_step_once(app, world, submitted, asked, french_owner):
    first, second = asked
    with app.test_request_context():
        before = len(outbox(app))
        assert send_reminders(today=DUE - timedelta(days=8))["remediation_reminders"] == 0
        assert send_reminders(today=DUE - timedelta(days=7))["remediation_reminders"] == 2
        sent = _sent(app, before)
        # the owner (in French) for the first request; every contact (no owner) for the second
        assert ("remediation_before_7", "owner@vendor-a.example", "fr",
                f"Rappel : un constat à corriger pour {world['a'].buyer.name}") in sent
        assert {to for kind, to, _l, _s in sent if kind == "remediation_before_7"} == {
            "owner@vendor-a.example", "contact@vendor-a.example"}
        assert len(sent) == 3
        assert not any(to.endswith("@a.example") for _k, to, _l, _s in sent)  # no buyer copy yet
        again = len(outbox(app))
        assert send_reminders(today=DUE - timedelta(days=6))["remediation_reminders"] == 0  # once
        assert send_reminders(today=DUE - timedelta(days=1))["remediation_reminders"] == 2
        assert {k for k, *_ in _sent(app, again)} == {"remediation_before_1"}


def test_a_reminder_writes_the_due_date_in_the_recipients_language(app, world, submitted, asked,
                                                                   french_owner):
    with app.test_request_context():
        before = len(outbox(app))
        send_reminders(today=DUE - timedelta(days=7))
        mails = {m.to_email: m for m in outbox(app)[before:] if m.template == "remediation_before_7"}
    french, english = mails["owner@vendor-a.example"], mails["contact@vendor-a.example"]
    for mail, locale in ((french, "fr"), (english, "en")):
        stamp = format_date(DUE, "long", locale=locale)  # "25 décembre 2026", "December 25, 2026"
        assert f"({stamp})" in mail.body_text and f"({stamp})" in mail.body_html, mail.body_text
        assert DUE.isoformat() not in mail.body_text + mail.body_html


def test_overdue_once_with_a_copy_to_the_buyer_owner(app, world, submitted, asked):
    with app.test_request_context():
        before = len(outbox(app))
        send_reminders(today=DUE + timedelta(days=1))
        sent = _sent(app, before)
        assert sorted((k, to) for k, to, _l, _s in sent) == sorted(
            [("remediation_overdue", "contact@vendor-a.example")] * 2
            + [("remediation_overdue_buyer", "admin@a.example")] * 2)
        assert all(s.startswith("Overdue: a finding to fix") for *_x, s in sent)
        body = next(m.body_text for m in outbox(app)[before:]
                    if m.template == "remediation_overdue_buyer")
        assert "has not yet answered this remediation request" in body
        again = len(outbox(app))
        send_reminders(today=DUE + timedelta(days=2))
        assert _sent(app, again) == []


def test_no_reminder_once_the_vendor_answered(app, client, world, login_as, submitted, asked):
    login_as(world.user("a.vendor"))
    for request_id in asked:
        assert client.post(f"/vendor/assessments/{submitted}/remediation/{request_id}",
                           data={"kind": "fix", "text": "Done."},
                           content_type="multipart/form-data").status_code == 303
    with app.test_request_context():
        before = len(outbox(app))
        send_reminders(today=DUE + timedelta(days=1))
        assert _sent(app, before) == []


def test_reminder_days_setting(app, monkeypatch):
    monkeypatch.setitem(app.config, "REMEDIATION_REMINDER_DAYS", "14, 3")
    with app.app_context():
        assert remediation.reminder_days() == [14, 3]
    monkeypatch.setitem(app.config, "REMEDIATION_REMINDER_DAYS", [2])
    with app.app_context():
        assert remediation.reminder_days() == [2]
    monkeypatch.setitem(app.config, "REMEDIATION_REMINDER_DAYS", "7, soon, -3")
    with app.app_context():
        assert remediation.reminder_days() == [7]  # the typos are left out, not fatal


def test_an_expired_waiver_reopens_the_finding_and_tells_both_owners(
        app, client, world, login_as, submitted, asked, french_owner):
    first = asked[0]
    expires = TODAY + timedelta(days=10)
    login_as(world.user("a.assessor"))
    assert client.post(f"/buyer/assessments/{submitted}/remediation/{first}", data={
        "outcome": "waive", "reason": "Until the migration.",
        "waiver_expires": expires.isoformat()}).status_code == 302
    with app.test_request_context():
        assert send_reminders(today=expires - timedelta(days=1))["waivers_expired"] == 0
        before = len(outbox(app))
        assert send_reminders(today=expires)["waivers_expired"] == 1
        sent = _sent(app, before, "remediation_waiver_expired")
        assert sorted((k, to, loc) for k, to, loc, _s in sent) == [
            ("remediation_waiver_expired", "owner@vendor-a.example", "fr"),
            ("remediation_waiver_expired_buyer", "admin@a.example", "en")]
        request = db.session.get(RemediationRequest, first)
        assert request.state is RemediationState.REQUESTED
        assert request.finding.state is FindingState.OPEN
        assert request.events[-1].action is RemediationAction.WAIVER_EXPIRED
        assert db.session.get(Assessment, submitted).open_findings == 2
        entry = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "remediation_waiver_expired")).one()
        assert entry.details["waiver_expires"] == expires.isoformat()
        # the next day's run finds nothing more to expire
        assert send_reminders(today=expires + timedelta(days=1))["waivers_expired"] == 0
    login_as(world.user("a.vendor"))
    page = client.get(f"/vendor/assessments/{submitted}").get_data(as_text=True)
    assert "Waiver expired: the finding is open again" in page
    assert f'action="/vendor/assessments/{submitted}/remediation/{first}"' in page  # answerable again
