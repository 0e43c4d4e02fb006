"""The signed audit report of a decided assessment: content, outline, signature, storage."""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pikepdf
import pytest
from asn1crypto.x509 import Certificate
from babel.dates import format_date
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader
from sqlalchemy import select

from tests.factories.accounts import make_org, make_user, make_vendor
from tests.factories.reports import make_reviewed_assessment
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry, Role
from vendorcheck.models.reports import StoredReport
from vendorcheck.pdf import verify_pdf
from vendorcheck.services import reports, signing, verification


@pytest.fixture(autouse=True)
def _instance(app, tmp_path, monkeypatch):
    """Keep keys and stored reports in a fresh instance folder."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    (tmp_path / "instance").mkdir()


@pytest.fixture
def seeded(app):
    with app.app_context():
        buyer = make_org("Acme Buyer SA", slug="acme")
        user = make_user("reviewer@acme.example", org=buyer, role=Role.ADMIN, name="Alice Reviewer")
        vendor = make_vendor(buyer, "Cloudy Inc.", owner=user)
        yield buyer, user, vendor


def _text(pdf: bytes) -> str:
    text = " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(text.split())


def _outline_titles(pdf: bytes) -> list[str]:
    titles: list[str] = []

    def walk(items):
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                titles.append(item.title)

    walk(PdfReader(io.BytesIO(pdf)).outline)
    return titles


def test_decided_report_in_french_is_complete_signed_and_stored(app, seeded):
    buyer, user, vendor = seeded
    assessment = make_reviewed_assessment(buyer, vendor, by=user)
    pdf = reports.render_assessment_report(assessment, locale="fr", by=user)

    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) > 1
    text = _text(pdf)
    for expected in ("Rapport d'audit", "Acme Buyer SA", "Cloudy Inc.", "art28-processor-audit",
                     assessment.questionnaire_version, assessment.questionnaire_sha256[:16], "Alice Reviewer",
                     "Synthèse", "Constats", "États-Unis", "Page 2 sur",
                     "Recourez-vous à des sous-traitants ultérieurs", "iso27001-cert.pdf",
                     "Which US region hosts the backups?", "us-east-1 only.", "/verify",
                     "art. 28, § 3", "Mitigated by contract clause 12."):
        assert expected in text, expected
    assert "vendorcheck-assessment:" in str(reader.metadata["/Keywords"])
    assert "Cloudy Inc." in str(reader.metadata["/Title"])
    outline = _outline_titles(pdf)
    assert "Synthèse" in outline and "Constats" in outline
    assert any(title.startswith("3. ") for title in outline)

    cert = signing.instance_certificate()
    assert verify_pdf(pdf, trust_roots=[cert]).ok
    vc = ValidationContext(trust_roots=[Certificate.load(cert.public_bytes(Encoding.DER))])
    status = validate_pdf_signature(PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0], vc)
    assert status.bottom_line and status.coverage.name == "ENTIRE_FILE"

    stored = db.session.scalars(select(StoredReport)).one()
    assert stored.sha256 == hashlib.sha256(pdf).hexdigest() and stored.locale == "fr"
    again = reports.render_assessment_report(assessment, locale="fr", by=user)
    assert again == pdf
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert actions.count("report.downloaded") == 2


def test_english_report_and_draft_is_not_stored(app, seeded):
    buyer, user, vendor = seeded
    assessment = make_reviewed_assessment(buyer, vendor, by=user, decided=False)
    pdf = reports.render_assessment_report(assessment, locale="en", by=user)
    text = _text(pdf)
    assert "DRAFT" in text and "United States" in text
    assert db.session.scalars(select(StoredReport)).all() == []
    check = verification.check_report(pdf)
    assert check.ok and check.stored is None and check.warnings


def test_the_report_writes_times_and_labels_as_pages_do(app, seeded):
    buyer, user, vendor = seeded
    assessment = make_reviewed_assessment(buyer, vendor, by=user)
    decided = assessment.decided_at
    for locale, joined in (("en", "{date}, {time} UTC"), ("fr", "{date} à {time} UTC")):
        text = _text(reports.render_assessment_report(assessment, locale=locale, by=user))
        stamp = joined.format(date=format_date(decided.date(), "medium", locale=locale),
                              time=decided.strftime("%H:%M"))  # "Dec 5, 2026, 07:26 UTC"
        assert stamp in text, (stamp, text[:600])
        assert decided.strftime("%H:%M:%S") not in text and " AM UTC" not in text
        assert " PM UTC" not in text
    # French puts a space before the colon: each label and its value are one message
    for expected in ("Commentaire de l'évaluateur : Vendor committed to fix this.",
                     "Déclenché par : ", "Réponse du fournisseur"):
        assert expected in text, expected
    assert "évaluateur: " not in text and "Déclenché par: " not in text


@pytest.fixture
def listener() -> Iterator[list[str]]:
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hits.append(f"port:{server.server_address[1]}")
    yield hits
    server.shutdown()
    server.server_close()


def test_hostile_answers_never_reach_the_pdf(app, seeded, listener):
    buyer, user, vendor = seeded
    port = listener[0].split(":")[1]
    hostile = (f'<img src="file:///etc/passwd"><link rel=attachment href=file:///etc/passwd>'
               f'<style>body{{background:url(http://127.0.0.1:{port}/bg.png)}}</style>'
               f'<a href="javascript:alert(1)">click</a> url(http://127.0.0.1:{port}/x)')
    assessment = make_reviewed_assessment(buyer, vendor, by=user, decided=False,
                                          extra_answers={"service_description": hostile},
                                          justifications={"dpa_signed": "javascript:alert(2)"})
    pdf = reports.render_assessment_report(assessment, locale="en", by=user)
    assert b"root:x:0:0" not in pdf
    assert b"/EmbeddedFile" not in pdf
    assert listener == [listener[0]], "the renderer made a network request"
    assert '<img src="file:///etc/passwd">' in _text(pdf)
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        for page in doc.pages:
            for annot in page.get("/Annots", []):
                action = annot.get("/A")
                if action is not None and "/URI" in action:
                    assert str(action["/URI"]).split(":")[0] in ("http", "https", "mailto")


def test_organisation_certificate_signs_the_report(app, seeded, tmp_path):
    from tests.support.signing import make_p12

    buyer, user, vendor = seeded
    p12, _cert = make_p12(tmp_path, "Acme Buyer SA signing")
    signing.upload_certificate(buyer, p12, "pw-123", by=user)
    assessment = make_reviewed_assessment(buyer, vendor, by=user)
    pdf = reports.render_assessment_report(assessment, locale="en", by=user)
    check = verification.check_report(pdf)
    assert check.ok and check.verification.signer == "Acme Buyer SA signing"
    assert check.stored is not None


def test_report_of_missing_questionnaire_is_a_clear_error(app, seeded):
    buyer, user, vendor = seeded
    assessment = make_reviewed_assessment(buyer, vendor, by=user)
    assessment.questionnaire_version = "9.9.9"
    with pytest.raises(reports.QuestionnaireMissing):
        reports.render_assessment_report(assessment, locale="en", by=user)
    db.session.rollback()


def test_instance_folder_is_used(app, seeded):
    signing.instance_certificate()
    assert (Path(app.instance_path) / "signing" / "instance.p12").is_file()
