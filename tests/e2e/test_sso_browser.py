"""Single sign-on in the browser, against real counterparts on 127.0.0.1 started by the tests.

OpenID Connect: the npm `oidc-provider` (tests/support/oidc). The admin sets it up on /org/sso, then a new
colleague signs in with "Continue with single sign-on": the provider's login and consent pages, back to
vendorcheck with an account made just in time and the role its groups map to. A user of another
organisation is refused with a page that says what to do.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.e2e import journey as j
from tests.e2e.live import Live, live_server
from tests.factories.accounts import make_org, make_user
from tests.support.oidc_node import oidc_provider
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry, Role, User

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ADMIN = "ada@acme.example"
SAML_WAIT_MS = 60_000
CLIENT = {"client_id": "vendorcheck-acme", "client_secret": "a-long-test-client-secret-0123456789",
          "grant_types": ["authorization_code"], "response_types": ["code"],
          "token_endpoint_auth_method": "client_secret_basic"}
ACCOUNTS = {
    "new@acme.example": {"email": "new@acme.example", "email_verified": True, "name": "Nora New",
                         "groups": ["vc-assessors"]},
    "bob@acme.example": {"email": "bob@acme.example", "email_verified": True, "name": "Bob Other"},
}


@pytest.fixture
def live(tmp_path: Any) -> Any:
    """The live app, allowed to reach a provider on http://127.0.0.1 (the tests' provider)."""
    with live_server(tmp_path, SSO_ALLOW_HTTP_LOOPBACK=True) as running:
        yield running
        assert not running.server_errors, f"the app answered a server error: {running.server_errors}"


def _seed(live: Live) -> None:
    with live.app.app_context():
        acme = make_org("Acme", slug="acme")
        make_user(ADMIN, org=acme, role=Role.ADMIN, name="Ada Admin")
        make_user("bob@acme.example", org=make_org("Other"), role=Role.ADMIN)


def _configure(page: Page, live: Live, issuer: str) -> None:
    """The admin fills the single sign-on page."""
    j.login(page, live.url, ADMIN)
    page.goto(f"{live.url}/org/sso")
    expect(page.locator("code").first).to_have_text(f"{live.url}/auth/sso/oidc/callback")
    page.select_option("select[name=protocol]", "oidc")
    page.fill("textarea[name=allowed_domains]", "acme.example")
    page.fill("input[name=issuer]", issuer)
    page.fill("input[name=client_id]", CLIENT["client_id"])
    page.fill("input[name=client_secret]", CLIENT["client_secret"])
    page.fill("input[name=role_claim]", "groups")
    page.fill("textarea[name=role_map]", "vc-assessors = assessor")
    page.select_option("select[name=default_role]", "legal")
    page.check("input[name=jit_provisioning]")
    page.click("main form button[type=submit]")
    expect(page.locator(".flash--success")).to_be_visible()


def _sign_in_with_provider(page: Page, live: Live, email: str) -> None:
    """Continue with single sign-on, then the provider's development login and consent pages."""
    page.goto(f"{live.url}/auth/login")
    page.fill("input#sso-email", email)
    page.click("section.sso button[type=submit]")
    expect(page).to_have_url(re.compile(r"/interaction/"))  # the provider's login page
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", "any")
    page.click("button[type=submit]")
    page.click("button[type=submit]")  # consent: "Continue"


def test_oidc_sign_in_with_just_in_time_account(live: Live, new_context: Any) -> None:
    _seed(live)
    client = {**CLIENT, "redirect_uris": [f"{live.url}/auth/sso/oidc/callback"]}
    with oidc_provider(clients=[client], accounts=ACCOUNTS) as issuer:
        _configure(j.new_page(new_context()), live, issuer)

        page = j.new_page(new_context())
        _sign_in_with_provider(page, live, "new@acme.example")
        expect(page).to_have_url(re.compile(re.escape(live.url) + r"/buyer/"))
        expect(page.locator(".topnav__account")).to_contain_text("Nora New")

        other = j.new_page(new_context())
        _sign_in_with_provider(other, live, "bob@acme.example")
        expect(other.locator("main")).to_contain_text("belongs to another organisation")
        expect(other.locator("main a[href='/auth/login']")).to_be_visible()

    with live.app.app_context():
        user = db.session.scalars(select(User).where(User.email == "new@acme.example")).one()
        assert [m.role for m in user.memberships] == [Role.ASSESSOR]
        actions = [(e.action, e.details.get("reason") or e.details.get("method"))
                   for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
        assert ("sso.user_provisioned", "oidc") in actions and ("login", "oidc") in actions
        assert ("sso.login_failed", "other_organisation") in actions
        # the admin's login (and, from this new browser, its new-device notice), then the configuration
        assert [a for a, _why in actions if not a.startswith("login")][0] == "sso.configured"


def test_saml_sign_in_and_copied_answer_refused(live: Live, new_context: Any, tmp_path: Any) -> None:
    """SAML against pysaml2's IdP classes: a signed assertion signs Cleo in; the same answer posted from
    another browser is refused (it answers no request of that browser; the replay store itself is proven
    in tests/integration/test_sso_saml.py)."""
    import shutil
    import urllib.request

    from tests.support.saml_idp import saml_idp
    from vendorcheck.models.sso import SsoProtocol
    from vendorcheck.services import sso_config

    if shutil.which("xmlsec1") is None:
        pytest.skip("xmlsec1 (Debian package xmlsec1) is needed for SAML")
    with saml_idp(tmp_path) as idp:
        with live.app.app_context():
            acme = make_org("Acme", slug="acme")
            ada = make_user(ADMIN, org=acme, role=Role.ADMIN, name="Ada Admin")
            make_user("cleo@acme.example", org=acme, role=Role.ASSESSOR, name="Cleo Member")
            sso_config.save(acme, sso_config.SsoSettings(
                protocol=SsoProtocol.SAML, enabled=True, allowed_domains=["acme.example"],
                idp_metadata_xml=idp.metadata()), by=ada)
        with urllib.request.urlopen(f"{live.url}/auth/saml/acme/metadata", timeout=10) as answer:
            idp.sp_metadata = answer.read().decode()
        idp.user = {"mail": ["cleo@acme.example"], "displayName": ["Cleo Member"]}

        page = j.new_page(new_context())
        page.goto(f"{live.url}/auth/login")
        page.fill("input#sso-email", "cleo@acme.example")
        page.click("section.sso button[type=submit]")
        # The IdP signs with xmlsec1 and the app verifies with it: slower than a page, so a longer wait.
        page.wait_for_url(re.compile(re.escape(live.url) + r"/buyer/"), timeout=SAML_WAIT_MS)
        expect(page.locator(".topnav__account")).to_contain_text("Cleo Member")

        # The same signed answer, posted again from another browser (signed in on its own meanwhile).
        replay = j.new_page(new_context())
        replay.goto(f"{live.url}/auth/saml/acme/login")  # sets this browser's request cookie
        replay.wait_for_url(re.compile(re.escape(live.url) + r"/buyer/"),  # the IdP signs in at once
                            timeout=SAML_WAIT_MS)
        response = replay.request.post(f"{live.url}/auth/saml/acme/acs",
                                       form={"SAMLResponse": idp.responses[0]})
        assert response.status == 403
        assert "was refused" in response.text() and "/auth/login" in response.text()

    with live.app.app_context():
        reasons = [e.details.get("reason") for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "sso.login_failed"))]
        assert reasons == ["invalid_assertion"]
        methods = [e.details.get("method") for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "login"))]
        assert methods.count("saml") == 2
