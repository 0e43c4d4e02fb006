"""Pack jobs that survive crashes: heartbeats, a dead worker detected, its folder cleaned, retry at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.factories.accounts import make_org, make_user, make_vendor
from tests.factories.assessments import make_assessment
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry, Role, utcnow
from vendorcheck.models.packs import PackJob, PackStatus
from vendorcheck.pdf.pack import file_sha256
from vendorcheck.services import pack_build, packs

PATIENCE = 120.0  # seconds: an upper bound for polling, never a timing assertion
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _instance(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    (tmp_path / "instance" / "tmp").mkdir(parents=True)


@pytest.fixture
def seeded(app):
    """A buyer with a legal user and one assessment; ids and the detached user."""
    with app.app_context():
        buyer = make_org("Beat Buyer", slug="beat")
        legal = make_user("legal@beat.example", org=buyer, role=Role.LEGAL)
        vendor = make_vendor(buyer, "Beat Vendor", vendor_org=make_org(
            "Beat Vendor Org", buyer=False, vendor=True, slug="beat-vendor"))
        assessment = make_assessment(buyer, vendor, by=legal)
        db.session.refresh(legal)
        db.session.expunge(legal)
        return {"legal": legal, "org": buyer.id, "assessment": assessment.id}


def _wait_for(condition: Callable[[], object], what: str) -> object:
    """Poll until `condition` is truthy (generous upper bound; fails only if it never happens)."""
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


def _job(app, job_id: int) -> PackJob:
    with app.app_context():
        job = db.session.get(PackJob, job_id)
        db.session.expunge(job)
        return job


def _running_job(app, seeded, *, beat_ago: float, folder: bool = True) -> tuple[int, Path]:
    """A running job whose last heartbeat was `beat_ago` seconds ago, with its working folder."""
    with app.app_context():
        job = PackJob(buyer_org_id=seeded["org"], assessment_id=seeded["assessment"],
                      status=PackStatus.RUNNING, progress=3, message="Collecting",
                      updated_at=utcnow() - timedelta(seconds=beat_ago),
                      heartbeat_at=utcnow() - timedelta(seconds=beat_ago))
        db.session.add(job)
        db.session.flush()
        job.work_dir = f"job-{job.id}-{'ab' * 8}"
        db.session.commit()
        path = Path(app.instance_path) / "tmp" / job.work_dir
    if folder:
        (path / "pack-x").mkdir(parents=True)
        (path / "pack-x" / "cover.pdf").write_bytes(b"%PDF-partial")
    return job.id, path


def test_a_job_without_a_heartbeat_for_a_minute_is_interrupted_cleaned_and_retried(
        app, client, login_as, seeded, monkeypatch):
    job_id, folder = _running_job(app, seeded, beat_ago=61)
    dispatched: list[int] = []
    monkeypatch.setattr(packs, "dispatch", dispatched.append)
    login_as(seeded["legal"])
    status = client.get(f"/buyer/packs/{job_id}/status.json").get_json()
    assert status["status"] == "failed" and status["message"].startswith("Interrupted")
    assert not folder.exists()
    page = client.get(f"/buyer/packs/{job_id}").get_data(as_text=True)
    assert "Interrupted" in page and "3 %" not in page
    assert client.post(f"/buyer/packs/{job_id}/retry").status_code == 303
    job = _job(app, job_id)
    assert job.status is PackStatus.QUEUED and job.work_dir is None and job.heartbeat_at is None
    assert dispatched == [job_id]
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action)).all()
    assert "pack.interrupted" in actions and "pack.retried" in actions


def test_a_job_with_a_fresh_heartbeat_keeps_running_and_cannot_be_retried(
        app, client, login_as, seeded):
    # Its progress has not moved for an hour, but the worker is alive: that is a long step, not a crash.
    job_id, folder = _running_job(app, seeded, beat_ago=5)
    with app.app_context():
        db.session.get(PackJob, job_id).updated_at = utcnow() - timedelta(hours=1)
        db.session.commit()
    login_as(seeded["legal"])
    assert client.get(f"/buyer/packs/{job_id}/status.json").get_json()["status"] == "running"
    assert client.post(f"/buyer/packs/{job_id}/retry").status_code == 409
    assert folder.exists() and _job(app, job_id).status is PackStatus.RUNNING


def test_the_dead_after_setting_is_read(app, seeded, monkeypatch):
    job_id, _folder = _running_job(app, seeded, beat_ago=30)
    with app.app_context():
        job = db.session.get(PackJob, job_id)
        assert not packs.is_dead(job)
        monkeypatch.setitem(app.config, "JOB_DEAD_AFTER", 20)
        assert packs.is_dead(job)


def test_the_worker_beats_while_a_step_is_long(app, seeded, monkeypatch):
    """The heartbeat comes from a thread: a single long step (no progress) still beats."""
    monkeypatch.setitem(app.config, "JOB_HEARTBEAT_EVERY", 0.05)
    with app.app_context():
        job = PackJob(buyer_org_id=seeded["org"], assessment_id=seeded["assessment"])
        db.session.add(job)
        db.session.commit()
        job_id = job.id
    seen: dict[str, object] = {}

    def long_step(assessments, *, output, **kwargs):
        engine = db.engine
        first = _beat_of(engine, job_id)
        _wait_for(lambda: _beat_of(engine, job_id) > first, "a heartbeat during the step")
        seen["work_root"] = pack_build.work_dir()  # where the build's temporary files go
        raise RuntimeError("stop here")

    monkeypatch.setattr(packs, "build_pack", long_step)
    with app.app_context():
        assert packs.run_pack_job(job_id) == "failed"
    job = _job(app, job_id)
    assert job.status is PackStatus.FAILED and "unexpected error" in job.error
    assert seen["work_root"].name == job.work_dir and not seen["work_root"].exists()


def _beat_of(engine, job_id: int):
    with engine.connect() as conn:
        return conn.execute(select(PackJob.heartbeat_at).where(PackJob.id == job_id)).scalar_one()


def test_a_run_given_up_on_cannot_finish_the_job_it_lost(app, seeded, monkeypatch):
    """Declared dead and retried meanwhile: the late run's pack is discarded, the new run owns the job."""
    with app.app_context():
        job = PackJob(buyer_org_id=seeded["org"], assessment_id=seeded["assessment"])
        db.session.add(job)
        db.session.commit()
        job_id = job.id

    def slow_build(assessments, *, output, **kwargs):
        with db.engine.begin() as conn:  # what detection and a retry do meanwhile
            conn.execute(PackJob.__table__.update().where(PackJob.id == job_id).values(
                status=PackStatus.QUEUED, work_dir=None, heartbeat_at=None))
        output.write_bytes(b"%PDF-1.7 late pack")
        return packs.BuiltPack(output, file_sha256(output), output.stat().st_size, 1, ())

    monkeypatch.setattr(packs, "build_pack", slow_build)
    with app.app_context():
        assert packs.run_pack_job(job_id) == "superseded"
    job = _job(app, job_id)
    assert job.status is PackStatus.QUEUED and job.storage_key is None
    assert not list((Path(app.instance_path) / "packs").glob("*.pdf"))


