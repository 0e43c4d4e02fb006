"""Evidence packs: one signed PDF with an assessment's report(s), manifest and evidence files.

A pack is requested as a PackJob. With Redis configured (REDIS_URL, as for mail) the job runs
on the RQ queue "packs" with a job timeout; otherwise it runs in a background thread of the web
process with its own app context, so the request returns at once and the status page can show
progress. While it runs, a small thread of the worker writes the job's heartbeat every
JOB_HEARTBEAT_EVERY seconds; a worker killed (or a server restarted) stops beating, so a running
job whose heartbeat is older than JOB_DEAD_AFTER seconds is reported as interrupted, its working
folder is removed and it can be retried at once.
"""

from __future__ import annotations

import logging
import re
import secrets
import shutil
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Engine, select, update

from vendorcheck import audit
from vendorcheck.extensions import db
from vendorcheck.models import Organisation, User, Vendor, utcnow
from vendorcheck.models.assessments import Assessment
from vendorcheck.models.packs import PackJob, PackStatus
from vendorcheck.pdf.report import LOCALES
from vendorcheck.services.errors import DomainError
from vendorcheck.services.pack_build import (
    BuiltPack,
    NothingToPack,
    Progress,
    build_pack,
    run_folder,
    tmp_root,
    work_dir,
)
from vendorcheck.storage import Area, FileMissing, InvalidKey, StoredFile, current_store

log = logging.getLogger(__name__)

QUEUE = "packs"  # the RQ queue `vendorcheck worker` listens to (jobs.queue_names)
DEFAULT_JOB_TIMEOUT = 1800
DEFAULT_DEAD_AFTER = 60  # seconds without a heartbeat after which a running job's worker is dead
DEFAULT_HEARTBEAT_EVERY = 15
LEGACY_TMP_AGE = timedelta(days=1)  # `pack-*` folders of the CLI or of older versions: left alone before
RUN_RE = re.compile(r"^job-[0-9]{1,19}-[0-9a-f]{16}$")  # a run's working folder (PackJob.work_dir)
KEY_LENGTH = 64


class PackNotReady(DomainError):
    status = 409
    default = _l("This evidence pack is not ready.")


class PackFileMissing(DomainError):
    status = 410
    default = _l("The file of this evidence pack is no longer available. Build the pack again.")


# ------------------------------------------------------------------------------------ jobs

def request_pack(org: Organisation, *, by: User, locale: str, assessment: Assessment | None = None,
                 vendor: Vendor | None = None) -> PackJob:
    """Create a pack job for one assessment or a vendor's assessments, and start it."""
    if (assessment is None) == (vendor is None):
        raise ValueError("give exactly one of assessment and vendor")
    if vendor is not None and not _vendor_assessments(vendor.id, org.id):
        raise NothingToPack()
    job = PackJob(buyer_org_id=org.id, assessment_id=assessment.id if assessment else None,
                  vendor_id=vendor.id if vendor else None,
                  locale=locale if locale in LOCALES else "en", created_by_id=by.id,
                  message=_("Waiting for a worker…"))
    db.session.add(job)
    db.session.flush()
    audit.record("pack.requested", by=by, org=org, obj=job,
                 details={"assessment_id": job.assessment_id, "vendor_id": job.vendor_id,
                          "locale": job.locale})
    db.session.commit()
    dispatch(job.id)
    return job


def retry_pack(job: PackJob, *, by: User) -> PackJob:
    """Start a failed (or interrupted) job again."""
    refresh_stale(job)
    if job.status is not PackStatus.FAILED:
        raise PackNotReady(_("Only a failed evidence pack can be retried."))
    _remove_work_dir(job.work_dir)
    job.status, job.progress, job.error = PackStatus.QUEUED, 0, None
    job.message, job.updated_at, job.finished_at = _("Waiting for a worker…"), utcnow(), None
    job.heartbeat_at, job.work_dir = None, None
    audit.record("pack.retried", by=by, org=job.buyer_org_id, obj=job)
    db.session.commit()
    dispatch(job.id)
    return job


