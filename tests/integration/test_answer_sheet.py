"""Answering offline: the XLSX round trip (download, edit, upload, preview, apply) and bad sheets."""

from __future__ import annotations

import io
import uuid
import zipfile
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.factories.accounts import make_org, make_user, make_vendor
from tests.factories.assessments import make_assessment, make_contact
from tests.factories.questionnaires import install_questionnaire
from vendorcheck.extensions import db
from vendorcheck.models.assessments import Answer, AssessmentStatus
from vendorcheck.models.audit import AuditEntry

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _ref(user: Any) -> SimpleNamespace:
    return SimpleNamespace(id=user.id, session_epoch=user.session_epoch)


@pytest.fixture
def env(app):
    """A buyer, a vendor with one user, two assessments of the test questionnaire; another vendor."""
    with app.app_context():
        install_questionnaire()
        buyer = make_org("Buyer One", slug="buyer-one")
        vorg = make_org("Vendor Co", buyer=False, vendor=True, slug="vendor-co")
        other_org = make_org("Other Vendor", buyer=False, vendor=True, slug="other-vendor")
        admin = make_user("admin@buyer.example", org=buyer)
        vuser = make_user("marie@vendor.example", org=vorg, name="Marie Dupont")
        other_user = make_user("eve@other.example", org=other_org)
        vendor = make_vendor(buyer, "Vendor Co record", vendor_org=vorg)
        contact = make_contact(vendor, "marie@vendor.example", "Marie")
        due = date.today() + timedelta(days=7)
        a = make_assessment(buyer, vendor, by=admin, contact=contact, due_date=due,
                            answers={"has_dpa": "yes", "notes": "=HYPERLINK(\"http://x\")"})
        second = make_assessment(buyer, vendor, by=admin, contact=contact, due_date=due)
        submitted = make_assessment(buyer, vendor, by=admin, contact=contact, due_date=due,
                                    status=AssessmentStatus.SUBMITTED, submitted=True)
        return SimpleNamespace(a=a.id, second=second.id, submitted=submitted.id,
                               vuser=_ref(vuser), other_user=_ref(other_user))


def _answers(app, assessment_id: int) -> dict[str, Any]:
    with app.app_context():
        rows = db.session.scalars(select(Answer).where(Answer.assessment_id == assessment_id))
        return {r.item_id: r.value for r in rows}


def _download(client, aid: int, lang: str = "en"):
    response = client.get(f"/vendor/assessments/{aid}/spreadsheet.xlsx?lang={lang}")
    assert response.status_code == 200, response.status_code
    assert response.mimetype == XLSX
    return load_workbook(io.BytesIO(response.data))


