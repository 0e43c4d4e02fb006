"""Answering by link without an account (issue 22): issue, open, cookie, code, reissue, revoke.

The link holder is its own principal: what it saves names no user, the audit log names the
contact "via link", and it reaches its one assessment only (the matrix covers every route).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from tests.factories.accounts import make_org, make_user, make_vendor
from tests.factories.assessments import make_assessment, make_contact
from tests.factories.links import link_cookie_path, make_answer_link
from tests.factories.questionnaires import COMPLETE, install_questionnaire
from tests.integration.conftest import outbox
from vendorcheck.extensions import db
from vendorcheck.link_access import COOKIE
from vendorcheck.models import AuditEntry, Contact, Invitation, utcnow
from vendorcheck.models.assessments import Answer, Assessment, AssessmentStatus, Attestation
from vendorcheck.models.links import AnswerLink
from vendorcheck.services.reminders import send_reminders

DUE = date.today() + timedelta(days=10)
LINK = re.compile(r"/vendor/link/([A-Za-z0-9_\-]{43})")


@pytest.fixture
def env(app, tmp_path, monkeypatch):
    """A buyer with a vendor (no vendor organisation yet) and its contact; an assessment sent
    to the contact with a link; and another assessment of the same vendor."""
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path / "evidence"))
    with app.app_context():
        install_questionnaire()
        buyer = make_org("Buyer One", slug="buyer-one")
        admin = make_user("admin@buyer.example", org=buyer)
        vendor = make_vendor(buyer, "Vendor Co")
        contact = make_contact(vendor, "marie@vendor.example", "Marie")
        a = make_assessment(buyer, vendor, by=admin, contact=contact, due_date=DUE)
        other = make_assessment(buyer, vendor, by=admin, contact=contact, due_date=DUE)
        token = make_answer_link(a, contact, by=admin)
        return SimpleNamespace(a=a.id, other=other.id, token=token, contact=contact.id,
                               admin=SimpleNamespace(id=admin.id, session_epoch=admin.session_epoch),
                               buyer=buyer.id, vendor=vendor.id)


def _open(client, token: str):
    return client.get(f"/vendor/link/{token}")


def _autosave(client, aid: int, item: str, value: Any):
    return client.post(f"/vendor/assessments/{aid}/autosave",
                       json={"item_id": item, "value": value, "version": None})


def _link_row(app, aid: int) -> AnswerLink:
    with app.app_context():
        row = db.session.scalars(select(AnswerLink).where(AnswerLink.assessment_id == aid)
                                 .order_by(AnswerLink.id.desc())).first()
        db.session.expunge(row)
        return row


def test_sending_by_link_mails_a_link_and_stores_only_its_hash(app, client, login_as, env):
    login_as(env.admin)
    response = client.post("/buyer/assessments/new", data={
        "vendor_id": env.vendor, "questionnaire": "vc-test", "due_date": DUE.isoformat(),
        "contacts": [env.contact], "message": "", "by_link": "y", "sensitive": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)
    mail = outbox(app)[-1]
    token = LINK.search(mail.body_text).group(1)
    assert mail.to_email == "marie@vendor.example"
    with app.app_context():
        sent = db.session.scalars(select(Assessment).order_by(Assessment.id.desc())).first()
        assert sent.sensitive
        link = db.session.scalar(select(AnswerLink).where(AnswerLink.assessment_id == sent.id))
        assert link.token_hash != token and token not in str(link.__dict__)
        # due date + 14 days' grace, to the end of that day
        assert link.expires_at.date() == DUE + timedelta(days=14)


def test_opening_moves_the_token_into_a_scoped_cookie_without_referrer(app, client, env):
    response = _open(client, env.token)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/vendor/assessments/{env.a}")
    assert env.token not in response.headers["Location"]
    assert response.headers["Referrer-Policy"] == "no-referrer"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}={env.token}")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert f"Path={link_cookie_path(env.a)}" in cookie and "Secure" not in cookie
    page = client.get(f"/vendor/assessments/{env.a}")
    assert page.status_code == 200
    assert "Answering by link" in page.get_data(as_text=True)
    assert page.headers["Referrer-Policy"] == "same-origin"


def test_the_cookie_is_secure_over_https(app, client, env):
    response = client.get(f"/vendor/link/{env.token}", base_url="https://localhost")
    assert "Secure" in response.headers["Set-Cookie"]


def test_holder_answers_and_the_audit_log_names_the_contact_via_link(app, client, env):
    _open(client, env.token)
    saved = _autosave(client, env.a, "has_dpa", "yes")
    assert saved.status_code == 200, saved.get_json()
    with app.app_context():
        answer = db.session.scalar(select(Answer).where(Answer.assessment_id == env.a,
                                                        Answer.item_id == "has_dpa"))
        assert answer.value == "yes" and answer.updated_by_id is None
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "answer_saved")
                                   .order_by(AuditEntry.id.desc())).first()
        assert entry.user_id is None and entry.user_email == "marie@vendor.example"
        assert entry.details["via"] == "link" and entry.organisation_id == env.buyer
        opened = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "answer_link_opened"))
        assert opened is not None and opened.details["via"] == "link"


def test_holder_reaches_its_assessment_only(app, client, env):
    _open(client, env.token)
    # The browser would not even send the cookie elsewhere; the server refuses it anyway.
    client.set_cookie(COOKIE, env.token, path="/")
    for path in (f"/vendor/assessments/{env.other}", f"/vendor/assessments/{env.other}/sections/main",
                 "/vendor/assessments", f"/vendor/assessments/{env.a}/copy", "/vendor/dpa",
                 f"/buyer/assessments/{env.a}", "/org/members"):
        response = client.get(path)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"], path
    assert _autosave(client, env.other, "has_dpa", "no").status_code == 302


def test_holder_submits_with_attestation_then_the_link_answers_409(app, client, env):
    _open(client, env.token)
    for item, value in COMPLETE.items():
        assert _autosave(client, env.a, item, value).status_code == 200
    response = client.post(f"/vendor/assessments/{env.a}/submit", data={
        "name": "Marie Curie", "role": "DPO", "statement": "I confirm."})
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        assessment = db.session.get(Assessment, env.a)
        assert assessment.status is AssessmentStatus.SUBMITTED
        attestation = db.session.scalar(select(Attestation).where(
            Attestation.assessment_id == env.a))
        assert attestation.user_id is None and attestation.name == "Marie Curie"
    again = _open(client, env.token)
    assert again.status_code == 409
    assert "already submitted" in again.get_data(as_text=True)
    assert again.headers["Referrer-Policy"] == "no-referrer"


def test_expired_link_answers_410_with_next_steps(app, client, env):
    with app.app_context():
        db.session.get(AnswerLink, _link_row(app, env.a).id).expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    response = _open(client, env.token)
    assert response.status_code == 410
    text = response.get_data(as_text=True)
    assert "expired" in text and "ask for a new link" in text
    assert COOKIE not in response.headers.get("Set-Cookie", "")


def test_revoked_and_unknown_links_answer_404_and_the_cookie_stops_working(app, client, login_as,
                                                                          env):
    assert _open(client, env.token).status_code == 303
    link_id = _link_row(app, env.a).id
    login_as(env.admin)
    confirm = client.get(f"/buyer/assessments/{env.a}/links/{link_id}/revoke")
    assert confirm.status_code == 200 and "Withdraw the link" in confirm.get_data(as_text=True)
    assert client.post(f"/buyer/assessments/{env.a}/links/{link_id}/revoke").status_code == 302
    login_as(None)
    client.set_cookie(COOKIE, env.token, path=link_cookie_path(env.a))
    assert client.get(f"/vendor/assessments/{env.a}").status_code == 302  # to login
    assert _open(client, env.token).status_code == 404
    unknown = _open(client, "x" * 43)
    assert unknown.status_code == 404 and "most recent e-mail" in unknown.get_data(as_text=True)
    assert _open(client, "y" * 500).status_code == 404
    with app.app_context():
        assert db.session.scalar(select(AuditEntry).where(
            AuditEntry.action == "answer_link_revoked")) is not None


def test_a_reminder_reissues_the_link_and_the_old_one_stops_working(app, client, env):
    with app.app_context():
        send_reminders(today=DUE - timedelta(days=7))
    reminder = next(m for m in outbox(app) if m.ref_type == "assessment" and m.ref_id == env.a)
    new_token = LINK.search(reminder.body_text).group(1)
    assert new_token != env.token and reminder.to_email == "marie@vendor.example"
    assert _open(client, env.token).status_code == 404
    assert _open(client, new_token).status_code == 303
    with app.app_context():
        states = db.session.scalars(select(AnswerLink.revoked_reason).where(
            AnswerLink.assessment_id == env.a).order_by(AnswerLink.id)).all()
        assert states == ["replaced", None]


def test_sensitive_assessment_asks_for_the_mailed_code_before_the_first_save(app, client, env):
    with app.app_context():
        db.session.get(Assessment, env.a).sensitive = True
        db.session.commit()
    _open(client, env.token)
    refused = _autosave(client, env.a, "has_dpa", "yes")
    assert refused.status_code == 403 and refused.get_json()["error"] == "code_required"
    form = client.post(f"/vendor/assessments/{env.a}/sections/main", data={"has_dpa": "yes"})
    assert form.status_code == 303 and form.headers["Location"].endswith("/link/code")
    assert client.post(f"/vendor/assessments/{env.a}/link/code", data={"send": "1"}).status_code == 303
    code = re.search(r"\b(\d{6})\b", outbox(app)[-1].body_text).group(1)
    wrong = client.post(f"/vendor/assessments/{env.a}/link/code",
                        data={"code": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == 422
    right = client.post(f"/vendor/assessments/{env.a}/link/code", data={"code": code})
    assert right.status_code == 303
    assert _autosave(client, env.a, "has_dpa", "yes").status_code == 200
    # once: the same code cannot confirm another browser
    other_browser = app.test_client()
    _open(other_browser, env.token)
    again = other_browser.post(f"/vendor/assessments/{env.a}/link/code", data={"code": code})
    assert again.status_code == 422
    assert _autosave(other_browser, env.a, "has_dpa", "no").status_code == 403


def test_too_many_wrong_codes_spend_it(app, client, env):
    with app.app_context():
        db.session.get(Assessment, env.a).sensitive = True
        db.session.commit()
    _open(client, env.token)
    client.post(f"/vendor/assessments/{env.a}/link/code", data={"send": "1"})
    code = re.search(r"\b(\d{6})\b", outbox(app)[-1].body_text).group(1)
    bad = "000000" if code != "000000" else "111111"
    for _ in range(5):
        client.post(f"/vendor/assessments/{env.a}/link/code", data={"code": bad})
    assert client.post(f"/vendor/assessments/{env.a}/link/code",
                       data={"code": code}).status_code == 422


def test_holder_turns_the_link_into_an_account_invitation(app, client, env):
    _open(client, env.token)
    response = client.post(f"/vendor/assessments/{env.a}/link/account")
    assert response.status_code == 303
    assert "/auth/invitations/" in response.headers["Location"]
    page = client.get(response.headers["Location"])
    assert page.status_code == 200 and "marie@vendor.example" in page.get_data(as_text=True)
    with app.app_context():
        invitation = db.session.scalar(select(Invitation).where(
            Invitation.email == "marie@vendor.example", Invitation.revoked_at.is_(None)))
        assert invitation is not None and invitation.invited_by_id is None
        assert invitation.role.value == "admin"  # the vendor has no organisation yet


def test_token_lookups_are_rate_limited(app, limited_client, env):
    statuses = [limited_client.get(f"/vendor/link/{'z' * 43}").status_code for _ in range(31)]
    assert statuses[:30] == [404] * 30
    assert statuses[30] == 429


def test_contact_without_a_live_link_gets_no_new_one_from_a_reminder(app, client, env):
    with app.app_context():
        contact = db.session.get(Contact, env.contact)
        assert contact is not None
        send_reminders(today=DUE - timedelta(days=7))
    bodies = [m.body_text for m in outbox(app) if m.ref_id == env.other]
    assert bodies and not any(LINK.search(b) for b in bodies)


def test_no_token_in_the_logs(app, env):
    import logging

    from vendorcheck.gunicorn_conf import redact_path
    from vendorcheck.link_access import RedactLinkTokens

    assert env.token not in redact_path(f"/vendor/link/{env.token}")
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '%s - - [%s] "%s" %s %s',
                               ("127.0.0.1", "now", f"GET /vendor/link/{env.token} HTTP/1.1",
                                "303", "-"), None)
    assert RedactLinkTokens().filter(record)
    assert env.token not in record.getMessage() and "/vendor/link/[token]" in record.getMessage()
    assert any(isinstance(f, RedactLinkTokens) for f in logging.getLogger("werkzeug").filters)
