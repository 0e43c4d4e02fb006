"""Screenshots of the main pages in English and French, on the demo data, to look at them as users do.

    .venv/bin/python scripts/screenshots.py OUTDIR

Builds a throw-away app (SQLite in a temporary folder, the demo seed, one assessment sent to the first
demo vendor with one question from the buyer), serves it on 127.0.0.1 on a free port, opens each page in
headless Chromium (VENDORCHECK_E2E_CHROMIUM, default /usr/bin/chromium) as a visitor, the buyer's admin and
the vendor, and writes full-page PNGs named `NN-page-LANG.png` (1280 px wide) into OUTDIR. Nothing is kept
but the PNGs.
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import select
from werkzeug.serving import WSGIRequestHandler, make_server

from vendorcheck import create_app
from vendorcheck.extensions import db
from vendorcheck.models import Contact, Organisation, User, Vendor
from vendorcheck.models.assessments import Clarification
from vendorcheck.services import demo
from vendorcheck.services.assessments import send_assessment
from vendorcheck.services.dpa import profile_of

CHROMIUM = os.environ.get("VENDORCHECK_E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
LANGUAGES = ("en", "fr")
VIEWPORT = {"width": 1280, "height": 900}
QUESTIONNAIRE = "art28-processor-audit"


@dataclass(frozen=True)
class Seeded:
    """What the pages are about: the sent assessment, the vendor record, the public DPA's slug."""

    assessment_id: int
    vendor_id: int
    dpa_slug: str
    buyer_email: str
    vendor_email: str


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        """Keep the console for the list of screenshots."""


def make_app(tmp: Path, base_url: str) -> Flask:
    """Create the app on a SQLite file in `tmp`, its schema, and the demo data."""
    app = create_app({
        "SECRET_KEY": secrets.token_hex(32), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'shots.sqlite3'}",
        "BASE_URL": base_url, "EVIDENCE_DIR": str(tmp / "evidence"), "REDIS_URL": None,
        "RATELIMIT_ENABLED": False, "ENV": "demo", "SERVER_NAME": None,
    })
    app.instance_path = str(tmp / "instance")  # the signing key lives here
    os.makedirs(app.instance_path, exist_ok=True)
    with app.app_context():
        db.create_all()
        demo.seed()
    return app


def seed_assessment(app: Flask) -> Seeded:
    """Send the audit questionnaire to the first demo vendor, as the buyer's admin."""
    buyer_spec, (vendor_name, *_rest, contact_spec) = demo.BUYER_USERS[0], demo.VENDORS[0]
    with app.test_request_context("/"):  # the invitation e-mail builds links
        admin = db.session.scalars(select(User).where(User.email == buyer_spec.email)).one()
        buyer_org = admin.memberships[0].organisation
        vendor = db.session.scalars(select(Vendor).where(Vendor.buyer_org_id == buyer_org.id,
                                                         Vendor.legal_name == vendor_name)).one()
        contacts = list(db.session.scalars(select(Contact).where(Contact.vendor_id == vendor.id)))
        questionnaire = app.extensions["questionnaires"].get(QUESTIONNAIRE)
        assessment = send_assessment(buyer_org, vendor, questionnaire,
                                     due_date=date.today() + timedelta(days=21), contacts=contacts,
                                     message="Please answer before the renewal.", by=admin)
        # A buyer's question, so that the vendor's overview shows the answer form with its optional file.
        db.session.add(Clarification(assessment_id=assessment.id, item_id="vendor_legal_name",
                                     question="Which entity signs the agreement?", asked_by_id=admin.id))
        db.session.commit()
        slugs = [p.slug for org in db.session.scalars(select(Organisation).where(Organisation.is_vendor))
                 if (p := profile_of(org)) is not None]
        return Seeded(assessment.id, vendor.id, slugs[0] if slugs else "", buyer_spec.email,
                      contact_spec.email)


