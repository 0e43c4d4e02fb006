"""Evidence packs: a real pack of a seeded assessment, its structure, signature and the CLI."""

from __future__ import annotations

import hashlib
import io
import os
import random
import shutil
import subprocess
import tracemalloc
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from asn1crypto.x509 import Certificate
from cryptography.hazmat.primitives.serialization import Encoding
from flask_babel import force_locale, gettext
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader
from sqlalchemy import select

from tests.factories.accounts import make_org, make_user, make_vendor
from tests.factories.evidence import XLSX, add_every_kind, make_evidence, two_page_pdf
from tests.factories.reports import make_reviewed_assessment
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry, Role
from vendorcheck.models.assessments import Evidence
from vendorcheck.models.kit import AssessmentCharterLink, CharterVersion
from vendorcheck.services import pack_build, packs, reports, signing
from vendorcheck.storage import Area, current_store


@pytest.fixture(autouse=True)
def _instance(app, tmp_path, monkeypatch):
    """Keep keys, stored reports, packs and evidence in fresh folders."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    (tmp_path / "instance").mkdir()
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path / "evidence"))


@pytest.fixture
def seeded(app):
    with app.app_context():
        buyer = make_org("Acme Buyer SA", slug="acme")
        user = make_user("reviewer@acme.example", org=buyer, role=Role.ADMIN, name="Alice Reviewer")
        vendor = make_vendor(buyer, "Cloudy Inc.", owner=user)
        assessment = make_reviewed_assessment(buyer, vendor, by=user)
        contents = add_every_kind(assessment)
        yield assessment, user, contents


# --------------------------------------------------------------------------------- helpers

def outline(reader: PdfReader) -> list[tuple[str, int, list[tuple[str, int]]]]:
    """Return the top-level outline entries with their page index and children."""
    entries: list[tuple[str, int, list[tuple[str, int]]]] = []
    for item in reader.outline:
        if isinstance(item, list):
            children = [(c.title, reader.get_destination_page_number(c)) for c in item]
            entries[-1] = (entries[-1][0], entries[-1][1], children)
        else:
            entries.append((item.title, reader.get_destination_page_number(item), []))
    return entries


def tr(locale: str, text: str, **values: Any) -> str:
    """Return a source string in ``locale`` (translated or not, the pack must match)."""
    with force_locale(locale):
        return gettext(text, **values)


def validate(path: Path) -> Any:
    cert = signing.instance_certificate()
    vc = ValidationContext(trust_roots=[Certificate.load(cert.public_bytes(Encoding.DER))])
    with path.open("rb") as handle:
        return validate_pdf_signature(PdfFileReader(handle).embedded_signatures[0], vc)


# ----------------------------------------------------------------------------------- tests

@pytest.mark.slow
@pytest.mark.parametrize("locale", ["fr", "en"])
def test_pack_structure_attachments_metadata_and_signature(app, seeded, tmp_path, runner, locale):
    assessment, user, contents = seeded
    out = tmp_path / f"pack-{locale}.pdf"
    steps: list[int] = []
    built = packs.build_pack([assessment], locale=locale, output=out, by=user,
                             progress=lambda percent, message: steps.append(percent))
    if os.environ.get("VENDORCHECK_KEEP_PACK"):
        shutil.copyfile(out, Path(os.environ["VENDORCHECK_KEEP_PACK"]) / out.name)
    assert steps == sorted(steps) and steps[-1] == 99

    report = reports.signed_report(assessment, locale, user)
    report_pages = len(PdfReader(io.BytesIO(report)).pages)
    reader = PdfReader(out)
    entries = outline(reader)
    titles = [title for title, _page, _children in entries]
    assert titles == [tr(locale, "Cover"),
                      tr(locale, "Audit report — assessment #%(id)s", id=assessment.id),
                      tr(locale, "Manifest of evidence files"), tr(locale, "Evidence")]
    cover_at, report_at, manifest_at, evidence_at = (page for _t, page, _c in entries)
    assert cover_at == 0 and report_at in (1, 2)
    assert manifest_at - report_at == report_pages
    children = entries[-1][2]
    assert [title for title, _page in children] == [
        "2. pentest.pdf", "3. datacentre.png", "4. badge.jpg"]
    assert children[0][1] == evidence_at
    # cover + report + manifest + 2 PDF pages + one page per image
    assert len(reader.pages) == evidence_at + 2 + 1 + 1 == built.pages
    assert [page for _t, page in children] == [evidence_at, evidence_at + 2, evidence_at + 3]

    text = " ".join((reader.pages[0].extract_text() or "").split())
    for expected in ("Acme Buyer SA", "Cloudy Inc.", "art28-processor-audit",
                     assessment.questionnaire_sha256[:20], hashlib.sha256(report).hexdigest()[:20]):
        assert expected in text, expected
    title = ("Audit du sous-traitant (article 28 du RGPD)" if locale == "fr"
             else "GDPR Article 28 processor audit")
    assert title in text  # the questionnaire by its title, not only its id
    report_text = reader.pages[report_at].extract_text() or ""
    assert ("Rapport d'audit" if locale == "fr" else "Audit report") in report_text
    manifest_text = " ".join(" ".join(
        (reader.pages[i].extract_text() or "") for i in range(manifest_at, evidence_at)).split())
    for name, content in contents.items():
        assert name in manifest_text, name
        assert hashlib.sha256(content).hexdigest()[:24] in manifest_text.replace(" ", "") or \
            hashlib.sha256(content).hexdigest()[:24] in manifest_text, name
    assert "iso27001-cert.pdf" in manifest_text  # recorded, but gone from storage
    image_text = reader.pages[evidence_at + 2].extract_text() or ""
    assert "datacentre.png" in image_text
    assert "/EvidenceImage" in str(reader.pages[evidence_at + 2]["/Resources"]["/XObject"])

    attached = {"policy.docx", "controls.xlsx", "sub-processors.csv", "scan-broken.pdf"}
    assert set(reader.attachments) == attached == set(built.attachments)
    for name in attached:
        assert reader.attachments[name] == [contents[name]], name
    with pikepdf.open(out) as pdf:
        assert len(pdf.Root.AF) == 4
        for name, spec in pdf.attachments.items():
            assert spec.obj.AFRelationship == pikepdf.Name.Supplement
            stream = spec.obj.EF.F
            assert int(stream.Params.Size) == len(contents[name])
            assert bytes(stream.Params.CheckSum) == hashlib.md5(contents[name]).digest()
        subtypes = {name: str(spec.obj.EF.F.Subtype) for name, spec in pdf.attachments.items()}
    assert subtypes["controls.xlsx"] == "/" + XLSX and subtypes["sub-processors.csv"] == "/text/csv"

    meta = reader.metadata
    assert "Cloudy Inc." in meta.title and meta.author.startswith("vendorcheck instance")
    assert "Acme Buyer SA" in meta.subject
    assert f"assessments:{assessment.id}" in str(meta["/Keywords"])

    status = validate(out)
    assert status.intact and status.valid and status.trusted and status.bottom_line
    assert status.coverage.name == "ENTIRE_FILE" and status.modification_level.name == "NONE"
    assert built.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    result = runner.invoke(args=["report", "verify", str(out)])
    assert result.exit_code == 0, result.output
    if shutil.which("pdfsig"):
        sig = subprocess.run(["pdfsig", str(out)], capture_output=True, text=True, check=False)
        assert "Total document signed" in sig.stdout and "Signature is Valid" in sig.stdout


def test_manifest_says_why_a_file_is_attached(app, seeded, tmp_path):
    assessment, user, _contents = seeded
    encrypted = io.BytesIO()
    with pikepdf.open(io.BytesIO(two_page_pdf("Secret"))) as pdf:
        pdf.save(encrypted, encryption=pikepdf.Encryption(user="u", owner="o"))
    make_evidence(assessment, "certifications", name="locked.pdf", content=encrypted.getvalue(),
                  content_type="application/pdf")
    changed = make_evidence(assessment, "certifications", name="tampered.csv", content=b"a,b\n",
                            content_type="text/csv")
    (Path(app.config["EVIDENCE_DIR"]) / changed.storage_key).write_bytes(b"a,b,c\n")
    out = tmp_path / "pack.pdf"
    built = packs.build_pack([assessment], locale="en", output=out, by=user)
    assert {"locked.pdf", "tampered.csv", "scan-broken.pdf"} <= set(built.attachments)
    reader = PdfReader(out)
    text = " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())
    assert "the PDF is encrypted" in text
    assert "no longer matches the SHA-256" in text
    assert "could not be read as its type" in text
    assert "missing from storage" in text


def test_manifest_lists_the_attached_charter(app, seeded, tmp_path):
    assessment, user, _contents = seeded
    charter = CharterVersion(vendor_org_id=assessment.buyer_org_id, number=3, sha256="c" * 64,
                             facts={})
    db.session.add(charter)
    db.session.flush()
    db.session.add(AssessmentCharterLink(assessment_id=assessment.id, charter_version_id=charter.id))
    db.session.commit()
    out = tmp_path / "pack.pdf"
    packs.build_pack([assessment], locale="en", output=out, by=user)
    text = " ".join(" ".join(page.extract_text() or "" for page in PdfReader(out).pages).split())
    assert "GDPR charter attached as evidence" in text and "Version 3, published" in text


def test_vendor_pack_holds_every_assessment(app, seeded, tmp_path, runner):
    assessment, user, _contents = seeded
    second = make_reviewed_assessment(assessment.buyer_org, assessment.vendor, by=user, decided=False)
    make_evidence(second, "certifications", name="second.csv", content=b"x\n", content_type="text/csv")
    out = tmp_path / "vendor.pdf"
    result = runner.invoke(args=["report", "pack", "--vendor", str(assessment.vendor_id),
                                 "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "[ 99 %] Storing the pack" in result.output and "SHA-256:" in result.output
    titles = [t for t, _p, _c in outline(PdfReader(out))]
    assert f"Audit report — assessment #{assessment.id}" in titles
    assert f"Audit report — assessment #{second.id}" in titles
    assert "second.csv" in PdfReader(out).attachments
    assert runner.invoke(args=["report", "verify", str(out)]).exit_code == 0
    assert "pack.built" in db.session.scalars(select(AuditEntry.action)).all()


def test_cli_pack_and_its_errors(app, seeded, tmp_path, runner):
    assessment, _user, _contents = seeded
    out = tmp_path / "pack.pdf"
    result = runner.invoke(args=["report", "pack", str(assessment.id), "-o", str(out),
                                 "--locale", "fr"])
    assert result.exit_code == 0, result.output
    assert "Wrote the signed evidence pack (fr" in result.output
    assert out.read_bytes().startswith(b"%PDF-")

    missing = runner.invoke(args=["report", "pack", "999999", "-o", str(out)])
    assert missing.exit_code == 1 and "No assessment with id 999999." in missing.output
    vendor = runner.invoke(args=["report", "pack", "--vendor", "424242", "-o", str(out)])
    assert vendor.exit_code == 1 and "No vendor with id 424242" in vendor.output
    both = runner.invoke(args=["report", "pack", "1", "--vendor", "2", "-o", str(out)])
    assert both.exit_code == 2 and "one of the two" in both.output
    folder = runner.invoke(args=["report", "pack", str(assessment.id), "-o",
                                 str(tmp_path / "nope" / "x.pdf")])
    assert folder.exit_code == 1 and "does not exist" in folder.output
    huge = runner.invoke(args=["report", "pack", "99999999999999999999", "-o", str(out)])
    assert huge.exit_code == 1 and "No assessment" in huge.output


def test_cli_pack_reports_a_write_error(app, seeded, tmp_path, runner, monkeypatch):
    assessment, _user, _contents = seeded

    def full(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pack_build, "_move", full)
    result = runner.invoke(args=["report", "pack", str(assessment.id), "-o",
                                 str(tmp_path / "pack.pdf")])
    assert result.exit_code == 1 and "No space left on device" in result.output
    assert not (tmp_path / "pack.pdf").exists()


@pytest.mark.slow
def test_a_20_mb_evidence_file_is_streamed(app, seeded, tmp_path):
    assessment, user, _contents = seeded
    big = tmp_path / "big.bin"
    with big.open("wb") as handle:
        for index in range(20):  # incompressible, like scans and archives
            handle.write(random.Random(index).randbytes(1024 * 1024))
    with big.open("rb") as handle:
        key, sha256, size = current_store().save(Area.EVIDENCE, handle)
    db.session.add(Evidence(assessment_id=assessment.id, item_id="certifications",
                            file_name="big-log-export.txt", storage_key=key,
                            content_type="text/plain", size=size, sha256=sha256))
    big_pdf = _big_pdf(tmp_path / "big.pdf", 20 * 1024 * 1024)
    with big_pdf.open("rb") as handle:
        key, sha256, size = current_store().save(Area.EVIDENCE, handle)
    db.session.add(Evidence(assessment_id=assessment.id, item_id="certifications",
                            file_name="scans.pdf", storage_key=key,
                            content_type="application/pdf", size=size, sha256=sha256))
    db.session.commit()
    reports.signed_report(assessment, "en", user)  # render the report outside the measure
    db.session.commit()
    out = tmp_path / "pack.pdf"
    tracemalloc.start()
    try:
        packs.build_pack([assessment], locale="en", output=out, by=user)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.stat().st_size > 40 * 1024 * 1024
    assert peak < 8 * 1024 * 1024, f"peak Python memory {peak / 1e6:.1f} MB"
    reader = PdfReader(out)
    assert "big-log-export.txt" in reader.attachments
    assert validate(out).coverage.name == "ENTIRE_FILE"


def _big_pdf(path: Path, size: int) -> Path:
    """Write a one-page PDF carrying ``size`` bytes of uncompressible image data."""
    side = int((size / 3) ** 0.5)
    pdf = pikepdf.new()
    data = random.Random(99).randbytes(side * side * 3)
    image = pikepdf.Stream(pdf, data, Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image,
                           Width=side, Height=side, ColorSpace=pikepdf.Name.DeviceRGB,
                           BitsPerComponent=8)
    page = pdf.add_blank_page(page_size=(595, 842))
    page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
    page.Contents = pikepdf.Stream(pdf, b"q 500 0 0 500 40 200 cm /Im0 Do Q")
    pdf.save(path, compress_streams=False)
    pdf.close()
    return path


@pytest.mark.slow
def test_the_pack_benchmark_runs_in_quick_mode(capsys):
    from benchmarks import bench_pack

    bench_pack.main(quick=True)
    out = capsys.readouterr().out
    assert "evidence pack, 10 x 1 MB files" in out and "growth" in out and "goal < 300 MB" in out
