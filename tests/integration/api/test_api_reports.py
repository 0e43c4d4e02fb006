"""The API's reports, evidence packs and exports: the same bytes and rules as the web downloads."""

from __future__ import annotations

import hashlib
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.factories.reports import make_reviewed_assessment
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry, Organisation, User, Vendor
from vendorcheck.models.packs import PackJob
from vendorcheck.services import packs

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def _instance(app, tmp_path, monkeypatch):
    """Keep keys, stored reports and packs in a fresh instance folder."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    (tmp_path / "instance").mkdir()
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path / "evidence"))


@pytest.fixture
def decided(app, world) -> int:
    """A decided assessment of tenant A's vendor; its id."""
    with app.app_context():
        assessment = make_reviewed_assessment(db.session.get_one(Organisation, world["a"].buyer.id),
                                              db.session.get_one(Vendor, world["a"].vendor.id),
                                              by=db.session.get_one(User, world.user("a.admin").id))
        return assessment.id


def _actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


@pytest.mark.slow
def test_the_signed_report_is_the_one_the_web_downloads(app, api, client, world, login_as, decided):
    through_api = api("a.legal", "GET", f"/assessments/{decided}/report?locale=fr", scope="read")
    login_as(world.user("a.legal"))
    on_the_web = client.get(f"/buyer/assessments/{decided}/report.pdf?locale=fr")

    assert through_api.status_code == 200 and through_api.mimetype == "application/pdf"
    assert through_api.headers["Content-Disposition"] == (
        f'attachment; filename="vendorcheck-report-{decided}-fr.pdf"')
    assert through_api.get_data().startswith(b"%PDF")
    assert through_api.get_data() == on_the_web.get_data()  # a decided report is signed once and kept
    assert api("a.legal", "GET", f"/assessments/{decided}/report?locale=de", scope="read").status_code == 422
    assert api("b.admin", "GET", f"/assessments/{decided}/report", scope="read").status_code == 404
    assert api("a.vendor", "GET", f"/assessments/{decided}/report", scope="read").status_code == 403


@pytest.mark.slow
def test_a_pack_is_requested_polled_and_downloaded(app, api, decided):
    read_only = api("a.legal", "POST", "/packs", scope="read", json={"assessment_id": decided})
    requested = api("a.legal", "POST", "/packs", json={"assessment_id": decided, "locale": "fr"},
                    headers={"Idempotency-Key": "pack-1"})
    again = api("a.legal", "POST", "/packs", json={"assessment_id": decided, "locale": "fr"},
                headers={"Idempotency-Key": "pack-1"})
    packs.wait_for_threads()

    assert read_only.status_code == 403
    assert requested.status_code == 202, requested.get_json()
    job = requested.get_json()
    assert requested.headers["Location"] == job["status_url"] == f"/api/v1/packs/{job['id']}"
    assert job["status"] in ("queued", "running", "done") and job["locale"] == "fr"
    assert again.get_json()["id"] == job["id"]
    with app.app_context():
        assert len(db.session.scalars(select(PackJob)).all()) == 1

    status = api("a.legal", "GET", job["status_url"].removeprefix("/api/v1"), scope="read")
    assert status.status_code == 200 and status.headers["ETag"]
    done = status.get_json()
    assert done["status"] == "done" and done["progress"] == 100
    assert done["download_url"] == f"/api/v1/packs/{job['id']}/download"
    download = api("a.legal", "GET", done["download_url"].removeprefix("/api/v1"), scope="read")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert hashlib.sha256(download.get_data()).hexdigest() == done["sha256"]
    assert "pack.downloaded" in _actions(app)
    assert api("b.admin", "GET", f"/packs/{job['id']}", scope="read").status_code == 404
    retried = api("a.legal", "POST", f"/packs/{job['id']}/retry")
    assert retried.status_code == 409 and retried.get_json()["error"]["code"] == "conflict"


def test_a_pack_not_built_yet_cannot_be_downloaded(app, api, world, monkeypatch):
    from fakeredis import FakeRedis
    from rq import Queue

    monkeypatch.setitem(app.extensions, "vendorcheck_pack_queue", Queue(connection=FakeRedis()))
    vendor_id = world["a"].vendor.id
    nothing = api("a.admin", "POST", "/packs", json={"vendor_id": vendor_id})  # no assessment yet
    both = api("a.admin", "POST", "/packs", json={"vendor_id": vendor_id, "assessment_id": 1})
    neither = api("a.admin", "POST", "/packs", json={"locale": "fr"})
    assert nothing.status_code == 409
    assert both.status_code == 422 and neither.status_code == 422
    with app.app_context():
        from tests.factories.assessments import make_assessment

        make_assessment(db.session.get_one(Organisation, world["a"].buyer.id),
                        db.session.get_one(Vendor, vendor_id))
    queued = api("a.admin", "POST", "/packs", json={"vendor_id": vendor_id})
    assert queued.status_code == 202 and queued.get_json()["status"] == "queued"
    assert queued.get_json()["download_url"] is None
    early = api("a.admin", "GET", f"/packs/{queued.get_json()['id']}/download", scope="read")
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "conflict"


def test_the_register_export_is_the_web_export(app, api, client, world, login_as):
    login_as(world.user("a.assessor"))
    for fmt in ("csv", "xlsx"):
        # Both answers are streamed: read each before the next request.
        through_api = api("a.assessor", "GET", f"/exports/vendors?format={fmt}&locale=en", scope="read")
        assert through_api.status_code == 200
        assert through_api.mimetype == ("text/csv" if fmt == "csv" else XLSX)
        api_cells = _cells(through_api)
        assert api_cells == _cells(client.get(f"/buyer/vendors/export.{fmt}"))
        assert world["a"].vendor.legal_name in str(api_cells)
    french = _cells(api("a.assessor", "GET", "/exports/vendors?locale=fr", scope="read"))
    assert french[0][:3] == ["\ufeffFournisseur", "Pays", "Criticité"]  # a BOM for spreadsheet programs
    assert api("a.assessor", "GET", "/exports/vendors?format=pdf", scope="read").status_code == 422
    assert api("a.vendor", "GET", "/exports/vendors", scope="read").status_code == 403


@pytest.mark.slow
def test_the_assessment_export_is_the_web_export(app, api, client, world, login_as, decided):
    login_as(world.user("a.legal"))
    for query, web in (("format=xlsx", "export.xlsx"), ("format=csv", "export.csv"),
                       ("format=csv&sheet=findings", "export.csv?sheet=findings")):
        through_api = api("a.legal", "GET", f"/exports/assessments/{decided}?{query}&locale=en",
                          scope="read")
        on_the_web = client.get(f"/buyer/assessments/{decided}/{web}" + ("&" if "?" in web else "?")
                                + "locale=en")
        assert through_api.status_code == 200, through_api.get_data(as_text=True)
        assert _cells(through_api) == _cells(on_the_web), query
    assert api("b.admin", "GET", f"/exports/assessments/{decided}", scope="read").status_code == 404


def _cells(response) -> list[list[str]]:
    """Return a CSV's rows, or every XLSX sheet's rows (the files' own timestamps differ)."""
    if response.mimetype == "text/csv":
        return [line.split(",") for line in response.get_data(as_text=True).splitlines()]
    book = load_workbook(io.BytesIO(response.get_data()), read_only=True)
    return [[sheet.title, *map(str, row)] for sheet in book for row in sheet.iter_rows(values_only=True)]
