"""The user's time-zone setting: chosen in the profile, read first by every page and e-mail."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.factories.accounts import make_user
from tests.factories.dpa import publish_dpa
from tests.integration.conftest import outbox
from vendorcheck import audit
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry, User
from vendorcheck.models.dpa import DpaVersion
from vendorcheck.services import dpa as dpa_svc
from vendorcheck.services import login_flow


def _profile(client, **data):
    return client.post("/auth/profile?lang=en", data={"name": "Ada", "locale": "en", **data})


def test_profile_offers_automatic_by_default_and_every_zone(app, client, login_as):
    with app.app_context():
        user = make_user("ada@example.com")
    login_as(user)
    page = client.get("/auth/profile?lang=en").get_data(as_text=True)
    assert '<option selected value="">Automatic (from my browser)</option>' in page
    assert '<option value="Europe/Paris">Europe/Paris</option>' in page
    assert '<option value="America/New_York">America/New York</option>' in page
    assert 'value="US/Eastern"' not in page, "legacy aliases are not offered"
    assert 'data-searchable="zones"' in page and "js/zone_search.js" in page


def test_chosen_zone_is_stored_and_wins_over_the_browsers(app, client, login_as, world):
    user = world.user("a.admin")
    login_as(user)
    assert _profile(client, timezone="Asia/Tokyo").status_code == 302
    with app.app_context():
        assert db.session.get(User, user.id).timezone == "Asia/Tokyo"
        entry = db.session.scalars(db.select(AuditEntry).where(
            AuditEntry.action == "profile_updated").order_by(AuditEntry.id.desc())).first()
        assert entry.details["timezone"] == "Asia/Tokyo"
        audit.record("test.event", by=None, org=world["a"].buyer.id)
        db.session.commit()
    client.set_cookie("tz", "America/New_York")
    page = client.get("/org/audit?lang=en").get_data(as_text=True)
    assert "(Tokyo time)" in page and "(New York time)" not in page
    assert '<option selected value="Asia/Tokyo">' in client.get("/auth/profile").get_data(as_text=True)


def test_automatic_goes_back_to_the_browsers_zone(app, client, login_as, world):
    user = world.user("a.admin")
    login_as(user)
    _profile(client, timezone="Asia/Tokyo")
    assert _profile(client, timezone="").status_code == 302
    with app.app_context():
        assert db.session.get(User, user.id).timezone is None
        audit.record("test.event", by=None, org=world["a"].buyer.id)
        db.session.commit()
    client.set_cookie("tz", "America/New_York")
    assert "(New York time)" in client.get("/org/audit?lang=en").get_data(as_text=True)


def test_unknown_zone_is_refused_and_nothing_changes(app, client, login_as):
    with app.app_context():
        user = make_user("ada@example.com", name="Ada Lovelace")
    login_as(user)
    response = _profile(client, timezone="Mars/Olympus_Mons")
    assert response.status_code == 422
    assert "Not a valid choice" in response.get_data(as_text=True)
    with app.app_context():
        stored = db.session.get(User, user.id)
        assert stored.timezone is None and stored.name == "Ada Lovelace"


def test_public_pages_stay_in_utc_whatever_the_users_zone(app, client, login_as, world):
    user = world.user("a.admin")
    with app.app_context():
        db.session.get(User, user.id).timezone = "America/New_York"
        version = publish_dpa(None, world["a"].vendor_org)
        version.published_at = datetime(2026, 12, 5, 20, 0, 40, tzinfo=UTC)
        db.session.commit()
        slug = dpa_svc.profile_of(db.session.get(DpaVersion, version.id).vendor_org).slug
    login_as(user)
    page = client.get(f"/dpa/{slug}/versions?lang=en").get_data(as_text=True)
    assert "December 5, 2026, 20:00 UTC" in page
    assert "15:00" not in page and "New York time" not in page


def test_mail_times_are_in_the_recipients_zone_never_the_senders(app):
    with app.app_context():
        tokyo = make_user("tokyo@example.com")
        tokyo.timezone = "Asia/Tokyo"
        plain = make_user("plain@example.com")
        db.session.commit()
        # The request's own browser (another user acting) is in New York: the mail must not follow it.
        with app.test_request_context("/", headers={"Cookie": "tz=America/New_York"}):
            login_flow.new_device(db.session.get(User, tokyo.id), "Firefox on Linux", "192.0.2.1")
            login_flow.new_device(db.session.get(User, plain.id), "Firefox on Linux", "192.0.2.1")
    by_address = {m.to_email: m for m in outbox(app) if m.template == "new_device"}
    assert "(Tokyo time)" in by_address["tokyo@example.com"].body_text
    assert "(Tokyo time)" in by_address["tokyo@example.com"].body_html
    assert "(Paris time)" in by_address["plain@example.com"].body_text, "no setting: the instance's zone"
    assert "New York" not in by_address["plain@example.com"].body_text


def test_a_form_without_the_zone_keeps_the_chosen_one(app, client, login_as, world):
    user = world.user("a.admin")
    login_as(user)
    _profile(client, timezone="Asia/Tokyo")
    assert client.post("/auth/profile", data={"name": "Ada", "locale": "fr"}).status_code == 302
    with app.app_context():
        stored = db.session.get(User, user.id)
        assert stored.timezone == "Asia/Tokyo" and stored.locale == "fr"


def test_mail_queued_outside_a_request_uses_the_recipients_zone_too(app):
    from vendorcheck import mail
    from vendorcheck.models import utcnow

    with app.app_context():  # a background job (reminders, expiry) has no request
        user = make_user("job@example.com")
        user.timezone = "America/Sao_Paulo"
        db.session.commit()
        message = mail.queue("new_device", to="Job@Example.com ", locale="en", context={
            "name": "Job", "device": "Firefox", "ip": "", "when": utcnow(),
            "sessions_link": "https://x.example/p", "reset_link": "https://x.example/r"})
        assert "(São Paulo time)" in message.body_text
        db.session.rollback()
