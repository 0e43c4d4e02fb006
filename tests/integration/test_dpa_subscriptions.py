"""Sub-processor change notices: double opt-in, one-click unsubscribe, who gets which notice."""

from __future__ import annotations

import email
import hashlib
import re
import time
from datetime import timedelta
from email.message import Message

import pytest
from babel.dates import format_date
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from tests.factories.dpa import MAILER, OVH, complete_answers, publish_dpa
from tests.factories.dpa_relations import accept_version, subscribe
from tests.integration.conftest import outbox
from vendorcheck.extensions import db
from vendorcheck.models import Organisation, User
from vendorcheck.models.dpa_relations import DpaSubscription
from vendorcheck.services import dpa_notify

NEWCO = {"name": "NewCo GmbH", "address": "Hauptstr. 1, Berlin", "country": "DE",
         "activity": "Support desk", "location": "DE", "contact": "privacy@newco.example"}


def _vendor_org(world, key="a"):
    return db.session.get(Organisation, world[key].vendor_org.id)


def _publish(app, world, subprocessors, **overrides):
    """Publish a version for vendor A; return (slug, number)."""
    with app.test_request_context():
        answers = complete_answers(subprocessors, **overrides)
        version = publish_dpa(None, _vendor_org(world), answers)
        return version.profile.slug, version.number


def _text(message: Message) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    return part.get_payload(decode=True).decode()


def _path(app, text: str, marker: str) -> str:
    """Return the local path of the first link in the text containing `marker`."""
    base = re.escape(app.config["BASE_URL"].rstrip("/"))
    match = re.search(base + r"(/\S*" + re.escape(marker) + r"\S*)", text)
    assert match, text
    return match.group(1)


