"""The remediation loop in a browser, in English and French: the buyer decides and asks for a fix, the
vendor sees the outcome and answers with evidence, the buyer accepts; the signed report shows the history.
Every page on the way is checked with axe-core (no serious or critical violation)."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from typing import Any

import pytest
from babel.dates import format_date
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
REMEDIATED_WORDS = {"en": "no longer counts toward the tier",
                    "fr": "il ne compte plus pour le niveau de risque"}


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


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_buyer_asks_vendor_fixes_with_evidence_buyer_accepts(live: Live, new_context: Any,
                                                            locale: str) -> None:
    """Decide with both high findings sent as requests → the vendor answers each (one with an
    evidence file) → the buyer accepts both → the tier improves → the report shows the history."""
    assessment_id = _seed(live, locale)
    buyer = j.new_page(new_context(bypass_csp=True, locale=locale))
    j.login(buyer, live.url, BUYER)
    buyer.goto(f"{live.url}/buyer/assessments/{assessment_id}")
    assert_accessible(buyer, "review page")
    expect(buyer.locator(".review-summary .review-tier--high")).to_have_count(1)

    due_day = date.today() + timedelta(days=30)
    due = due_day.isoformat()  # what the date input takes
    buyer.goto(f"{live.url}/buyer/assessments/{assessment_id}/decide")
    buyer.check("input[name=decision][value=approved_with_conditions]")
    buyer.fill("textarea[name=comment]",
               "Multi-factor authentication for every administrator within 3 months.")
    buyer.fill("textarea[name=reason]", "Pilot with test data only.")
    shared = buyer.locator(".decision-share")
    expect(shared).to_have_count(2)
    for index in range(2):
        row = shared.nth(index)
        row.locator("input[name=share]").check()
        row.locator("input[type=date]").fill(due)
        row.locator("textarea").fill("Send us the MFA policy and a screenshot.")
    expect(buyer.locator("select[name=buyer_owner] option:checked")).to_have_text("Bea Buyer")
    buyer.select_option("select[name=vendor_owner]", label=f"Victor Vendor <{VENDOR}>")
    assert_accessible(buyer, "decision form with remediation requests")
    buyer.click("main form[method=post] button[type=submit]")
    buyer.wait_for_url(re.compile(rf"/buyer/assessments/{assessment_id}$"))
    expect(buyer.locator("article.remediation--requested")).to_have_count(2)
    expect(buyer.locator("article.remediation").first).to_contain_text("Victor Vendor")
    assert _request_states(live, assessment_id) == [RemediationState.REQUESTED] * 2
    assert "/vendor/assessments/" in live.mailbox.last_link(VENDOR)

    vendor = j.new_page(new_context(bypass_csp=True, locale=locale))
    j.login(vendor, live.url, VENDOR)
    vendor.goto(f"{live.url}/vendor/assessments/{assessment_id}")
    expect(vendor.locator("#outcome")).to_contain_text("Multi-factor authentication")
    request = vendor.locator("article.remediation--requested").first
    expect(request).to_contain_text("Send us the MFA policy and a screenshot.")
    expect(request).to_contain_text(format_date(due_day, "long", locale=locale))  # in words
    expect(request).to_contain_text("Victor Vendor")
    assert_accessible(vendor, "vendor's assessment page with the outcome")
    request.locator("textarea[name=text]").fill("MFA is enforced for every administrator.")
    request.locator("input[type=file]").set_input_files(
        {"name": "mfa-policy.pdf", "mimeType": "application/pdf", "buffer": j.small_pdf("MFA")})
    request.locator("button[type=submit]").click()
    expect(vendor.locator("article.remediation--responded")).to_contain_text("mfa-policy.pdf")
    second = vendor.locator("article.remediation--requested").first
    second.locator("textarea[name=text]").fill("Fixed as well.")
    second.locator("button[type=submit]").click()
    expect(vendor.locator("article.remediation--responded")).to_have_count(2)
    assert _request_states(live, assessment_id) == [RemediationState.RESPONDED] * 2
    assert any("/buyer/assessments/" in str(m) for m in live.mailbox.to(BUYER))

    buyer.goto(f"{live.url}/buyer/assessments/{assessment_id}")
    answered = buyer.locator("article.remediation--responded").first
    expect(answered).to_contain_text("MFA is enforced for every administrator.")
    with buyer.expect_download() as info:
        answered.locator("a[download]").click()
    assert info.value.path().read_bytes().startswith(b"%PDF-")
    for _round in range(2):
        answered = buyer.locator("article.remediation--responded").first
        expect(answered.locator("input[name=outcome][value=accept]")).to_be_checked()
        answered.locator("textarea[name=reason]").fill("Policy and screenshot checked.")
        answered.locator("form button[type=submit]").click()
        buyer.wait_for_load_state()
    expect(buyer.locator("article.remediation--accepted")).to_have_count(2)
    expect(buyer.locator("article.remediation--accepted").first).to_contain_text(STATE_WORDS[locale])
    assert _request_states(live, assessment_id) == [RemediationState.ACCEPTED] * 2
    # the tier improved, and the explanation says why
    expect(buyer.locator(".review-summary .review-tier--high")).to_have_count(0)
    expect(buyer.locator(".verdict-remediated li")).to_have_count(2)
    expect(buyer.locator(".verdict-remediated")).to_contain_text(REMEDIATED_WORDS[locale])
    assert_accessible(buyer, "review page after the remediation")

    # the signed report is rendered on first download: give a loaded machine time
    response = buyer.request.get(f"{live.url}/buyer/assessments/{assessment_id}/report.pdf",
                                 timeout=180_000)
    assert response.ok
    report = " ".join(_pdf_text(response.body()).split())
    assert STATE_WORDS[locale] in report and "mfa-policy.pdf" in report
    assert "Policy and screenshot checked." in report and "Victor Vendor" in report
    assert REMEDIATED_WORDS[locale] in report


def _request_states(live: Live, assessment_id: int) -> list[RemediationState]:
    with live.app.app_context():
        return [r.state for r in db.session.query(RemediationRequest).filter_by(
            assessment_id=assessment_id).order_by(RemediationRequest.id)]


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
