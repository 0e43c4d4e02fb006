"""Second factors in the browser: TOTP enrolment and login; passkeys with Chromium's virtual authenticator.

The virtual authenticator comes from the DevTools protocol (WebAuthn domain): CTAP2, internal transport,
resident keys and user verification, so navigator.credentials works without hardware. Passkeys need a
domain for their relying party id, so this app's BASE_URL is http://localhost:<port>.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.e2e import journey as j
from tests.e2e.live import Live, live_server
from tests.factories.accounts import PASSWORD, make_org, make_user
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

EMAIL = "alice@northwind.example"


@pytest.fixture
def live_localhost(tmp_path: Path) -> Iterator[Live]:
    """A live app whose BASE_URL (and so the passkeys' relying party) is localhost."""
    with live_server(tmp_path, url_host="localhost") as running:
        yield running
        assert not running.server_errors, f"the app answered a server error: {running.server_errors}"


def _seed(live: Live) -> None:
    with live.app.app_context():
        make_user(EMAIL, org=make_org("Northwind Retail SAS", slug="northwind"), name="Alice Martin")


def _login_methods(live: Live) -> list[str]:
    with live.app.app_context():
        return [e.details.get("method") for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "login").order_by(AuditEntry.id))]


def _password(page: Page, base: str) -> None:
    page.goto(f"{base}/auth/login")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")


def _log_out(page: Page) -> None:
    page.click("form[action$='/auth/logout'] button")
    expect(page.get_by_text("You are logged out.")).to_be_visible()


def test_totp_enrolment_then_login_with_a_code(live: Live, new_context: Any) -> None:
    _seed(live)
    page = j.new_page(new_context())
    j.login(page, live.url, EMAIL)
    page.goto(f"{live.url}/auth/mfa")
    page.get_by_role("button", name="Set up an authenticator app").click()
    expect(page.locator("figure.qr svg")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text()
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("#recovery-codes li")).to_have_count(10)

    other = j.new_page(new_context())
    _password(other, live.url)
    expect(other).to_have_url(re.compile(r"/auth/mfa/verify$"))
    other.fill("input[name=totp-code]", "000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    other.get_by_role("button", name="Verify").click()
    expect(other.locator(".flash--error")).to_contain_text("not correct")
    # The enrolment used this step's code: the next step's is still inside the accepted window.
    other.fill("input[name=totp-code]", pyotp.TOTP(secret).at(time.time() + 30))
    other.get_by_role("button", name="Verify").click()
    expect(other).to_have_url(re.compile(r"/buyer/vendors$"))
    assert _login_methods(live) == ["password", "password+totp"]


def _virtual_authenticator(page: Page) -> Any:
    """Attach a platform authenticator that holds passkeys and verifies the user (no prompt)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True}})
    return cdp


def test_passkey_registration_second_factor_and_passwordless_login(live_localhost: Live,
                                                                    new_context: Any) -> None:
    live = live_localhost
    _seed(live)
    page = j.new_page(new_context())
    cdp = _virtual_authenticator(page)
    j.login(page, live.url, EMAIL)
    page.goto(f"{live.url}/auth/mfa")
    page.click("#passkey-register button[type=submit]")
    expect(page.locator("#passkey-status")).to_contain_text("name")  # a name is asked for first
    page.fill("#passkey-name", "Virtual key")
    page.click("#passkey-register button[type=submit]")
    expect(page.get_by_text("Your passkey was added.")).to_be_visible()
    expect(page.locator("main li strong", has_text="Virtual key")).to_be_visible()

    _log_out(page)
    _password(page, live.url)
    expect(page).to_have_url(re.compile(r"/auth/mfa/verify$"))
    page.get_by_role("button", name="Use a passkey").click()
    expect(page).to_have_url(re.compile(r"/buyer/vendors$"))

    _log_out(page)
    page.goto(f"{live.url}/auth/login")
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page).to_have_url(re.compile(r"/buyer/vendors$"))
    assert _login_methods(live) == ["password", "password+passkey", "passkey"]
    cdp.detach()
