"""The organisation's single sign-on page: saving, the encrypted client secret, refusals, the audit log."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from tests.factories.accounts import make_org, make_user
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry, Role, User
from vendorcheck.models.sso import SsoConfig, SsoProtocol
from vendorcheck.services import sso_config

FORM = {"protocol": "oidc", "enabled": "y", "allowed_domains": "acme.example, @Sub.Acme.example",
        "issuer": "https://login.acme.example/realms/staff/", "client_id": "vendorcheck",
        "client_secret": "the-client-secret", "role_claim": "groups",
        "role_map": "vc-admins = admin\nvc-legal = legal", "default_role": "assessor",
        "jit_provisioning": "y", "break_glass": "0"}


@pytest.fixture
def admin(app, login_as, client):
    with app.app_context():
        make_user("cleo@other.example", org=make_org("Other"), role=Role.ADMIN)
        user = make_user("ada@acme.example", org=make_org("Acme", slug="acme"), role=Role.ADMIN)
        login_as(user)
        return user.id


def _config(app) -> SsoConfig:
    with app.app_context():
        cfg = db.session.scalars(select(SsoConfig)).one()
        db.session.expunge(cfg)
        return cfg


def test_save_oidc_settings_keeps_the_secret_encrypted(app, client, admin) -> None:
    assert client.get("/org/sso").status_code == 200
    response = client.post("/org/sso", data=FORM)
    assert response.status_code == 302, response.get_data(as_text=True)
    cfg = _config(app)
    assert cfg.allowed_domains == ["acme.example", "sub.acme.example"]
    assert cfg.issuer == "https://login.acme.example/realms/staff"
    assert cfg.role_map == {"vc-admins": "admin", "vc-legal": "legal"} and cfg.jit_provisioning
    assert b"the-client-secret" not in cfg.client_secret_encrypted
    with app.app_context():
        assert sso_config.client_secret(cfg) == "the-client-secret"
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "sso.configured")).one()
        assert "the-client-secret" not in str(entry.details) and entry.details["secret_changed"] is True
    # Saving again without a secret keeps the stored one; the change is audited.
    again = client.post("/org/sso", data={**FORM, "client_secret": "", "jit_provisioning": ""})
    assert again.status_code == 302
    with app.app_context():
        assert sso_config.client_secret(_config(app)) == "the-client-secret"
        changed = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "sso.changed")).one()
        assert changed.details["changed"] == ["jit"] and changed.details["secret_changed"] is False


@pytest.mark.parametrize(("field", "value", "message"), [
    ("allowed_domains", "not a domain!", "is not an e-mail domain"),
    ("allowed_domains", "", "at least one e-mail domain"),
    ("issuer", "http://login.acme.example", "must start with https://"),
    ("role_map", "vc-x = superuser", "Role mapping, line 1"),
])
def test_bad_settings_are_refused_beside_the_form(app, client, admin, field, value, message) -> None:
    response = client.post("/org/sso", data={**FORM, field: value})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(SsoConfig)).all() == []


def test_a_domain_belongs_to_one_organisation(app, client, admin) -> None:
    with app.app_context():
        org = make_org("Rival", slug="rival")
        rival = make_user("r@rival.example", org=org)
        sso_config.save(org, sso_config.SsoSettings(
            protocol=SsoProtocol.OIDC, enabled=True, allowed_domains=["acme.example"],
            issuer="https://rival.example", client_id="x"), by=rival)
    response = client.post("/org/sso", data=FORM)
    assert response.status_code == 422
    assert "already signs in with another organisation" in response.get_data(as_text=True)


def test_break_glass_must_be_an_admin_of_the_organisation(app, client, admin) -> None:
    with app.app_context():
        cleo = db.session.scalars(select(User).where(User.email == "cleo@other.example")).one()
    response = client.post("/org/sso", data={**FORM, "sso_required": "y", "break_glass": str(cleo.id)})
    assert response.status_code == 422  # not one of the choices: only this organisation's admins
    with app.app_context():
        assert db.session.scalars(select(SsoConfig)).all() == []


def test_saml_metadata_upload_must_describe_an_idp(app, client, admin) -> None:
    data = {**FORM, "protocol": "saml", "idp_metadata": (io.BytesIO(b"<not-metadata/>"), "idp.xml")}
    response = client.post("/org/sso", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "does not describe a SAML identity provider" in response.get_data(as_text=True)
