"""An assessment's results: the reviewed score, tier and findings cached on it, and kept fresh.

An autosave only writes progress and marks the results stale (`store_progress`); with a worker
(Redis), the first autosave that makes them stale schedules a re-score (`schedule_rescore`, the RQ
job `vendorcheck.jobs.rescore_assessment`; without Redis, a thread of the same process,
`local_queue`), so no buyer page re-scores many: the dashboard shows the last results, said to be
updating, with their age (`results_computed_at`). `ensure_fresh` re-scores one assessment before
its report is built; `rescore(..., force=True)` is the review page's "Refresh results now".
"""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from vendorcheck import database
from vendorcheck.database import bound
from vendorcheck.extensions import db
from vendorcheck.models import utcnow
from vendorcheck.models.assessments import Assessment, AssessmentStatus, FindingRecord, FindingState
from vendorcheck.questionnaire import Questionnaire
from vendorcheck.questionnaire.evaluate import evaluate_visibility, make_env
from vendorcheck.questionnaire.reviewed import (
    OverrideValue,
    ReviewedResult,
    remediated_findings,
    reviewed_result,
)
from vendorcheck.questionnaire.scoring import ScoreResult
from vendorcheck.services.assessments.local_queue import LocalRescoreQueue, stop_at_exit
from vendorcheck.services.assessments.reading import (
    answers_of,
    overall_progress,
    progress_and_completeness,
    questionnaire_of,
    section_progress,
)

S = AssessmentStatus
QUEUE = "results"  # the RQ queue `vendorcheck worker` listens to (jobs.queue_names)
RESCORE_JOB = "vendorcheck.jobs.rescore_assessment"
DEFAULT_RESCORE_DELAY = 5  # seconds: the saves of one burst of typing share one re-score

log = logging.getLogger(__name__)


def reviewed_of(assessment: Assessment, q: Questionnaire | None = None) -> ReviewedResult:
    """Score the pinned version and apply the reviewer's overrides, manual findings and accepted
    fixes (a remediated finding no longer counts toward the tier)."""
    q = q or questionnaire_of(assessment)
    overrides = [OverrideValue(o.kind, o.target, o.new_value) for o in assessment.overrides]
    fixed = remediated_findings(overrides)  # a manual finding whose fix was accepted counts no more
    manual = [f.severity for f in assessment.findings
              if f.source == "manual" and f.finding_id not in fixed]
    return reviewed_result(q, answers_of(assessment), overrides, extra_severities=manual)


def refresh_results(assessment: Assessment, q: Questionnaire | None = None) -> ReviewedResult:
    """Re-score with the reviewer's overrides, refresh the cached columns and sync findings.

    The cached score, tier and open findings are the reviewed ones, so the dashboard, the review
    page, the report and the exports agree even when the vendor saves during a clarification.
    """
    q = q or questionnaire_of(assessment)
    reviewed = reviewed_of(assessment, q)
    result = reviewed.computed
    assessment.score, assessment.tier = reviewed.score, reviewed.tier
    assessment.completeness = result.completeness
    assessment.progress = overall_progress(section_progress(q, result.visibility))
    _sync_findings(assessment, reviewed)
    assessment.open_findings = _count_open(assessment, result)
    assessment.results_stale = False
    assessment.results_computed_at = utcnow()
    return reviewed


