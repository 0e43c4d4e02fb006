"""The security-measures description, the GDPR charter (preview, publishing, public page and PDF)
and the DOCX exports, generated in English and French from factory answers."""

from __future__ import annotations

import io

import pytest
from docx import Document
from sqlalchemy import func, select

from tests.factories.assessments import make_art28_assessment
from tests.factories.dpa import OVH, complete_answers, publish_dpa, set_draft_answers
from tests.factories.evidence import make_evidence_row
from tests.unit.dpa.test_register import INDIA_SCC, US_DPF
from vendorcheck.extensions import db
from vendorcheck.models import Organisation, Vendor
from vendorcheck.models.kit import CharterVersion, RegisterVersion
from vendorcheck.services import dpa as dpa_svc

SUBS = [OVH, US_DPF, INDIA_SCC]


@pytest.fixture(autouse=True)
def _instance(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    (tmp_path / "instance").mkdir()


@pytest.fixture
def published(app, world):
    """Vendor A published a DPA (US sub-processor under the DPF, Indian one under SCCs) and
    uploaded a penetration test report when answering buyer A's Art. 28 questionnaire."""
    with app.app_context():
        vendor_org = db.session.get(Organisation, world["a"].vendor_org.id)
        publish_dpa(None, vendor_org, subprocessors=SUBS)
        art28 = make_art28_assessment(db.session.get(Organisation, world["a"].buyer.id),
                                      db.session.get(Vendor, world["a"].vendor.id))
        make_evidence_row(art28, "security_testing", name="pentest-2026.pdf")
    return world


def _docx(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return Document(io.BytesIO(response.get_data()))


def _headings(document):
    return [p.text for p in document.paragraphs if p.style.name.startswith(("Heading", "Title"))]


def test_security_description_by_heading_with_evidence_and_gaps(app, client, published, login_as):
    login_as(published.user("a.vendor"))
    page = client.get("/vendor/kit/security").get_data(as_text=True)
    for heading in ("1. Access control", "2. Encryption", "3. Logging and monitoring",
                    "4. Backups and resilience", "5. Testing and evaluation of the measures",
                    "6. Incident handling", "7. Sub-processor management", "8. Physical security",
                    "9. Certifications"):
        assert heading in page
    assert "pentest-2026.pdf (uploaded on" in page
    assert "without undue delay after the processor becomes aware of them" in page
    assert "3 sub-processors are listed in Annex IV" in page
    french = client.get("/vendor/kit/security?locale=fr").get_data(as_text=True)
    assert "2. Chiffrement" in french and "7. Gestion des sous-traitants ultérieurs" in french


def test_vague_measures_are_to_be_completed_never_invented(app, client, published, login_as):
    with app.app_context():
        set_draft_answers(db.session.get(Organisation, published["a"].vendor_org.id),
                          complete_answers(SUBS, annex2_physical_security="We apply industry standards."))
    login_as(published.user("a.vendor"))
    page = client.get("/vendor/kit/security").get_data(as_text=True)
    assert "We apply industry standards." not in page
    assert "To be completed: Physical security" in page


def test_charter_preview_publish_and_public_page(app, client, published, login_as):
    login_as(published.user("a.vendor"))
    preview = client.get("/vendor/kit/charter").get_data(as_text=True)
    assert "Preview — not published" in preview and "To be completed before" not in preview
    assert client.post("/vendor/kit/charter/publish", data={}).status_code == 422
    assert client.post("/vendor/kit/charter/publish", data={"confirm": "y"}).status_code == 303
    again = client.post("/vendor/kit/charter/publish", data={"confirm": "y"})
    assert again.status_code == 409 and "Nothing changed" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(CharterVersion.id))) == 1
        slug = dpa_svc.profile_of(db.session.get(Organisation, published["a"].vendor_org.id)).slug
    login_as(None)
    public = client.get(f"/dpa/{slug}/charter").get_data(as_text=True)
    assert "GDPR charter" in public and "Version 1, published on" in public
    assert ("United States: Mailer Inc. (Transactional e-mail), EU-US Data Privacy Framework "
            "(recipient self-certified)") in public
    assert "India: Support India Pvt Ltd (Second-level support desk)" in public
    assert f'href="/dpa/{slug}/subprocessors"' in public and f'href="/dpa/{slug}/v1"' in public
    assert "Personal data breaches are notified to the controller without undue delay" in public
    french = client.get(f"/dpa/{slug}/charter?lang=fr").get_data(as_text=True)
    assert "Charte RGPD" in french and "Qui nous sommes" in french
    assert "Inde : " not in french and "Inde: Support India Pvt Ltd" in french
    pdf = client.get(f"/dpa/{slug}/charter.pdf?locale=fr")
    assert pdf.status_code == 200 and pdf.get_data().startswith(b"%PDF")
    assert client.get("/dpa/no-such-vendor/charter").status_code == 404
    login_as(published.user("a.admin"))  # the buyer sees it from its vendor page
    vendor_page = client.get(f"/buyer/vendors/{published['a'].vendor.id}").get_data(as_text=True)
    assert f'href="/dpa/{slug}/charter"' in vendor_page and "GDPR charter, version 1" in vendor_page
    assert f'href="/dpa/{slug}/v1#annex-iii"' in vendor_page
    login_as(published.user("b.admin"))
    other = client.get(f"/buyer/vendors/{published['b'].vendor.id}").get_data(as_text=True)
    assert "has not published a GDPR charter" in other


