"""Public DPA pages: no login, only published content, 404/400 on bad input, feeds, signed PDF."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader
from sqlalchemy import func, select

from tests.factories.dpa import MAILER, OVH, publish_dpa
from vendorcheck.extensions import db
from vendorcheck.models.dpa import DpaPdf
from vendorcheck.pdf.signing import CERT_NAME

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(autouse=True)
def _instance(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    (tmp_path / "instance").mkdir()


@pytest.fixture
def two_versions(app, world):
    """Vendor A publishes v1 (OVH) then v2 (OVH + a US mailer), the Commission's clauses by
    reference (the default kind); returns the slug."""
    with app.app_context():
        publish_dpa(world, world["a"].vendor_org, subprocessors=[OVH])
        return publish_dpa(world, world["a"].vendor_org, subprocessors=[OVH, MAILER]).profile.slug


@pytest.fixture
def own_words_versions(app, world):
    """Vendor B publishes the same two versions as a DPA in its own words; returns the slug."""
    with app.app_context():
        publish_dpa(world, world["b"].vendor_org, subprocessors=[OVH], kind="own_words")
        return publish_dpa(world, world["b"].vendor_org, subprocessors=[OVH, MAILER],
                           kind="own_words").profile.slug


def test_pages_open_without_login(client, two_versions):
    slug = two_versions
    for path in (f"/dpa/{slug}", f"/dpa/{slug}/v1", f"/dpa/{slug}/v2", f"/dpa/{slug}/versions",
                 f"/dpa/{slug}/diff?from=1&to=2", f"/dpa/{slug}/subprocessors"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.mimetype == "text/html"


def test_latest_page_shows_clauses_and_annexes(client, two_versions):
    page = client.get(f"/dpa/{two_versions}?lang=en").get_data(as_text=True)
    for text in ("Part B — Options chosen", "Annex I", "Annex II", "Annex III", "Annex IV",
                 "Implementing Decision (EU) 2021/915", "Option 2, general written authorisation",
                 "at least 30 days in advance", "at the latest 24 hours", "Art. 28(7) GDPR",
                 "Mailer Inc.", "privacy@mailer.example",
                 "EU standard contractual clauses (Decision 2021/914)",
                 "The controller: the party accepting this DPA"):
        assert text in page, text
    assert "The processor processes personal data only on documented instructions" not in page


def test_own_words_page_shows_its_clauses_and_annexes(client, own_words_versions):
    page = client.get(f"/dpa/{own_words_versions}?lang=en").get_data(as_text=True)
    for text in ("Data processing agreement (Art. 28 GDPR)", "Clause 5.7 — Sub-processors",
                 "at least 30 days before the change takes effect", "within 24 hours",
                 "Art. 28(3)(a) GDPR", "Annex IV", "Delimitation of responsibilities",
                 "Mailer Inc.", "privacy@mailer.example"):
        assert text in page, text
    assert "Invariability" not in page and "undertake not to modify" not in page


def test_french_switch(client, two_versions, own_words_versions):
    page = client.get(f"/dpa/{two_versions}?lang=fr").get_data(as_text=True)
    assert '<article class="dpa-doc dpa-doc--scc-reference" lang="fr">' in page
    assert "Options choisies" in page and "CELEX 32021D0915" in page
    assert "le responsable du traitement" in page and "Annexe IV" in page
    assert "art. 28, § 7 RGPD" in page
    own = client.get(f"/dpa/{own_words_versions}?lang=fr").get_data(as_text=True)
    assert '<article class="dpa-doc dpa-doc--own-words" lang="fr">' in own
    assert "Sous-traitants ultérieurs" in own and "art. 28, § 3, a) RGPD" in own


def test_answers_are_escaped(app, client, world):
    with app.app_context():
        slug = publish_dpa(world, world["a"].vendor_org, subprocessors=[
            dict(OVH, name="<script>alert(1)</script> Evil SAS")]).profile.slug
    for path in (f"/dpa/{slug}", f"/dpa/{slug}/subprocessors", f"/dpa/{slug}/subprocessors.atom"):
        body = client.get(path).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in body, path
        assert "&lt;script&gt;" in body, path


@pytest.mark.parametrize("path", ["/dpa/no-such-vendor", "/dpa/no-such-vendor/v1",
                                  "/dpa/no-such-vendor/subprocessors.json", "/dpa/ab",
                                  "/dpa/UPPER-case"])
def test_unknown_slug_is_404(client, two_versions, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("number", ["0", "3", "-1", "99999999999999999999", "2147483648"])
def test_forged_version_numbers_are_404(client, two_versions, number):
    assert client.get(f"/dpa/{two_versions}/v{number}").status_code == 404
    assert client.get(f"/dpa/{two_versions}/v{number}.pdf").status_code == 404


def test_profile_without_version_is_404(app, client, world, login_as):
    login_as(world.user("a.vendor"))
    client.post("/vendor/dpa/draft")
    login_as(None)
    with app.app_context():
        from vendorcheck.models.dpa import DpaProfile

        slug = db.session.scalar(select(DpaProfile.slug))
    assert client.get(f"/dpa/{slug}").status_code == 404


@pytest.mark.parametrize("query", ["", "?from=1", "?from=x&to=2", "?from=1&to=1",
                                   "?from=-1&to=2", "?from=1&to=2.5",
                                   "?from=1&to=99999999999999999999", "?from=%C2%B2&to=1",
                                   "?from=%D9%A1&to=2", "?from=%00&to=2"])
def test_bad_diff_params_are_400(client, two_versions, query):
    response = client.get(f"/dpa/{two_versions}/diff{query}")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "version" in text


def test_diff_with_unknown_version_is_404(client, two_versions):
    assert client.get(f"/dpa/{two_versions}/diff?from=1&to=7").status_code == 404


def test_diff_shows_added_subprocessor_and_changed_clause(client, two_versions,
                                                          own_words_versions):
    page = client.get(f"/dpa/{two_versions}/diff?from=1&to=2&lang=en").get_data(as_text=True)
    assert "<ins>Mailer Inc.</ins>" in page
    assert "Added" in page  # marked in words, not colour only
    reverse = client.get(f"/dpa/{two_versions}/diff?from=2&to=1&lang=en").get_data(as_text=True)
    assert "<del>Mailer Inc.</del>" in reverse
    own = client.get(f"/dpa/{own_words_versions}/diff?from=1&to=2&lang=en").get_data(as_text=True)
    assert "Clause 5.8" in own  # the transfer paragraph changed with a US sub-processor
    assert "The kind of document changed" not in own


def test_diff_across_kinds_says_so(app, client, world, two_versions):
    with app.app_context():
        publish_dpa(world, world["a"].vendor_org, subprocessors=[OVH, MAILER], kind="own_words")
    page = client.get(f"/dpa/{two_versions}/diff?from=2&to=3&lang=en").get_data(as_text=True)
    assert "The kind of document changed" in page
    assert "Part A" in page and "Clause 5.7" in page  # removed parts, added clauses
    versions = client.get(f"/dpa/{two_versions}/versions").get_data(as_text=True)
    assert "by reference" in versions and "own words" in versions


def test_subprocessors_json(client, two_versions):
    response = client.get(f"/dpa/{two_versions}/subprocessors.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = json.loads(response.get_data(as_text=True))
    assert body["schema"] == "vendorcheck/dpa-subprocessors@2"
    assert body["version"] == 2 and len(body["sha256"]) == 64
    assert body["proposed_changes"] == [], "v2 is in force: nothing announced is pending"
    assert body["subprocessors"][1] == {
        "name": "Mailer Inc.", "address": "1 Market St, San Francisco", "country": "US",
        "activity": "Transactional e-mail", "location": "US", "transfer_tool": "scc_2021"}
    assert body["subprocessors"][0]["transfer_tool"] is None


def test_atom_feed_is_valid_atom(client, two_versions):
    response = client.get(f"/dpa/{two_versions}/subprocessors.atom")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    feed = ET.fromstring(response.get_data())
    assert feed.tag == f"{ATOM}feed"
    for tag in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{tag}") is not None, tag
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 2  # v1 introduced OVH, v2 added the mailer
    for entry in entries:
        for tag in ("id", "title", "updated", "link"):
            assert entry.find(f"{ATOM}{tag}") is not None, tag
    assert "Mailer Inc." in entries[0].find(f"{ATOM}summary").text
    ids = [e.find(f"{ATOM}id").text for e in entries]
    assert len(set(ids)) == 2


def _trusted_root(app):
    with app.app_context():
        from vendorcheck.services.signing import instance_certificate

        instance_certificate()
    return load_cert_from_pemder(str(Path(app.instance_path) / "signing" / CERT_NAME))


@pytest.mark.slow
def test_signed_pdf_is_stored_once_and_verifies(app, client, runner, two_versions, tmp_path):
    first = client.get(f"/dpa/{two_versions}/v2.pdf?locale=fr")
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    again = client.get(f"/dpa/{two_versions}/v2.pdf?locale=fr")
    assert again.get_data() == first.get_data()
    with app.app_context():
        assert db.session.scalar(select(func.count(DpaPdf.id))) == 1
    data = first.get_data()
    text = "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    assert "Clauses contractuelles types" in text and "Mailer Inc." in text
    assert "32021D0915" in text
    (embedded,) = PdfFileReader(io.BytesIO(data)).embedded_signatures
    status = validate_pdf_signature(embedded, ValidationContext(trust_roots=[_trusted_root(app)]))
    assert status.bottom_line and status.coverage.name == "ENTIRE_FILE"
    path = tmp_path / "dpa.pdf"
    path.write_bytes(data)
    result = runner.invoke(args=["report", "verify", str(path)])
    assert result.exit_code == 0, result.output
    assert "VALID" in result.output and "signed data processing agreement" in result.output
    assert "Not issued by this instance" not in result.output
    page = client.post("/verify", data={"file": (io.BytesIO(data), "dpa.pdf")},
                       content_type="multipart/form-data")
    assert page.status_code == 200
    assert "signed data processing agreement" in page.get_data(as_text=True)
    if shutil.which("pdfsig"):
        output = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout
        assert "Signature Validation: Signature is Valid." in output


@pytest.mark.slow
def test_tampered_pdf_fails_verify(client, runner, two_versions, tmp_path):
    data = bytearray(client.get(f"/dpa/{two_versions}/v1.pdf?locale=en").get_data())
    data[3000] ^= 0x01
    path = tmp_path / "bad.pdf"
    path.write_bytes(bytes(data))
    result = runner.invoke(args=["report", "verify", str(path)])
    assert result.exit_code == 1


def test_unknown_pdf_locale_is_400(client, two_versions):
    assert client.get(f"/dpa/{two_versions}/v1.pdf?locale=de").status_code == 400


def test_public_pages_are_rate_limited(two_versions, limited_client):
    statuses = [limited_client.get(f"/dpa/{two_versions}/versions").status_code
                for _ in range(121)]
    assert statuses[:120] == [200] * 120
    assert statuses[120] == 429


@pytest.mark.slow
def test_own_words_pdf_renders_and_is_signed(client, own_words_versions):
    response = client.get(f"/dpa/{own_words_versions}/v2.pdf?locale=fr")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    data = response.get_data()
    text = "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    assert "Contrat de sous-traitance (art. 28 RGPD)" in text and "Mailer Inc." in text
    assert "privacy@mailer.example" in text  # Annex IV names the contact person
    assert len(PdfFileReader(io.BytesIO(data)).embedded_signatures) == 1
