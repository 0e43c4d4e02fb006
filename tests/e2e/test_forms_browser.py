"""Issue 16 in a browser: the character counter, a refused over-long paste, the reader's time zone."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e import journey as j
from tests.e2e.live import Live

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

EMAIL = "contact@vendor-one.example"


def test_counter_refusal_and_time_zone(live: Live, new_context: Any) -> None:
    assessment_id = j.seed_sent_assessment(live.app, email=EMAIL)
    page = j.new_page(new_context(timezone_id="America/New_York", locale="en-GB"))
    j.login(page, live.url, EMAIL)
    page.goto(j.section_url(live.url, assessment_id, "service"))
    watch = j.AutosaveWatch(page)
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert cookies.get("tz") == "America%2FNew_York"  # timezone.js told the server once

    field = page.locator("[name=service_description]")
    counter = page.locator("#service_description-count")
    expect(counter).to_have_attribute("aria-live", "polite")
    field.fill("Hosted HR software.")
    expect(counter).to_have_text(re.compile(r"3,981 characters left"))
    field.blur()
    watch.settle()
    expect(page.locator("#autosave-status")).to_have_text(re.compile(r"\d{2}:\d{2} \(New York time\)"))

    field.fill("x" * 4001)
    expect(counter).to_have_text(re.compile(r"^1 character over the limit"))
    field.fill("x" * 4005)  # a paste over the limit: the browser does not cut it
    expect(counter).to_have_text(re.compile(r"5 characters over the limit"))
    assert len(field.input_value()) == 4005
    field.blur()
    watch.settle()
    expect(page.locator("#service_description-error")).to_contain_text(
        "Too long: 4,005 characters (max 4,000 characters). Nothing was saved")
    assert 422 in watch.codes
    assert j.stored_answer(live.app, assessment_id, "service_description") == "Hosted HR software."


def test_time_zone_chosen_with_the_search_box_and_the_keyboard(live: Live, new_context: Any) -> None:
    from tests.factories.accounts import make_user
    from vendorcheck.extensions import db
    from vendorcheck.models import User

    with live.app.app_context():
        make_user("zone@example.com", name="Zoe")
    page = j.new_page(new_context(timezone_id="America/New_York", locale="en-GB"))
    j.login(page, live.url, "zone@example.com")
    page.goto(f"{live.url}/auth/profile?lang=en")
    select = page.locator("select[name=timezone]")
    expect(select).to_have_value("")  # "Automatic (from my browser)"
    search = page.get_by_label("Search time zones (a city or region)")
    search.focus()
    page.keyboard.type("tokyo")
    expect(select).to_have_value("Asia/Tokyo")  # the first match is chosen
    expect(page.locator("p[aria-live=polite]").filter(has_text="matching time zone")).to_have_text(
        "1 matching time zone")
    expect(select.locator("option[value='Europe/Paris']")).to_be_hidden()
    page.keyboard.press("Tab")  # to the select, then the Save button
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator(".flash--success")).to_be_visible()
    with live.app.app_context():
        user = db.session.scalars(db.select(User).where(User.email == "zone@example.com")).one()
        assert user.timezone == "Asia/Tokyo"
    expect(page.locator(".sessions")).to_contain_text("(Tokyo time)")  # over the browser's New York
