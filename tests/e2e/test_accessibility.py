"""axe-core on the main pages of both journeys, in English and French, and one section answered with the
keyboard only (no mouse, no `fill`): Tab, typing, Space, arrows and Enter."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import journey as j
from tests.e2e.axe import assert_accessible
from tests.e2e.live import Live
from tests.factories.accounts import make_user
from tests.factories.assessments import make_clarification
from tests.factories.dpa import publish_dpa
from vendorcheck.extensions import db
from vendorcheck.models import Organisation, Role
from vendorcheck.models.assessments import Assessment

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

VENDOR = "contact@vendor-one.example"
BUYER = "buyer@contoso.example"


def _seed(live: Live, locale: str) -> tuple[int, str]:
    """A sent assessment with half its answers, a buyer user, and the vendor's published DPA."""
    assessment_id = j.seed_sent_assessment(live.app, email=VENDOR, answers=j.good_answers(live.app))
    with live.app.app_context():
        assessment = db.session.get(Assessment, assessment_id)
        assert assessment is not None
        make_user(BUYER, org=assessment.buyer_org, role=Role.ADMIN, name="Bea Buyer", locale=locale)
        vendor_org = db.session.get(Organisation, assessment.vendor_org_id)
        for member in vendor_org.memberships:
            member.user.locale = locale
        db.session.commit()
        slug = publish_dpa(None, vendor_org).profile.slug
        # the overview then shows the answer form with its optional file
        make_clarification(assessment, "vendor_legal_name", "Which entity signs?")
    return assessment_id, slug


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_main_pages_have_no_serious_accessibility_problem(live: Live, new_context: Any,
                                                          locale: str) -> None:
    assessment_id, slug = _seed(live, locale)
    anonymous = j.new_page(new_context(bypass_csp=True, locale=locale))
    for path in ("/", "/auth/login", f"/dpa/{slug}", f"/dpa/{slug}/subprocessors"):
        anonymous.goto(live.url + path)
        assert_accessible(anonymous, path)

    vendor = j.new_page(new_context(bypass_csp=True, locale=locale))
    j.login(vendor, live.url, VENDOR)
    for path in ("/vendor/assessments", f"/vendor/assessments/{assessment_id}",
                 *(f"/vendor/assessments/{assessment_id}/sections/{s}" for s, _ in j.sections_of(live.app)),
                 f"/vendor/assessments/{assessment_id}/submit", "/vendor/dpa", "/auth/profile"):
        vendor.goto(live.url + path)
        assert_accessible(vendor, path)

    buyer = j.new_page(new_context(bypass_csp=True, locale=locale))
    j.login(buyer, live.url, BUYER)
    for path in ("/buyer/vendors", "/buyer/assessments", "/buyer/assessments/new",
                 f"/buyer/assessments/{assessment_id}",
                 f"/buyer/assessments/{assessment_id}/sections/transfers", "/auth/profile"):
        buyer.goto(live.url + path)
        assert_accessible(buyer, path)


def _tab_to(page: Page, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching `selector` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)",
                         selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_a_section_answered_with_the_keyboard_only(live: Live, new_context: Any) -> None:
    assessment_id = j.seed_sent_assessment(live.app, email=VENDOR)
    page = j.new_page(new_context())
    j.login(page, live.url, VENDOR)
    page.goto(j.section_url(live.url, assessment_id, "service"))
    watch = j.AutosaveWatch(page)

    _tab_to(page, "[name=vendor_legal_name]")
    page.keyboard.type("Vendor One SAS")
    _tab_to(page, "[name=vendor_establishment_country]")
    page.keyboard.type("France")
    _tab_to(page, "[name=service_description]")
    page.keyboard.type("Hosted payroll software.")
    _tab_to(page, "[name=data_subject_categories]")
    page.keyboard.press("Space")
    _tab_to(page, "[name=data_categories]")
    page.keyboard.press("Space")
    for item in ("special_categories_processed", "monitoring_at_scale"):
        _tab_to(page, f"[name={item}]")
        page.keyboard.press("Space")              # the first option of the yes/no question
        expect(page.locator(f"[name={item}]:checked")).to_have_count(1)
    _tab_to(page, "#answer-form .actions button[name=next]")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/sections/(?!service)"))
    watch.settle()

    assert j.stored_answer(live.app, assessment_id, "vendor_legal_name") == "Vendor One SAS"
    assert j.stored_answer(live.app, assessment_id, "vendor_establishment_country") == "FR"
    assert j.stored_answer(live.app, assessment_id, "service_description") == "Hosted payroll software."
    assert len(j.stored_answer(live.app, assessment_id, "data_subject_categories")) == 1
    assert j.stored_answer(live.app, assessment_id, "special_categories_processed") is not None