@contextmanager
def serve(tmp: Path) -> Iterator[tuple[Flask, str]]:
    """Serve the app on 127.0.0.1 on a free port in a thread; stop it after the block."""
    server = make_server("127.0.0.1", 0, lambda env, start: [], threaded=True, request_handler=_Quiet)
    base_url = f"http://127.0.0.1:{server.server_port}"
    app = make_app(tmp, base_url)
    server.app = app
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, base_url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class Camera:
    """Numbered full-page screenshots of one page in every language."""

    def __init__(self, out: Path, base_url: str) -> None:
        self.out, self.base_url, self.count = out, base_url, 0
        self.taken: list[Path] = []

    def shoot(self, page: Page, name: str, path: str) -> None:
        """Open `path` in each language and save a full-page PNG of it."""
        self.count += 1
        for lang in LANGUAGES:
            joiner = "&" if "?" in path else "?"
            response = page.goto(f"{self.base_url}{path}{joiner}lang={lang}")
            if response is not None and response.status >= 500:
                raise SystemExit(f"{path} answered {response.status}")
            page.wait_for_load_state("load")
            # A full-page capture has no viewport bottom: let the sticky save bar sit in the flow.
            page.evaluate("""document.querySelectorAll(".actions--sticky")
                             .forEach(el => { el.style.position = "static"; })""")
            target = self.out / f"{self.count:02d}-{name}-{lang}.png"
            page.screenshot(path=str(target), full_page=True)
            self.taken.append(target)


def logged_in(browser: Browser, base_url: str, email: str) -> Page:
    """Return a page of a new browser context logged in as `email` with the demo password."""
    page = browser.new_context(viewport=VIEWPORT).new_page()
    page.goto(f"{base_url}/auth/login?lang=en")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", demo.DEMO_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state("load")
    if "/auth/login" in page.url:
        raise SystemExit(f"could not log in as {email}")
    return page


def shoot_all(browser: Browser, camera: Camera, seeded: Seeded, sections: list[str]) -> None:
    """Shoot the visitor's, the buyer's and the vendor's main pages."""
    a, base = seeded.assessment_id, camera.base_url
    visitor = browser.new_context(viewport=VIEWPORT).new_page()
    camera.shoot(visitor, "home", "/")
    camera.shoot(visitor, "login", "/auth/login")
    if seeded.dpa_slug:
        camera.shoot(visitor, "public-dpa", f"/dpa/{seeded.dpa_slug}")
        camera.shoot(visitor, "public-subprocessors", f"/dpa/{seeded.dpa_slug}/subprocessors")

    buyer = logged_in(browser, base, seeded.buyer_email)
    camera.shoot(buyer, "buyer-dashboard", "/buyer/assessments")
    camera.shoot(buyer, "vendor-list", "/buyer/vendors")
    camera.shoot(buyer, "vendor-detail", f"/buyer/vendors/{seeded.vendor_id}")
    camera.shoot(buyer, "send-form", f"/buyer/assessments/new?vendor_id={seeded.vendor_id}")
    camera.shoot(buyer, "review-overview", f"/buyer/assessments/{a}")
    camera.shoot(buyer, "members", "/org/members")
    camera.shoot(buyer, "profile", "/auth/profile")

    vendor = logged_in(browser, base, seeded.vendor_email)
    camera.shoot(vendor, "vendor-assessments", "/vendor/assessments")
    camera.shoot(vendor, "vendor-overview", f"/vendor/assessments/{a}")
    for section_id in sections[:2]:
        camera.shoot(vendor, f"section-{section_id}", f"/vendor/assessments/{a}/sections/{section_id}")
    camera.shoot(vendor, "submit", f"/vendor/assessments/{a}/submit")
    camera.shoot(vendor, "vendor-dpa", "/vendor/dpa")
    camera.shoot(vendor, "vendor-dpa-preview", "/vendor/dpa/preview/public")


def run(out: Path) -> list[Path]:
    """Build the app, serve it, shoot every page; return the PNGs written."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, serve(Path(tmp)) as (app, base_url), \
            sync_playwright() as playwright:
        seeded = seed_assessment(app)
        sections = [s.id for s in app.extensions["questionnaires"].get(QUESTIONNAIRE).sections]
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        camera = Camera(out, base_url)
        try:
            shoot_all(browser, camera, seeded, sections)
        finally:
            browser.close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    return camera.taken


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