def test_missing_facts_block_publishing(app, client, world, login_as):
    with app.app_context():  # answers but no published DPA: the charter has nothing to link to
        set_draft_answers(db.session.get(Organisation, world["a"].vendor_org.id),
                          complete_answers([OVH]))
    login_as(world.user("a.vendor"))
    page = client.get("/vendor/kit/charter").get_data(as_text=True)
    assert "To be completed before publishing:" in page
    assert "A published DPA: the charter links to it." in page
    refused = client.post("/vendor/kit/charter/publish", data={"confirm": "y"})
    assert refused.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count(CharterVersion.id))) == 0


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_docx_exports_open_with_headings_and_tables(app, client, published, login_as, locale):
    login_as(published.user("a.vendor"))
    client.get("/vendor/kit")
    with app.app_context():
        version_id = db.session.scalar(select(func.max(RegisterVersion.id)))
    register = _docx(client.get(f"/vendor/kit/register/versions/{version_id}.docx?locale={locale}"))
    titles = _headings(register)
    words = {"en": ("3. Transfers to third countries (Art. 30(2)(c))", "United States"),
             "fr": ("3. Transferts vers des pays tiers (art. 30, § 2, c))", "États-Unis")}[locale]
    assert words[0] in titles
    transfer_table = next(t for t in register.tables if len(t.columns) == 4)
    assert [c.text for c in transfer_table.rows[1].cells][0] == words[1]
    assert "Data Privacy Framework" in transfer_table.rows[1].cells[2].text
    for kind, title in (("scc_reference", {"en": "Standard contractual clauses",
                                           "fr": "Clauses contractuelles types"}),
                        ("own_words", {"en": "Data processing agreement",
                                       "fr": "Contrat de sous-traitance"})):
        dpa = _docx(client.get(f"/vendor/kit/dpa.docx?kind={kind}&locale={locale}"))
        assert dpa.paragraphs[0].text.startswith(title[locale]), dpa.paragraphs[0].text
        annex_iv = dpa.tables[-1]
        assert len(annex_iv.rows) == 4  # header and three sub-processors
    charter = _docx(client.get(f"/vendor/kit/charter.docx?locale={locale}"))
    assert {"en": "Who we are", "fr": "Qui nous sommes"}[locale] in _headings(charter)
    security = _docx(client.get(f"/vendor/kit/security.docx?locale={locale}"))
    assert {"en": "2. Encryption", "fr": "2. Chiffrement"}[locale] in _headings(security)
    assert client.get("/vendor/kit/dpa.docx?kind=mixed").status_code == 422