def dispatch(job_id: int) -> None:
    """After commit: enqueue the job on RQ, or run it in a background thread."""
    if current_app.config.get("REDIS_URL") or "vendorcheck_pack_queue" in current_app.extensions:
        timeout = int(current_app.config.get("PACK_JOB_TIMEOUT", DEFAULT_JOB_TIMEOUT))
        try:
            pack_queue().enqueue("vendorcheck.jobs.build_pack", job_id,
                                 job_id=f"pack-{job_id}-{secrets.token_hex(4)}", job_timeout=timeout)
        except Exception:  # Redis down: say so on the status page, the user can retry
            log.exception("could not enqueue pack job %s", job_id)
            _fail(job_id, _("The job queue is not reachable. Please try again later."))
        return
    start_thread(current_app._get_current_object(), job_id)  # type: ignore[attr-defined]


def pack_queue() -> Any:
    """Return the RQ queue for packs (tests may put their own in app.extensions)."""
    injected = current_app.extensions.get("vendorcheck_pack_queue")
    if injected is not None:
        return injected
    from redis import Redis
    from rq import Queue

    return Queue(QUEUE, connection=Redis.from_url(current_app.config["REDIS_URL"]))


_threads: set[threading.Thread] = set()


def start_thread(app: Flask, job_id: int) -> threading.Thread:
    """Build a pack in a (non-daemon) thread with its own app context."""
    def target() -> None:
        with app.app_context():
            try:
                run_pack_job(job_id)
            finally:
                db.session.remove()
                _threads.discard(threading.current_thread())

    thread = threading.Thread(target=target, name=f"pack-{job_id}")
    _threads.add(thread)
    thread.start()
    return thread


def wait_for_threads(timeout: float = 120.0) -> None:
    """Wait for background pack threads (tests, and a graceful shutdown)."""
    for thread in list(_threads):
        thread.join(timeout)


def run_pack_job(job_id: int) -> str:
    """Build the pack of one job, recording progress; return the final status."""
    job = db.session.get(PackJob, job_id)
    if job is None or job.status not in (PackStatus.QUEUED, PackStatus.RUNNING):
        return "skipped"
    # Workers have no request: every message of the job is written in the pack's language.
    with force_locale(job.locale):
        return _run(job)


def _run(job: PackJob) -> str:
    """Run a loaded job (see run_pack_job) in its own working folder, beating while it runs."""
    job_id, run = job.id, f"job-{job.id}-{secrets.token_hex(8)}"
    folder = tmp_root() / run
    folder.mkdir(mode=0o700)
    now = utcnow()
    job.status, job.progress, job.updated_at = PackStatus.RUNNING, 1, now
    job.heartbeat_at, job.work_dir = now, run
    db.session.commit()
    token = run_folder.set(folder)  # the build's temporary files go inside the run's folder
    try:
        with _heartbeat(job_id, run):
            return _run_in(job, run, folder)
    finally:
        run_folder.reset(token)
        shutil.rmtree(folder, ignore_errors=True)


def _run_in(job: PackJob, run: str, folder: Path) -> str:
    """Build, store and record the pack of a running job (see _run)."""
    job_id = job.id
    by = db.session.get(User, job.created_by_id) if job.created_by_id else None
    try:
        built, stored = _build_and_store(job, by, run, folder)
    except DomainError as exc:
        db.session.rollback()
        _fail(job_id, exc.message, run=run)
        return PackStatus.FAILED.value
    except Exception:  # anything else: log it with the job id, tell the user plainly
        db.session.rollback()
        log.exception("evidence pack job %s failed", job_id)
        _fail(job_id, _("The evidence pack could not be built because of an unexpected error "
                        "(logged as pack job %(id)s). Please try again.", id=job_id), run=run)
        return PackStatus.FAILED.value
    try:
        finished = _finish(job_id, built, stored, run)
    except BaseException:
        current_store().delete(Area.PACKS, stored.key)  # a file no job points to would never be pruned
        raise
    if not finished:  # given up on as dead meanwhile (and perhaps retried): that run owns the job
        current_store().delete(Area.PACKS, stored.key)
        return "superseded"
    return PackStatus.DONE.value