def test_double_opt_in_then_notice_then_one_click_unsubscribe(app, client, world, smtp_server,
                                                             monkeypatch):
    slug, _n = _publish(app, world, [OVH])
    server = smtp_server()
    response = client.post(f"/dpa/{slug}/subscribe",
                           data={"email": " Reader@Example.ORG ", "language": "fr"})
    assert response.status_code == 200 and "Check your inbox" in response.get_data(as_text=True)
    [raw] = server.messages
    confirm_mail = email.message_from_bytes(raw)
    assert confirm_mail["To"] == "reader@example.org"
    assert confirm_mail["List-Unsubscribe"] is None, "only notices carry unsubscribe headers"
    confirm_path = _path(app, _text(confirm_mail), "/confirm")

    _publish(app, world, [OVH, MAILER])
    assert len(server.messages) == 1, "no notice before the address is confirmed"

    page = client.get(confirm_path)
    assert page.status_code == 200 and "Confirm my subscription" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(DpaSubscription)).one().confirmed_at is None, \
            "opening the link (a scanner) does not confirm"
    assert client.post(confirm_path).status_code == 200
    with app.app_context():
        sub = db.session.scalars(select(DpaSubscription)).one()
        assert sub.active and sub.locale == "fr"

    _publish(app, world, [OVH, MAILER, NEWCO])
    assert len(server.messages) == 2
    notice = email.message_from_bytes(server.messages[1])
    assert notice["To"] == "reader@example.org"
    assert notice["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header = notice["List-Unsubscribe"]
    assert header.startswith("<" + app.config["BASE_URL"]) and header.endswith(">")
    body = _text(notice)
    assert "NewCo GmbH" in body and "Mailer Inc." not in body.split("NewCo GmbH")[0]
    with app.app_context():
        from vendorcheck.models.dpa import DpaVersion

        latest = db.session.scalars(select(DpaVersion).order_by(DpaVersion.id.desc())).first()
        deadline = latest.published_at + timedelta(days=latest.objection_days)
    assert format_date(deadline, "long", locale="fr") in body, "dates in the subscriber's language"
    unsubscribe_path = header[1:-1].removeprefix(app.config["BASE_URL"].rstrip("/"))
    assert unsubscribe_path in body, "the body has the same unsubscribe link"

    # The mail client's one-click POST carries no session and no CSRF token.
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert client.get(unsubscribe_path).status_code == 200
    with app.app_context():
        assert db.session.scalars(select(DpaSubscription)).one().active, "GET only asks"
    one_click = client.post(unsubscribe_path, data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200
    assert client.post(unsubscribe_path).status_code == 200, "unsubscribing twice is harmless"
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)
    with app.app_context():
        assert db.session.scalars(select(DpaSubscription)).one().unsubscribed_at is not None

    _publish(app, world, [OVH, NEWCO])
    assert len(server.messages) == 2, "no notice after unsubscribing"


def test_confirmation_post_needs_csrf_but_unsubscribe_does_not(app, client, world, monkeypatch):
    slug, _n = _publish(app, world, [OVH])
    with app.test_request_context():
        sub, token = subscribe(_vendor_org(world).id, "x@example.org", confirmed=False)
        stop = dpa_notify.unsubscribe_token(sub)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert client.post(f"/dpa/subscriptions/{token}/confirm").status_code == 400
    assert client.post(f"/dpa/subscriptions/{stop}/unsubscribe").status_code == 200


def test_subscribing_again_answers_the_same_and_keeps_the_subscription(app, client, world):
    slug, _n = _publish(app, world, [OVH])
    with app.app_context():
        subscribe(_vendor_org(world).id, "known@example.org")
    known = client.post(f"/dpa/{slug}/subscribe", data={"email": "known@example.org",
                                                        "language": "en"})
    unknown = client.post(f"/dpa/{slug}/subscribe", data={"email": "new@example.org",
                                                          "language": "en"})
    assert known.status_code == unknown.status_code == 200
    assert known.get_data() == unknown.get_data()
    with app.app_context():
        rows = {s.email: s for s in db.session.scalars(select(DpaSubscription))}
        assert rows["known@example.org"].active, "re-subscribing does not reset a confirmed one"
        assert not rows["new@example.org"].active
    assert [m.to_email for m in outbox(app) if m.template == "dpa_subscription_confirm"] == [
        "known@example.org", "new@example.org"]


def test_notices_go_only_to_confirmed_subscribers(app, world):
    _publish(app, world, [OVH])
    with app.app_context():
        org_id = _vendor_org(world).id
        subscribe(org_id, "confirmed@example.org")
        subscribe(org_id, "pending@example.org", confirmed=False)
        subscribe(org_id, "left@example.org", unsubscribed=True)
        subscribe(_vendor_org(world, "b").id, "other-vendor@example.org")
    _publish(app, world, [OVH, MAILER])
    notices = [m for m in outbox(app) if m.template == "dpa_subprocessor_change"]
    assert [m.to_email for m in notices] == ["confirmed@example.org"]


def test_notice_lists_the_changes_and_the_objection_deadline(app, world):
    _publish(app, world, [OVH, MAILER])
    with app.app_context():
        subscribe(_vendor_org(world).id, "reader@example.org", locale="en")
    moved = {**OVH, "location": "DE", "activity": "Hosting and backups"}
    _publish(app, world, [moved, NEWCO])
    [notice] = [m for m in outbox(app) if m.template == "dpa_subprocessor_change"]
    text = notice.body_text
    added, rest = text.split("Added:")[1].split("Removed:")
    removed, changed = rest.split("Changed:")
    assert "NewCo GmbH" in added and "OVH" not in added
    assert "Mailer Inc." in removed and "NewCo" not in removed
    assert "OVH SAS" in changed and "activity" in changed and "location" in changed
    with app.app_context():
        from vendorcheck.models.dpa import DpaVersion

        version = db.session.scalars(select(DpaVersion).order_by(DpaVersion.id.desc())).first()
        deadline = version.published_at + timedelta(days=version.objection_days)
    assert deadline.strftime("%B") in text and str(deadline.year) in text
    assert "until" in text and f"?from={version.number - 1}&to={version.number}" in text
    assert notice.subject.startswith("Vendor A") and "sub-processors" in notice.subject


def test_accepting_buyers_get_a_notice_with_the_objection_link(app, world):
    _publish(app, world, [OVH])
    with app.test_request_context():
        from vendorcheck.models.dpa import DpaVersion

        v1 = db.session.scalars(select(DpaVersion)).one()
        acceptance = accept_version(v1, db.session.get(Organisation, world["a"].buyer.id),
                                    db.session.get(User, world.user("a.legal").id))
        acceptance_id = acceptance.id
    _publish(app, world, [OVH, MAILER])
    notices = [m for m in outbox(app) if m.template == "dpa_subprocessor_change"]
    assert sorted(m.to_email for m in notices) == ["admin@a.example", "legal@a.example"], \
        "admins and legal members, not assessors"
    assert f"/buyer/dpa/acceptances/{acceptance_id}/objections/v2" in notices[0].body_text
    assert all(m.organisation_id == world["a"].buyer.id for m in notices)

    _publish(app, world, [OVH, MAILER], retention="Kept for the contract term, then deleted "
                                                  "within 30 days; logs 6 months.")
    short = [m for m in outbox(app) if m.template == "dpa_new_version"]
    assert sorted(m.to_email for m in short) == ["admin@a.example", "legal@a.example"]
    assert "did not change" in short[0].body_text
    assert len([m for m in outbox(app) if m.template == "dpa_subprocessor_change"]) == 2


def test_first_version_and_no_subscribers_send_nothing(app, world):
    _publish(app, world, [OVH])
    _publish(app, world, [OVH, MAILER])
    assert [m for m in outbox(app) if m.template.startswith("dpa_")] == []


# --- bad input ------------------------------------------------------------------------------------

def test_unknown_slug_is_404(client, world):
    assert client.get("/dpa/no-such-vendor/subscribe").status_code == 404
    assert client.post("/dpa/no-such-vendor/subscribe",
                       data={"email": "a@example.org", "language": "en"}).status_code == 404


def test_bad_email_is_refused(app, client, world):
    slug, _n = _publish(app, world, [OVH])
    for bad in ("not-an-address", "", "a@b\x00c.org", "x" * 300 + "@example.org"):
        response = client.post(f"/dpa/{slug}/subscribe", data={"email": bad, "language": "en"})
        assert response.status_code == 422, bad
    assert outbox(app) == []


@pytest.mark.parametrize("token", ["garbage", "a" * 600, "eyJzIjoxfQ.forged.signature"])
def test_forged_tokens_get_a_clear_400(app, client, world, token):
    _publish(app, world, [OVH])
    for path in (f"/dpa/subscriptions/{token}/confirm", f"/dpa/subscriptions/{token}/unsubscribe"):
        for method in ("GET", "POST"):
            response = client.open(path, method=method)
            assert response.status_code == 400, (path, method)
            assert "not valid" in response.get_data(as_text=True)


def test_expired_and_replaced_confirmation_links_are_refused(app, client, world):
    _publish(app, world, [OVH])
    with app.app_context():
        sub, first = subscribe(_vendor_org(world).id, "late@example.org", confirmed=False)

        class EightDaysAgo(TimestampSigner):
            def get_timestamp(self) -> int:
                return int(time.time()) - 8 * 86400

        old = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=dpa_notify.CONFIRM_SALT,
                                     signer=EightDaysAgo)
        sub.token_hash = hashlib.sha256(b"nonce").hexdigest()
        db.session.commit()
        expired = old.dumps({"s": sub.id, "n": "nonce", "l": "en"})
    response = client.get(f"/dpa/subscriptions/{expired}/confirm")
    assert response.status_code == 400 and "expired" in response.get_data(as_text=True)
    response = client.get(f"/dpa/subscriptions/{first}/confirm")
    assert response.status_code == 400, "a newer link replaced the first one"


