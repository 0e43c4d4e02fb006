"""`vendorcheck report render|verify`: exit 0 only for an intact report this instance trusts."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfWriter
from pypdf.generic import NameObject, NumberObject

from tests.factories.accounts import make_org, make_user, make_vendor
from tests.factories.reports import make_reviewed_assessment
from vendorcheck.extensions import db
from vendorcheck.models import Role
from vendorcheck.models.reports import StoredReport


@pytest.fixture(autouse=True)
def _instance(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    (tmp_path / "instance").mkdir()


@pytest.fixture
def rendered(app, runner, tmp_path):
    with app.app_context():
        buyer = make_org("Acme Buyer SA", slug="acme")
        user = make_user("r@acme.example", org=buyer, role=Role.ADMIN)
        assessment_id = make_reviewed_assessment(buyer, make_vendor(buyer, "Cloudy Inc."), by=user).id
    out = tmp_path / "report.pdf"
    result = runner.invoke(args=["report", "render", str(assessment_id), "-o", str(out),
                                 "--locale", "fr"])
    assert result.exit_code == 0, result.output
    return out


def test_render_then_verify(runner, rendered, app):
    result = runner.invoke(args=["report", "verify", str(rendered)])
    assert result.exit_code == 0, result.output
    assert "VALID" in result.output and "vendorcheck instance" in result.output
    assert "stored report of assessment" in result.output


def test_flipped_byte_fails(runner, rendered, tmp_path):
    data = bytearray(rendered.read_bytes())
    data[3000] ^= 0x01
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(bytes(data))
    result = runner.invoke(args=["report", "verify", str(bad)])
    assert result.exit_code == 1
    assert "INVALID" in result.output


def test_incremental_update_fails(runner, rendered, tmp_path):
    writer = PdfWriter(rendered, incremental=True)
    writer.pages[1][NameObject("/Rotate")] = NumberObject(90)
    buffer = io.BytesIO()
    writer.write(buffer)
    changed = tmp_path / "changed.pdf"
    changed.write_bytes(buffer.getvalue())
    assert changed.read_bytes().startswith(rendered.read_bytes())
    result = runner.invoke(args=["report", "verify", str(changed)])
    assert result.exit_code == 1
    assert "does not cover the entire file" in result.output


def test_report_differing_from_the_stored_one_fails(runner, rendered, app, tmp_path):
    with app.app_context():
        record = db.session.query(StoredReport).one()
        record.sha256 = "0" * 64
        db.session.commit()
    result = runner.invoke(args=["report", "verify", str(rendered)])
    assert result.exit_code == 1
    assert "differs from the report stored" in result.output


def test_garbage_truncated_and_missing_files_fail(runner, rendered, tmp_path):
    garbage = tmp_path / "g.pdf"
    garbage.write_bytes(b"hello")
    truncated = tmp_path / "t.pdf"
    truncated.write_bytes(rendered.read_bytes()[:5000])
    for path in (garbage, truncated, tmp_path / "missing.pdf"):
        result = runner.invoke(args=["report", "verify", str(path)])
        assert result.exit_code == 1, path
        assert "Traceback" not in result.output


def test_render_unknown_assessment_fails(runner, tmp_path):
    result = runner.invoke(args=["report", "render", "999999", "-o", str(tmp_path / "x.pdf")])
    assert result.exit_code == 1 and "No assessment" in result.output
