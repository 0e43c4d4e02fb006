"""Outgoing webhooks against a real HTTP receiver on 127.0.0.1: signatures, retries, replays, SSRF."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.factories.dpa import publish_dpa
from tests.factories.webhooks import Receiver, make_delivery, make_endpoint, receiving, verify
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry
from vendorcheck.models.webhooks import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from vendorcheck.services import webhook_delivery, webhooks

S = DeliveryStatus


@pytest.fixture
def receiver(app, monkeypatch) -> Iterator[Callable[..., Receiver]]:
    """Start receivers on 127.0.0.1 (private targets allowed, as a test must)."""
    monkeypatch.setitem(app.config, "WEBHOOKS_ALLOW_PRIVATE_TARGETS", True)
    with ExitStack() as stack:
        yield lambda *statuses: stack.enter_context(receiving(*statuses))


def _register(client, url: str, events: tuple[str, ...] = ("assessment.decided",)) -> tuple[int, str]:
    """Add an endpoint through the page; return its id and the secret shown once."""
    response = client.post("/org/webhooks/new", data={"url": url, "description": "Our GRC",
                                                      "events": list(events)})
    assert response.status_code == 200, response.get_data(as_text=True)
    found = re.search(r'value="(whsec_[A-Za-z0-9+/=]+)"', response.get_data(as_text=True))
    assert found is not None
    endpoint_id = db.session.scalar(select(WebhookEndpoint.id).order_by(WebhookEndpoint.id.desc()))
    return endpoint_id, found.group(1)


def _deliveries(endpoint_id: int) -> list[WebhookDelivery]:
    db.session.expire_all()
    return list(db.session.scalars(select(WebhookDelivery).where(
        WebhookDelivery.endpoint_id == endpoint_id).order_by(WebhookDelivery.id)))


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_registered_endpoint_gets_a_signed_test_event(app, client, world, login_as, receiver):
    rec = receiver()
    login_as(world.user("a.admin"))
    with app.app_context():
        endpoint_id, secret = _register(client, rec.url)
        stored = db.session.get(WebhookEndpoint, endpoint_id)
        assert secret.encode() not in stored.secret_encrypted  # encrypted at rest
    listing = client.get("/org/webhooks").get_data(as_text=True)
    assert rec.url.split("?")[0] in listing and secret not in listing

    assert client.post(f"/org/webhooks/{endpoint_id}/test").status_code == 302

    assert len(rec.requests) == 1
    headers, body = rec.requests[0]
    assert verify(secret, headers, body)
    assert not verify(secret, headers, body + b" ")  # the check can fail
    assert headers["content-type"] == "application/json"
    assert rec.payloads()[0]["type"] == "webhook.test"
    with app.app_context():
        [delivery] = _deliveries(endpoint_id)
        assert delivery.status is S.SUCCEEDED and delivery.attempts == 1
        assert delivery.last_status_code == 200 and headers["webhook-id"] == delivery.event_id
        assert len(delivery.response_excerpt) == 500  # only the start of the answer is kept
        assert {"webhook.endpoint_created", "webhook.test_sent"} <= set(_actions())
    page = client.get(f"/org/webhooks/{endpoint_id}/deliveries").get_data(as_text=True)
    assert "webhook.test" in page and "succeeded" in page


def test_a_decision_is_sent_to_subscribed_endpoints_only(app, client, world, login_as, receiver,
                                                          submitted):
    decided, other = receiver(), receiver()
    login_as(world.user("a.admin"))
    with app.app_context():
        _endpoint_id, secret = _register(client, decided.url, ("assessment.decided",
                                                                "finding.changed"))
        _register(client, other.url, ("assessment.sent",))
    next_review = (date.today() + timedelta(days=180)).isoformat()
    response = client.post(f"/buyer/assessments/{submitted}/decide", data={
        "decision": "approved_with_conditions", "comment": "Enable MFA.",
        "reason": "Pilot only.", "next_review_date": next_review})
    assert response.status_code == 302

    assert other.requests == []
    [(headers, body)] = decided.requests
    assert verify(secret, headers, body)
    event = json.loads(body)
    assert event["type"] == "assessment.decided"
    data = event["data"]
    assert data["assessment_id"] == submitted and data["status"] == "decided"
    assert data["decision"] == "approved_with_conditions"
    assert data["next_review_date"] == next_review
    assert data["url"].endswith(f"/buyer/assessments/{submitted}")
    assert b"@" not in body  # no e-mail address of anyone


def test_a_finding_change_is_sent(app, client, world, login_as, receiver, submitted):
    from vendorcheck.models.assessments import Assessment
    from vendorcheck.services import review

    rec = receiver()
    login_as(world.user("a.admin"))
    with app.app_context():
        _register(client, rec.url, ("finding.changed",))
        finding_id = review.result_of(db.session.get(Assessment, submitted)).computed.findings[0].id
    response = client.post(f"/buyer/assessments/{submitted}/findings/state", data={
        "finding_id": finding_id, "state": "remediated"})
    assert response.status_code == 302
    [event] = rec.payloads()
    assert event["type"] == "finding.changed"
    assert event["data"]["finding_id"] == finding_id and event["data"]["state"] == "remediated"


def test_a_published_dpa_is_sent_to_the_vendor(app, world, receiver):
    rec = receiver()
    with app.app_context():
        _endpoint, secret = make_endpoint(world["a"].vendor_org.id, url=rec.url,
                                          events=["dpa.published", "subprocessor.changed"])
        version = publish_dpa(world, world["a"].vendor_org)
        number = version.number
    [(headers, body)] = rec.requests
    assert verify(secret, headers, body)
    event = json.loads(body)
    assert event["type"] == "dpa.published" and event["data"]["number"] == number


def test_sending_and_submitting_are_sent_to_the_buyer(app, world, receiver):
    from tests.factories.assessments import make_assessment, make_contact
    from tests.factories.questionnaires import COMPLETE, install_questionnaire
    from vendorcheck.models import Organisation, User, Vendor
    from vendorcheck.models.assessments import AssessmentStatus
    from vendorcheck.services.assessments import send_assessment, submit_assessment

    rec = receiver()
    with app.test_request_context():
        buyer = db.session.get(Organisation, world["a"].buyer.id)
        vendor = db.session.get(Vendor, world["a"].vendor.id)
        make_endpoint(buyer.id, url=rec.url, events=["assessment.sent", "assessment.submitted"])
        make_endpoint(world["a"].vendor_org.id, url=rec.url, events=["assessment.submitted"])
        contact = make_contact(vendor, "someone@vendor-a.example", "Someone")
        sent = send_assessment(buyer, vendor, install_questionnaire(), due_date=None,
                               contacts=[contact], message="",
                               by=db.session.get(User, world.user("a.admin").id))
        answered = make_assessment(buyer, vendor, status=AssessmentStatus.IN_PROGRESS,
                                   answers=COMPLETE)
        submit_assessment(answered, name="Contact A", role="DPO", statement="True",
                          by=db.session.get(User, world.user("a.vendor").id))
        ids = sent.id, answered.id
    assert [(p["type"], p["data"]["assessment_id"]) for p in rec.payloads()] == [
        ("assessment.sent", ids[0]), ("assessment.submitted", ids[1])]  # buyer's endpoint only
    assert rec.payloads()[1]["data"]["status"] == "submitted"
    assert all(b"@" not in body for _headers, body in rec.requests)


def test_dpa_changes_reach_the_buyers_that_accepted(app, world, receiver):
    from tests.factories.dpa import MAILER, OVH
    from tests.factories.dpa_relations import accept_version
    from vendorcheck.models import Organisation, User

    rec = receiver()
    with app.app_context():
        vendor_org = db.session.get(Organisation, world["a"].vendor_org.id)
        buyer = db.session.get(Organisation, world["a"].buyer.id)
        v1 = publish_dpa(None, vendor_org, subprocessors=[OVH])
        accept_version(v1, buyer, db.session.get(User, world.user("a.admin").id))
        make_endpoint(buyer.id, url=rec.url, events=["dpa.published", "subprocessor.changed"])
        make_endpoint(world["b"].buyer.id, url=rec.url, events=["dpa.published"])  # did not accept
        v2 = publish_dpa(None, vendor_org, subprocessors=[OVH, MAILER])  # proposed, then applied
        number = v2.number
    events = rec.payloads()
    assert [(e["type"], e["data"].get("change")) for e in events] == [
        ("dpa.published", None), ("subprocessor.changed", "proposed"),
        ("subprocessor.changed", "applied")]
    assert events[0]["data"]["number"] == number
    assert events[1]["data"]["sub_processors"]["added"] == ["Mailer Inc."]
    assert all(b"@" not in body for _headers, body in rec.requests)  # no contact's address


def test_a_failed_delivery_is_retried_on_schedule(app, client, world, login_as, receiver):
    rec = receiver(500, 200)
    login_as(world.user("a.admin"))
    with app.app_context():
        endpoint_id, secret = _register(client, rec.url)
    client.post(f"/org/webhooks/{endpoint_id}/test")
    with app.app_context():
        [first] = _deliveries(endpoint_id)
        assert first.status is S.RETRYING and first.attempts == 1
        assert first.last_status_code == 500 and first.last_error == "HTTP 500"
        wait = first.next_attempt_at - first.updated_at
        assert timedelta(seconds=30) <= wait <= timedelta(seconds=33)
        assert webhook_delivery.deliver_due(now=first.next_attempt_at - timedelta(seconds=5)) == {}
        assert webhook_delivery.deliver_due(now=first.next_attempt_at) == {"succeeded": 1}
        [done] = _deliveries(endpoint_id)
        assert done.status is S.SUCCEEDED and done.attempts == 2 and done.next_attempt_at is None
    assert len(rec.requests) == 2
    (h1, b1), (h2, b2) = rec.requests
    assert h1["webhook-id"] == h2["webhook-id"] and b1 == b2  # one event, deduplicated on its id
    assert h1["webhook-timestamp"] != h2["webhook-timestamp"]  # signed anew at each attempt
    assert verify(secret, h1, b1) and verify(secret, h2, b2)


def test_a_delivery_gives_up_after_the_last_attempt(app, client, world, login_as, receiver):
    rec = receiver(*[503] * 10)
    login_as(world.user("a.admin"))
    with app.app_context():
        endpoint_id, _secret = _register(client, rec.url)
    client.post(f"/org/webhooks/{endpoint_id}/test")
    waits = []
    with app.app_context():
        for _ in range(webhook_delivery.MAX_ATTEMPTS - 1):
            [delivery] = _deliveries(endpoint_id)
            waits.append(delivery.next_attempt_at - delivery.updated_at)
            webhook_delivery.deliver_due(now=delivery.next_attempt_at)
        [delivery] = _deliveries(endpoint_id)
        assert delivery.status is S.FAILED and delivery.next_attempt_at is None
        assert delivery.attempts == webhook_delivery.MAX_ATTEMPTS == len(rec.requests) == 6
    for wait, base in zip(waits, webhook_delivery.BACKOFF, strict=True):
        assert base <= wait <= base * 1.1
    failed = client.get(f"/org/webhooks/{endpoint_id}/deliveries?status=failed")
    assert "HTTP 503" in failed.get_data(as_text=True)
    empty = client.get(f"/org/webhooks/{endpoint_id}/deliveries?status=succeeded")
    assert "No deliveries match." in empty.get_data(as_text=True)


def test_a_redirect_is_not_followed(app, client, world, login_as, receiver):
    rec = receiver(302)
    login_as(world.user("a.admin"))
    with app.app_context():
        endpoint_id, _secret = _register(client, rec.url)
    client.post(f"/org/webhooks/{endpoint_id}/test")
    assert len(rec.requests) == 1
    with app.app_context():
        [delivery] = _deliveries(endpoint_id)
        assert delivery.status is S.RETRYING and delivery.last_status_code == 302
        assert "Redirects are not followed" in delivery.last_error


def test_replay_sends_the_event_again_as_a_new_delivery(app, client, world, login_as, receiver):
    rec = receiver()
    login_as(world.user("a.admin"))
    with app.app_context():
        endpoint_id, secret = _register(client, rec.url)
    client.post(f"/org/webhooks/{endpoint_id}/test")
    with app.app_context():
        [original] = _deliveries(endpoint_id)
    response = client.post(f"/org/webhooks/{endpoint_id}/deliveries/{original.id}/replay")
    assert response.status_code == 302
    with app.app_context():
        first, again = _deliveries(endpoint_id)
        assert again.replay_of_id == first.id and again.event_id != first.event_id
        assert again.status is S.SUCCEEDED and again.payload == first.payload
        assert "webhook.delivery_replayed" in _actions()
    (h1, b1), (h2, b2) = rec.requests
    assert b1 == b2 and h1["webhook-id"] != h2["webhook-id"] and verify(secret, h2, b2)


@pytest.mark.parametrize(("url", "message"), [
    ("http://127.0.0.1:8080/hook", "private, local or reserved"),
    ("http://localhost/hook", "private, local or reserved"),
    ("http://10.1.2.3/hook", "private, local or reserved"),
    ("http://169.254.169.254/latest/meta-data", "private, local or reserved"),
    ("http://[::1]/hook", "private, local or reserved"),
    ("http://[::ffff:127.0.0.1]/hook", "private, local or reserved"),
    ("http://0.0.0.0/hook", "private, local or reserved"),
    ("http://224.0.0.1/hook", "private, local or reserved"),
    ("ftp://files.example/hook", "Only http:// and https://"),
    ("file:///etc/passwd", "Only http:// and https://"),
    ("https://user:pw@93.184.215.14/hook", "no user name or password"),
    ("http://[not-an-address/hook", "not valid"),
])
def test_private_and_odd_targets_are_refused_with_a_form_error(app, client, world, login_as,
                                                                url, message):
    login_as(world.user("a.admin"))
    response = client.post("/org/webhooks/new", data={"url": url, "events": ["assessment.sent"]})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(WebhookEndpoint.id)) is None


def test_a_target_refused_at_delivery_fails_the_delivery_not_the_page(app, client, world, login_as,
                                                                      receiver):
    rec = receiver()
    login_as(world.user("a.admin"))
    with app.app_context():
        endpoint_id, _secret = _register(client, rec.url)
    app.config["WEBHOOKS_ALLOW_PRIVATE_TARGETS"] = False  # the fixture puts it back
    assert client.post(f"/org/webhooks/{endpoint_id}/test").status_code == 302
    assert rec.requests == []
    with app.app_context():
        [delivery] = _deliveries(endpoint_id)
        assert delivery.status is S.RETRYING and delivery.last_status_code is None
        assert delivery.last_error.startswith("Refused:") and "127.0.0.1" in delivery.last_error


def test_edit_disable_and_delete(app, client, world, login_as, receiver, submitted):
    rec = receiver()
    login_as(world.user("a.admin"))
    with app.app_context():
        endpoint_id, _secret = _register(client, rec.url, ("assessment.sent",))
    response = client.post(f"/org/webhooks/{endpoint_id}/edit", data={
        "url": rec.url, "description": "Tickets", "events": ["assessment.decided"], "enabled": "y"})
    assert response.status_code == 302
    assert client.post(f"/org/webhooks/{endpoint_id}/enabled").status_code == 302
    with app.app_context():
        endpoint = db.session.get(WebhookEndpoint, endpoint_id)
        assert endpoint.events == ["assessment.decided"] and not endpoint.enabled
    client.post(f"/buyer/assessments/{submitted}/decide", data={
        "decision": "approved", "next_review_date": (date.today() + timedelta(days=30)).isoformat(),
        "reason": "Fine."})
    assert rec.requests == []  # disabled: nothing sent
    bad = client.post(f"/org/webhooks/{endpoint_id}/edit", data={"url": rec.url, "events": []})
    assert bad.status_code == 422
    assert client.get(f"/org/webhooks/{endpoint_id}/delete").status_code == 200
    assert client.post(f"/org/webhooks/{endpoint_id}/delete").status_code == 302
    with app.app_context():
        assert db.session.get(WebhookEndpoint, endpoint_id) is None
        actions = _actions()
        assert {"webhook.endpoint_updated", "webhook.endpoint_disabled",
                "webhook.endpoint_deleted"} <= set(actions)


def test_secret_reveal_and_rotation(app, client, world, login_as, receiver):
    rec = receiver()
    login_as(world.user("a.admin"))
    with app.app_context():
        endpoint_id, secret = _register(client, rec.url)
    assert secret not in client.get(f"/org/webhooks/{endpoint_id}/secret").get_data(as_text=True)
    revealed = client.post(f"/org/webhooks/{endpoint_id}/secret", data={"action": "reveal"})
    assert secret in revealed.get_data(as_text=True)
    rotated = client.post(f"/org/webhooks/{endpoint_id}/secret", data={"action": "rotate"})
    new = re.search(r'value="(whsec_[A-Za-z0-9+/=]+)"', rotated.get_data(as_text=True)).group(1)
    assert new != secret
    client.post(f"/org/webhooks/{endpoint_id}/test")
    headers, body = rec.requests[0]
    assert verify(new, headers, body) and not verify(secret, headers, body)
    with app.app_context():
        assert {"webhook.secret_revealed", "webhook.secret_rotated"} <= set(_actions())


def test_another_tenants_endpoint_and_delivery_answer_404(app, client, world, login_as):
    with app.app_context():
        theirs, _ = make_endpoint(world["b"].buyer.id, url="https://203.0.113.7/b-hook")
        their_delivery = make_delivery(theirs)
        mine, _ = make_endpoint(world["a"].buyer.id)
        ids = theirs.id, their_delivery.id, mine.id
    login_as(world.user("a.admin"))
    for path in (f"/org/webhooks/{ids[0]}/deliveries", f"/org/webhooks/{ids[0]}/edit",
                 f"/org/webhooks/{ids[0]}/secret"):
        assert client.get(path).status_code == 404, path
    assert client.post(f"/org/webhooks/{ids[0]}/deliveries/{ids[1]}/replay").status_code == 404
    assert client.post(f"/org/webhooks/{ids[2]}/deliveries/{ids[1]}/replay").status_code == 404
    assert "b-hook" not in client.get("/org/webhooks").get_data(as_text=True)


def test_emit_adds_deliveries_in_the_callers_transaction(app, world):
    with app.app_context():
        endpoint, _ = make_endpoint(world["a"].buyer.id, events=["assessment.sent"])
        make_endpoint(world["a"].buyer.id, events=["assessment.sent"], enabled=False)
        made = webhooks.emit(world["a"].buyer.id, "assessment.sent", {"assessment_id": 1})
        assert [d.endpoint_id for d in made] == [endpoint.id]
        assert webhooks.emit(world["b"].buyer.id, "assessment.sent", {}) == []
        db.session.rollback()  # the caller's failure takes the deliveries with it
        assert db.session.scalar(select(WebhookDelivery.id)) is None
        with pytest.raises(ValueError):
            webhooks.emit(world["a"].buyer.id, "no.such.event", {})


def test_with_a_queue_deliveries_go_through_rq(app, client, world, login_as, receiver,
                                               monkeypatch):
    from fakeredis import FakeRedis
    from rq import Queue

    from vendorcheck import jobs

    queue = Queue("webhooks", connection=FakeRedis())
    monkeypatch.setitem(app.extensions, "vendorcheck_webhook_queue", queue)
    rec = receiver(500)
    login_as(world.user("a.admin"))
    with app.app_context():
        endpoint_id, _secret = _register(client, rec.url)
    client.post(f"/org/webhooks/{endpoint_id}/test")
    assert rec.requests == []  # queued, not sent by the web request
    [job] = queue.get_jobs()
    assert job.func_name == "vendorcheck.jobs.deliver_webhook"
    with app.app_context():
        assert jobs.deliver_webhook(*job.args) == "retrying"
    assert len(rec.requests) == 1
    assert len(queue.scheduled_job_registry.get_job_ids()) == 1  # the next attempt, at its time


def test_the_delivery_log_is_paginated_and_filtered(app, client, world, login_as):
    with app.app_context():
        endpoint, _ = make_endpoint(world["a"].buyer.id)
        for _ in range(30):
            make_delivery(endpoint, status=S.SUCCEEDED)
        make_delivery(endpoint, status=S.FAILED, last_error="HTTP 410")
        endpoint_id = endpoint.id
    login_as(world.user("a.admin"))
    first = client.get(f"/org/webhooks/{endpoint_id}/deliveries").get_data(as_text=True)
    assert first.count("msg_test_") == 25 and "Page 1 of 2" in first and "HTTP 410" in first
    second = client.get(f"/org/webhooks/{endpoint_id}/deliveries?page=2").get_data(as_text=True)
    assert second.count("msg_test_") == 6
    failed = client.get(f"/org/webhooks/{endpoint_id}/deliveries?status=failed")
    assert failed.get_data(as_text=True).count("msg_test_") == 1
    odd = client.get(f"/org/webhooks/{endpoint_id}/deliveries?status=nonsense&page=1")
    assert odd.status_code == 200 and odd.get_data(as_text=True).count("msg_test_") == 25
    assert client.get(f"/org/webhooks/{endpoint_id}/deliveries?page=0").status_code == 400
