"""Render worker (timeout, recycling) and SECRET_KEY rotation of the signing keys (issue 7 item 4)."""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import pkcs12

from tests.factories.accounts import make_org, make_user, make_vendor
from tests.factories.reports import make_reviewed_assessment
from tests.support.signing import make_p12
from tests.unit.pdf.test_signing import STALLING_PDF
from vendorcheck.extensions import db
from vendorcheck.models import Organisation, Role, User
from vendorcheck.models.packs import PackJob, PackStatus
from vendorcheck.models.reports import OrganisationCertificate
from vendorcheck.services import packs, signing, verification
from vendorcheck.services import render_pool as worker

OLD_KEY = "test-secret-key-not-for-production"
NEW_KEY = "a-brand-new-secret-key-after-rotation"


@pytest.fixture(autouse=True)
def _instance(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    (tmp_path / "instance").mkdir()
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path / "evidence"))


@pytest.fixture
def seeded(app):
    with app.app_context():
        buyer = make_org("Acme Buyer SA", slug="acme")
        admin = make_user("admin@acme.example", org=buyer, role=Role.ADMIN)
        assessment = make_reviewed_assessment(buyer, make_vendor(buyer, "Cloudy Inc."), by=admin,
                                              decided=False)
        ids = {"assessment": assessment.id, "org": buyer.id}
        db.session.refresh(admin)
        db.session.expunge(admin)
        return {"admin": admin, **ids}


def _rotate(app, monkeypatch, fallbacks=None):
    """Switch to NEW_KEY, optionally keeping older keys as fallbacks."""
    monkeypatch.setitem(app.config, "SECRET_KEY", NEW_KEY)
    monkeypatch.setitem(app.config, "SECRET_KEY_FALLBACKS", fallbacks or [])


# ----------------------------------------------------------------------------------- worker

@pytest.mark.allow_5xx
def test_a_render_over_the_timeout_answers_503_then_the_worker_recovers(app, client, login_as,
                                                                         seeded, monkeypatch):
    login_as(seeded["admin"])
    url = f"/buyer/assessments/{seeded['assessment']}/report.pdf?locale=en"
    monkeypatch.setitem(app.config, "REPORT_RENDER_TIMEOUT", 0.001)
    response = client.get(url)
    assert response.status_code == 503
    assert "took too long" in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    monkeypatch.setitem(app.config, "REPORT_RENDER_TIMEOUT", 120)
    assert client.get(url).status_code == 200


def test_cli_and_pack_jobs_report_a_timeout_clearly(app, runner, seeded, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "REPORT_RENDER_TIMEOUT", 0.001)
    result = runner.invoke(args=["report", "render", str(seeded["assessment"]), "-o",
                                 str(tmp_path / "r.pdf")])
    assert result.exit_code == 1 and "took too long" in result.output
    with app.app_context():
        job = PackJob(buyer_org_id=seeded["org"], assessment_id=seeded["assessment"])
        db.session.add(job)
        db.session.commit()
        assert packs.run_pack_job(job.id) == "failed"
        db.session.refresh(job)
        assert job.status is PackStatus.FAILED and "try again" in job.error


def test_workers_are_recycled_after_max_tasks(app, monkeypatch):
    monkeypatch.setitem(app.config, "REPORT_WORKERS", 1)
    monkeypatch.setitem(app.config, "REPORT_WORKER_MAX_TASKS", 1)
    static = Path(app.static_folder)
    with app.app_context():
        seen = set()
        for _ in range(3):
            pdf = worker.render_pdf_isolated("<p>hello</p>", static_dir=static)
            assert pdf.startswith(b"%PDF-")
            time.sleep(0.3)  # the pool's maintenance thread replaces the retired child
            seen.update(p.pid for p in worker._pool._pool)  # type: ignore[union-attr]
        assert len(seen) >= 3, "each render ran in a fresh child"
    worker.shutdown()


def test_a_render_over_the_memory_cap_is_stopped_then_the_worker_recovers(app, monkeypatch):
    rows = "".join(f"<table><tr><td>Question {i}</td><td>yes</td></tr></table>"
                   for i in range(4000))
    static = Path(app.static_folder)
    # Well below what 4,000 rows need: 2,000 came close to fitting once renders needed less.
    monkeypatch.setitem(app.config, "REPORT_WORKER_MEMORY_MB", 250)
    with app.app_context():
        with pytest.raises(worker.RenderTooLarge, match="more memory than this server allows"):
            worker.render_pdf_isolated(f"<body>{rows}</body>", static_dir=static)
        monkeypatch.setitem(app.config, "REPORT_WORKER_MEMORY_MB", 2048)  # a new pool
        assert worker.render_pdf_isolated("<p>x</p>", static_dir=static).startswith(b"%PDF-")
        caps = worker._configured_pool().apply(resource.getrlimit, (resource.RLIMIT_AS,))
    assert caps == (2048 << 20, 2048 << 20)
    worker.shutdown()


def test_checking_an_uploaded_pdf_runs_in_a_worker_and_is_stopped_on_time(app, monkeypatch):
    """A file that stalls the parser in a way the read budget misses only costs the timeout."""
    with app.app_context():
        check = verification.check_report(STALLING_PDF)  # the budget answers first, in a child
        assert check.verification.problems == ["The PDF is damaged and cannot be read."]
        monkeypatch.setitem(app.config, "REPORT_VERIFY_TIMEOUT", 0.001)
        check = verification.check_report(STALLING_PDF)
    assert not check.ok
    assert "did not finish within 0.001 seconds" in check.verification.problems[0]
    assert worker._pool is None, "the busy child was stopped with its pool"


