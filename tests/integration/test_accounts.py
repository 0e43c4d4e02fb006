"""Sign-up, login, logout, password reset and change, profile, rate limiting."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.factories.accounts import PASSWORD, make_org, make_reset_token, make_user
from tests.integration.conftest import outbox
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry, Membership, Organisation, Role, User

SIGNUP = {"org_name": "Acme Test SA", "country": "fr", "name": "Ada Admin",
          "email": "  Ada@Example.COM ", "password": "long-enough-pass", "locale": "fr"}


def _count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_signup_creates_a_buyer_org_with_its_admin(app, client):
    response = client.post("/auth/signup", data=SIGNUP)
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalars(select(User)).one()
        assert user.email == "ada@example.com"
        assert user.password_hash.startswith("scrypt:32768:8:3$")
        membership = db.session.scalars(select(Membership)).one()
        assert membership.role is Role.ADMIN
        assert membership.organisation.is_buyer and membership.organisation.country == "FR"
        assert db.session.scalar(select(AuditEntry.action)) == "signup"
    assert client.get("/buyer/vendors").status_code == 200


@pytest.mark.parametrize(("change", "message"), [
    ({"password": "short"}, "at least 10 characters"),
    ({"email": "not-an-email"}, "Invalid email"),
    ({"org_name": ""}, "This field is required"),
    ({"org_name": "Bad\x00Name"}, "invalid characters"),
])
def test_signup_refuses_bad_input_and_stores_nothing(app, client, change, message):
    response = client.post("/auth/signup", data={**SIGNUP, **change})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _count(app, User) == 0 and _count(app, Organisation) == 0


def test_signup_with_an_existing_email_is_refused(app, client):
    with app.app_context():
        make_user("ada@example.com")
    response = client.post("/auth/signup", data=SIGNUP)
    assert response.status_code == 422
    assert "already exists" in response.get_data(as_text=True)
    assert _count(app, User) == 1 and _count(app, Organisation) == 0


def test_login_logout_and_audit(app, client, login):
    with app.app_context():
        org = make_org("Acme")
        make_user("ada@example.com", org=org)
    response = login("ADA@example.com")
    assert response.status_code == 302 and response.headers["Location"] == "/buyer/vendors"
    assert client.post("/auth/logout").status_code == 302
    assert client.get("/buyer/vendors").status_code == 302
    with app.app_context():
        actions = list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["login", "login.new_device", "logout"], "the first login from this browser is mailed"


def test_wrong_password_and_unknown_account_look_the_same(app, client, login):
    with app.app_context():
        make_user("ada@example.com", org=make_org("Acme"))
    wrong = login("ada@example.com", "wrong-password-123")
    unknown = login("nobody@example.com", "wrong-password-123")
    assert wrong.status_code == unknown.status_code == 422
    assert "Wrong e-mail address or password" in wrong.get_data(as_text=True)
    same = wrong.get_data(as_text=True).replace("ada@example.com", "X")
    assert same == unknown.get_data(as_text=True).replace("nobody@example.com", "X")
    with app.app_context():
        assert list(db.session.scalars(select(AuditEntry.action))) == ["login_failed"] * 2


@pytest.mark.parametrize("target", [
    "//evil.example", "/%5Cevil.example", "/%09/evil.example", "/%2F/evil.example",
    "///evil.example", "http:///evil.example", "https://evil.example", "javascript:alert(1)",
])
def test_login_never_redirects_off_site(app, client, login, target):
    with app.app_context():
        make_user("ada@example.com", org=make_org("Acme"))
    response = client.post(f"/auth/login?next={target}",
                           data={"email": "ada@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/buyer/vendors"


def test_login_follows_a_local_next(app, client):
    with app.app_context():
        make_user("ada@example.com", org=make_org("Acme"))
    response = client.post("/auth/login?next=/org/members",
                           data={"email": "ada@example.com", "password": PASSWORD})
    assert response.headers["Location"] == "/org/members"


def test_an_old_hash_is_upgraded_at_login(app, client, login):
    from werkzeug.security import generate_password_hash

    with app.app_context():
        user = make_user("ada@example.com", org=make_org("Acme"))
        user.password_hash = generate_password_hash(PASSWORD, method="scrypt:16384:8:1")
        db.session.commit()
    assert login("ada@example.com").status_code == 302
    with app.app_context():
        stored = db.session.scalar(select(User.password_hash))
    assert stored.startswith("scrypt:32768:8:3$")


def test_password_reset_by_email_link(app, client, login):
    with app.app_context():
        make_user("ada@example.com", org=make_org("Acme"), locale="fr")
    response = client.post("/auth/reset", data={"email": "ada@example.com"})
    assert response.status_code == 302
    [message] = outbox(app)
    assert message.template == "password_reset" and message.locale == "fr"
    link = next(line for line in message.body_text.splitlines() if "/auth/reset/" in line)
    assert link.startswith(app.config["BASE_URL"] + "/auth/reset/")
    path = link[len(app.config["BASE_URL"]):]
    assert client.get(path).status_code == 200
    assert client.post(path, data={"password": "brand-new-password"}).status_code == 302
    assert client.get(path).status_code == 410, "the link works once"
    assert login("ada@example.com", "brand-new-password").status_code == 302


def test_reset_request_for_unknown_email_says_the_same_and_sends_nothing(app, client):
    response = client.post("/auth/reset", data={"email": "nobody@example.com"},
                           follow_redirects=True)
    assert "If an account exists" in response.get_data(as_text=True)
    assert outbox(app) == []


def test_reset_links_forged_and_expired(app, client):
    with app.app_context():
        user = make_user("ada@example.com")
        expired = make_reset_token(user, hours=-1)
    assert client.get("/auth/reset/forged-token").status_code == 404
    assert client.get(f"/auth/reset/{expired}").status_code == 410
    assert client.post(f"/auth/reset/{expired}", data={"password": "x" * 12}).status_code == 410


def test_mail_links_ignore_the_host_header(app, client):
    with app.app_context():
        make_user("ada@example.com")
    client.post("/auth/reset", data={"email": "ada@example.com"},
                headers={"Host": "evil.example"})
    [message] = outbox(app)
    assert "evil.example" not in message.body_text
    assert app.config["BASE_URL"] + "/auth/reset/" in message.body_text


def test_untrusted_host_is_refused_before_any_mail(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "TRUSTED_HOSTS", ["localhost"])
    with app.app_context():
        make_user("ada@example.com")
    response = client.post("/auth/reset", data={"email": "ada@example.com"},
                           headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert outbox(app) == []


def test_changing_the_password_ends_other_sessions(app, client, login):
    with app.app_context():
        make_user("ada@example.com", org=make_org("Acme"))
    other = app.test_client()
    other.post("/auth/login", data={"email": "ada@example.com", "password": PASSWORD})
    assert other.get("/auth/profile").status_code == 200
    login("ada@example.com")
    response = client.post("/auth/password", data={"current": PASSWORD,
                                                   "password": "another-long-password"})
    assert response.status_code == 302
    assert client.get("/auth/profile").status_code == 200, "this session continues"
    assert other.get("/auth/profile").status_code == 302, "the other session ended"


def test_change_password_needs_the_current_one(app, client, login_as):
    with app.app_context():
        user = make_user("ada@example.com")
    login_as(user)
    response = client.post("/auth/password", data={"current": "wrong-password",
                                                   "password": "another-long-password"})
    assert response.status_code == 422
    assert "current password is not correct" in response.get_data(as_text=True)


def test_profile_sets_the_preferred_language(app, client, login_as):
    with app.app_context():
        user = make_user("ada@example.com", locale="en")
    login_as(user)
    assert client.post("/auth/profile", data={"name": "Ada L.", "locale": "fr"}).status_code == 302
    with app.app_context():
        assert db.session.get(User, user.id).locale == "fr"
    assert 'lang="fr"' in client.get("/auth/profile").get_data(as_text=True)


def test_login_is_rate_limited_per_email(app, limited_client):
    with app.app_context():
        make_user("ada@example.com")
    bad = {"email": "ada@example.com", "password": "wrong-password-1"}
    statuses = [limited_client.post("/auth/login", data=bad).status_code for _ in range(6)]
    assert statuses[:5] == [422] * 5
    assert statuses[5] == 429
    other = limited_client.post("/auth/login", data={**bad, "email": "other@example.com"})
    assert other.status_code == 422, "another e-mail from the same IP is still allowed"
