"""Real SMTP delivery against aiosmtpd: retries, refusals, failures, RQ, rollback."""

from __future__ import annotations

import email
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.integration.conftest import free_port, outbox
from vendorcheck import mail
from vendorcheck.extensions import db
from vendorcheck.models import OutboxMessage, OutboxStatus, User, Vendor, utcnow
from vendorcheck.services import invitations


def _invite(client, world, login_as, email_address="nina@vendor.example"):
    login_as(world.user("a.assessor"))
    return client.post(f"/buyer/vendors/{world['a'].vendor.id}/invite",
                       data={"name": "Nina", "email": email_address})


def test_invitation_is_delivered_over_smtp(app, client, world, login_as, smtp_server):
    server = smtp_server()
    assert _invite(client, world, login_as).status_code == 302
    [row] = outbox(app)
    assert row.status is OutboxStatus.SENT and row.attempts == 1
    [raw] = server.messages
    parsed = email.message_from_bytes(raw)
    assert parsed["To"] == "nina@vendor.example"
    assert parsed["Message-ID"] == row.message_id
    parts = {part.get_content_type() for part in parsed.walk()}
    assert {"text/plain", "text/html"} <= parts
    assert app.config["BASE_URL"] + "/auth/invitations/" in raw.decode()


def test_451_then_250_is_retried_and_delivered_once(app, client, world, login_as, smtp_server):
    server = smtp_server(["451 Try again later", "451 Try again later"])
    assert _invite(client, world, login_as).status_code == 302
    [row] = outbox(app)
    assert row.status is OutboxStatus.PENDING and row.attempts == 1 and "451" in row.last_error
    assert row.next_attempt_at >= utcnow() + timedelta(seconds=50)
    with app.app_context():
        assert mail.send_pending() == {}, "not due yet"
        mail.send_pending(now=utcnow() + timedelta(minutes=2))
        mail.send_pending(now=utcnow() + timedelta(minutes=10))
        mail.send_pending(now=utcnow() + timedelta(hours=1))
    [row] = outbox(app)
    assert row.status is OutboxStatus.SENT and row.attempts == 3
    assert len(server.messages) == 1
    assert email.message_from_bytes(server.messages[0])["Message-ID"] == row.message_id


def test_refused_connection_keeps_the_row_pending_and_the_user_happy(
        app, client, world, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())
    response = _invite(client, world, login_as)
    assert response.status_code == 302
    assert client.get(response.headers["Location"]).status_code == 200
    [row] = outbox(app)
    assert row.status is OutboxStatus.PENDING and "ConnectionRefused" in row.last_error


def test_550_fails_for_good_and_the_reason_is_shown(app, client, world, login_as, smtp_server):
    smtp_server(["550 No such user here"])
    _invite(client, world, login_as)
    [row] = outbox(app)
    assert row.status is OutboxStatus.FAILED and row.last_error.startswith("550")
    page = client.get(f"/buyer/vendors/{world['a'].vendor.id}").get_data(as_text=True)
    assert "No such user here" in page and "failed" in page
    with app.app_context():
        mail.send_pending(now=utcnow() + timedelta(days=2))
    assert outbox(app)[0].attempts == 1, "a failed message is not retried"


def test_max_attempts_then_failed(app, client, world, login_as, smtp_server, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 2)
    server = smtp_server(["421 busy", "421 busy", "421 busy"])
    _invite(client, world, login_as)
    with app.app_context():
        mail.send_pending(now=utcnow() + timedelta(days=1))
    [row] = outbox(app)
    assert row.status is OutboxStatus.FAILED and row.attempts == 2
    assert server.messages == []


def test_rolled_back_work_sends_no_mail(app, world, smtp_server, monkeypatch):
    server = smtp_server()

    def explode(*args, **kwargs):
        raise RuntimeError("audit unavailable")

    monkeypatch.setattr("vendorcheck.services.invitations.audit.record", explode)
    with app.test_request_context():
        vendor = db.session.get(Vendor, world["a"].vendor.id)
        with pytest.raises(RuntimeError):
            invitations.invite_vendor_contact(vendor, "N", "n@x.example",
                                              by=db.session.get(User, world.user("a.admin").id))
        db.session.rollback()
        assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0
    assert server.messages == []


def test_rq_job_delivers_after_commit(app, client, world, login_as, smtp_server):
    from fakeredis import FakeRedis
    from rq import Queue

    server = smtp_server()
    app.extensions["vendorcheck_mail_queue"] = Queue(is_async=False, connection=FakeRedis())
    try:
        _invite(client, world, login_as)
    finally:
        del app.extensions["vendorcheck_mail_queue"]
    assert outbox(app)[0].status is OutboxStatus.SENT
    assert len(server.messages) == 1


def test_without_smtp_messages_stay_in_the_outbox_and_are_logged(
        app, client, world, login_as, caplog):
    caplog.set_level("INFO", logger="vendorcheck.mail")
    _invite(client, world, login_as)
    [row] = outbox(app)
    assert row.status is OutboxStatus.PENDING and row.attempts == 0
    assert "/auth/invitations/" in caplog.text
    login_as(world.user("a.admin"))
    page = client.get("/org/outbox").get_data(as_text=True)
    assert "/auth/invitations/" in page


def test_outbox_page_is_hidden_outside_development(app, client, world, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "TESTING", False)
    monkeypatch.setitem(app.config, "ENV", "production")
    login_as(world.user("a.admin"))
    assert client.get("/org/outbox").status_code == 404


def test_send_pending_command(app, runner, world, client, login_as, smtp_server):
    _invite(client, world, login_as)  # no SMTP yet: stays pending
    result = runner.invoke(args=["mail", "send-pending"])
    assert "1 message(s) kept in the outbox" in result.output
    server = smtp_server()
    result = runner.invoke(args=["mail", "send-pending"])
    assert result.exit_code == 0 and "sent: 1" in result.output
    assert len(server.messages) == 1


def test_mail_is_rendered_in_the_recipients_language(app, client, world, login_as):
    with app.app_context():
        user = db.session.get(User, world.user("a.assessor").id)
        user.locale = "fr"
        db.session.commit()
    _invite(client, world, login_as)
    assert outbox(app)[0].locale == "fr"
