"""OpenID Connect sign-in through the app, against a provider on 127.0.0.1 whose ID tokens the test signs.

Every bad answer (another key, wrong audience, expired, nonce or state mismatch, a domain not allowed, a user
of another organisation, a disabled account) is refused with a 4xx page that says what to do and an audit
entry; nobody is signed in.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tests.factories.accounts import make_org, make_user
from tests.support.fake_oidc import FakeProvider, continue_target, fake_provider, new_key
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry, Membership, Role, User
from vendorcheck.models.sso import SsoProtocol
from vendorcheck.services import sso_config
from vendorcheck.services.sso_config import SsoSettings

CLIENT_ID = "vendorcheck-acme"


@pytest.fixture
def provider(app) -> Iterator[FakeProvider]:
    app.config["SSO_ALLOW_HTTP_LOOPBACK"] = True
    with fake_provider() as running:
        yield running
    app.config["SSO_ALLOW_HTTP_LOOPBACK"] = False


@pytest.fixture
def acme(app, provider):
    """Acme signs in with the provider for acme.example; Ada is its admin, Bob another org's member."""
    with app.app_context():
        org = make_org("Acme")
        ada = make_user("ada@acme.example", org=org, role=Role.ADMIN)
        make_user("bob@acme.example", org=make_org("Other"), role=Role.ADMIN)
        sso_config.save(org, SsoSettings(
            protocol=SsoProtocol.OIDC, enabled=True, allowed_domains=["acme.example"],
            issuer=provider.issuer, client_id=CLIENT_ID, client_secret="s3cret", role_claim="groups",
            role_map={"vc-legal": "legal"}, jit_provisioning=True), by=ada)
        return org.id


def _begin(client, provider: FakeProvider, email: str = "ada@acme.example") -> dict[str, str]:
    target = continue_target(client.post("/auth/sso", data={"email": email}))
    assert target.startswith(provider.issuer + "/auth?")
    return provider.remember(target)


def _callback(client, params: dict[str, str], **overrides: str):
    query = {"code": "the-code", "state": params["state"], **overrides}
    return client.get("/auth/sso/oidc/callback", query_string=query)


def _failures(app) -> list[dict]:
    with app.app_context():
        return [e.details for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "sso.login_failed").order_by(AuditEntry.id))]


def _logged_in(client) -> bool:
    return client.get("/auth/profile").status_code == 200


def test_sign_in_with_pkce_state_and_nonce(app, client, provider, acme) -> None:
    provider.make_id_token = lambda p: p.sign(p.claims(CLIENT_ID, groups=["vc-legal"]))
    params = _begin(client, provider)
    assert params["code_challenge_method"] == "S256" and params["client_id"] == CLIENT_ID
    assert params["login_hint"] == "ada@acme.example" and "groups" in params["scope"].split()
    response = _callback(client, params)
    assert response.status_code == 302
    assert _logged_in(client)
    token_request = provider.token_requests[-1]
    assert token_request["code"] == "the-code" and token_request["code_verifier"]
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "login")).one()
        assert entry.details == {"method": "oidc"} and entry.organisation_id == acme
        # Ada is the only admin: the provider's "legal" never demotes the last administrator.
        assert db.session.scalars(select(Membership.role)).first() == Role.ADMIN


def test_just_in_time_account_gets_the_mapped_role(app, client, provider, acme) -> None:
    provider.make_id_token = lambda p: p.sign(p.claims(CLIENT_ID, email="new@acme.example",
                                                       name="New Person", groups=["vc-legal"]))
    assert _callback(client, _begin(client, provider, "new@acme.example")).status_code == 302
    assert _logged_in(client)
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == "new@acme.example")).one()
        assert [(m.organisation_id, m.role) for m in user.memberships] == [(acme, Role.LEGAL)]
        assert "sso.user_provisioned" in db.session.scalars(select(AuditEntry.action)).all()


def _expired(p: FakeProvider) -> str:
    now = int(time.time())
    return p.sign(p.claims(CLIENT_ID, iat=now - 3600, exp=now - 600))


BAD_TOKENS = {
    "another key": lambda p: p.sign(p.claims(CLIENT_ID), key=new_key("published")),
    "unknown key id": lambda p: p.sign(p.claims(CLIENT_ID), key=new_key("attacker")),
    "wrong audience": lambda p: p.sign(p.claims("someone-else")),
    "wrong issuer": lambda p: p.sign(p.claims(CLIENT_ID, iss="https://evil.example")),
    "expired": _expired,
    "nonce mismatch": lambda p: p.sign(p.claims(CLIENT_ID, nonce="not-the-one")),
    "no nonce": lambda p: p.sign(p.claims(CLIENT_ID, nonce=None)),
}


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_bad_id_token_is_refused(app, client, provider, acme, case) -> None:
    provider.make_id_token = BAD_TOKENS[case]
    response = _callback(client, _begin(client, provider))
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "could not be verified" in page and "/auth/login" in page
    assert not _logged_in(client)
    assert [f["reason"] for f in _failures(app)] == ["invalid_token"]


