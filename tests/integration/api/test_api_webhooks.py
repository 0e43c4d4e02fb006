"""The API's webhook endpoints: the secret shown once, If-Match updates, SSRF refusals, the log, replays."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from sqlalchemy import select

from tests.factories.webhooks import Receiver, make_delivery, make_endpoint, receiving, verify
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry
from vendorcheck.models.webhooks import DeliveryStatus, WebhookDelivery, WebhookEndpoint


@pytest.fixture
def receiver(app, monkeypatch) -> Iterator[Callable[..., Receiver]]:
    """Start receivers on 127.0.0.1 (private targets allowed, as a test must)."""
    monkeypatch.setitem(app.config, "WEBHOOKS_ALLOW_PRIVATE_TARGETS", True)
    with ExitStack() as stack:
        yield lambda *statuses: stack.enter_context(receiving(*statuses))


def _endpoints(app) -> list[WebhookEndpoint]:
    with app.app_context():
        return list(db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def test_an_endpoint_is_created_with_its_secret_shown_once(app, api, receiver):
    rec = receiver()
    body = {"url": rec.url, "description": "Our GRC", "events": ["assessment.submitted", "finding.changed"]}
    created = api("a.admin", "POST", "/webhooks", scope="admin", json=body, headers={"Idempotency-Key": "h1"})
    again = api("a.admin", "POST", "/webhooks", scope="admin", json=body, headers={"Idempotency-Key": "h1"})

    assert created.status_code == 201, created.get_json()
    endpoint = created.get_json()
    assert endpoint["secret"].startswith("whsec_") and endpoint["enabled"] is True
    assert endpoint["events"] == ["assessment.submitted", "finding.changed"]
    # The replay of the same create is the same endpoint, without the secret (it is not kept in clear).
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == {**endpoint, "secret": None}
    assert len(_endpoints(app)) == 1
    read = api("a.admin", "GET", f"/webhooks/{endpoint['id']}", scope="admin").get_json()
    listed = api("a.admin", "GET", "/webhooks", scope="admin").get_json()
    assert "secret" not in read and [e["id"] for e in listed["items"]] == [endpoint["id"]]
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "webhook.endpoint_created"))
        assert entry is not None and isinstance(entry.details.get("api_token_id"), int)
    # The secret shown signs what the endpoint receives.
    replay = api("a.admin", "POST", f"/webhooks/{endpoint['id']}/deliveries/0/replay", scope="admin")
    assert replay.status_code == 404
    with app.app_context():
        stored = db.session.get_one(WebhookEndpoint, endpoint["id"])
        delivery_id = make_delivery(stored, event_type="assessment.submitted").id
    sent = api("a.admin", "POST", f"/webhooks/{endpoint['id']}/deliveries/{delivery_id}/replay",
               scope="admin")
    assert sent.status_code == 201, sent.get_json()
    assert sent.get_json()["replay_of_id"] == delivery_id and sent.get_json()["status"] == "succeeded"
    [(headers, payload)] = rec.requests
    assert verify(endpoint["secret"], headers, payload)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "http://169.254.169.254/latest/meta-data",
                                 "http://[::1]/hook", "file:///etc/passwd", "https://user:pw@93.184.215.14/h"])
def test_private_and_odd_targets_are_refused(app, api, url):
    response = api("a.admin", "POST", "/webhooks", scope="admin",
                   json={"url": url, "events": ["assessment.sent"]})
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "validation_failed"
    assert _endpoints(app) == []


def test_an_update_needs_if_match_and_keeps_what_was_not_sent(app, api, world, receiver):
    rec = receiver()
    with app.app_context():
        endpoint, _secret = make_endpoint(world["a"].buyer.id, url=rec.url, events=["assessment.sent"])
        endpoint_id = endpoint.id
    path = f"/webhooks/{endpoint_id}"
    etag = api("a.admin", "GET", path, scope="admin").headers["ETag"]

    missing = api("a.admin", "PATCH", path, scope="admin", json={"description": "GRC"})
    unknown = api("a.admin", "PATCH", path, scope="admin", json={"secret": "mine"},
                  headers={"If-Match": etag})
    changed = api("a.admin", "PATCH", path, scope="admin", headers={"If-Match": etag},
                  json={"description": "GRC", "events": ["assessment.sent", "assessment.decided"]})
    stale = api("a.admin", "PATCH", path, scope="admin", json={"enabled": False}, headers={"If-Match": etag})

    assert missing.status_code == 428 and stale.status_code == 412
    assert unknown.status_code == 422 and "secret" in unknown.get_json()["error"]["details"]["json"]
    assert changed.status_code == 200, changed.get_json()
    body = changed.get_json()
    assert body["description"] == "GRC" and body["events"] == ["assessment.sent", "assessment.decided"]
    assert body["url"] == rec.url and body["enabled"] is True


def test_a_refused_url_cannot_be_set_but_its_endpoint_can_be_disabled(app, api, world):
    with app.app_context():  # stored before the rules refused it: a documentation address
        endpoint, _secret = make_endpoint(world["a"].buyer.id)
        endpoint_id = endpoint.id
    path = f"/webhooks/{endpoint_id}"
    etag = api("a.admin", "GET", path, scope="admin").headers["ETag"]

    private = api("a.admin", "PATCH", path, scope="admin", json={"url": "http://10.0.0.1/x"},
                  headers={"If-Match": etag})
    disabled = api("a.admin", "PATCH", path, scope="admin", json={"enabled": False},
                   headers={"If-Match": etag})

    assert private.status_code == 422 and private.get_json()["error"]["code"] == "validation_failed"
    assert disabled.status_code == 200 and disabled.get_json()["enabled"] is False
    with app.app_context():
        stored = db.session.get_one(WebhookEndpoint, endpoint_id)
        assert stored.url.startswith("https://203.0.113.10/") and stored.enabled is False


def test_deliveries_are_listed_filtered_and_the_endpoint_deleted(app, api, world):
    with app.app_context():
        endpoint, _secret = make_endpoint(world["a"].buyer.id)
        endpoint_id = endpoint.id
        ok = make_delivery(endpoint).id
        failed = make_delivery(endpoint, status=DeliveryStatus.FAILED).id
    everything = api("a.admin", "GET", f"/webhooks/{endpoint_id}/deliveries?sort=-id",
                     scope="admin").get_json()
    only_failed = api("a.admin", "GET", f"/webhooks/{endpoint_id}/deliveries?status=failed",
                      scope="admin").get_json()
    assert [d["id"] for d in everything["items"]] == [failed, ok]
    assert [d["id"] for d in only_failed["items"]] == [failed]

    deleted = api("a.admin", "DELETE", f"/webhooks/{endpoint_id}", scope="admin")
    assert deleted.status_code == 204
    assert api("a.admin", "GET", f"/webhooks/{endpoint_id}", scope="admin").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(WebhookDelivery.id)) is None


def test_webhooks_need_an_administrator_with_an_admin_token(app, api, world):
    with app.app_context():
        endpoint, _secret = make_endpoint(world["a"].buyer.id)
        endpoint_id = endpoint.id
    assert api("a.admin", "GET", "/webhooks", scope="write").status_code == 403
    assert api("a.assessor", "GET", "/webhooks", scope="admin").status_code == 403
    assert api("a.admin", "DELETE", f"/webhooks/{endpoint_id}", scope="write").status_code == 403
    assert api("b.admin", "GET", f"/webhooks/{endpoint_id}", scope="admin").status_code == 404
    assert api("b.admin", "DELETE", f"/webhooks/{endpoint_id}", scope="admin").status_code == 404
    assert len(_endpoints(app)) == 1
