"""SAML sign-in through the app against pysaml2's IdP classes (keys made by the test, xmlsec1 signing).

A signed assertion signs the member in; an unsigned one, one signed by another key, a replayed one, an
address outside the allowed domains and an unsolicited response are each refused with a 4xx page and an
audit entry.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from tests.factories.accounts import make_org, make_user
from tests.support.fake_oidc import continue_target
from tests.support.saml_idp import SamlIdp, saml_idp, write_key_pair
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry, Role, User
from vendorcheck.models.sso import SsoProtocol
from vendorcheck.services import sso_config
from vendorcheck.services.sso_config import SsoSettings

pytestmark = pytest.mark.skipif(shutil.which("xmlsec1") is None,
                                reason="xmlsec1 (Debian package xmlsec1) is needed for SAML")


@pytest.fixture
def idp(app, tmp_path) -> Iterator[SamlIdp]:
    with saml_idp(tmp_path) as running:
        running.user = {"mail": ["ada@acme.example"], "displayName": ["Ada"], "groups": ["vc-legal"]}
        yield running


@pytest.fixture
def acme(app, client, idp) -> int:
    with app.app_context():
        org = make_org("Acme", slug="acme")
        ada = make_user("ada@acme.example", org=org, role=Role.ADMIN)
        make_user("cleo@acme.example", org=org, role=Role.ASSESSOR)
        sso_config.save(org, SsoSettings(
            protocol=SsoProtocol.SAML, enabled=True, allowed_domains=["acme.example"],
            idp_metadata_xml=idp.metadata(), role_claim="groups", role_map={"vc-legal": "legal"}),
            by=ada)
        org_id = org.id
    metadata = client.get("/auth/saml/acme/metadata")
    assert metadata.status_code == 200
    idp.sp_metadata = metadata.get_data(as_text=True)
    assert 'WantAssertionsSigned="true"' in idp.sp_metadata
    assert "/auth/saml/acme/acs" in idp.sp_metadata
    return org_id


def _response(client, idp: SamlIdp, email: str = "ada@acme.example") -> str:
    assert continue_target(client.post("/auth/sso", data={"email": email})) == "/auth/saml/acme/login"
    redirect = client.get("/auth/saml/acme/login")
    assert redirect.status_code == 302 and redirect.location.startswith(idp.url + "/sso?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(redirect.location).query).items()}
    idp.answer(query["SAMLRequest"], query.get("RelayState"))
    return idp.responses[-1]


def _failures(app) -> list[str]:
    with app.app_context():
        return [e.details["reason"] for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "sso.login_failed").order_by(AuditEntry.id))]


def _logged_in(client) -> bool:
    return client.get("/auth/profile").status_code == 200


def test_signed_assertion_signs_in_and_maps_the_role(app, client, idp, acme) -> None:
    idp.user = {"mail": ["cleo@acme.example"], "displayName": ["Cleo"], "groups": ["vc-legal"]}
    response = client.post("/auth/saml/acme/acs", data={"SAMLResponse": _response(client, idp)})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _logged_in(client)
    with app.app_context():
        cleo = db.session.scalars(select(User).where(User.email == "cleo@acme.example")).one()
        assert cleo.memberships[0].role == Role.LEGAL
        login = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "login")).one()
        assert login.details == {"method": "saml"}


def test_replayed_assertion_is_refused(app, client, idp, acme) -> None:
    saml_response = _response(client, idp)
    pending = client.get_cookie("vendorcheck_saml", path="/auth/saml/")
    assert client.post("/auth/saml/acme/acs", data={"SAMLResponse": saml_response}).status_code == 302
    # Someone who copied the answer and the request cookie tries it again in another browser.
    other = app.test_client()
    other.set_cookie("vendorcheck_saml", pending.value, path="/auth/saml/")
    replay = other.post("/auth/saml/acme/acs", data={"SAMLResponse": saml_response})
    assert replay.status_code == 403 and "already used" in replay.get_data(as_text=True)
    assert not _logged_in(other)
    assert _failures(app) == ["replayed_assertion"]


def test_unsolicited_response_is_refused(app, client, idp, acme) -> None:
    saml_response = _response(client, idp)
    other = app.test_client()  # no request of ours in this browser
    response = other.post("/auth/saml/acme/acs", data={"SAMLResponse": saml_response})
    assert response.status_code == 403
    assert _failures(app) == ["invalid_assertion"]


@pytest.mark.parametrize("case", ["unsigned", "another key"])
def test_bad_signature_is_refused(app, client, idp, acme, tmp_path, case) -> None:
    if case == "unsigned":
        idp.sign_assertion = False
    else:
        idp.signing_key = write_key_pair(tmp_path, "forger")
    response = client.post("/auth/saml/acme/acs", data={"SAMLResponse": _response(client, idp)})
    assert response.status_code == 403
    assert "must be signed" in response.get_data(as_text=True)
    assert not _logged_in(client)
    assert _failures(app) == ["invalid_assertion"]


def test_domain_not_allowed(app, client, idp, acme) -> None:
    idp.user = {"mail": ["ada@elsewhere.example"], "displayName": ["Ada"]}
    response = client.post("/auth/saml/acme/acs", data={"SAMLResponse": _response(client, idp)})
    assert response.status_code == 403
    assert _failures(app) == ["domain_not_allowed"]


def test_garbage_response_is_a_clear_refusal(app, client, idp, acme) -> None:
    _response(client, idp)
    response = client.post("/auth/saml/acme/acs", data={"SAMLResponse": "bm90IHhtbA=="})
    assert response.status_code == 403
    assert _failures(app) == ["invalid_assertion"]


def test_metadata_of_an_organisation_without_saml_is_404(app, client) -> None:
    with app.app_context():
        make_org("Plain", slug="plain")
    assert client.get("/auth/saml/plain/metadata").status_code == 404
    assert client.get("/auth/saml/nobody/metadata").status_code == 404