def progress_of(assessment: Assessment, q: Questionnaire,
                answers: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return what an autosave changes on the assessment: progress and completeness counted from
    `answers` (None: the save cannot move them, `moves_progress`, so the stored ones stand), the
    results marked stale, and "in progress" if it was only sent. Empty when nothing changes.

    Visibility alone is a fraction of a full re-score; the rest waits for the worker or a reader.
    """
    values: dict[str, Any] = {}
    if answers is not None:
        progress, done = progress_and_completeness(
            q, evaluate_visibility(q, answers, env=make_env(q, None)))
        values.update(completeness=done, progress=progress)
    if not assessment.results_stale:
        values["results_stale"] = True
    if assessment.status is S.SENT:
        values["status"] = S.IN_PROGRESS
    return values


def store_progress(assessment: Assessment, values: Mapping[str, Any]) -> None:
    """Write `progress_of`'s values in one plain UPDATE (the unit of work costs more), mirrored on
    the loaded object; nothing when there are none."""
    if not values:
        return
    db.session.execute(progress_update("new_", tuple(values)), {
        "new_assessment_id": assessment.id, **{f"new_{k}": v for k, v in values.items()}})
    mirror_progress(assessment, values)


def mirror_progress(assessment: Assessment, values: Mapping[str, Any]) -> None:
    """Show written progress values on the loaded object, as committed (no UPDATE of its own)."""
    for name, value in values.items():
        set_committed_value(assessment, name, value)


@functools.cache  # built once per shape: one runs on every autosave
def progress_update(prefix: str, names: tuple[str, ...]) -> Any:
    """Return the UPDATE of an assessment's columns `names` (progress, completeness, results_stale,
    status: what `progress_of` returns), values bound as `<prefix><column>`."""
    table = Assessment.__table__
    # Every name is prefixed: in a statement with other UPDATEs, a bound name equal to a column
    # of theirs ("assessment_id") would be set on them too.
    return update(table).where(table.c.id == bindparam(f"{prefix}assessment_id")).values(
        bound(table, *names, prefix=prefix))


def ensure_fresh(assessment: Assessment) -> None:
    """Re-score an assessment whose results an autosave marked stale, and commit."""
    if assessment.results_stale:
        rescore(assessment.id)


def schedule_rescore(assessment_id: int) -> None:
    """After the commit that made an assessment's results stale: have a worker re-score it.

    Called once per stale period (the save that flipped `results_stale`), and delayed by
    RESCORE_DELAY seconds, so a vendor typing causes one re-score per burst, not one per save.
    Without Redis, this process's own queue does it (`local_queue`); if the RQ queue is down, the
    save re-scores at once, after its commit.
    """
    queue = rescore_queue()
    delay = int(current_app.config.get("RESCORE_DELAY", DEFAULT_RESCORE_DELAY))
    try:
        queue.enqueue_in(timedelta(seconds=delay), RESCORE_JOB, assessment_id,
                         job_id=f"rescore-{assessment_id}-{secrets.token_hex(4)}", result_ttl=0)
    except Exception:  # Redis down: re-score now rather than leave the results stale for long
        log.exception("could not schedule the re-score of assessment %s", assessment_id)
        rescore(assessment_id)


def rescore_queue() -> Any:
    """Return where re-scores are scheduled: an injected queue (tests), RQ's with Redis, else
    this process's own (`local_queue`)."""
    injected = current_app.extensions.get("vendorcheck_results_queue")
    if injected is not None:
        return injected
    if current_app.config.get("REDIS_URL"):
        from redis import Redis
        from rq import Queue

        return Queue(QUEUE, connection=Redis.from_url(current_app.config["REDIS_URL"]))
    return local_queue()


def local_queue() -> LocalRescoreQueue:
    """Return this app's in-process re-score queue, created on first use."""
    queue = current_app.extensions.get("vendorcheck_local_rescores")
    if queue is None:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        threaded = not app.config.get("RESCORE_SYNC", False)
        queue = LocalRescoreQueue(app, rescore, threaded=threaded)
        if threaded:
            stop_at_exit(queue)
        app.extensions["vendorcheck_local_rescores"] = queue
    return queue


def drain_rescores() -> int:
    """Re-score now whatever this process's queue holds (tests, and the CLI before it reads)."""
    queue = current_app.extensions.get("vendorcheck_local_rescores")
    return queue.drain() if queue is not None else 0


def rescore(assessment_id: int, *, force: bool = False) -> str:
    """Take the assessment's save turn, re-read it, re-score it if still stale (or `force`d),
    commit; say what was done (the worker's job, what readers run on what is still stale, and the
    review page's refresh)."""
    assessment = _lock_for_rescore(assessment_id)
    if assessment is None:
        db.session.rollback()
        return "gone"
    done = "rescored" if assessment.results_stale or force else "fresh"
    if done == "rescored":
        refresh_results(assessment)
    db.session.commit()
    return done


def _lock_for_rescore(assessment_id: int) -> Assessment | None:
    """Take the assessment's save turn and load what a re-score reads, fresh."""
    database.queue_for_write(db.session)
    return db.session.scalars(
        select(Assessment).where(Assessment.id == assessment_id)
        .options(joinedload(Assessment.vendor), selectinload(Assessment.answers),
                 selectinload(Assessment.overrides), selectinload(Assessment.findings))
        .with_for_update(of=Assessment).execution_options(populate_existing=True)).first()


STILL_OPEN = frozenset({FindingState.OPEN, FindingState.VENDOR_RESPONDED})


def _count_open(assessment: Assessment, result: ScoreResult) -> int:
    """Count the findings the review page lists (raised or manual) that are still open."""
    raised = {f.id for f in result.findings}
    return sum(1 for r in assessment.findings if r.state in STILL_OPEN
               and (r.source == "manual" or r.finding_id in raised))


def _sync_findings(assessment: Assessment, reviewed: ReviewedResult) -> None:
    """Insert newly raised computed findings; drop untouched ones no longer raised; keep states.

    A raised finding's record carries its effective severity (the reviewer's override, if any),
    since the report and the exports read the records.
    """
    raised = {f.id: f for f in reviewed.computed.findings}
    existing = {f.finding_id: f for f in assessment.findings}
    for record in list(assessment.findings):
        untouched = record.state is FindingState.OPEN and not record.comment and not record.updated_by_id
        if record.source == "computed" and record.finding_id not in raised and untouched:
            assessment.findings.remove(record)
    for fid, finding in raised.items():
        severity = reviewed.severity_of(fid, finding.severity)
        stored = existing.get(fid)
        if stored is None:
            assessment.findings.append(FindingRecord(
                finding_id=fid, source="computed", severity=severity,
                title=finding.title.as_dict(), refs=list(finding.refs),
                remediation=finding.remediation.as_dict() if finding.remediation else {},
                state=FindingState.OPEN))
        elif stored.source == "computed" and stored.severity != severity:
            stored.severity = severity
