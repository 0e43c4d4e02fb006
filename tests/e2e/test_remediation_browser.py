"""The remediation loop in a browser, in English and French: the buyer decides and asks for a fix, the
vendor sees the outcome and answers with evidence, the buyer accepts; the signed report shows the history.
Every page on the way is checked with axe-core (no serious or critical violation)."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e import journey as j
from tests.e2e.axe import assert_accessible
from tests.e2e.live import Live
from tests.factories.accounts import make_org, make_user, make_vendor
from tests.factories.assessments import make_contact, make_scored_assessment
from tests.factories.questionnaires import HIGH, shipped_questionnaire
from vendorcheck.extensions import db
from vendorcheck.models import Role
from vendorcheck.models.assessments import AssessmentStatus
from vendorcheck.models.remediation import RemediationRequest, RemediationState

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

BUYER = "buyer@contoso.example"
VENDOR = "vendor@vendor-one.example"
STATE_WORDS = {"en": "Fix accepted", "fr": "Correction acceptée"}


def _seed(live: Live, locale: str) -> int:
    """A submitted assessment with two high findings; both people speak `locale`."""
    with live.app.app_context():
        buyer = make_org("Contoso Bank SA", slug="contoso")
        admin = make_user(BUYER, org=buyer, role=Role.ADMIN, name="Bea Buyer", locale=locale)
        vendor_org = make_org("Vendor One SAS", buyer=False, vendor=True, slug="vendor-one")
        user = make_user(VENDOR, org=vendor_org, role=Role.ADMIN, name="Victor Vendor",
                         locale=locale)
        vendor = make_vendor(buyer, "Vendor One SAS", vendor_org=vendor_org)
        contact = make_contact(vendor, user.email, user.name)
        assessment = make_scored_assessment(buyer, vendor, answers=HIGH, by=admin,
                                            q=shipped_questionnaire(j.QID), contacts=[contact],
                                            status=AssessmentStatus.SUBMITTED)
        return assessment.id


def _request_state(live: Live, assessment_id: int) -> RemediationState:
    with live.app.app_context():
        return db.session.query(RemediationRequest).filter_by(
            assessment_id=assessment_id).one().state


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_buyer_asks_vendor_fixes_with_evidence_buyer_accepts(live: Live, new_context: Any,
                                                            locale: str) -> None:
    assessment_id = _seed(live, locale)
    buyer = j.new_page(new_context(bypass_csp=True, locale=locale))
    j.login(buyer, live.url, BUYER)
    buyer.goto(f"{live.url}/buyer/assessments/{assessment_id}")
    assert_accessible(buyer, "review page")
    j.record_decision(buyer, live.url, assessment_id, "approved_with_conditions",
                      "Multi-factor authentication for every administrator within 3 months.")

    due = (date.today() + timedelta(days=30)).isoformat()
    form = buyer.locator("form[action$='/remediation']")
    form.locator("xpath=ancestor::details").locator("summary").click()
    buyer.select_option("#rem-finding", index=0)
    buyer.fill("#rem-due", due)
    buyer.fill("#rem-note", "Send us the MFA policy and a screenshot.")
    form.locator("button[type=submit]").click()
    expect(buyer.locator("article.remediation--requested")).to_have_count(1)
    assert_accessible(buyer, "review page with a remediation request")
    assert _request_state(live, assessment_id) is RemediationState.REQUESTED
    assert "/vendor/assessments/" in live.mailbox.last_link(VENDOR)

    vendor = j.new_page(new_context(bypass_csp=True, locale=locale))
    j.login(vendor, live.url, VENDOR)
    vendor.goto(f"{live.url}/vendor/assessments/{assessment_id}")
    expect(vendor.locator("#outcome")).to_contain_text("Multi-factor authentication")
    request = vendor.locator("article.remediation--requested")
    expect(request).to_contain_text("Send us the MFA policy and a screenshot.")
    expect(request).to_contain_text(due)
    assert_accessible(vendor, "vendor's assessment page with the outcome")
    request.locator("textarea[name=text]").fill("MFA is enforced for every administrator.")
    request.locator("input[type=file]").set_input_files(
        {"name": "mfa-policy.pdf", "mimeType": "application/pdf", "buffer": j.small_pdf("MFA")})
    request.locator("button[type=submit]").click()
    expect(vendor.locator("article.remediation--responded")).to_contain_text("mfa-policy.pdf")
    assert _request_state(live, assessment_id) is RemediationState.RESPONDED
    assert any("/buyer/assessments/" in str(m) for m in live.mailbox.to(BUYER))

    buyer.goto(f"{live.url}/buyer/assessments/{assessment_id}")
    answered = buyer.locator("article.remediation--responded")
    expect(answered).to_contain_text("MFA is enforced for every administrator.")
    with buyer.expect_download() as info:
        answered.locator("a[download]").click()
    assert info.value.path().read_bytes().startswith(b"%PDF-")
    expect(answered.locator("input[name=outcome][value=accept]")).to_be_checked()
    answered.locator("textarea[name=reason]").fill("Policy and screenshot checked.")
    answered.locator("form button[type=submit]").click()
    done = buyer.locator("article.remediation--accepted")
    expect(done).to_contain_text(STATE_WORDS[locale])
    assert _request_state(live, assessment_id) is RemediationState.ACCEPTED
    assert_accessible(buyer, "review page after the remediation")

    # the signed report is rendered on first download: give a loaded machine time
    response = buyer.request.get(f"{live.url}/buyer/assessments/{assessment_id}/report.pdf",
                                 timeout=180_000)
    assert response.ok
    report = _pdf_text(response.body())
    assert STATE_WORDS[locale] in report and "mfa-policy.pdf" in report
    assert "Policy and screenshot checked." in report


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages)


def test_country_picker_by_keyboard(live: Live, new_context: Any) -> None:
    """Type to filter, arrow and Enter to add, chips with remove buttons; the checkbox is what saves."""
    assessment_id = j.seed_sent_assessment(live.app)
    page = j.new_page(new_context(bypass_csp=True))
    j.login(page, live.url, "contact@vendor-one.example")
    page.goto(j.section_url(live.url, assessment_id, "transfers"))
    picker = page.locator("[role=combobox]").first
    expect(picker).to_be_visible()
    box = picker.locator("xpath=ancestor::fieldset")
    item_id = box.get_attribute("data-item")
    watch = j.AutosaveWatch(page)
    picker.focus()
    page.keyboard.type("Switz")
    expect(picker).to_have_attribute("aria-expanded", "true")
    listbox = page.locator(f"#{picker.get_attribute('aria-controls')}")
    expect(listbox.locator("[role=option]")).to_have_count(1)
    page.keyboard.press("Enter")
    chip = box.locator(".picker__chip")
    expect(chip).to_have_count(1)
    expect(box.locator("input[type=checkbox][value=CH]")).to_be_checked()
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    page.keyboard.type("united")
    page.keyboard.press("ArrowDown")
    active = picker.get_attribute("aria-activedescendant")
    assert active and page.locator(f"#{active}").get_attribute("role") == "option"
    page.keyboard.press("Enter")
    expect(chip).to_have_count(2)
    watch.settle()
    assert sorted(j.stored_answer(live.app, assessment_id, item_id)) == sorted(
        box.locator("input[type=checkbox]:checked").evaluate_all("els => els.map(e => e.value)"))
    assert_accessible(page, "transfers section with the picker open")
    remove = chip.first.locator("button")
    assert re.search(r"Switzerland", remove.get_attribute("aria-label") or "")
    remove.focus()
    page.keyboard.press("Enter")
    expect(chip).to_have_count(1)
    expect(box.locator("input[type=checkbox][value=CH]")).not_to_be_checked()
    watch.settle()
    assert "CH" not in (j.stored_answer(live.app, assessment_id, item_id) or [])