def _bytes(book) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _upload(client, aid: int, data: bytes, name: str = "answers.xlsx"):
    # Encoded in memory: the test client spools a body over 500 KB to a temporary file it never
    # closes, which the warnings-as-errors setting would report in a later test.
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(data), name)})
    return client.post(f"/vendor/assessments/{aid}/spreadsheet", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def _row(ws, item_id: str) -> int:
    return next(r for r in range(2, ws.max_row + 1) if ws.cell(row=r, column=1).value == item_id)


def _token(page: str) -> str:
    start = page.index('name="token"')
    value = page.index('value="', start) + len('value="')
    return page[value:page.index('"', value)]


def _apply(client, aid: int, page: str):
    return client.post(f"/vendor/assessments/{aid}/spreadsheet/apply", data={"token": _token(page)})


def test_download_has_one_sheet_per_section_ids_hidden_and_answers_filled(client, login_as, env):
    login_as(env.vuser)
    book = _download(client, env.a)
    assert book.sheetnames[:2] == ["Instructions", "lists"]
    main = book["1 Main"]
    assert main.column_dimensions["A"].hidden
    assert main.protection.sheet
    assert main.cell(row=_row(main, "has_dpa"), column=3).value == "Yes"
    # A stored answer that looks like a formula is written as text, never as a formula.
    notes = main.cell(row=_row(main, "notes"), column=3)
    assert notes.data_type == "s" and notes.value.startswith("'=")
    assert book["2 Sub-processors"].cell(row=_row(book["2 Sub-processors"], "subs"),
                                         column=3).value == "Answer in the sheet “2 Sub-processors 2”"
    assert book["vendorcheck"].sheet_state == "veryHidden"
    validations = main.data_validations.dataValidation
    assert any(v.type == "list" for v in validations)


def test_download_in_french_has_french_instructions(client, login_as, env):
    login_as(env.vuser)
    book = _download(client, env.a, lang="fr")
    assert book.sheetnames[0] == "Mode d'emploi"
    assert book["Mode d'emploi"]["A1"].value == "Répondre hors ligne"
    main = book["1 Principal"]
    assert main.cell(row=_row(main, "has_dpa"), column=3).value == "Oui"


def test_round_trip_previews_then_saves_each_change(app, client, login_as, env):
    login_as(env.vuser)
    book = _download(client, env.a)
    main, subs = book["1 Main"], book["2 Sub-processors"]
    main.cell(row=_row(main, "has_dpa"), column=3).value = "No"
    main.cell(row=_row(main, "hours"), column=3).value = 48
    main.cell(row=_row(main, "audits"), column=3).value = "no"
    main.cell(row=_row(main, "audits"), column=4).value = "Under negotiation"
    subs.cell(row=_row(subs, "uses_sub"), column=3).value = "Yes"
    table = book["2 Sub-processors 2"]
    table["A3"], table["B3"] = "Acme Cloud", "United States"
    table["A4"], table["B4"] = "Bureau", "FR"
    preview = _upload(client, env.a, _bytes(book))
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200, page
    assert "5 answers will change" in page
    assert _answers(app, env.a)["has_dpa"] == "yes"  # nothing saved before the preview is applied
    done = _apply(client, env.a, page)
    assert done.status_code == 303
    saved = _answers(app, env.a)
    assert saved["has_dpa"] == "no" and saved["hours"] == 48 and saved["uses_sub"] == "yes"
    assert saved["subs"] == [{"name": "Acme Cloud", "country": "US"},
                             {"name": "Bureau", "country": "FR"}]
    assert saved["notes"] == "=HYPERLINK(\"http://x\")"  # unchanged: read back as typed
    with app.app_context():
        actions = [e.action for e in db.session.scalars(select(AuditEntry))]
        audits = db.session.scalar(select(Answer).where(Answer.assessment_id == env.a,
                                                        Answer.item_id == "audits"))
        assert audits.justification == "Under negotiation"
    assert actions.count("answer_saved") == 5 and "answer_sheet_applied" in actions


def test_wrong_choice_and_formula_are_listed_and_not_saved(app, client, login_as, env):
    login_as(env.vuser)
    book = _download(client, env.a)
    main = book["1 Main"]
    main.cell(row=_row(main, "has_dpa"), column=3).value = "Perhaps"
    main.cell(row=_row(main, "hours"), column=3).value = "=6*8"
    main.cell(row=_row(main, "notes"), column=3).value = "fine"
    response = _upload(client, env.a, _bytes(book))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "“Perhaps” is not one of the answers offered in the list." in page
    assert "Formulas are not read: type the value itself." in page
    assert "1 answer will change" in page
    _apply(client, env.a, page)
    saved = _answers(app, env.a)
    assert saved["has_dpa"] == "yes" and saved["notes"] == "fine" and "hours" not in saved


def test_engine_rules_apply_number_bounds_and_hidden_items(app, client, login_as, env):
    login_as(env.vuser)
    book = _download(client, env.a)
    main, subs = book["1 Main"], book["2 Sub-processors"]
    main.cell(row=_row(main, "hours"), column=3).value = -3
    subs.cell(row=_row(subs, "uses_sub"), column=3).value = "No"
    subs.cell(row=_row(subs, "sub_note"), column=3).value = "not asked"
    page = _upload(client, env.a, _bytes(book)).get_data(as_text=True)
    assert "Breach notice hours" in page and "must be a finite number" in page
    assert "not asked, given your other answers" in page
    _apply(client, env.a, page)
    saved = _answers(app, env.a)
    assert saved["uses_sub"] == "no" and "sub_note" not in saved and "hours" not in saved


def test_an_answer_changed_online_meanwhile_is_not_overwritten(app, client, login_as, env):
    login_as(env.vuser)
    book = _download(client, env.a)
    main = book["1 Main"]
    main.cell(row=_row(main, "notes"), column=3).value = "from the sheet"
    main.cell(row=_row(main, "hours"), column=3).value = 24
    page = _upload(client, env.a, _bytes(book)).get_data(as_text=True)
    version = 1
    typed = client.post(f"/vendor/assessments/{env.a}/autosave", json={
        "item_id": "notes", "value": "typed online", "version": version,
        "request_id": str(uuid.uuid4())})
    assert typed.status_code == 200
    done = _apply(client, env.a, page)
    assert done.status_code == 303
    saved = _answers(app, env.a)
    assert saved["notes"] == "typed online" and saved["hours"] == 24
    overview = client.get(f"/vendor/assessments/{env.a}").get_data(as_text=True)
    assert "Not saved: Notes" in overview


@pytest.mark.parametrize(("change", "message"), [
    ("id", "Download a fresh copy"),
    ("row", "Download a fresh copy"),
    ("meta", "belongs to another assessment"),
])
def test_tampered_sheets_are_refused_whole(app, client, login_as, env, change, message):
    login_as(env.vuser)
    book = _download(client, env.a)
    main = book["1 Main"]
    if change == "id":
        main.cell(row=_row(main, "notes"), column=1).value = "hours"
    elif change == "row":
        main.insert_rows(3)
    else:
        book["vendorcheck"]["A1"] = f"assessment {env.second} / vc-test 1.0.0"
    response = _upload(client, env.a, _bytes(book))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _answers(app, env.a)["has_dpa"] == "yes"


def test_another_assessments_file_is_refused(client, login_as, env):
    login_as(env.vuser)
    book = _download(client, env.second)
    response = _upload(client, env.a, _bytes(book))
    assert response.status_code == 422
    assert "belongs to another assessment" in response.get_data(as_text=True)


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (60 * 1024 * 1024))
    return buffer.getvalue()


