"""`vendorcheck storage migrate`: every referenced file moves between the disk and S3, checked by SHA-256."""

from __future__ import annotations

import io
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from tests.factories.accounts import make_org, make_vendor
from tests.factories.assessments import make_assessment
from tests.factories.evidence import make_evidence, make_evidence_row
from tests.integration.test_storage_s3_app import s3_settings
from tests.support import s3
from vendorcheck.extensions import db
from vendorcheck.models.assessments import Assessment
from vendorcheck.models.packs import PackJob, PackStatus
from vendorcheck.models.reports import StoredReport
from vendorcheck.services import reports
from vendorcheck.storage import EXTENSION, Area, LocalStore, current_store, s3_store


@pytest.fixture
def stores(app, s3_endpoint, monkeypatch, tmp_path) -> Any:
    """The app on its local disk (a fresh instance folder), with S3 settings for a fresh bucket."""
    bucket = s3.new_bucket(s3_endpoint)
    for setting, value in s3_settings(s3_endpoint, bucket, STORAGE_BACKEND="local").items():
        monkeypatch.setitem(app.config, setting, value)
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path / "instance" / "evidence"))
    with app.app_context():
        local, remote = current_store(), s3_store(app)
    assert isinstance(local, LocalStore)
    return SimpleNamespace(local=local, s3=remote, instance=tmp_path / "instance")


@pytest.fixture
def files(app, stores) -> dict[Area, list[tuple[str, str]]]:
    """Two evidence files, two stored reports and a finished pack on the disk; {area: [(key, sha256)]}."""
    with app.app_context():
        buyer = make_org("Migrating Buyer", slug="migrating")
        assessment = make_assessment(buyer, make_vendor(buyer, "V"))
        evidence = [make_evidence(assessment, content=f"evidence {n}\n".encode() * 100) for n in (1, 2)]
        found: dict[Area, list[tuple[str, str]]] = {
            Area.EVIDENCE: [(e.storage_key, e.sha256) for e in evidence]}
        for locale in ("en", "fr"):
            stored = stores.local.save(Area.REPORTS, io.BytesIO(f"%PDF-1.7 report {locale}".encode()))
            db.session.add(StoredReport(assessment_id=assessment.id, locale=locale, sha256=stored.sha256,
                                        size=stored.size, storage_key=stored.key))
            found.setdefault(Area.REPORTS, []).append((stored.key, stored.sha256))
        pack = stores.local.save(Area.PACKS, io.BytesIO(b"%PDF-1.7 pack" * 1000))
        db.session.add(PackJob(buyer_org_id=buyer.id, assessment_id=assessment.id, status=PackStatus.DONE,
                               progress=100, storage_key=pack.key, sha256=pack.sha256, size=pack.size))
        db.session.add(PackJob(buyer_org_id=buyer.id, assessment_id=assessment.id,
                               status=PackStatus.FAILED))  # no file: not a reference
        db.session.commit()
        found[Area.PACKS] = [(pack.key, pack.sha256)]
        return found


def _migrate(runner, *args: str) -> Any:
    return runner.invoke(args=["storage", "migrate", *args])


