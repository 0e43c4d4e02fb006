"""Report download, exports, the public /verify page and the organisation certificate page."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.factories.accounts import make_org, make_user, make_vendor
from tests.factories.reports import make_reviewed_assessment
from tests.support.signing import make_p12
from vendorcheck.extensions import db
from vendorcheck.models import Role
from vendorcheck.models.reports import OrganisationCertificate


@pytest.fixture(autouse=True)
def _instance(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    (tmp_path / "instance").mkdir()


@pytest.fixture
def tenant(app):
    with app.app_context():
        buyer = make_org("Acme Buyer SA", slug="acme")
        users = {role: make_user(f"{role.value}@acme.example", org=buyer, role=role)
                 for role in (Role.ADMIN, Role.ASSESSOR, Role.LEGAL)}
        vendor = make_vendor(buyer, "=HYPERLINK(\"http://x\",\"y\")", owner=users[Role.ADMIN])
        assessment = make_reviewed_assessment(buyer, vendor, by=users[Role.ADMIN], extra_answers={
            "service_description": "@SUM(1)"})
        other = make_org("Other Buyer", slug="other")
        outsider = make_user("admin@other.example", org=other, role=Role.ADMIN)
        ids = {"assessment": assessment.id, "users": {r: u for r, u in users.items()},
               "outsider": outsider}
        for user in [*users.values(), outsider]:
            db.session.refresh(user)
            db.session.expunge(user)
        return ids


def test_legal_downloads_the_signed_report_as_an_attachment(client, login_as, tenant):
    login_as(tenant["users"][Role.LEGAL])
    url = f"/buyer/assessments/{tenant['assessment']}/report.pdf?locale=fr"
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert disposition == f'attachment; filename="vendorcheck-report-{tenant["assessment"]}-fr.pdf"'
    again = client.get(url)
    assert again.data == response.data

    # the stored report verifies on the public page and is recognised
    client.get("/auth/logout")
    login_as(None)
    page = client.post("/verify", data={"file": (io.BytesIO(response.data), "r.pdf")},
                       content_type="multipart/form-data")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "The signature is valid" in body and f"#{tenant['assessment']}" in body


def test_other_tenant_gets_404(client, login_as, tenant):
    login_as(tenant["outsider"])
    for suffix in ("report.pdf", "export.xlsx", "export.csv"):
        assert client.get(f"/buyer/assessments/{tenant['assessment']}/{suffix}").status_code == 404


def test_verify_page_refuses_tampered_garbage_and_oversized(client, app, tenant, login_as):
    login_as(tenant["users"][Role.ADMIN])
    pdf = client.get(f"/buyer/assessments/{tenant['assessment']}/report.pdf").data
    login_as(None)
    assert client.get("/verify").status_code == 200
    tampered = bytearray(pdf)
    tampered[2000] ^= 0x01
    for data, message in ((bytes(tampered), "cannot be trusted"),
                          (b"not a pdf at all", "not a PDF")):
        page = client.post("/verify", data={"file": (io.BytesIO(data), "x.pdf")},
                           content_type="multipart/form-data")
        assert page.status_code == 422
        assert message in page.get_data(as_text=True)
    # A raw body (no spooled temporary file in the test client) larger than 10 MB.
    big = client.post("/verify", data=b"0" * (11 * 2**20),
                      content_type="multipart/form-data; boundary=xyz")
    assert big.status_code == 413


def test_verify_page_has_csrf_when_enabled(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    page = client.get("/verify")
    assert 'name="csrf_token"' in page.get_data(as_text=True)
    refused = client.post("/verify", data={"file": (io.BytesIO(b"%PDF-1"), "x.pdf")},
                          content_type="multipart/form-data")
    assert refused.status_code == 400


def test_exports_neutralise_formulas(client, login_as, tenant):
    login_as(tenant["users"][Role.LEGAL])
    xlsx = client.get(f"/buyer/assessments/{tenant['assessment']}/export.xlsx")
    assert xlsx.status_code == 200 and xlsx.headers["X-Content-Type-Options"] == "nosniff"
    workbook = load_workbook(io.BytesIO(xlsx.data))
    values = [cell for ws in workbook.worksheets for row in ws.iter_rows() for cell in row]
    assert all(c.data_type != "f" for c in values)
    assert any(c.value == "'@SUM(1)" and c.data_type == "s" for c in values)
    csv_text = client.get(f"/buyer/assessments/{tenant['assessment']}/export.csv").data.decode(
        "utf-8-sig")
    assert "'@SUM(1)" in csv_text
    findings = client.get(f"/buyer/assessments/{tenant['assessment']}/export.csv?sheet=findings")
    assert "Severity" in findings.data.decode("utf-8-sig")
    register = client.get("/buyer/vendors/export.csv").data.decode("utf-8-sig")
    assert "'=HYPERLINK" in register and "decided" in register
    reg_xlsx = load_workbook(io.BytesIO(client.get("/buyer/vendors/export.xlsx").data))
    cells = [c for row in reg_xlsx.active.iter_rows() for c in row]
    assert any(c.value == "'=HYPERLINK(\"http://x\",\"y\")" and c.data_type == "s" for c in cells)


def test_admin_uploads_replaces_and_removes_the_certificate(client, app, login_as, tenant,
                                                            tmp_path):
    login_as(tenant["users"][Role.ADMIN])
    assert "No certificate uploaded" in client.get("/org/certificate").get_data(as_text=True)
    p12, _cert = make_p12(tmp_path, "Acme Signing CA")
    wrong = client.post("/org/certificate", data={
        "file": (io.BytesIO(p12), "org.p12"), "passphrase": "wrong"},
        content_type="multipart/form-data")
    assert wrong.status_code == 422
    garbage = client.post("/org/certificate", data={
        "file": (io.BytesIO(b"garbage"), "org.p12"), "passphrase": "pw-123"},
        content_type="multipart/form-data")
    assert garbage.status_code == 422
    ok = client.post("/org/certificate", data={
        "file": (io.BytesIO(p12), "org.p12"), "passphrase": "pw-123"},
        content_type="multipart/form-data", follow_redirects=True)
    assert ok.status_code == 200 and "Acme Signing CA" in ok.get_data(as_text=True)
    with app.app_context():
        record = db.session.scalars(select(OrganisationCertificate)).one()
        assert p12 not in record.p12_encrypted and b"pw-123" not in record.passphrase_encrypted
    p12b, _ = make_p12(tmp_path, "Acme Signing 2026")
    client.post("/org/certificate", data={"file": (io.BytesIO(p12b), "b.p12"),
                                          "passphrase": "pw-123"},
                content_type="multipart/form-data")
    assert "Acme Signing 2026" in client.get("/org/certificate").get_data(as_text=True)
    assert "Remove the signing certificate?" in client.get("/org/certificate/remove").get_data(
        as_text=True)
    client.post("/org/certificate/remove")
    with app.app_context():
        assert db.session.scalars(select(OrganisationCertificate)).all() == []


def test_expired_certificate_is_refused(client, login_as, tenant, tmp_path):
    login_as(tenant["users"][Role.ADMIN])
    p12, _ = make_p12(tmp_path, "Old", days=-1)
    page = client.post("/org/certificate", data={"file": (io.BytesIO(p12), "o.p12"),
                                                 "passphrase": "pw-123"},
                       content_type="multipart/form-data")
    assert page.status_code == 422 and "expired" in page.get_data(as_text=True)
