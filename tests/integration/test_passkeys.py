"""Passkeys through the test client: options, and every bad answer refused with a clear 4xx (never 500).

Real ceremonies (registration, second factor, password-less login) run in the browser against Chromium's
virtual authenticator: tests/e2e/test_mfa_browser.py.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from tests.factories.accounts import PASSWORD, make_org, make_user
from tests.factories.mfa import make_passkey
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry, User
from vendorcheck.models.mfa import PasskeyCredential


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _forged(credential_id: bytes) -> str:
    """An assertion naming a credential id, with made-up signature and data."""
    client_data = json.dumps({"type": "webauthn.get", "challenge": _b64(b"x" * 32),
                              "origin": "http://evil.example"}).encode()
    return json.dumps({"id": _b64(credential_id), "rawId": _b64(credential_id), "type": "public-key",
                       "response": {"clientDataJSON": _b64(client_data),
                                    "authenticatorData": _b64(b"\x00" * 37),
                                    "signature": _b64(b"\x01" * 64)}})


@pytest.fixture
def users(app):
    """Ada (with a passkey row) and Bob (with another), both admins of their own organisation."""
    with app.app_context():
        ada = make_user("ada@example.com", org=make_org("Acme"))
        bob = make_user("bob@example.com", org=make_org("Bobco"))
        make_passkey(ada, b"ada-credential-id-0001")
        bob_key = make_passkey(bob, b"bob-credential-id-0001")
        return ada.id, bob.id, bob_key.id


def _json(client, url, body=None):
    return client.post(url, data=json.dumps(body if body is not None else {}),
                       content_type="application/json", headers={"Accept": "application/json"})


def test_login_options_name_the_relying_party_from_base_url(app, client):
    options = _json(client, "/auth/passkey/options").get_json()
    assert options["rpId"] == urlsplit(app.config["BASE_URL"]).hostname
    assert options["userVerification"] == "required" and len(options["challenge"]) >= 40


@pytest.mark.parametrize("credential", [
    "", "not json", "[]", "{}", json.dumps({"id": 5}), json.dumps({"id": "%%%"}), "x" * 70000,
    _forged(b"unknown-credential-id"), _forged(b"ada-credential-id-0001"),
])
def test_forged_or_garbage_passkey_logins_are_400(app, client, users, credential):
    _json(client, "/auth/passkey/options")
    response = _json(client, "/auth/passkey/login", {"credential": credential})
    assert response.status_code == 400
    assert "could not be verified" in response.get_json()["error"]
    assert client.get("/auth/profile").status_code == 302, "not logged in"


def test_an_answer_without_a_challenge_is_refused(app, client, users):
    response = _json(client, "/auth/passkey/login", {"credential": _forged(b"ada-credential-id-0001")})
    assert response.status_code == 400


def test_another_users_credential_is_refused_as_a_second_factor(app, client, users):
    client.post("/auth/login", data={"email": "ada@example.com", "password": PASSWORD})
    options = _json(client, "/auth/mfa/verify/passkey/options").get_json()
    assert [c["id"] for c in options["allowCredentials"]] == [_b64(b"ada-credential-id-0001")]
    response = _json(client, "/auth/mfa/verify/passkey", {"credential": _forged(b"bob-credential-id-0001")})
    assert response.status_code == 400
    assert client.get("/auth/profile").status_code == 302
    with app.app_context():
        reasons = [e.details.get("reason") for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "login_failed"))]
    assert reasons == ["passkey_refused"]


def test_garbage_registrations_are_400_and_store_nothing(app, client, users, login_as):
    with app.app_context():
        login_as(db.session.get(User, users[0]))
    options = _json(client, "/auth/passkeys/options").get_json()
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert [c["id"] for c in options["excludeCredentials"]] == [_b64(b"ada-credential-id-0001")]
    for body in ({"name": "Key", "credential": "{}"}, {"name": "", "credential": "{}"},
                 {"name": "Key", "credential": 12}, {"name": ["x"], "credential": _forged(b"new")}):
        response = _json(client, "/auth/passkeys", body)
        assert 400 <= response.status_code < 500, body
        assert response.get_json()["error"]
    with app.app_context():
        assert db.session.scalar(select(db.func.count(PasskeyCredential.id))) == 2


def test_removing_another_users_passkey_answers_404(app, client, users, login_as):
    with app.app_context():
        login_as(db.session.get(User, users[0]))
    assert client.get(f"/auth/passkeys/{users[2]}/remove").status_code == 404
    assert client.post(f"/auth/passkeys/{users[2]}/remove").status_code == 404
    with app.app_context():
        assert db.session.get(PasskeyCredential, users[2]) is not None


def test_removing_ones_own_passkey_is_confirmed_and_audited(app, client, users, login_as):
    with app.app_context():
        login_as(db.session.get(User, users[0]))
        [own] = db.session.scalars(select(PasskeyCredential.id).where(PasskeyCredential.user_id == users[0]))
    assert "Remove the passkey" in client.get(f"/auth/passkeys/{own}/remove").get_data(as_text=True)
    assert client.post(f"/auth/passkeys/{own}/remove").status_code == 302
    with app.app_context():
        assert db.session.get(PasskeyCredential, own) is None
        assert db.session.scalar(select(AuditEntry.details).where(
            AuditEntry.action == "mfa.passkey_removed")) == {"name": "Laptop"}
