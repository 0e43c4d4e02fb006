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
                   for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]
        assert ("sso.user_provisioned", "oidc") in actions and ("login", "oidc") in actions
        assert ("sso.login_failed", "other_organisation") in actions
        assert actions[1][0] == "sso.configured"
