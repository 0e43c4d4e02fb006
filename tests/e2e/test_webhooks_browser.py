"""Issue 19 in a browser: an administrator adds a webhook endpoint, copies its secret, sends a test event."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e import journey as j
from tests.e2e.live import Live
from tests.factories.webhooks import receiving, verify

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_add_an_endpoint_and_send_a_test_event(live: Live, new_context: Any) -> None:
    j.seed_buyer(live.app)
    live.app.config["WEBHOOKS_ALLOW_PRIVATE_TARGETS"] = True  # the receiver listens on 127.0.0.1
    page = j.new_page(new_context())
    j.login(page, live.url, j.BUYER_EMAIL)
    with receiving() as rec:
        page.goto(f"{live.url}/org/webhooks")
        page.locator("a[href$='/org/webhooks/new']").first.click()
        page.locator("[name=url]").fill("ftp://files.example/in")
        page.locator("input[name=events][value='assessment.decided']").check()
        page.locator("main form [type=submit]").first.click()
        expect(page.locator("#url-error")).to_contain_text("Only http:// and https://")

        page.locator("[name=url]").fill(rec.url)
        page.locator("main form [type=submit]").first.click()
        secret = page.locator("#webhook-secret").input_value()
        assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{43}=", secret)

        page.goto(f"{live.url}/org/webhooks")
        page.locator("form[action$='/test'] [type=submit]").first.click()
        expect(page.locator("table")).to_contain_text("webhook.test")
        expect(page.locator(".badge")).to_contain_text("succeeded")
        [(headers, body)] = rec.requests
        assert verify(secret, headers, body)