def test_prune_packs_marks_dead_jobs_and_removes_leftover_folders(app, seeded, runner):
    dead_id, dead_folder = _running_job(app, seeded, beat_ago=600)
    live_id, live_folder = _running_job(app, seeded, beat_ago=1)
    tmp = Path(app.instance_path) / "tmp"
    orphan = tmp / "job-999-0123456789abcdef"  # a run whose job finished or is gone
    starting = tmp / "job-1000-0123456789abcdef"  # a run that made its folder, not yet recorded
    legacy_old, legacy_new = tmp / "pack-old", tmp / "pack-new"  # CLI builds, older versions
    for folder in (orphan, starting, legacy_old, legacy_new):
        folder.mkdir()
    two_days_ago = time.time() - 2 * 86400
    for folder in (orphan, legacy_old):
        os.utime(folder, (two_days_ago, two_days_ago))
    result = runner.invoke(args=["report", "prune-packs"])
    assert result.exit_code == 0, result.output
    assert "Marked 1 interrupted pack job(s); removed 2 leftover working folder(s)." in result.output
    assert not dead_folder.exists() and not orphan.exists() and not legacy_old.exists()
    assert live_folder.exists() and starting.exists() and legacy_new.exists()
    assert _job(app, dead_id).status is PackStatus.FAILED
    assert _job(app, live_id).status is PackStatus.RUNNING


WORKER = """
import sys, time
from pathlib import Path
from vendorcheck import create_app
from vendorcheck.services import pack_build, packs

db_url, instance, job_id, ready = sys.argv[1:5]
app = create_app({"TESTING": True, "SECRET_KEY": "test-secret-key-not-for-production",
                  "SQLALCHEMY_DATABASE_URI": db_url, "RATELIMIT_ENABLED": False,
                  "JOB_HEARTBEAT_EVERY": 0.1})
app.instance_path = instance


def stuck(assessments, *, progress, **kwargs):
    progress(3, "Collecting the signed reports")
    (pack_build.work_dir() / "cover.pdf").write_bytes(b"%PDF-partial")
    Path(ready).write_text("building")
    while True:
        time.sleep(1)


packs.build_pack = stuck
with app.app_context():
    packs.run_pack_job(int(job_id))
"""


@pytest.mark.slow
def test_a_worker_killed_with_sigkill_is_detected_and_its_job_retried(
        app, client, login_as, seeded, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "JOB_DEAD_AFTER", 3)
    with app.app_context():
        job = PackJob(buyer_org_id=seeded["org"], assessment_id=seeded["assessment"])
        db.session.add(job)
        db.session.commit()
        job_id = job.id
    ready = tmp_path / "ready"
    worker = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", WORKER, app.config["SQLALCHEMY_DATABASE_URI"], app.instance_path,
         str(job_id), str(ready)], cwd=ROOT)
    try:
        _wait_for(lambda: ready.exists() or worker.poll() is not None, "the worker starts building")
        assert worker.poll() is None, "the worker exited before building"
        running = _job(app, job_id)
        assert running.status is PackStatus.RUNNING and running.progress == 3
        folder = Path(app.instance_path) / "tmp" / running.work_dir
        assert (folder / "cover.pdf").exists()
        _wait_for(lambda: _job(app, job_id).heartbeat_at > running.heartbeat_at, "a heartbeat")
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
    assert worker.returncode == -signal.SIGKILL

    def detected() -> bool:
        with app.app_context():
            return packs.refresh_stale(db.session.get(PackJob, job_id))

    _wait_for(detected, "the dead worker is detected")
    job = _job(app, job_id)
    assert job.status is PackStatus.FAILED and job.message.startswith("Interrupted")
    assert not folder.exists()
    dispatched: list[int] = []
    monkeypatch.setattr(packs, "dispatch", dispatched.append)
    login_as(seeded["legal"])
    assert client.post(f"/buyer/packs/{job_id}/retry").status_code == 303
    assert _job(app, job_id).status is PackStatus.QUEUED and dispatched == [job_id]