def test_a_confirmation_link_works_once(app, client, world):
    _publish(app, world, [OVH])
    with app.app_context():
        _sub, token = subscribe(_vendor_org(world).id, "once@example.org", confirmed=False)
    assert client.post(f"/dpa/subscriptions/{token}/confirm").status_code == 200
    assert client.post(f"/dpa/subscriptions/{token}/confirm").status_code == 400


def test_subscribing_is_rate_limited(app, world, limited_client):
    slug, _n = _publish(app, world, [OVH])
    statuses = [limited_client.post(f"/dpa/{slug}/subscribe", data={
        "email": f"r{i}@example.org", "language": "en"}).status_code for i in range(6)]
    assert statuses == [200] * 5 + [429]


def test_an_unsubscribed_address_can_subscribe_again(app, client, world):
    slug, _n = _publish(app, world, [OVH])
    with app.app_context():
        subscribe(_vendor_org(world).id, "back@example.org", unsubscribed=True)
    assert client.post(f"/dpa/{slug}/subscribe", data={"email": "back@example.org",
                                                       "language": "en"}).status_code == 200
    [confirm_mail] = [m for m in outbox(app) if m.template == "dpa_subscription_confirm"]
    assert "Hello," in confirm_mail.body_text
    path = _path(app, confirm_mail.body_text, "/confirm")
    assert client.post(path).status_code == 200
    with app.app_context():
        assert db.session.scalars(select(DpaSubscription)).one().active


