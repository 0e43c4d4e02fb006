"""The main journey as small browser steps, shared by the browser tests and the screenshot script.

Selectors use names, ids and types, never visible text, so every step works in English and French.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect

from tests.factories.accounts import PASSWORD, make_org, make_user, make_vendor
from tests.factories.assessments import make_contact, make_scored_assessment
from tests.factories.questionnaires import GOOD, embedded_answers, shipped_questionnaire
from vendorcheck.extensions import db
from vendorcheck.models import Role
from vendorcheck.models.assessments import Assessment, AssessmentStatus

QID = "art28-processor-audit"
BUYER_EMAIL = "alice.martin@northwind.example"
VENDOR_EMAIL = "jeanne.martin@exemple-cloud.example"
SUBPROCESSORS = [
    {"name": "Hébergeur France SAS", "country": "FR", "purpose": "IaaS hosting (Paris region)",
     "flow_down_signed": "yes"},
    {"name": "Mailversand GmbH", "country": "DE", "purpose": "Transactional e-mail",
     "flow_down_signed": "yes"},
]
TIMEOUT_MS = 15_000


@dataclass
class Seeded:
    """Ids and names of what the journey starts from."""

    buyer_org_id: int
    vendor_id: int
    vendor_name: str
    contact_email: str


# --- seeding ----------------------------------------------------------------------------------------


def seed_buyer(app: Flask) -> Seeded:
    """Create a buyer organisation with its admin, three vendors, and a contact at the main one."""
    with app.app_context():
        buyer = make_org("Northwind Retail SAS", slug="northwind")
        admin = make_user(BUYER_EMAIL, org=buyer, role=Role.ADMIN, name="Alice Martin")
        vendor = make_vendor(buyer, "Exemple Cloud SAS", owner=admin)
        make_vendor(buyer, "Atlas Payroll Services Ltd", owner=admin, country="IE")
        make_vendor(buyer, "Brightdesk Support Software Incorporated (EMEA operations)",
                    owner=admin, country="NL")
        make_contact(vendor, VENDOR_EMAIL, "Jeanne Martin")
        return Seeded(buyer.id, vendor.id, vendor.legal_name, VENDOR_EMAIL)


def seed_sent_assessment(app: Flask, email: str = "contact@vendor-one.example",
                         answers: dict[str, Any] | None = None) -> int:
    """Create a buyer, a vendor organisation with one user, and an art28 assessment sent to it."""
    with app.app_context():
        buyer = make_org("Contoso Bank SA", slug="contoso")
        vendor_org = make_org("Vendor One SAS", buyer=False, vendor=True, slug="vendor-one")
        user = make_user(email, org=vendor_org, role=Role.ADMIN, name="Victor Vendor")
        vendor = make_vendor(buyer, "Vendor One SAS", vendor_org=vendor_org)
        contact = make_contact(vendor, user.email, user.name)
        status = AssessmentStatus.IN_PROGRESS if answers else AssessmentStatus.SENT
        assessment = make_scored_assessment(buyer, vendor, status=status, answers=answers,
                                            q=shipped_questionnaire(QID), contacts=[contact])
        return assessment.id


def good_answers(app: Flask) -> dict[str, Any]:
    """Return the questionnaire's own low-risk answer set, with one medium finding and two rows."""
    with app.app_context():
        answers = embedded_answers(GOOD, QID)
    answers["backups_tested"] = "no"  # raises the medium finding "backups not tested"
    answers["subprocessors"] = SUBPROCESSORS
    return answers


def sections_of(app: Flask) -> list[tuple[str, list[Any]]]:
    """Return (section id, items) of the questionnaire, in order."""
    with app.app_context():
        return [(s.id, list(s.items)) for s in shipped_questionnaire(QID).sections]


def assessment_status(app: Flask, assessment_id: int) -> AssessmentStatus:
    """Read an assessment's status from the database."""
    with app.app_context():
        found = db.session.get(Assessment, assessment_id)
        assert found is not None
        return found.status


def stored_answer(app: Flask, assessment_id: int, item_id: str) -> Any:
    """Read one stored answer value from the database."""
    with app.app_context():
        found = db.session.get(Assessment, assessment_id)
        assert found is not None
        row = next((a for a in found.answers if a.item_id == item_id), None)
        return None if row is None else row.value


# --- pages ------------------------------------------------------------------------------------------


def new_page(context: BrowserContext) -> Page:
    """Open a page whose waits fail fast with a clear timeout."""
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    return page


