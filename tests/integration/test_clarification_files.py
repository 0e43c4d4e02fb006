"""A clarification answer may carry a file: checked like evidence, stored as evidence, listed and
downloadable on both sides, named in the evidence pack's manifest."""

from __future__ import annotations

import io
from pathlib import Path

import pikepdf
import pytest
from sqlalchemy import func, select

from tests.factories.accounts import make_org, make_user
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry, Role
from vendorcheck.models.assessments import Answer, Assessment, Clarification, ClarificationState, Evidence


def _pdf() -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


@pytest.fixture
def asked(app, client, world, login_as, submitted, tmp_path, monkeypatch):
    """A clarification the buyer asked about `vendor_legal_name`; evidence stored under tmp_path."""
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path / "evidence"))
    login_as(world.user("a.assessor"))
    client.post(f"/buyer/assessments/{submitted}/clarifications", data={
        "item_id": "vendor_legal_name", "question": "Which entity signs?", "section": "service"})
    with app.app_context():
        return db.session.scalars(select(Clarification)).one().id


def _answer(client, aid, cid, data: bytes | None = None, name: str = "kbis.pdf", text="Vendor A SAS."):
    form = {"answer": text}
    if data is not None:
        form["file"] = (io.BytesIO(data), name)
    return client.post(f"/vendor/assessments/{aid}/clarifications/{cid}", data=form,
                       content_type="multipart/form-data")


def _files(app) -> list[Evidence]:
    with app.app_context():
        rows = list(db.session.scalars(select(Evidence).where(Evidence.clarification_id.is_not(None))))
        for row in rows:
            db.session.expunge(row)
        return rows


def _stored_files(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "evidence"
    return [p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")] \
        if folder.exists() else []


def test_answer_with_a_file_is_kept_as_evidence_and_shown_to_both_sides(app, client, world, login_as,
                                                                         submitted, asked, tmp_path):
    login_as(world.user("a.vendor"))
    response = _answer(client, submitted, asked, _pdf())
    assert response.status_code == 302
    [file] = _files(app)
    assert file.item_id == "vendor_legal_name" and file.file_name == "kbis.pdf"
    assert file.content_type == "application/pdf" and file.assessment_id == submitted
    assert len(_stored_files(tmp_path)) == 1
    with app.app_context():
        clarification = db.session.get(Clarification, asked)
        assert clarification.state is ClarificationState.ANSWERED
        assert [f.id for f in clarification.files] == [file.id]
        entry = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "clarification_answered")).one()
        assert entry.details["evidence_id"] == file.id and entry.details["sha256"] == file.sha256
        # the file is not an answer: the item's value did not change
        answer = db.session.scalar(select(Answer).where(Answer.assessment_id == submitted,
                                                        Answer.item_id == "vendor_legal_name"))
        assert answer is None or str(file.id) not in str(answer.value)
    vendor_page = client.get(f"/vendor/assessments/{submitted}?lang=en").get_data(as_text=True)
    assert f"/vendor/assessments/{submitted}/evidence/{file.id}" in vendor_page and "kbis.pdf" in vendor_page
    download = client.get(f"/vendor/assessments/{submitted}/evidence/{file.id}")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    for who in ("a.assessor", "a.legal"):
        login_as(world.user(who))
        for page in (f"/buyer/assessments/{submitted}?lang=en",
                     f"/buyer/assessments/{submitted}/sections/service?lang=en"):
            body = client.get(page).get_data(as_text=True)
            assert "File sent with the answer:" in body, (who, page)
            assert f"/buyer/assessments/{submitted}/evidence/{file.id}" in body
        download = client.get(f"/buyer/assessments/{submitted}/evidence/{file.id}")
        assert download.status_code == 200 and download.data.startswith(b"%PDF")
        assert "attachment" in download.headers["Content-Disposition"]


def test_other_organisations_never_get_the_file(app, client, world, login_as, submitted, asked):
    login_as(world.user("a.vendor"))
    _answer(client, submitted, asked, _pdf())
    [file] = _files(app)
    for who in ("b.admin", "b.assessor", "b.legal"):  # another buyer's members
        login_as(world.user(who))
        assert client.get(f"/buyer/assessments/{submitted}/evidence/{file.id}").status_code == 404
    login_as(world.user("b.vendor"))  # another vendor
    assert client.get(f"/vendor/assessments/{submitted}/evidence/{file.id}").status_code == 404
    login_as(world.user("a.vendor"))  # the vendor side has no buyer download
    assert client.get(f"/buyer/assessments/{submitted}/evidence/{file.id}").status_code == 403
    with app.app_context():  # a member of another buyer organisation only
        other = make_org("Another buyer", slug="another-buyer")
        outsider = make_user("outsider@another.example", org=other, role=Role.ASSESSOR)
    login_as(outsider)
    assert client.get(f"/buyer/assessments/{submitted}/evidence/{file.id}").status_code == 404
    login_as(None)
    assert client.get(f"/buyer/assessments/{submitted}/evidence/{file.id}").status_code == 302


@pytest.mark.parametrize(("data", "name", "needle"), [
    (b"MZ\x90\x00" + b"\x00" * 100, "setup.exe", "not accepted"),
    (b"<!doctype html><script>alert(1)</script>", "report.pdf", "not a PDF"),
    (b"%PDF-" + b"0" * 300_000, "huge.pdf", "too large (max 0.2 MB)"),
])
def test_a_refused_file_is_named_with_the_limit_and_nothing_is_stored(app, client, world, login_as,
                                                                     submitted, asked, tmp_path,
                                                                     monkeypatch, data, name, needle):
    monkeypatch.setitem(app.config, "EVIDENCE_MAX_MB", 0.2)
    login_as(world.user("a.vendor"))
    response = _answer(client, submitted, asked, data, name)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert f"“{name}” was not uploaded" in body and needle in body
    assert "Your answer was not sent either." in body
    assert _files(app) == [] and _stored_files(tmp_path) == []
    with app.app_context():
        assert db.session.get(Clarification, asked).state is ClarificationState.OPEN  # still to answer


def test_the_form_offers_the_file_and_an_answer_without_one_still_works(app, client, world, login_as,
                                                                        submitted, asked):
    login_as(world.user("a.vendor"))
    page = client.get(f"/vendor/assessments/{submitted}?lang=en").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and 'name="file"' in page
    assert "at most 20 MB" in page and "js/upload.js" in page
    french = client.get(f"/vendor/assessments/{submitted}?lang=fr").get_data(as_text=True)
    assert "Un fichier à l'appui de votre réponse (facultatif)" in french
    assert _answer(client, submitted, asked).status_code == 302
    assert _files(app) == []


def test_the_pack_manifest_names_the_file_and_its_clarification(app, client, world, login_as,
                                                                 submitted, asked, tmp_path):
    from vendorcheck.pdf.report import Formatter
    from vendorcheck.services import pack_build

    login_as(world.user("a.vendor"))
    _answer(client, submitted, asked, _pdf())
    with app.app_context():
        assessment = db.session.get(Assessment, submitted)
        files = pack_build._evidence_files([assessment], Formatter("en"), tmp_path)
        [entry] = [f for f in files if f.name == "kbis.pdf"]
        assert entry.item_id == "vendor_legal_name" and entry.path is not None
        assert "(sent with the answer to a clarification)" in entry.description
        assert db.session.scalar(select(func.count(Evidence.id))) >= 1
