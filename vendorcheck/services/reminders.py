"""Daily reminders: 7 and 1 days before the due date, 1 day after; expire after 30 days overdue.

The same run asks vendors for renewed documents 30 and 7 days before an evidence file expires
(services/expiry.py), reminds the vendor of remediation requests before their due date and once
overdue, and reopens the findings whose waiver expired (services/remediation.py); a reminder to a
contact who answers by link carries a new link.

Each reminder is sent once: the outbox row (template `assessment_reminder_<when>`, ref assessment)
is the record that it went out. Run `vendorcheck reminders send` daily (cron), or, with Redis,
`vendorcheck reminders schedule` once: an RQ job runs every day at `REMINDERS_AT` (UTC) and
schedules the next day's run before it sends anything, so one failed day never stops the chain.
The same daily job brings into force the proposed DPA sub-processor changes that are due
(`vendorcheck dpa apply-changes` does it from cron). A buyer may also remind the contacts at once
(`remind_now`, the API's `POST /assessments/{id}/remind`), at most once a day per assessment.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import click
from flask import current_app, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from vendorcheck import audit, mail
from vendorcheck.extensions import db
from vendorcheck.models import OutboxMessage, User, utcnow
from vendorcheck.models.assessments import Assessment, AssessmentStatus
from vendorcheck.services import answer_links, expiry, remediation
from vendorcheck.services.errors import DomainError
from vendorcheck.services.notify import queue_mail

S = AssessmentStatus
OPEN = (S.SENT, S.IN_PROGRESS)
# days until due → (kind, template)
SCHEDULE = {7: ("before_7", "assessment_reminder"), 1: ("before_1", "assessment_reminder"),
            -1: ("overdue_1", "assessment_overdue")}
EXPIRE_AFTER = 30
MANUAL = "assessment_reminder_manual"  # the template, and the outbox kind of a buyer's reminder
MANUAL_GAP = timedelta(hours=24)  # the contacts get at most one buyer's reminder a day
QUEUE = "reminders"
log = logging.getLogger(__name__)


class NothingToRemind(DomainError):
    status = 409
    default = _l("Only an assessment the vendor is still answering (sent or in progress) can be "
                 "reminded.")


class RemindedRecently(DomainError):
    status = 409
    default = _l("A reminder was sent less than a day ago; the contacts get at most one a day.")


def _already_sent(assessment: Assessment, kind: str) -> bool:
    return db.session.scalar(select(OutboxMessage.id).where(
        OutboxMessage.template == kind, OutboxMessage.ref_type == "assessment",
        OutboxMessage.ref_id == assessment.id).limit(1)) is not None


def _remind(assessment: Assessment, kind: str, template: str, days: int) -> list[OutboxMessage]:
    emails = [r.contact.email for r in assessment.recipients]
    rows = db.session.execute(select(User.email, User.locale).where(User.email.in_(emails))).all()
    locales = {email: locale for email, locale in rows}
    link = mail.external_url("supplier.assessment", assessment_id=assessment.id)
    # A contact who answers by link gets a new one: the older e-mail's link stops working.
    fresh = answer_links.reissue_links(assessment)
    out = []
    for recipient in assessment.recipients:
        contact = recipient.contact
        context = {"name": contact.name, "buyer": assessment.buyer_org.name,
                   "vendor": assessment.vendor.legal_name, "due_date": assessment.due_date,
                   "days": abs(days), "link": fresh.get(contact.email, link)}
        if contact.email in fresh:
            context["link_expires"] = answer_links.link_expiry(assessment).date()
        out.append(queue_mail(template, to=contact.email, locale=locales.get(contact.email),
                              context=context, org_id=assessment.buyer_org_id,
                              ref=("assessment", assessment.id), kind=f"assessment_{kind}"))
    return out


def remind_now(assessment: Assessment, *, by: User) -> int:
    """Send the contacts a reminder now (a buyer's request); return how many were e-mailed."""
    if assessment.status not in OPEN:
        raise NothingToRemind()
    if not assessment.recipients:
        raise NothingToRemind(_l("This assessment was sent to no contact: there is nobody to remind."))
    since = utcnow() - MANUAL_GAP
    if db.session.scalar(select(OutboxMessage.id).where(
            OutboxMessage.template == MANUAL, OutboxMessage.ref_type == "assessment",
            OutboxMessage.ref_id == assessment.id, OutboxMessage.created_at > since).limit(1)):
        raise RemindedRecently()
    days = (assessment.due_date - date.today()).days if assessment.due_date else 0
    messages = _remind(assessment, "reminder_manual", MANUAL, days)
    audit.record("assessment_reminded", by=by, org=assessment.buyer_org_id, obj=assessment,
                 details={"recipients": len(messages)})
    db.session.commit()
    mail.dispatch(messages)
    return len(messages)


def _step(days: int) -> int | None:
    """Return which reminder window `days` until the due date falls in (None: no reminder)."""
    if 1 < days <= 7:
        return 7
    if 0 <= days <= 1:
        return 1
    if -EXPIRE_AFTER <= days <= -1:
        return -1
    return None


def send_reminders(today: date | None = None) -> dict[str, int]:
    """Queue the reminders due today (each once) and expire long-overdue assessments."""
    if not has_request_context():
        with current_app.test_request_context("/"):  # links need URL building (BASE_URL prefix)
            return send_reminders(today)
    today = today or date.today()
    counts = {"reminders": 0, "expired": 0}
    messages: list[OutboxMessage] = []
    query = select(Assessment).where(Assessment.status.in_(OPEN), Assessment.due_date.is_not(None))
    for assessment in db.session.scalars(query):
        assert assessment.due_date is not None
        days = (assessment.due_date - today).days
        if days < -EXPIRE_AFTER:
            assessment.status = S.EXPIRED
            audit.record("assessment_expired", org=assessment.buyer_org_id, obj=assessment,
                         details={"due_date": assessment.due_date.isoformat()})
            counts["expired"] += 1
            continue
        step = _step(days)
        if step is None:
            continue
        kind, template = SCHEDULE[step]
        if _already_sent(assessment, f"assessment_{kind}"):
            continue
        sent = _remind(assessment, kind, template, days)
        messages += sent
        counts["reminders"] += 1 if sent else 0
    renewals = expiry.queue_expiry_reminders(today)  # documents about to expire: ask for new ones
    counts["renewals"] = len(renewals)
    messages += renewals
    # remediation requests: waivers that expired reopen their finding; then the due dates
    expired_waivers = remediation.expire_waivers(today)
    remediation_reminders = remediation.queue_due_reminders(today)
    counts["waivers_expired"] = len({m.ref_id for m in expired_waivers})
    counts["remediation_reminders"] = len({m.ref_id for m in remediation_reminders})
    messages += expired_waivers + remediation_reminders
    db.session.commit()
    mail.dispatch(messages)
    return counts


# --- RQ schedule ----------------------------------------------------------------------------------


def reminders_queue() -> Any:
    """Return the RQ queue of the daily run (tests may put their own in app.extensions)."""
    injected = current_app.extensions.get("vendorcheck_reminders_queue")
    if injected is not None:
        return injected
    from redis import Redis
    from rq import Queue

    return Queue(QUEUE, connection=Redis.from_url(current_app.config["REDIS_URL"]))


def run_time() -> time:
    """Return the configured time of day (UTC) of the daily run, `REMINDERS_AT` ("HH:MM")."""
    text = str(current_app.config.get("REMINDERS_AT") or "07:00")
    try:
        return time.fromisoformat(text).replace(tzinfo=None)
    except ValueError:
        raise click.UsageError(f"REMINDERS_AT must be HH:MM (UTC), not {text!r}.") from None


def next_run(now: datetime, at: time) -> datetime:
    """Return the first moment at `at` (UTC) strictly after `now`."""
    today = datetime.combine(now.astimezone(UTC).date(), at, tzinfo=UTC)
    return today if today > now else today + timedelta(days=1)


def schedule_daily(now: datetime | None = None) -> tuple[datetime, bool]:
    """Schedule the next daily run unless it is already scheduled; return (when, newly scheduled).

    The job id names the day, so scheduling twice (two servers, a repeated command, the job
    rescheduling itself) never runs the reminders twice on one day.
    """
    queue = reminders_queue()
    when = next_run(now or utcnow(), run_time())
    job_id = f"vendorcheck-reminders-{when:%Y-%m-%d}"
    if queue.fetch_job(job_id) is not None:
        return when, False
    queue.enqueue_at(when, "vendorcheck.jobs.daily_reminders", job_id=job_id, result_ttl=7 * 86400)
    return when, True


def daily_run() -> dict[str, int]:
    """Schedule tomorrow's run first, so one failure never stops the daily runs; then do today's.

    Today's: due DPA changes, the audit log's daily checkpoint, then the reminders.
    """
    try:
        schedule_daily()
    except Exception:  # Redis hiccup: still send today's; the log says the chain needs a restart
        log.exception("could not schedule tomorrow's reminders; run `vendorcheck reminders "
                      "schedule` again")
    _apply_dpa_changes()
    _checkpoint_audit_log()
    return send_reminders()


def _checkpoint_audit_log() -> None:
    """Anchor the audit log's head outside the database (docs/audit-log.md), once a day."""
    from vendorcheck import audit_checkpoints

    try:
        audit_checkpoints.write_checkpoint()
    except Exception:  # never let it stop the reminders; `audit verify` reports a missing checkpoint
        db.session.rollback()
        log.exception("could not write today's audit checkpoint; run `vendorcheck audit checkpoint`")


def _apply_dpa_changes() -> None:
    """Bring into force the proposed sub-processor changes due today (also done on page views)."""
    from vendorcheck.services import dpa_changes

    try:
        dpa_changes.apply_due()
    except Exception:  # never let it stop the reminders; pages apply due changes lazily anyway
        db.session.rollback()
        log.exception("could not apply the due DPA sub-processor changes; run `vendorcheck dpa "
                      "apply-changes`")
