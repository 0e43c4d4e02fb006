"""Reports, DPA PDFs, certificates and packs read and write through the store, and check what they read."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from vendorcheck.models.dpa import DpaPdf
from vendorcheck.models.dpa_relations import DpaAcceptance
from vendorcheck.models.packs import PackJob, PackStatus
from vendorcheck.models.reports import StoredReport
from vendorcheck.services import dpa, dpa_acceptance, packs, reports
from vendorcheck.storage import Area, current_store

PDF = b"%PDF-1.7 signed bytes"


@pytest.fixture(autouse=True)
def instance(app, tmp_path, monkeypatch) -> Path:
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    return tmp_path / "instance"


READERS = {
    Area.REPORTS: ("reports", lambda key, digest: reports.read_stored(
        StoredReport(storage_key=key, sha256=digest))),
    Area.DPA: ("dpa", lambda key, digest: dpa._read(DpaPdf(storage_key=key, sha256=digest))),
    Area.CERTIFICATES: ("dpa_certificates", lambda key, digest: dpa_acceptance.read_certificate(
        DpaAcceptance(certificate_storage_key=key, certificate_sha256=digest))),
}


@pytest.mark.parametrize("area", sorted(READERS))
def test_a_stored_pdf_is_read_back_only_while_unchanged(app, instance, area):
    folder, read = READERS[area]
    with app.app_context():
        stored = current_store().save(area, io.BytesIO(PDF))
        assert read(stored.key, hashlib.sha256(PDF).hexdigest()) == PDF
        (instance / folder / f"{stored.key}.pdf").write_bytes(PDF + b" changed")
        assert read(stored.key, stored.sha256) is None
        current_store().delete(area, stored.key)
        assert read(stored.key, stored.sha256) is None


def test_a_certificate_is_written_where_certificates_always_were(app, instance):
    with app.app_context():
        key = dpa_acceptance._write_certificate(PDF)
    assert (instance / "dpa_certificates" / f"{key}.pdf").read_bytes() == PDF


def _done_job(key: str, digest: str) -> PackJob:
    return PackJob(id=1, status=PackStatus.DONE, storage_key=key, sha256=digest, locale="en")


def test_a_pack_is_served_only_while_unchanged(app, instance):
    with app.test_request_context():
        stored = current_store().save(Area.PACKS, io.BytesIO(PDF))
        assert packs.verified_pack(_done_job(stored.key, stored.sha256)) == stored
        (instance / "packs" / f"{stored.key}.pdf").write_bytes(PDF + b" changed")
        with pytest.raises(packs.PackFileMissing):
            packs.verified_pack(_done_job(stored.key, stored.sha256))
        for key in ("e" * 64, "../packs/x"):
            with pytest.raises(packs.PackFileMissing):
                packs.verified_pack(_done_job(key, stored.sha256))


def _fake_build(content: bytes, *, claimed: bytes | None = None):  # type: ignore[no-untyped-def]
    def build_pack(assessments, *, locale, output, by, progress=None):  # type: ignore[no-untyped-def]
        output.write_bytes(content)
        digest = hashlib.sha256(claimed if claimed is not None else content).hexdigest()
        return packs.BuiltPack(output, digest, len(content), 1, [])
    return build_pack


def test_a_job_saves_its_pack_into_the_store_and_leaves_no_working_file(app, instance, monkeypatch):
    monkeypatch.setattr(packs, "build_pack", _fake_build(PDF * 1000))
    with app.app_context():
        built, stored = packs._build_and_store(PackJob(id=1, locale="en", assessment_id=1), None)
        assert stored.sha256 == built.sha256 and stored.size == len(PDF) * 1000
        with current_store().open(Area.PACKS, stored.key) as handle:
            assert handle.read() == PDF * 1000
    assert list((instance / "tmp").iterdir()) == []


def test_a_pack_whose_stored_bytes_differ_is_not_kept(app, instance, monkeypatch):
    monkeypatch.setattr(packs, "build_pack", _fake_build(PDF, claimed=b"other"))
    with app.app_context(), pytest.raises(OSError, match="differs"):
        packs._build_and_store(PackJob(id=1, locale="en", assessment_id=1), None)
    assert list((instance / "packs").iterdir()) == []
    assert list((instance / "tmp").iterdir()) == []
