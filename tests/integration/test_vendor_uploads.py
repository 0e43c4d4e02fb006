"""Evidence uploads: content checks, limits, storage under a random key, locked-down downloads."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pikepdf
import pytest
from sqlalchemy import select

from tests.factories.accounts import make_org, make_user, make_vendor
from tests.factories.assessments import make_assessment
from tests.factories.evidence import make_evidence
from tests.factories.questionnaires import install_questionnaire
from vendorcheck.extensions import db
from vendorcheck.models.assessments import Answer, Evidence


def _pdf(js: bool = False) -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    if js:
        pdf.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.JavaScript,
                                                 JS=pikepdf.String("app.alert(1)"))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def _pdf_with_chained_js(links: int, *, indirect: bool = False) -> bytes:
    """A PDF whose only JavaScript ends a chain of `links` /Next actions behind a link annotation."""
    pdf = pikepdf.new()
    pdf.add_blank_page()
    action: Any = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))
    for _ in range(links):
        action = pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("https://x.example"),
                                    Next=pdf.make_indirect(action) if indirect else action)
    pdf.pages[0].Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[0, 0, 10, 10], A=action))]))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def _docx(macro: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
        if macro:
            archive.writestr("word/vbaProject.bin", b"\x00" * 10)
    return out.getvalue()


@pytest.fixture
def env(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path / "evidence"))
    with app.app_context():
        install_questionnaire()
        buyer = make_org("Buyer U", slug="buyer-u")
        vorg = make_org("Vendor U", buyer=False, vendor=True, slug="vendor-u")
        other_org = make_org("Vendor X", buyer=False, vendor=True, slug="vendor-x")
        user = make_user("u@vendor.example", org=vorg)
        other_user = make_user("x@vendor.example", org=other_org)
        a = make_assessment(buyer, make_vendor(buyer, "U", vendor_org=vorg))
        b = make_assessment(buyer, make_vendor(buyer, "X", vendor_org=other_org))
        foreign = make_evidence(b, name="secret.txt")
        return SimpleNamespace(a=a.id, b=b.id, foreign=foreign.id, dir=tmp_path / "evidence",
                               user=SimpleNamespace(id=user.id, session_epoch=0),
                               other=SimpleNamespace(id=other_user.id, session_epoch=0))


def _upload(client, aid: int, item: str, data: bytes, name: str) -> Any:
    return client.post(f"/vendor/assessments/{aid}/items/{item}/evidence",
                       data={"file": (io.BytesIO(data), name), "section": "subs_section"},
                       content_type="multipart/form-data")


def _stored(app, aid: int) -> list[Evidence]:
    with app.app_context():
        rows = list(db.session.scalars(select(Evidence).where(Evidence.assessment_id == aid)))
        for row in rows:
            db.session.expunge(row)
        return rows


def test_good_pdf_is_stored_under_a_random_key(app, client, login_as, env):
    login_as(env.user)
    response = _upload(client, env.a, "docs", _pdf(), "report.pdf")
    assert response.status_code == 303
    [evidence] = _stored(app, env.a)
    assert len(evidence.storage_key) == 32 and evidence.file_name == "report.pdf"
    assert (Path(env.dir) / evidence.storage_key).read_bytes() == _pdf() or evidence.size > 0
    assert len(evidence.sha256) == 64
    with app.app_context():
        answer = db.session.scalars(select(Answer).where(Answer.assessment_id == env.a)).one()
        assert answer.value == [str(evidence.id)]


@pytest.mark.parametrize(("item", "data", "name", "needle"), [
    ("docs", b"", "empty.pdf", "empty"),
    ("docs", b"<!doctype html><script>alert(1)</script>", "report.pdf", "not a PDF"),
    ("docs", b"MZ\x90\x00" + b"\x00" * 100, "setup.pdf", "not a PDF"),
    ("docs", b"MZ\x90\x00" + b"\x00" * 100, "setup.exe", "not accepted"),
    ("docs", _docx(macro=True), "contract.docm", "macros"),
    ("docs", _docx(macro=True), "contract.docx", "macros"),
    ("docs", _pdf(js=True), "active.pdf", "JavaScript"),
    ("docs", b"%PDF-1.7 truncated", "broken.pdf", "Cannot open the PDF"),
    ("docs", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image.txt", "HTML and SVG"),
    ("docs", b"a\x00b", "data.csv", "NUL"),
    ("has_dpa", b"%PDF-" + b"0" * 210_000, "big.pdf", "too large (max 0.2 MB)"),
    ("notes", _pdf(), "report.pdf", "takes no file"),
])
def test_bad_files_are_refused_with_a_clear_message(app, client, login_as, env, item, data, name,
                                                   needle):
    login_as(env.user)
    response = _upload(client, env.a, item, data, name)
    assert response.status_code == 422
    assert needle in response.get_data(as_text=True)
    assert _stored(app, env.a) == []
    assert [p for p in Path(env.dir).iterdir() if not p.name.startswith(".")] == [
        Path(env.dir) / e.storage_key for e in _stored(app, env.b)]


@pytest.mark.parametrize(("links", "indirect"), [(3, False), (60, False), (400, False), (60, True)])
def test_javascript_behind_a_long_chain_of_actions_is_refused(app, client, login_as, env, links,
                                                              indirect):
    login_as(env.user)
    response = _upload(client, env.a, "docs", _pdf_with_chained_js(links, indirect=indirect),
                       "chained.pdf")
    assert response.status_code == 422
    assert "JavaScript" in response.get_data(as_text=True)
    assert _stored(app, env.a) == []


def _pdf_with_attachment() -> bytes:
    """A PDF carrying a file in a file-attachment annotation (no /EmbeddedFiles name tree)."""
    pdf = pikepdf.new()
    pdf.add_blank_page()
    stream = pdf.make_stream(b"MZ\x90\x00", Type=pikepdf.Name.EmbeddedFile)
    spec = pikepdf.Dictionary(Type=pikepdf.Name.Filespec, F=pikepdf.String("setup.exe"),
                              EF=pikepdf.Dictionary(F=stream))
    pdf.pages[0].Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.FileAttachment, Rect=[0, 0, 10, 10], FS=spec))]))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def test_a_file_attached_to_an_annotation_is_refused(app, client, login_as, env):
    login_as(env.user)
    response = _upload(client, env.a, "docs", _pdf_with_attachment(), "attached.pdf")
    assert response.status_code == 422 and "embedded files" in response.get_data(as_text=True)
    assert _stored(app, env.a) == []


def test_a_pdf_too_large_to_examine_fully_is_refused(app, client, login_as, env, monkeypatch):
    """Fail closed: when the object budget runs out, the file is refused, not waved through."""
    from vendorcheck.services import uploads

    monkeypatch.setattr(uploads, "MAX_PDF_NODES", 20)
    login_as(env.user)
    response = _upload(client, env.a, "docs", _pdf_with_chained_js(30), "deep.pdf")
    assert response.status_code == 422
    assert "too complex to check" in response.get_data(as_text=True)
    assert _stored(app, env.a) == []
    monkeypatch.setattr(uploads, "MAX_PDF_NODES", 10_000)
    assert _upload(client, env.a, "docs", _pdf(), "plain.pdf").status_code == 303


def test_good_docx_png_and_csv_are_accepted(app, client, login_as, env):
    from PIL import Image

    png = io.BytesIO()
    Image.new("RGB", (4, 4)).save(png, "PNG")
    login_as(env.user)
    for data, name in ((_docx(), "policy.docx"), (png.getvalue(), "logo.png"),
                       (b"name,country\nAcme,FR\n", "subs.csv")):
        assert _upload(client, env.a, "docs", data, name).status_code == 303, name
    assert len(_stored(app, env.a)) == 3


def test_request_over_max_content_length_is_413(app, client, login_as, env, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    login_as(env.user)
    response = _upload(client, env.a, "docs", _pdf() + b"0" * 2048, "big.pdf")
    assert response.status_code == 413
    assert _stored(app, env.a) == []


def test_quota_of_files_per_assessment(app, client, login_as, env, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_MAX_FILES", 1)
    login_as(env.user)
    assert _upload(client, env.a, "docs", b"one\n", "one.txt").status_code == 303
    refused = _upload(client, env.a, "docs", b"two\n", "two.txt")
    assert refused.status_code == 422 and "maximum number" in refused.get_data(as_text=True)


def test_crlf_in_a_name_never_reaches_a_header():
    from vendorcheck.downloads import content_disposition
    from vendorcheck.services.uploads import display_name

    name = display_name("a\r\nX-Injected: 1.pdf")
    assert name == "aX-Injected: 1.pdf"
    header = content_disposition(name)
    assert "\r" not in header and "\n" not in header and "filename*=UTF-8''" in header


@pytest.mark.parametrize("name", ["a\x07b\x1b[31m.txt", "../../etc/passwd.txt", "....txt",
                                  "файл.txt", "x" * 300 + ".txt"])
def test_hostile_names_are_stored_with_hex_key_and_safe_download(app, client, login_as, env, name):
    login_as(env.user)
    assert _upload(client, env.a, "docs", b"plain text\n", name).status_code == 303
    [evidence] = _stored(app, env.a)
    assert "/" not in evidence.file_name and "\r" not in evidence.file_name
    assert len(evidence.file_name) <= 200
    response = client.get(f"/vendor/assessments/{env.a}/evidence/{evidence.id}")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="') and "filename*=UTF-8''" in disposition
    assert "\r" not in disposition and "\n" not in disposition
    assert "X-Injected" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "html" not in response.headers["Content-Type"]
    assert response.get_data() == b"plain text\n"


def test_other_tenants_evidence_answers_404(client, login_as, env):
    login_as(env.user)
    assert client.get(f"/vendor/assessments/{env.a}/evidence/{env.foreign}").status_code == 404
    assert client.get(f"/vendor/assessments/{env.b}/evidence/{env.foreign}").status_code == 404
    assert _upload(client, env.b, "docs", _pdf(), "x.pdf").status_code == 404
    assert client.get(f"/static/../instance/evidence/{env.foreign}").status_code == 404


def test_remove_evidence_asks_for_confirmation(app, client, login_as, env):
    login_as(env.user)
    _upload(client, env.a, "docs", b"bye\n", "bye.txt")
    [evidence] = _stored(app, env.a)
    url = f"/vendor/assessments/{env.a}/evidence/{evidence.id}/remove"
    assert "cannot be undone" in client.get(url).get_data(as_text=True)
    assert client.post(url).status_code == 302
    assert _stored(app, env.a) == []
    assert not (Path(env.dir) / evidence.storage_key).exists()