def test_a_dry_run_checks_every_file_and_writes_nothing(runner, stores, files):
    result = _migrate(runner, "--from", "local", "--to", "s3", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "evidence: 2 would copy" in result.output and "reports: 2 would copy" in result.output
    assert "Dry run, local -> s3: 5 would copy, 0 already there, 0 problem(s)." in result.output
    assert not any(stores.s3.exists(area, key) for area, refs in files.items() for key, _ in refs)


def test_evidence_reports_and_packs_move_to_s3_verified_and_the_app_reads_them_there(
        app, runner, stores, files, monkeypatch):
    result = _migrate(runner, "--from", "local", "--to", "s3")
    assert result.exit_code == 0, result.output
    assert "local -> s3: 5 copied, 0 already there, 0 problem(s)." in result.output
    for area, refs in files.items():
        for key, sha256 in refs:
            assert stores.s3.sha256(area, key) == sha256
    again = _migrate(runner, "--from", "local", "--to", "s3")  # idempotent: nothing left to copy
    assert again.exit_code == 0 and "0 copied, 5 already there, 0 problem(s)." in again.output
    # Switch the app to S3 and remove the disk: the app reads the same keys from the bucket.
    monkeypatch.setitem(app.config, "STORAGE_BACKEND", "s3")
    monkeypatch.setitem(app.extensions, EXTENSION, stores.s3)
    for area, refs in files.items():
        for key, _ in refs:
            stores.local.delete(area, key)
    with app.app_context():
        report = db.session.query(StoredReport).filter_by(locale="fr").one()
        assert reports.read_stored(report) == b"%PDF-1.7 report fr"


def test_and_back_from_s3_to_the_disk(runner, stores, files):
    assert _migrate(runner, "--from", "local", "--to", "s3").exit_code == 0
    for area, refs in files.items():
        for key, _ in refs:
            stores.local.delete(area, key)
    result = _migrate(runner, "--from", "s3", "--to", "local", "--verbose")
    assert result.exit_code == 0, result.output
    assert "s3 -> local: 5 copied" in result.output
    key, sha256 = files[Area.EVIDENCE][0]
    assert f"evidence/{key}: copied" in result.output
    assert (stores.instance / "evidence" / key).is_file()
    assert all(stores.local.sha256(area, k) == digest for area, refs in files.items() for k, digest in refs)


def test_missing_corrupt_and_invalid_files_are_named_and_fail_the_run(app, runner, stores, files):
    missing, _ = files[Area.EVIDENCE][0]
    corrupt, _ = files[Area.REPORTS][0]
    stores.local.delete(Area.EVIDENCE, missing)
    (stores.instance / "reports" / f"{corrupt}.pdf").write_bytes(b"%PDF-1.7 changed")
    with app.app_context():
        bad_key = make_evidence_row(db.session.scalars(select(Assessment)).one(), "docs").storage_key
    result = _migrate(runner, "--from", "local", "--to", "s3")
    assert result.exit_code == 1
    assert f"evidence/{missing}: missing" in result.output
    assert f"reports/{corrupt}: digest mismatch" in result.output
    assert f"evidence/{bad_key}: invalid key" in result.output
    assert "3 copied, 0 already there, 3 problem(s)." in result.output
    assert not stores.s3.exists(Area.REPORTS, corrupt)  # wrong bytes never reach the target


def test_a_copy_that_arrives_different_is_removed_from_the_target(app, stores, files, monkeypatch):
    from vendorcheck.services import storage_migration as sm

    key, sha256 = files[Area.PACKS][0]
    real_put = stores.s3.put

    def damaging_put(area, key, stream):  # type: ignore[no-untyped-def]
        return real_put(area, key, io.BytesIO(stream.read() + b"!"))

    monkeypatch.setattr(stores.s3, "put", damaging_put)
    outcome = sm.copy_one(sm.Reference(Area.PACKS, key, sha256), stores.local, stores.s3)
    assert outcome is sm.Outcome.CORRUPT and not stores.s3.exists(Area.PACKS, key)


@pytest.mark.parametrize(("args", "message"), [
    (["--from", "local", "--to", "local"], "name the same backend"),
    (["--from", "local", "--to", "s4"], "'s4' is not one of"),
])
def test_bad_arguments_are_usage_errors(runner, stores, args, message):
    result = _migrate(runner, *args)
    assert result.exit_code == 2 and message in result.output


def test_s3_without_a_bucket_is_a_usage_error(app, runner, stores, monkeypatch):
    monkeypatch.setitem(app.config, "STORAGE_S3_BUCKET", None)
    result = _migrate(runner, "--from", "local", "--to", "s3")
    assert result.exit_code == 2 and "needs STORAGE_S3_BUCKET" in result.output
