"""Browser tests: the main journey, an autosave conflict, answering without JavaScript, labels."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import journey as j
from tests.e2e.live import Live
from vendorcheck.models.assessments import AssessmentStatus

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SAVED = re.compile(r"\d{2}:\d{2}")


def test_buyer_sends_vendor_answers_buyer_reviews_and_decides(live: Live, new_context: Any) -> None:
    seeded = j.seed_buyer(live.app)
    answers, sections = j.good_answers(live.app), j.sections_of(live.app)

    buyer = j.new_page(new_context())
    j.login(buyer, live.url, j.BUYER_EMAIL)
    j.open_send_form(buyer, live.url, seeded.vendor_name)
    assessment_id = j.send_assessment(buyer)
    expect(buyer.locator(".flash--success")).to_be_visible()

    link = live.mailbox.last_link(seeded.contact_email)
    assert "/auth/invitations/" in link
    vendor = j.new_page(new_context())
    j.accept_invitation(vendor, link, "Jeanne Martin")
    j.open_vendor_assessment(vendor, assessment_id)
    watch = j.AutosaveWatch(vendor)

    for section_id, items in sections:
        vendor.goto(j.section_url(live.url, assessment_id, section_id))
        _labels_everywhere(vendor)
        if section_id == "service":
            _autosave_survives_a_reload(live, vendor, watch, assessment_id)
        if section_id == "subprocessing":
            _conditional_item_shows_and_hides(vendor, watch)
        j.fill_section(vendor, items, answers, watch)
        if section_id == "contract":
            watch.settle()
            j.upload_evidence(vendor, "dpa_document", "signed-dpa.pdf", j.small_pdf())
        j.save_and_continue(vendor, watch)
    assert 409 not in watch.codes and all(code < 500 for code in watch.codes), watch.codes
    assert j.stored_answer(live.app, assessment_id, "subprocessors") == j.SUBPROCESSORS

    j.submit_with_attestation(vendor, live.url, assessment_id, role="Data protection officer")
    assert j.assessment_status(live.app, assessment_id) is AssessmentStatus.SUBMITTED

    _buyer_reviews_and_decides(live, buyer, assessment_id)


def _autosave_survives_a_reload(live: Live, page: Page, watch: j.AutosaveWatch,
                                assessment_id: int) -> None:
    """Type an answer, see "Saved at", reload: the answer is still there."""
    field = page.locator("[name=service_description]")
    field.fill("Hosted HR software for employee records.")
    field.blur()
    expect(page.locator("#autosave-status")).to_have_text(SAVED)
    watch.settle()
    page.reload()
    expect(page.locator("[name=service_description]")).to_have_value(
        "Hosted HR software for employee records.")
    assert j.stored_answer(live.app, assessment_id, "service_description") == \
        "Hosted HR software for employee records."


def _conditional_item_shows_and_hides(page: Page, watch: j.AutosaveWatch) -> None:
    """The sub-processor table appears only when the vendor uses sub-processors."""
    table = page.locator("#q-subprocessors")
    expect(table).to_be_hidden()
    page.check("input[name=uses_subprocessors][value=no]")
    expect(table).to_be_hidden()
    watch.settle()
    page.check("input[name=uses_subprocessors][value=yes]")
    expect(table).to_be_visible()
    watch.settle()
    page.reload()  # the server agrees: it renders the table shown for the saved "yes"
    expect(page.locator("#q-subprocessors")).to_be_visible()


def _buyer_reviews_and_decides(live: Live, page: Page, assessment_id: int) -> None:
    """Open the review, read answers, evidence and findings, decide, download the report."""
    base = f"{live.url}/buyer/assessments/{assessment_id}"
    page.goto(base)
    assert j.assessment_status(live.app, assessment_id) is AssessmentStatus.IN_REVIEW
    expect(page.locator("#findings")).to_contain_text("backup", ignore_case=True)
    page.goto(f"{base}/sections/subprocessing")
    expect(page.locator("main")).to_contain_text("Mailversand GmbH")
    page.goto(f"{base}/sections/contract")
    expect(page.locator("main")).to_contain_text("signed-dpa.pdf")
    j.record_decision(page, live.url, assessment_id, "approved_with_conditions",
                      "Test the backups before the renewal.")
    assert j.assessment_status(live.app, assessment_id) is AssessmentStatus.DECIDED
    pdf = j.download_report(page)
    assert pdf.startswith(b"%PDF-") and b"%%EOF" in pdf[-1024:]


@pytest.mark.parametrize("before", [{"vendor_legal_name": "Vendor One"}, {}],
                         ids=["answered-before", "first-answer"])
def test_a_stale_autosave_shows_the_conflict_and_keeps_the_text(live: Live, new_context: Any,
                                                                 before: dict[str, str]) -> None:
    assessment_id = j.seed_sent_assessment(live.app, answers=before)
    url = j.section_url(live.url, assessment_id, "service")
    pages = []
    for _ in range(2):
        page = j.new_page(new_context())
        j.login(page, live.url, "contact@vendor-one.example")
        page.goto(url)
        pages.append(page)
    first, stale = pages

    first.fill("[name=vendor_legal_name]", "Vendor One SAS")
    first.locator("[name=vendor_legal_name]").blur()
    expect(first.locator("#autosave-status")).to_have_text(SAVED)

    stale.fill("[name=vendor_legal_name]", "Vendor One Group")
    stale.locator("[name=vendor_legal_name]").blur()
    expect(stale.locator("#vendor_legal_name-error")).to_contain_text("Victor Vendor")
    expect(stale.locator("#autosave-status")).to_contain_text("your text is kept")
    expect(stale.locator("[name=vendor_legal_name]")).to_have_value("Vendor One Group")
    assert j.stored_answer(live.app, assessment_id, "vendor_legal_name") == "Vendor One SAS"

    with stale.expect_response(lambda r: r.request.method == "POST" and "/sections/" in r.url
                               ) as saved:
        stale.click("#answer-form .actions button:not([name])")  # saving the section refuses too
    assert saved.value.status == 422
    stale.wait_for_load_state("domcontentloaded")
    expect(stale.locator("#vendor_legal_name-error")).to_contain_text("Victor Vendor")
    expect(stale.locator("[name=vendor_legal_name]")).to_have_value("Vendor One Group")
    assert j.stored_answer(live.app, assessment_id, "vendor_legal_name") == "Vendor One SAS"


def test_adding_a_row_first_stores_the_answers_still_waiting(live: Live, new_context: Any) -> None:
    """"Add a row" posts the page at once: a change made just before is stored; new rows are numbered."""
    assessment_id = j.seed_sent_assessment(live.app, answers={"uses_subprocessors": "yes"})
    page = j.new_page(new_context())
    j.login(page, live.url, "contact@vendor-one.example")
    page.goto(j.section_url(live.url, assessment_id, "subprocessing"))
    page.fill("[name=subprocessor_list_url]", "https://vendor-one.example/subprocessors")
    page.locator("#q-subprocessors button[name=add_row]").click()  # within the autosave delay
    expect(page.locator("#q-subprocessors tbody tr[data-row]")).to_have_count(1)
    assert j.stored_answer(live.app, assessment_id, "subprocessor_list_url") == \
        "https://vendor-one.example/subprocessors"
    page.reload()
    expect(page.locator("[name=subprocessor_list_url]")).to_have_value(
        "https://vendor-one.example/subprocessors")

    page.locator("#q-subprocessors button[name=add_row]").click()  # the script clones the row
    rows = page.locator("#q-subprocessors tbody tr[data-row]")
    expect(rows).to_have_count(2)
    expect(rows.nth(1).locator("button[name=remove_row]")).to_have_text("Remove row 2")
    expect(rows.nth(1).locator("button[name=remove_row]")).to_have_attribute(
        "value", "subprocessors-1")


def test_a_section_saves_without_javascript(live: Live, new_context: Any) -> None:
    assessment_id = j.seed_sent_assessment(live.app)
    page = j.new_page(new_context(java_script_enabled=False))
    j.login(page, live.url, "contact@vendor-one.example")
    page.goto(j.section_url(live.url, assessment_id, "service"))
    page.fill("[name=vendor_legal_name]", "Vendor One SAS")
    page.select_option("[name=vendor_establishment_country]", "FR")
    page.check("input[name=special_categories_processed][value=no]")
    page.click("#answer-form .actions button:not([name])")
    expect(page.locator(".flash--success")).to_be_visible()
    expect(page.locator("[name=vendor_legal_name]")).to_have_value("Vendor One SAS")
    expect(page.locator("input[name=special_categories_processed][value=no]")).to_be_checked()
    assert j.stored_answer(live.app, assessment_id, "vendor_establishment_country") == "FR"


def test_the_answering_page_speaks_its_language_with_every_field_labelled(live: Live,
                                                                           new_context: Any
                                                                           ) -> None:
    # The journey checks the labels of every section in English; here the language switch.
    assessment_id = j.seed_sent_assessment(live.app)
    page = j.new_page(new_context())
    j.login(page, live.url, "contact@vendor-one.example")
    url = j.section_url(live.url, assessment_id, "contract")
    for lang in ("en", "fr"):
        page.goto(f"{url}?lang={lang}")
        expect(page.locator("html")).to_have_attribute("lang", lang)
        _labels_everywhere(page)
    expect(page.locator("h1")).to_have_text("Contrat de sous-traitance")


def _labels_everywhere(page: Page) -> None:
    """Every visible or hidden form control of the page has an accessible name from a label."""
    unlabelled = page.evaluate("""() => Array.from(
        document.querySelectorAll("input:not([type=hidden]), select, textarea"))
        .filter(el => !(el.labels && el.labels.length) && !el.getAttribute("aria-label")
                      && !el.getAttribute("aria-labelledby"))
        .map(el => el.name || el.id)""")
    assert unlabelled == [], f"form fields without a label on {page.url}: {unlabelled}"