def test_inline_mode_renders_in_process(app, monkeypatch):
    monkeypatch.setitem(app.config, "REPORT_RENDER_MODE", "inline")
    worker.shutdown()
    with app.app_context():
        assert worker.render_pdf_isolated("<p>x</p>", static_dir=Path(app.static_folder)) \
            .startswith(b"%PDF-")
    assert worker._pool is None


# ------------------------------------------------------------------------------ key rotation

def test_instance_key_is_reencrypted_with_the_new_secret_key(app, seeded, monkeypatch):
    with app.app_context():
        signing.instance_signer()  # created under OLD_KEY
        p12_path = Path(app.instance_path) / "signing" / "instance.p12"
        _rotate(app, monkeypatch, [OLD_KEY])
        signer, _cert = signing.instance_signer()
        assert signer is not None
        data = p12_path.read_bytes()
        pkcs12.load_pkcs12(data, signing._instance_passphrase())  # opens with the new key
        with pytest.raises(ValueError):
            pkcs12.load_pkcs12(data, signing._instance_passphrase(OLD_KEY.encode()))
        monkeypatch.setitem(app.config, "SECRET_KEY_FALLBACKS", [])
        signing.instance_signer()  # no fallback needed any more


def test_a_fallback_given_as_one_environment_string_works(app, seeded, monkeypatch):
    with app.app_context():
        signing.instance_signer()
        _rotate(app, monkeypatch, OLD_KEY)  # VENDORCHECK_SECRET_KEY_FALLBACKS=old-key
        assert signing.instance_signer()[0] is not None


@pytest.mark.allow_5xx
def test_unreadable_instance_key_gives_a_clear_503_and_cli_error(app, client, login_as, runner,
                                                                  seeded, monkeypatch, tmp_path):
    with app.app_context():
        signing.instance_signer()
    _rotate(app, monkeypatch)
    login_as(seeded["admin"])
    response = client.get(f"/buyer/assessments/{seeded['assessment']}/report.pdf")
    text = response.get_data(as_text=True)
    assert response.status_code == 503 and "VENDORCHECK_SECRET_KEY_FALLBACKS" in text
    result = runner.invoke(args=["report", "render", str(seeded["assessment"]), "-o",
                                 str(tmp_path / "r.pdf")])
    assert result.exit_code == 1 and "SECRET_KEY" in result.output
    assert "Traceback" not in result.output
    pack = runner.invoke(args=["report", "pack", str(seeded["assessment"]), "-o",
                               str(tmp_path / "p.pdf")])
    assert pack.exit_code == 1 and "VENDORCHECK_SECRET_KEY_FALLBACKS" in pack.output
    with app.app_context():
        signing.trust_roots()  # verification needs only the certificate: it still works


def test_organisation_certificate_is_reencrypted_or_must_be_uploaded_again(
        app, client, login_as, seeded, monkeypatch, tmp_path):
    with app.app_context():
        org = db.session.get(Organisation, seeded["org"])
        admin = db.session.get(User, seeded["admin"].id)
        data, _cert = make_p12(tmp_path, "Acme signing")
        signing.upload_certificate(org, data, "pw-123", by=admin)
        _rotate(app, monkeypatch, [OLD_KEY])
        assert signing.signer_for(org.id) is not None
        db.session.commit()
        record = db.session.get(OrganisationCertificate, signing.organisation_certificate(org.id).id)
        assert signing._fernets()[0].decrypt(record.p12_encrypted) == data  # now the new key's
        monkeypatch.setitem(app.config, "SECRET_KEY", "yet-another-key-nobody-kept")
        monkeypatch.setitem(app.config, "SECRET_KEY_FALLBACKS", [])
        with pytest.raises(signing.CertificateUnreadable) as caught:
            signing.signer_for(org.id)
        assert "upload the certificate again" in caught.value.message
        assert caught.value.status == 503


@pytest.mark.parametrize("failure", [MemoryError, SystemError])
def test_a_render_that_runs_out_of_memory_in_c_code_reports_too_large(monkeypatch, failure):
    """Allocation failures under the cap come back as 'too large', never as a lost task."""
    def out_of_memory(*_args, **_kwargs):
        raise failure("error return without exception set")

    monkeypatch.setattr(worker, "render_pdf", out_of_memory)
    assert worker._render_job("<p>x</p>", ".", [], None) is None


def test_a_worker_that_dies_is_noticed_at_once_not_after_the_timeout(app):
    """A child killed mid-task (an abort in C code under the cap) loses its task: say so now."""
    with app.app_context():
        pool = worker._configured_pool()
        pending = pool.apply_async(os._exit, (3,))
        with pytest.raises(worker.WorkerDied):
            worker.wait_for(pending, pool, limit=120)  # a missed death would end in TimeoutError
        worker.shutdown()
        assert worker.render_pdf_isolated("<p>x</p>", static_dir=Path(app.static_folder)).startswith(b"%PDF-")
    worker.shutdown()