@pytest.mark.parametrize(("data", "message"), [
    (b"not a spreadsheet at all", "is not a spreadsheet downloaded"),
    (b"PK\x03\x04 broken zip", "is not a spreadsheet downloaded"),
    (None, "unpacks to far more data"),
])
def test_broken_files_get_a_clear_refusal(client, login_as, env, data, message):
    login_as(env.vuser)
    response = _upload(client, env.a, data if data is not None else _zip_bomb())
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_a_workbook_without_our_marks_is_refused(client, login_as, env):
    from openpyxl import Workbook

    login_as(env.vuser)
    book = Workbook()
    book.active["A1"] = "has_dpa"
    response = _upload(client, env.a, _bytes(book))
    assert response.status_code == 422
    assert "was not downloaded from vendorcheck" in response.get_data(as_text=True)


def test_a_sheet_with_100k_rows_is_refused(client, login_as, env):
    login_as(env.vuser)
    book = _download(client, env.a)
    table = book["2 Sub-processors 2"]
    for row in range(3, 100_003):
        table.cell(row=row, column=1, value="x")
    response = _upload(client, env.a, _bytes(book))
    assert response.status_code == 422
    assert "more rows than the questionnaire allows" in response.get_data(as_text=True)


def test_missing_file_and_expired_preview(client, login_as, env):
    login_as(env.vuser)
    empty = client.post(f"/vendor/assessments/{env.a}/spreadsheet", data={},
                        content_type="multipart/form-data")
    assert empty.status_code == 422
    assert "Choose the spreadsheet to upload." in empty.get_data(as_text=True)
    forged = client.post(f"/vendor/assessments/{env.a}/spreadsheet/apply", data={"token": "x.y.z"})
    assert forged.status_code == 422
    assert "expired or was altered" in forged.get_data(as_text=True)


def test_a_preview_applies_only_to_its_own_assessment(app, client, login_as, env):
    login_as(env.vuser)
    book = _download(client, env.a)
    main = book["1 Main"]
    main.cell(row=_row(main, "hours"), column=3).value = 12
    page = _upload(client, env.a, _bytes(book)).get_data(as_text=True)
    response = client.post(f"/vendor/assessments/{env.second}/spreadsheet/apply",
                           data={"token": _token(page)})
    assert response.status_code == 422
    assert "hours" not in _answers(app, env.second)


def test_submitted_assessment_takes_no_upload(client, login_as, env):
    login_as(env.vuser)
    page = client.get(f"/vendor/assessments/{env.submitted}/spreadsheet").get_data(as_text=True)
    assert "can no longer be changed" in page
    book = _download(client, env.submitted)
    response = _upload(client, env.submitted, _bytes(book))
    assert response.status_code in (409, 422)
    assert "Submitted on" in response.get_data(as_text=True)


def test_another_vendor_gets_404(client, login_as, env):
    login_as(env.other_user)
    assert client.get(f"/vendor/assessments/{env.a}/spreadsheet.xlsx").status_code == 404
    assert client.get(f"/vendor/assessments/{env.a}/spreadsheet").status_code == 404


def test_a_link_holder_answers_by_spreadsheet_without_an_account(app, client):
    from tests.factories.links import make_answer_link

    with app.app_context():
        install_questionnaire()
        buyer = make_org("Buyer Link", slug="buyer-link")
        admin = make_user("admin@buyer-link.example", org=buyer)
        vendor = make_vendor(buyer, "Vendor by link")
        contact = make_contact(vendor, "contact@vendor-link.example", "Lou")
        a = make_assessment(buyer, vendor, by=admin, contact=contact,
                            due_date=date.today() + timedelta(days=7))
        aid, token = a.id, make_answer_link(a, contact, by=admin)
    client.get(f"/vendor/link/{token}")
    book = _download(client, aid)
    main = book["1 Main"]
    main.cell(row=_row(main, "has_dpa"), column=3).value = "Yes"
    page = _upload(client, aid, _bytes(book)).get_data(as_text=True)
    assert "1 answer will change" in page
    assert _apply(client, aid, page).status_code == 303
    assert _answers(app, aid)["has_dpa"] == "yes"
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(
            AuditEntry.action == "answer_sheet_applied"))
        assert entry.user_id is None and entry.user_email == "contact@vendor-link.example"
