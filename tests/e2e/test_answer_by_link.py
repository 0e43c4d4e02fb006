"""Browser test: a vendor contact answers a whole assessment by link, never creating an account.

In English, then in French with the assessment marked sensitive (the one-time code step). Selectors
use names, ids and types, never visible text, so the same steps run in both languages.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import journey as j
from tests.e2e.live import Live
from vendorcheck.extensions import db
from vendorcheck.link_access import COOKIE
from vendorcheck.models import User
from vendorcheck.models.assessments import AssessmentStatus

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CODE = re.compile(r"^\s*(\d{6})\s*$", re.MULTILINE)


@pytest.mark.parametrize(("locale", "sensitive"), [("en", False), ("fr", True)])
def test_contact_answers_everything_by_link_without_an_account(live: Live, new_context: Any,
                                                              locale: str, sensitive: bool) -> None:
    seeded = j.seed_buyer(live.app)
    answers, sections = j.good_answers(live.app), j.sections_of(live.app)

    buyer = j.new_page(new_context())
    j.login(buyer, live.url, j.BUYER_EMAIL)
    j.open_send_form(buyer, live.url, seeded.vendor_name)
    buyer.check("input[name=by_link]")
    if sensitive:
        buyer.check("input[name=sensitive]")
    assessment_id = j.send_assessment(buyer)
    expect(buyer.locator("#links")).to_contain_text(seeded.contact_email)

    link = live.mailbox.last_link(seeded.contact_email)
    assert "/vendor/link/" in link
    token = link.rsplit("/", 1)[1]
    context = new_context(locale="fr-FR" if locale == "fr" else "en-GB")
    vendor = j.new_page(context)
    vendor.goto(link)
    # The token left the address bar for a cookie scoped to this assessment's pages.
    vendor.wait_for_url(re.compile(rf"/vendor/assessments/{assessment_id}$"))
    assert token not in vendor.url
    cookie = next(c for c in context.cookies() if c["name"] == COOKIE)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert cookie["path"] == f"/vendor/assessments/{assessment_id}"
    expect(vendor.locator("html")).to_have_attribute("lang", locale)
    expect(vendor.locator("#link-banner-title")).to_be_visible()
    expect(vendor.locator(".topnav a[href$='/vendor/assessments']")).to_have_count(0)
    if sensitive:
        _confirm_the_mailed_code(live, vendor, seeded.contact_email)

    watch = j.AutosaveWatch(vendor)
    for section_id, items in sections:
        vendor.goto(j.section_url(live.url, assessment_id, section_id))
        j.fill_section(vendor, items, answers, watch)
        if section_id == "contract":
            watch.settle()
            j.upload_evidence(vendor, "dpa_document", "signed-dpa.pdf", j.small_pdf())
        j.save_and_continue(vendor, watch)
    # every save went through as the link holder: none refused (403), none a conflict or an error
    assert 200 in watch.codes and not {403, 409} & set(watch.codes), watch.codes
    assert all(code < 500 for code in watch.codes), watch.codes
    assert j.stored_answer(live.app, assessment_id, "subprocessors") == j.SUBPROCESSORS

    j.submit_with_attestation(vendor, live.url, assessment_id, role="Délégué à la protection")
    assert j.assessment_status(live.app, assessment_id) is AssessmentStatus.SUBMITTED
    with live.app.app_context():
        assert db.session.query(User).filter_by(email=seeded.contact_email).count() == 0

    # The same link now says the answers are in, with what to do next (409).
    response = vendor.goto(link)
    assert response is not None and response.status == 409
    expect(vendor.locator("[data-link-state=link_submitted]")).to_be_visible()
    # Nothing else of the vendor's or the buyer's is reachable with the link.
    vendor.goto(f"{live.url}/vendor/assessments")
    expect(vendor).to_have_url(re.compile(r"/auth/login"))


def _confirm_the_mailed_code(live: Live, page: Page, email: str) -> None:
    """Follow the banner to the code page, have the code mailed, type it in."""
    page.click("#link-banner-title ~ p a[href$='/link/code']")
    page.click("form:has(input[name=send]) button[type=submit]")
    body = next(part.get_payload(decode=True).decode()
                for part in live.mailbox.to(email)[-1].walk()
                if part.get_content_type() == "text/plain")
    found = CODE.search(body)
    assert found, body
    page.fill("input[name=code]", found.group(1))
    page.click("form:has(input[name=code]) button[type=submit]")
    page.wait_for_url(re.compile(r"/vendor/assessments/\d+$"))
    expect(page.locator("#link-banner-title ~ p a[href$='/link/code']")).to_have_count(0)