@pytest.mark.parametrize(("email", "reason"), [
    ("ada@elsewhere.example", "domain_not_allowed"),
    ("bob@acme.example", "other_organisation"),
])
def test_who_may_not_sign_in(app, client, provider, acme, email, reason) -> None:
    provider.make_id_token = lambda p: p.sign(p.claims(CLIENT_ID, email=email))
    response = _callback(client, _begin(client, provider))
    assert response.status_code == 403
    assert not _logged_in(client)
    assert [f["reason"] for f in _failures(app)] == [reason]


def test_disabled_account_is_refused(app, client, provider, acme) -> None:
    with app.app_context():
        db.session.scalars(select(User).where(User.email == "ada@acme.example")).one().is_active = False
        db.session.commit()
    provider.make_id_token = lambda p: p.sign(p.claims(CLIENT_ID))
    response = _callback(client, _begin(client, provider))
    assert response.status_code == 403 and "disabled" in response.get_data(as_text=True)
    assert [f["reason"] for f in _failures(app)] == ["account_disabled"]


def test_no_account_without_jit(app, client, provider, acme) -> None:
    with app.app_context():
        cfg = sso_config.config_of(acme)
        cfg.jit_provisioning = False
        db.session.commit()
    provider.make_id_token = lambda p: p.sign(p.claims(CLIENT_ID, email="new@acme.example"))
    response = _callback(client, _begin(client, provider))
    assert response.status_code == 403 and "invitation" in response.get_data(as_text=True)
    assert [f["reason"] for f in _failures(app)] == ["no_account"]


def test_state_mismatch_and_missing_state(app, client, provider, acme) -> None:
    provider.make_id_token = lambda p: p.sign(p.claims(CLIENT_ID))
    params = _begin(client, provider)
    assert _callback(client, params, state="forged").status_code == 400
    assert _callback(client, params).status_code == 400  # the pending sign-in was used up
    assert not _logged_in(client)
    assert provider.token_requests == []  # the code was never exchanged
    assert [f["reason"] for f in _failures(app)] == ["state_mismatch", "state_mismatch"]


def test_provider_error_answer(app, client, provider, acme) -> None:
    params = _begin(client, provider)
    response = _callback(client, params, error="access_denied")
    assert response.status_code == 400
    assert [f["reason"] for f in _failures(app)] == ["idp_error"]


def test_unknown_domain_stays_on_the_login_page(app, client, acme) -> None:
    response = client.post("/auth/sso", data={"email": "someone@nowhere.example"})
    assert response.status_code == 404
    assert "No single sign-on is set up for this e-mail domain" in response.get_data(as_text=True)
    assert [f["reason"] for f in _failures(app)] == ["no_provider"]


def test_sso_required_refuses_passwords_except_break_glass(app, client, acme) -> None:
    with app.app_context():
        org_admin = db.session.scalars(select(User).where(User.email == "ada@acme.example")).one()
        make_user("carl@acme.example", org=org_admin.memberships[0].organisation, role=Role.ASSESSOR)
        cfg = sso_config.config_of(acme)
        cfg.sso_required, cfg.break_glass_user_id = True, org_admin.id
        db.session.commit()
    from tests.factories.accounts import PASSWORD

    refused = client.post("/auth/login", data={"email": "carl@acme.example", "password": PASSWORD})
    assert refused.status_code == 422
    assert "single sign-on" in refused.get_data(as_text=True)
    assert not _logged_in(client)
    allowed = client.post("/auth/login", data={"email": "ada@acme.example", "password": PASSWORD})
    assert allowed.status_code == 302 and _logged_in(client)
    with app.app_context():
        reasons = [e.details.get("reason") for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "login_failed"))]
        assert reasons == ["sso_required"]


def test_token_endpoint_refusal_is_a_clear_page(app, client, provider, acme) -> None:
    provider.make_id_token = lambda p: p.sign(p.claims(CLIENT_ID))
    params = _begin(client, provider)
    provider.challenge = "another-challenge"  # the provider refuses our verifier (invalid_grant)
    response = _callback(client, params)
    assert response.status_code == 400
    assert "could not be reached or gave an answer" in response.get_data(as_text=True)
    assert not _logged_in(client)
    assert [f["reason"] for f in _failures(app)] == ["provider_unreachable"]