@contextmanager
def _heartbeat(job_id: int, run: str) -> Iterator[None]:
    """Write the job's heartbeat from a small thread every JOB_HEARTBEAT_EVERY seconds meanwhile.

    The thread has its own database connection, so a long step (a render, the signature) that
    holds the job's session does not stop the beat; it dies with the worker, which is the point.
    """
    every = float(current_app.config.get("JOB_HEARTBEAT_EVERY", DEFAULT_HEARTBEAT_EVERY))
    engine, stop = db.engine, threading.Event()

    def beat() -> None:
        while not stop.wait(every):
            try:
                _beat(engine, job_id, run)
            except Exception:  # the database is briefly away: the next beat tries again
                log.warning("could not write the heartbeat of pack job %s", job_id, exc_info=True)

    thread = threading.Thread(target=beat, name=f"pack-{job_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _beat(engine: Engine, job_id: int, run: str) -> None:
    """Record that the run `run` of a job is alive (nothing when the job is no longer its)."""
    with engine.begin() as conn:
        conn.execute(update(PackJob).where(
            PackJob.id == job_id, PackJob.work_dir == run, PackJob.status == PackStatus.RUNNING,
        ).values(heartbeat_at=utcnow()))


def _build_and_store(job: PackJob, by: User | None, run: str | None = None,
                     folder: Path | None = None) -> tuple[BuiltPack, StoredFile]:
    """Build a job's pack in its run's working folder (else a temporary one), then store it."""
    if folder is None:
        with tempfile.TemporaryDirectory(prefix="pack-", dir=work_dir()) as temporary:
            return _build_and_store(job, by, run, Path(temporary))
    output = folder / "pack.pdf"
    built = build_pack(_job_assessments(job), locale=job.locale, output=output, by=by,
                       progress=_job_progress(job.id, run))
    with output.open("rb") as handle:
        stored = current_store().save(Area.PACKS, handle)
    if stored.sha256 != built.sha256:  # the store must hold exactly the bytes that were signed
        current_store().delete(Area.PACKS, stored.key)
        raise OSError("the stored evidence pack differs from the one built")
    return built, stored


def _job_progress(job_id: int, run: str | None) -> Progress:
    """Return a callback that stores the job's progress (only when it changed) and a heartbeat."""
    last = {"percent": -1}

    def report(percent: int, message: str) -> None:
        if percent == last["percent"]:
            return
        last["percent"] = percent
        job = db.session.get(PackJob, job_id, populate_existing=True)
        if job is None or job.work_dir != run or job.status is not PackStatus.RUNNING:
            return
        job.progress, job.message = max(1, min(99, percent)), message[:300]
        job.updated_at = job.heartbeat_at = utcnow()
        db.session.commit()

    return report


def _finish(job_id: int, built: BuiltPack, stored: StoredFile, run: str) -> bool:
    """Record a finished pack; False when the job is no longer this run's."""
    job = db.session.get(PackJob, job_id, populate_existing=True, with_for_update=True)
    if job is None or job.work_dir != run or job.status is not PackStatus.RUNNING:
        db.session.rollback()
        return False
    job.status, job.progress, job.message = PackStatus.DONE, 100, _("Ready")
    job.storage_key, job.sha256, job.size = stored.key, stored.sha256, stored.size
    job.finished_at = job.updated_at = utcnow()
    audit.record("pack.built", by=None, org=job.buyer_org_id, obj=job,
                 details={"sha256": built.sha256, "size": built.size, "pages": built.pages})
    db.session.commit()
    return True


def _fail(job_id: int, message: str, *, run: str | None = None) -> None:
    """Record a failed job with a message the user can act on (a run only fails its own job)."""
    job = db.session.get(PackJob, job_id, populate_existing=True, with_for_update=True)
    if job is None or (run is not None and (job.work_dir != run
                                            or job.status is not PackStatus.RUNNING)):
        return
    job.status, job.error, job.message = PackStatus.FAILED, message[:2000], message[:300]
    job.finished_at = job.updated_at = utcnow()
    db.session.commit()


def is_dead(job: PackJob, *, now: datetime | None = None) -> bool:
    """Whether a running job's worker stopped beating more than JOB_DEAD_AFTER seconds ago."""
    # Queued jobs are left alone: RQ keeps them until a worker is free, however long that is.
    if job.status is not PackStatus.RUNNING:
        return False
    limit = timedelta(seconds=_dead_after())
    last = job.heartbeat_at or job.updated_at  # rows from before heartbeats: their last progress
    return (now or utcnow()) - last > limit


def _dead_after() -> float:
    """Seconds without a heartbeat after which a running job's worker is taken for dead."""
    return float(current_app.config.get("JOB_DEAD_AFTER", DEFAULT_DEAD_AFTER))


def refresh_stale(job: PackJob, *, now: datetime | None = None) -> bool:
    """Mark a running job whose worker died as interrupted and remove its working folder; commit."""
    if not is_dead(job, now=now):
        return False
    job.status, job.finished_at = PackStatus.FAILED, now or utcnow()
    with force_locale(job.locale):
        job.error = job.message = _("Interrupted: the worker building this pack stopped (it "
                                    "crashed, or the server restarted). Please try again.")
    removed = _remove_work_dir(job.work_dir)
    audit.record("pack.interrupted", by=None, org=job.buyer_org_id, obj=job,
                 details={"heartbeat_at": (job.heartbeat_at or job.updated_at).isoformat(),
                          "work_dir_removed": removed})
    db.session.commit()
    return True


@dataclass(frozen=True)
class Cleaned:
    """What `clean_interrupted` did: jobs marked interrupted, leftover working folders removed."""

    interrupted: int
    folders: int


def clean_interrupted(*, now: datetime | None = None) -> Cleaned:
    """Mark every dead running job as interrupted and remove working folders no live run uses.

    Working folders are on the worker's local disk: run this (`vendorcheck report prune-packs`)
    on every machine that builds packs.
    """
    running = db.session.scalars(select(PackJob).where(PackJob.status == PackStatus.RUNNING)).all()
    interrupted = sum(refresh_stale(job, now=now) for job in running)
    live = set(db.session.scalars(select(PackJob.work_dir).where(
        PackJob.status == PackStatus.RUNNING, PackJob.work_dir.is_not(None))))
    moment = now or utcnow()
    # A run creates its folder just before it records it: a young unknown folder may be starting.
    young = (moment - timedelta(seconds=_dead_after())).timestamp()
    legacy = (moment - LEGACY_TMP_AGE).timestamp()
    folders = 0
    for path in tmp_root().iterdir():
        mtime = path.stat().st_mtime
        leftover = (RUN_RE.match(path.name) and path.name not in live and mtime < young) or (
            path.name.startswith("pack-") and mtime < legacy)
        if leftover and path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
            folders += 1
    return Cleaned(interrupted, folders)


def _remove_work_dir(name: str | None) -> bool:
    """Remove a run's working folder if it is on this machine; whether something was removed."""
    if not name or not RUN_RE.match(name):
        return False
    folder = tmp_root() / name
    if not folder.is_dir() or folder.is_symlink():
        return False
    shutil.rmtree(folder, ignore_errors=True)
    return True


@dataclass(frozen=True)
class Pruned:
    """What `prune` removed: how many pack files, and how many bytes."""

    packs: int
    size: int


def prune(older_than_days: int, *, now: datetime | None = None) -> Pruned:
    """Delete the files of packs finished more than `older_than_days` ago; commit.

    The job stays, with its SHA-256 and an explanation; building it again makes a new pack.
    """
    cutoff = (now or utcnow()) - timedelta(days=older_than_days)
    jobs = db.session.scalars(select(PackJob).where(
        PackJob.status == PackStatus.DONE, PackJob.storage_key.is_not(None),
        PackJob.finished_at < cutoff)).all()
    size = 0
    for job in jobs:
        assert job.storage_key is not None  # selected above
        size += _remove_pack_file(job.storage_key)
        with force_locale(job.locale):
            expired = _("Removed after %(days)d days, as this server keeps evidence packs; "
                        "build it again to download it.", days=older_than_days)
        job.status, job.storage_key, job.error, job.message = (
            PackStatus.FAILED, None, expired, expired[:300])
        audit.record("pack.pruned", by=None, org=job.buyer_org_id, obj=job,
                     details={"sha256": job.sha256, "days": older_than_days})
    db.session.commit()
    return Pruned(len(jobs), size)


def _remove_pack_file(key: str) -> int:
    """Delete a stored pack file; return its size (0 if it was already gone)."""
    store = current_store()
    try:
        size = store.size(Area.PACKS, key)
    except (FileMissing, InvalidKey):
        return 0
    store.delete(Area.PACKS, key)
    return size


def verified_pack(job: PackJob) -> StoredFile:
    """Return the stored file of a finished pack, checking it is there and unchanged."""
    if job.status is not PackStatus.DONE or not job.storage_key:
        raise PackNotReady()
    store = current_store()
    try:
        digest = store.sha256(Area.PACKS, job.storage_key)
        size = store.size(Area.PACKS, job.storage_key)
    except (FileMissing, InvalidKey):
        raise PackFileMissing() from None
    if digest != job.sha256:
        raise PackFileMissing()
    return StoredFile(job.storage_key, digest, size)


def record_download(job: PackJob, *, by: User) -> None:
    """Audit a pack download."""
    audit.record("pack.downloaded", by=by, org=job.buyer_org_id, obj=job,
                 details={"sha256": job.sha256})
    db.session.commit()


def record_cli_build(assessments: Sequence[Assessment], built: BuiltPack, *, locale: str) -> None:
    """Audit a pack built from the command line (no job, no stored copy)."""
    audit.record("pack.built", by=None, org=assessments[0].buyer_org_id, obj=assessments[0],
                 details={"assessment_ids": [a.id for a in assessments], "locale": locale,
                          "sha256": built.sha256, "size": built.size, "cli": True})
    db.session.commit()


def _vendor_assessments(vendor_id: int, org_id: int) -> list[Assessment]:
    """Return a vendor's assessments of one buyer, oldest first."""
    return list(db.session.scalars(select(Assessment).where(
        Assessment.vendor_id == vendor_id, Assessment.buyer_org_id == org_id)
        .order_by(Assessment.created_at, Assessment.id)))


def _job_assessments(job: PackJob) -> list[Assessment]:
    """Return the assessments a job packs."""
    if job.assessment_id is not None:
        found = db.session.get(Assessment, job.assessment_id)
        return [found] if found is not None else []
    assert job.vendor_id is not None
    return _vendor_assessments(job.vendor_id, job.buyer_org_id)


def assessments_for(*, assessment_id: int | None = None,
                    vendor_id: int | None = None) -> list[Assessment]:
    """Return what the CLI packs: one assessment, or every assessment of a vendor."""
    if assessment_id is not None:
        found = db.session.get(Assessment, assessment_id) if 0 < assessment_id < 2**63 else None
        return [found] if found is not None else []
    vendor = db.session.get(Vendor, vendor_id) if vendor_id and 0 < vendor_id < 2**63 else None
    return _vendor_assessments(vendor.id, vendor.buyer_org_id) if vendor is not None else []
