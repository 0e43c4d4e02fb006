"""Screenshots of the main journey in English and French, to look at the pages as a user does.

    .venv/bin/python -m tests.e2e.screenshots OUTDIR

Runs the journey of the browser test against a throw-away live app and writes full-page PNGs
(1280 px wide; the answering page also at 390 px) named `NN-page-LANG.png` into OUTDIR.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from playwright.sync_api import Page, sync_playwright

from tests.e2e import journey as j
from tests.e2e.live import CHROMIUM, CHROMIUM_ARGS, Live, live_server

LANGUAGES = ("en", "fr")
DESKTOP = {"width": 1280, "height": 900}
MOBILE = {"width": 390, "height": 844}


def with_lang(url: str, lang: str) -> str:
    """Return the URL with ?lang= set (the other query parameters kept)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "lang"] + [("lang", lang)]
    return urlunsplit(parts._replace(query=urlencode(query)))


class Camera:
    """Takes numbered full-page screenshots of the current page in every language."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.count = 0
        self.taken: list[Path] = []

    def shoot(self, page: Page, name: str, url: str | None = None) -> None:
        """Load `url` (default: the current page) in each language and save a full-page PNG."""
        self.count += 1
        target = url or page.url
        for lang in LANGUAGES:
            page.goto(with_lang(target, lang))
            page.wait_for_load_state("load")
            # A full-page capture has no viewport bottom: let the sticky save bar sit in the flow.
            page.evaluate("""document.querySelectorAll(".actions--sticky")
                             .forEach(el => { el.style.position = "static"; })""")
            path = self.out / f"{self.count:02d}-{name}-{lang}.png"
            page.screenshot(path=str(path), full_page=True)
            self.taken.append(path)
        page.goto(with_lang(target, "en"))


def run(out: Path) -> list[Path]:
    """Run the journey against a temporary live app and return the screenshots written."""
    out.mkdir(parents=True, exist_ok=True)
    camera = Camera(out)
    # As customers see it: no development-only menu entries (the outbox viewer).
    with tempfile.TemporaryDirectory() as tmp, live_server(Path(tmp), TESTING=False, ENV="demo") as live, \
            sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            _journey(live, browser, camera)
        finally:
            browser.close()
        if live.server_errors:
            raise SystemExit(f"the app answered server errors: {live.server_errors}")
    return camera.taken


def _journey(live: Live, browser: Any, camera: Camera) -> None:
    """Walk the buyer and vendor through the journey, shooting each page on the way."""
    seeded = j.seed_buyer(live.app)
    answers, sections = j.good_answers(live.app), j.sections_of(live.app)
    buyer = j.new_page(browser.new_context(viewport=DESKTOP))
    camera.shoot(buyer, "login", f"{live.url}/auth/login")
    j.login(buyer, live.url, j.BUYER_EMAIL)
    camera.shoot(buyer, "buyer-dashboard-empty", f"{live.url}/buyer/assessments")
    camera.shoot(buyer, "vendor-list", f"{live.url}/buyer/vendors")
    camera.shoot(buyer, "vendor-detail", f"{live.url}/buyer/vendors/{seeded.vendor_id}")
    camera.shoot(buyer, "send-form", f"{live.url}/buyer/assessments/new?vendor_id={seeded.vendor_id}")
    j.open_send_form(buyer, live.url, seeded.vendor_name)
    assessment_id = j.send_assessment(buyer)
    camera.shoot(buyer, "buyer-dashboard", f"{live.url}/buyer/assessments")

    vendor_context = browser.new_context(viewport=DESKTOP)
    vendor = j.new_page(vendor_context)
    invitation = live.mailbox.last_link(seeded.contact_email)
    camera.shoot(vendor, "accept-invitation", invitation)
    j.accept_invitation(vendor, invitation, "Jeanne Martin")
    camera.shoot(vendor, "vendor-assessments", f"{live.url}/vendor/assessments")
    camera.shoot(vendor, "vendor-overview", f"{live.url}/vendor/assessments/{assessment_id}")
    camera.shoot(vendor, "submit-missing", f"{live.url}/vendor/assessments/{assessment_id}/submit")
    watch = j.AutosaveWatch(vendor)
    for section_id, items in sections:
        vendor.goto(j.section_url(live.url, assessment_id, section_id))
        if section_id == "contract":
            camera.shoot(vendor, "section-empty", vendor.url)
        j.fill_section(vendor, items, answers, watch)
        if section_id == "contract":
            watch.settle()
            j.upload_evidence(vendor, "dpa_document", "signed-dpa.pdf", j.small_pdf())
        if section_id == "subprocessing":
            watch.settle()
            camera.shoot(vendor, "section-subprocessors", vendor.url)
            _mobile(browser, vendor_context, camera, vendor.url)
        j.save_and_continue(vendor, watch)
    camera.shoot(vendor, "vendor-overview-complete", f"{live.url}/vendor/assessments/{assessment_id}")
    camera.shoot(vendor, "submit", f"{live.url}/vendor/assessments/{assessment_id}/submit")
    j.submit_with_attestation(vendor, live.url, assessment_id, role="Data protection officer")
    camera.shoot(vendor, "vendor-submitted", vendor.url)

    base = f"{live.url}/buyer/assessments/{assessment_id}"
    buyer.goto(base)
    camera.shoot(buyer, "review-overview", base)
    camera.shoot(buyer, "review-section", f"{base}/sections/subprocessing")
    camera.shoot(buyer, "review-section-contract", f"{base}/sections/contract")
    camera.shoot(buyer, "decide", f"{base}/decide")
    j.record_decision(buyer, live.url, assessment_id, "approved_with_conditions",
                      "Test the backups before the renewal.")
    camera.shoot(buyer, "review-decided", base)
    camera.shoot(buyer, "buyer-dashboard-decided", f"{live.url}/buyer/assessments")
    camera.shoot(buyer, "members", f"{live.url}/org/members")


def _mobile(browser: Any, logged_in: Any, camera: Camera, url: str) -> None:
    """Shoot the answering page at phone width with the vendor's session."""
    context = browser.new_context(viewport=MOBILE, storage_state=logged_in.storage_state())
    try:
        camera.shoot(j.new_page(context), "section-mobile", url)
    finally:
        context.close()


def main(argv: list[str]) -> int:
    """Command line entry point."""
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    for path in run(Path(argv[0])):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