def login(page: Page, base: str, email: str, password: str = PASSWORD) -> None:
    """Log in through the login page."""
    page.goto(f"{base}/auth/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("main form button[type=submit]")
    expect(page).not_to_have_url(re.compile(r"/auth/login"))


def open_send_form(page: Page, base: str, vendor_name: str) -> None:
    """Open the send form and pick the vendor (the contacts list reloads for it)."""
    page.goto(f"{base}/buyer/assessments/new")
    page.select_option("#pick-vendor", label=vendor_name)
    page.click("form[method=get] button[type=submit]")
    expect(page.locator("input[name=contacts]")).to_have_count(1)


def send_assessment(page: Page, qid: str = QID) -> int:
    """Send the chosen questionnaire to the ticked contacts; return the new assessment's id."""
    form = page.locator("form[method=post]", has=page.locator("select[name=questionnaire]"))
    form.locator("select[name=questionnaire]").select_option(qid)
    form.locator("input[name=due_date]").fill((date.today() + timedelta(days=21)).isoformat())
    expect(form.locator("input[name=contacts]").first).to_be_checked()
    form.locator("textarea[name=message]").fill("Please answer before our renewal on 1 March.")
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/buyer/assessments/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def accept_invitation(page: Page, link: str, name: str, password: str = PASSWORD,
                      locale: str = "en") -> None:
    """Open the invitation link, create the account (in `locale`) and land logged in."""
    page.goto(link)
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    page.select_option("select[name=locale]", locale)
    page.click("main form button[type=submit]")
    expect(page).not_to_have_url(re.compile(r"/auth/invitations/"))


def open_vendor_assessment(page: Page, assessment_id: int) -> None:
    """Follow the menu to the vendor's questionnaires, then open this one."""
    page.click(".topnav a[href$='/vendor/assessments']")
    page.click(f"main a[href$='/vendor/assessments/{assessment_id}']")
    page.wait_for_url(re.compile(rf"/vendor/assessments/{assessment_id}$"))


def section_url(base: str, assessment_id: int, section_id: str) -> str:
    """Return the vendor's page of one section."""
    return f"{base}/vendor/assessments/{assessment_id}/sections/{section_id}"


# --- answering --------------------------------------------------------------------------------------


class AutosaveWatch:
    """Count the page's autosave requests in flight, to wait until every change is stored."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.pending = 0
        self.codes: list[int] = []
        page.on("request", self._started)
        page.on("requestfinished", self._finished)
        page.on("requestfailed", self._failed)

    @staticmethod
    def _is_autosave(request: Any) -> bool:
        return request.method == "POST" and request.url.endswith("/autosave")

    def _started(self, request: Any) -> None:
        if self._is_autosave(request):
            self.pending += 1

    def _finished(self, request: Any) -> None:
        if self._is_autosave(request):
            self.pending -= 1
            response = request.response()
            self.codes.append(response.status if response else 0)

    def _failed(self, request: Any) -> None:
        if self._is_autosave(request):
            self.pending -= 1
            self.codes.append(0)

    def settle(self) -> None:
        """Wait past the script's 600 ms debounce, then until no autosave is in flight."""
        self.page.wait_for_timeout(700)
        for _ in range(150):
            if self.pending <= 0:
                return
            self.page.wait_for_timeout(100)
        raise AssertionError("autosave requests still in flight after 15 s")


def fill_item(page: Page, item: Any, value: Any) -> None:
    """Answer one question the way a person would (click, type, pick), by its type."""
    box = page.locator(f"#q-{item.id}")
    expect(box).to_be_visible()
    kind = item.type
    if kind in ("yes_no", "single_choice"):
        box.locator(f"input[name='{item.id}'][value='{value}']").check()
    elif kind in ("multi_choice", "country_list") and box.locator("[role=combobox]").count():
        picker = box.locator("[role=combobox]")  # a long list: type the code, Enter adds it
        for choice in value:
            picker.fill(choice)
            picker.press("Enter")
            expect(box.locator(f"input[name='{item.id}'][value='{choice}']")).to_be_checked()
        picker.press("Escape")
    elif kind in ("multi_choice", "country_list"):
        for choice in value:
            box.locator(f"input[name='{item.id}'][value='{choice}']").check()
    elif kind == "country":
        box.locator(f"select[name='{item.id}']").select_option(str(value))
    elif kind == "table":
        fill_table(page, item, value)
    elif kind == "attestation":
        box.locator(f"#{item.id}-agreed").check()
        box.locator(f"#{item.id}-name").fill(value["name"])
        box.locator(f"#{item.id}-role").fill(value["role"])
        box.locator(f"#{item.id}-role").blur()
    else:
        field = box.locator(f"[name='{item.id}']")
        field.fill(str(value))
        field.blur()


def fill_table(page: Page, item: Any, rows: list[dict[str, Any]]) -> None:
    """Add rows with the "Add a row" button (the first one through the server) and fill them."""
    box = page.locator(f"#q-{item.id}")
    for index, row in enumerate(rows):
        if box.locator("tbody tr[data-row]").count() <= index:
            box.locator("button[name=add_row]").click()
            expect(box.locator("tbody tr[data-row]")).to_have_count(index + 1)
        for col in item.columns:
            if col.id not in row:
                continue
            cell = box.locator(f"[name='{item.id}-{index}-{col.id}']")
            if col.type in ("yes_no", "single_choice", "country"):
                cell.select_option(str(row[col.id]))
            else:
                cell.fill(str(row[col.id]))
                cell.blur()


def fill_section(page: Page, items: list[Any], answers: dict[str, Any], watch: AutosaveWatch
                 ) -> list[str]:
    """Answer every item of the section that has a value in `answers`; return those shown late."""
    # An item still hidden when its turn comes appears after "Save section": the server is the
    # authority on visibility, the page's script only anticipates it.
    revealed = []
    for item in items:
        if item.id not in answers or item.type in ("note", "file"):
            continue
        if page.locator(f"#q-{item.id}").is_hidden():
            watch.settle()
            page.click("#answer-form .actions button:not([name])")
            page.wait_for_load_state("domcontentloaded")
            revealed.append(item.id)
        if item.type == "table":
            watch.settle()  # the first "Add a row" goes through the server: store the rest first
        fill_item(page, item, answers[item.id])
    return revealed


def save_and_continue(page: Page, watch: AutosaveWatch) -> None:
    """Let autosave finish, then press "Save and continue" (the no-JavaScript path)."""
    watch.settle()
    page.click("#answer-form .actions button[name=next]")
    page.wait_for_load_state("domcontentloaded")
    expect(page.locator(".flash--error")).to_have_count(0)


def upload_evidence(page: Page, item_id: str, name: str, content: bytes) -> None:
    """Upload one file to an item's evidence box; the page comes back with the file listed."""
    box = page.locator(f"#q-{item_id}")
    box.locator(f"#file-{item_id}").set_input_files(
        {"name": name, "mimeType": "application/pdf", "buffer": content})
    box.locator(f"button[form='upload-{item_id}']").click()
    expect(page.locator(f"#q-{item_id} .evidence a", has_text=name)).to_be_visible()


def submit_with_attestation(page: Page, base: str, assessment_id: int, role: str) -> None:
    """Open the submit page (nothing missing), attest and submit."""
    page.goto(f"{base}/vendor/assessments/{assessment_id}/submit")
    expect(page.locator("input[name=name]")).to_be_visible()
    page.fill("input[name=role]", role)
    page.locator("main form[method=post] button[type=submit]").last.click()
    page.wait_for_url(re.compile(rf"/vendor/assessments/{assessment_id}$"))


# --- buyer review -----------------------------------------------------------------------------------


def record_decision(page: Page, base: str, assessment_id: int, decision: str, comment: str) -> None:
    """Record the decision with the prefilled next review date."""
    page.goto(f"{base}/buyer/assessments/{assessment_id}/decide")
    page.check(f"input[name=decision][value={decision}]")
    page.fill("textarea[name=comment]", comment)
    if page.locator("textarea[name=reason]").count():  # open serious findings: a reason is required
        page.fill("textarea[name=reason]", "Accepted for the test journey.")
    expect(page.locator("input[name=next_review_date]")).not_to_have_value("")
    page.click("main form[method=post] button[type=submit]")
    page.wait_for_url(re.compile(rf"/buyer/assessments/{assessment_id}$"))


def download_report(page: Page) -> bytes:
    """Click the report link on the review page and return the downloaded bytes."""
    with page.expect_download(timeout=180_000) as info:  # rendered and signed on first download
        page.click("a[href*='/report.pdf']")
    path = info.value.path()
    return path.read_bytes()


# --- files ------------------------------------------------------------------------------------------


def small_pdf(title: str = "Signed DPA") -> bytes:
    """Return a small valid one-page PDF showing `title` (objects and cross-reference by hand)."""
    text = title.encode("latin-1").replace(b"(", b"[").replace(b")", b"]")
    content = b"BT /F1 24 Tf 72 760 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
              .encode())
    return out.getvalue()
