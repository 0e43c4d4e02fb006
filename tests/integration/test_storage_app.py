"""The app's store: chosen by STORAGE_BACKEND, one per app, in the instance folder; downloads stream it."""

from __future__ import annotations

import io
import random

import pytest
from werkzeug.exceptions import NotFound

from tests.conftest import make_config
from vendorcheck import create_app, downloads
from vendorcheck.models.assessments import Evidence
from vendorcheck.storage import Area, LocalStore, current_store


def test_the_app_has_one_local_store_by_default(app):
    assert app.config["STORAGE_BACKEND"] == "local"
    with app.app_context():
        first = current_store()
    with app.app_context():
        assert current_store() is first
    assert isinstance(first, LocalStore)


def test_an_unknown_backend_stops_the_app_at_boot(tmp_path):
    with pytest.raises(RuntimeError, match="STORAGE_BACKEND 's4' is not a storage backend"):
        create_app(make_config(tmp_path, STORAGE_BACKEND="s4"))


def test_files_go_under_the_instance_folder_and_evidence_dir(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    with app.app_context():
        store = current_store()
        report = store.save(Area.REPORTS, io.BytesIO(b"report"))
        certificate = store.save(Area.CERTIFICATES, io.BytesIO(b"certificate"))
        evidence = store.save(Area.EVIDENCE, io.BytesIO(b"evidence"))
        monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path / "elsewhere"))
        moved = store.save(Area.EVIDENCE, io.BytesIO(b"moved"))
    assert (tmp_path / "instance" / "reports" / f"{report.key}.pdf").read_bytes() == b"report"
    assert (tmp_path / "instance" / "dpa_certificates" / f"{certificate.key}.pdf").is_file()
    assert (tmp_path / "instance" / "evidence" / evidence.key).read_bytes() == b"evidence"
    assert (tmp_path / "elsewhere" / moved.key).read_bytes() == b"moved"


def _evidence(key: str, size: int) -> Evidence:
    return Evidence(item_id="docs", file_name="log-export.txt", storage_key=key,
                    content_type="text/plain", size=size, sha256="0" * 64)


def test_an_evidence_download_streams_from_the_store_with_its_headers(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path / "evidence"))
    data = random.Random(3).randbytes(3 * downloads.CHUNK + 5)
    with app.test_request_context():
        stored = current_store().save(Area.EVIDENCE, io.BytesIO(data))
        response = downloads.evidence_file(_evidence(stored.key, stored.size))
    chunks = list(response.response)
    assert b"".join(chunks) == data and max(len(c) for c in chunks) <= downloads.CHUNK
    assert response.headers["Content-Length"] == str(len(data))
    assert response.headers["Content-Disposition"].startswith('attachment; filename="log-export.txt"')
    assert response.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("key", ["f" * 32, "../evidence", "F" * 32])
def test_a_missing_or_invalid_evidence_key_answers_404(app, tmp_path, monkeypatch, key):
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path / "evidence"))
    with app.test_request_context(), pytest.raises(NotFound):
        downloads.evidence_file(_evidence(key, 1))
