"""Evidence packs on the web: jobs in a thread or on RQ, progress, download, failure and retry."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from tests.factories.accounts import make_org, make_user, make_vendor
from tests.factories.evidence import add_every_kind
from tests.factories.reports import make_reviewed_assessment
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry, Role, utcnow
from vendorcheck.models.packs import PackJob, PackStatus
from vendorcheck.pdf.pack import file_sha256
from vendorcheck.services import packs, verification
from vendorcheck.services.errors import DomainError


@pytest.fixture(autouse=True)
def _instance(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    (tmp_path / "instance").mkdir()
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path / "evidence"))


@pytest.fixture
def seeded(app):
    """A decided assessment with evidence of every kind; ids only (the client has its own session)."""
    with app.app_context():
        buyer = make_org("Acme Buyer SA", slug="acme")
        legal = make_user("legal@acme.example", org=buyer, role=Role.LEGAL, name="Lea Legal")
        vendor = make_vendor(buyer, "Cloudy Inc.", owner=legal)
        assessment = make_reviewed_assessment(buyer, vendor, by=legal)
        add_every_kind(assessment)
        empty = make_vendor(buyer, "Nothing Yet Ltd")
        ids = {"assessment": assessment.id, "vendor": vendor.id, "empty_vendor": empty.id,
               "org": buyer.id}
        db.session.refresh(legal)
        db.session.expunge(legal)
        return {"legal": legal, **ids}


def _job(app, job_id):
    with app.app_context():
        job = db.session.get(PackJob, job_id)
        db.session.expunge(job)
        return job


def _actions(app):
    with app.app_context():
        return db.session.scalars(select(AuditEntry.action)).all()


def _job_id(response):
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


@pytest.mark.slow
def test_legal_builds_a_pack_in_a_thread_and_downloads_it(app, client, login_as, seeded):
    login_as(seeded["legal"])
    page = client.get(f"/buyer/assessments/{seeded['assessment']}").get_data(as_text=True)
    assert "Build evidence pack" in page
    assert f'action="/buyer/packs/assessments/{seeded["assessment"]}"' in page
    job_id = _job_id(client.post(f"/buyer/packs/assessments/{seeded['assessment']}",
                                 data={"locale": "fr"}))
    packs.wait_for_threads()
    job = _job(app, job_id)
    assert job.status is PackStatus.DONE and job.progress == 100 and job.locale == "fr"

    status = client.get(f"/buyer/packs/{job_id}")
    html = status.get_data(as_text=True)
    assert status.status_code == 200 and f"/buyer/packs/{job_id}/download" in html
    assert job.sha256 in html and "pack_status.js" not in html
    response = client.get(f"/buyer/packs/{job_id}/download")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="vendorcheck-evidence-pack-{job_id}-fr.pdf"')
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    body = response.get_data()
    response.close()
    assert len(body) == job.size == int(response.headers["Content-Length"])
    assert "policy.docx" in PdfReader(io.BytesIO(body)).attachments
    with app.app_context():
        check = verification.check_report(body)
        assert check.ok and not check.warnings and check.pack.id == job_id
    actions = _actions(app)
    for action in ("pack.requested", "pack.built", "pack.downloaded"):
        assert action in actions, action


@pytest.mark.slow
def test_rq_job_shows_progress_then_runs_on_a_worker(app, client, login_as, seeded, monkeypatch):
    from fakeredis import FakeRedis
    from rq import Queue, SimpleWorker

    queue = Queue("packs", connection=FakeRedis())
    monkeypatch.setitem(app.extensions, "vendorcheck_pack_queue", queue)
    monkeypatch.setitem(app.config, "PACK_JOB_TIMEOUT", 600)
    login_as(seeded["legal"])
    job_id = _job_id(client.post(f"/buyer/packs/vendors/{seeded['vendor']}", data={"locale": "en"}))
    [queued] = queue.get_jobs()
    assert queued.timeout == 600 and queued.args == (job_id,)

    html = client.get(f"/buyer/packs/{job_id}").get_data(as_text=True)
    assert '<progress id="pack-progress" max="100" value="0">' in html
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in html
    assert "js/pack_status.js" in html
    assert client.get(f"/buyer/packs/{job_id}/status.json").get_json() == {
        "status": "queued", "progress": 0, "message": "Waiting for a worker…"}
    assert client.get(f"/buyer/packs/{job_id}/download").status_code == 409

    with app.app_context():
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
    state = client.get(f"/buyer/packs/{job_id}/status.json").get_json()
    assert state["status"] == "done" and state["progress"] == 100
    assert _job(app, job_id).vendor_id == seeded["vendor"]


def test_redis_down_fails_the_job_clearly(app, client, login_as, seeded, monkeypatch):
    class Down:
        def enqueue(self, *args, **kwargs):
            raise ConnectionError("redis is down")

    monkeypatch.setitem(app.extensions, "vendorcheck_pack_queue", Down())
    login_as(seeded["legal"])
    job_id = _job_id(client.post(f"/buyer/packs/assessments/{seeded['assessment']}",
                                 data={"locale": "en"}))
    html = client.get(f"/buyer/packs/{job_id}").get_data(as_text=True)
    assert "The job queue is not reachable" in html and "Try again" in html


def test_failure_shows_the_message_and_retry_builds_again(app, client, login_as, seeded,
                                                           monkeypatch):
    calls = []

    def broken(*args, **kwargs):
        calls.append(1)
        raise DomainError("The questionnaire version of this assessment is no longer available.")

    monkeypatch.setattr(packs, "build_pack", broken)
    login_as(seeded["legal"])
    job_id = _job_id(client.post(f"/buyer/packs/assessments/{seeded['assessment']}",
                                 data={"locale": "en"}))
    packs.wait_for_threads()
    html = client.get(f"/buyer/packs/{job_id}").get_data(as_text=True)
    assert "could not be built" in html and "no longer available" in html
    assert f'action="/buyer/packs/{job_id}/retry"' in html

    monkeypatch.undo()
    monkeypatch.setattr(app, "instance_path", app.instance_path)  # keep the test's folder
    monkeypatch.setattr(packs, "build_pack", lambda *a, **k: (_ for _ in ()).throw(
        RuntimeError("boom")))
    assert client.post(f"/buyer/packs/{job_id}/retry").status_code == 303
    packs.wait_for_threads()
    job = _job(app, job_id)
    assert job.status is PackStatus.FAILED and f"logged as pack job {job_id}" in job.error
    assert calls == [1] and "pack.retried" in _actions(app)


def test_a_job_whose_worker_died_is_reported_and_can_be_retried(app, client, login_as, seeded):
    with app.app_context():
        job = PackJob(buyer_org_id=seeded["org"], assessment_id=seeded["assessment"],
                      status=PackStatus.RUNNING, progress=40,
                      updated_at=utcnow() - timedelta(hours=2))
        db.session.add(job)
        db.session.commit()
        job_id = job.id
    login_as(seeded["legal"])
    assert client.get(f"/buyer/packs/{job_id}/status.json").get_json()["status"] == "failed"
    assert "stopped" in client.get(f"/buyer/packs/{job_id}").get_data(as_text=True)


def test_bad_requests_get_clear_4xx(app, client, login_as, seeded):
    login_as(seeded["legal"])
    empty = client.post(f"/buyer/packs/vendors/{seeded['empty_vendor']}", data={"locale": "en"})
    assert empty.status_code == 409 and "no assessment yet" in empty.get_data(as_text=True)
    bad = client.post(f"/buyer/packs/assessments/{seeded['assessment']}", data={"locale": "xx"})
    assert bad.status_code == 400
    assert client.get("/buyer/packs/99999999999999999999").status_code == 404
    assert client.get("/buyer/packs/424242/download").status_code == 404
    page = client.get(f"/buyer/vendors/{seeded['vendor']}").get_data(as_text=True)
    assert f'action="/buyer/packs/vendors/{seeded["vendor"]}"' in page
    with app.app_context():
        assert db.session.scalar(select(PackJob.id)) is None


def test_a_missing_pack_file_answers_410(app, client, login_as, seeded, tmp_path):
    with app.app_context():
        job = PackJob(buyer_org_id=seeded["org"], assessment_id=seeded["assessment"],
                      status=PackStatus.DONE, progress=100, storage_key="f" * 64,
                      sha256="0" * 64, size=10)
        db.session.add(job)
        db.session.commit()
        job_id = job.id
    login_as(seeded["legal"])
    response = client.get(f"/buyer/packs/{job_id}/download")
    assert response.status_code == 410 and "Build the pack again" in response.get_data(as_text=True)


def _finished_job(app, seeded, *, days_ago: int, locale: str = "en") -> tuple[int, object]:
    """A finished pack job whose file exists, finished `days_ago` days ago; return (id, path)."""
    with app.app_context():
        key = f"{days_ago:02d}" + "a" * 62
        path = Path(app.instance_path) / "packs" / f"{key}.pdf"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"%PDF-1.7 pack")
        job = PackJob(buyer_org_id=seeded["org"], assessment_id=seeded["assessment"],
                      status=PackStatus.DONE, progress=100, storage_key=key, locale=locale,
                      sha256=file_sha256(path), size=13,
                      finished_at=utcnow() - timedelta(days=days_ago))
        db.session.add(job)
        db.session.commit()
        return job.id, path


def test_prune_removes_old_pack_files_only_and_explains_it(app, client, login_as, seeded, runner):
    old_id, old_path = _finished_job(app, seeded, days_ago=40, locale="fr")
    new_id, new_path = _finished_job(app, seeded, days_ago=3)
    result = runner.invoke(args=["report", "prune-packs"])
    assert result.exit_code == 0, result.output
    assert "Removed 1 evidence pack file(s) older than 30 days (13 bytes)." in result.output
    assert not old_path.exists() and new_path.exists()
    old, new = _job(app, old_id), _job(app, new_id)
    assert old.storage_key is None and old.status is PackStatus.FAILED and old.sha256
    assert "Supprimé après 30 jours" in old.message
    assert new.status is PackStatus.DONE and new.storage_key
    assert "pack.pruned" in _actions(app)

    login_as(seeded["legal"])
    page = client.get(f"/buyer/packs/{old_id}").get_data(as_text=True)
    assert "This evidence pack was removed from the server." in page and old.sha256 in page
    assert "could not be built" not in page and "Build it again" in page
    assert client.get(f"/buyer/packs/{old_id}/download").status_code == 409
    assert client.get(f"/buyer/packs/{new_id}/download").status_code == 200
    again = runner.invoke(args=["report", "prune-packs", "--older-than", "2"])
    assert "Removed 1 evidence pack file(s) older than 2 days" in again.output
    assert runner.invoke(args=["report", "prune-packs", "--older-than", "0"]).exit_code == 2