def test_notices_sent_later_from_the_outbox_keep_the_unsubscribe_headers(app, world, smtp_server):
    """`mail send-pending` (cron, no request) builds the same headers as an immediate send."""
    from vendorcheck import mail

    _publish(app, world, [OVH])
    with app.app_context():
        subscribe(_vendor_org(world).id, "later@example.org")
    _publish(app, world, [OVH, MAILER])  # no SMTP yet: the notice waits in the outbox
    server = smtp_server()
    with app.app_context():
        assert mail.send_pending() == {"sent": 1}
    notice = email.message_from_bytes(server.messages[0])
    assert notice["List-Unsubscribe"].startswith("<" + app.config["BASE_URL"])
    assert notice["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_one_address_cannot_be_flooded_with_confirmations(app, world, limited_client):
    slug, _n = _publish(app, world, [OVH])
    data = {"email": "victim@example.org", "language": "en"}
    statuses = [limited_client.post(f"/dpa/{slug}/subscribe", data=data).status_code
                for _ in range(4)]
    assert statuses == [200] * 3 + [429]


def test_unsubscribe_links_are_stable_and_old_or_rotated_links_still_work(app, client, world,
                                                                          monkeypatch):
    """The header and the body are made at different moments: they must be the same link."""
    _publish(app, world, [OVH])
    with app.test_request_context():
        sub_id = subscribe(_vendor_org(world).id, "stable@example.org")[0].id
        subscription = db.session.get(DpaSubscription, sub_id)
        first = dpa_notify.unsubscribe_token(subscription)
        monkeypatch.setattr(time, "time", lambda: 4_000_000_000.0)  # years later
        assert dpa_notify.unsubscribe_token(subscription) == first
        monkeypatch.undo()
        timed = URLSafeTimedSerializer(app.config["SECRET_KEY"],
                                       salt=dpa_notify.UNSUBSCRIBE_SALT).dumps({"s": sub_id})
    old_key = app.config["SECRET_KEY"]
    monkeypatch.setitem(app.config, "SECRET_KEY", "a-brand-new-key-after-rotation")
    monkeypatch.setitem(app.config, "SECRET_KEY_FALLBACKS", [old_key])
    for token in (first, timed):  # a link mailed before the rotation, and a timed legacy one
        response = client.post(f"/dpa/subscriptions/{token}/unsubscribe")
        assert response.status_code == 200, token
    with app.app_context():
        assert not db.session.get(DpaSubscription, sub_id).active
    assert client.post(f"/dpa/subscriptions/{first[:-2]}xx/unsubscribe").status_code == 400
