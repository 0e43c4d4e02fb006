"""Daily reminders: 7 and 1 days before the due date, 1 day after; expire after 30 days overdue.

Each reminder is sent once: the outbox row (template `assessment_reminder_<when>`, ref assessment)
is the record that it went out.
"""

from __future__ import annotations

from datetime import date

import click
from flask import Flask, current_app, has_request_context
from flask.cli import with_appcontext
from sqlalchemy import select

from vendorcheck import audit, mail
from vendorcheck.extensions import db
from vendorcheck.models import OutboxMessage, User
from vendorcheck.models.assessments import Assessment, AssessmentStatus
from vendorcheck.services.assessments import queue_mail

S = AssessmentStatus
OPEN = (S.SENT, S.IN_PROGRESS)
# days until due → (kind, template)
SCHEDULE = {7: ("before_7", "assessment_reminder"), 1: ("before_1", "assessment_reminder"),
            -1: ("overdue_1", "assessment_overdue")}
EXPIRE_AFTER = 30


def _already_sent(assessment: Assessment, kind: str) -> bool:
    return db.session.scalar(select(OutboxMessage.id).where(
        OutboxMessage.template == kind, OutboxMessage.ref_type == "assessment",
        OutboxMessage.ref_id == assessment.id).limit(1)) is not None


def _remind(assessment: Assessment, kind: str, template: str, days: int) -> list[OutboxMessage]:
    emails = [r.contact.email for r in assessment.recipients]
    rows = db.session.execute(select(User.email, User.locale).where(User.email.in_(emails))).all()
    locales = {email: locale for email, locale in rows}
    link = mail.external_url("vendor.assessment", assessment_id=assessment.id)
    out = []
    for recipient in assessment.recipients:
        contact = recipient.contact
        context = {"name": contact.name, "buyer": assessment.buyer_org.name,
                   "vendor": assessment.vendor.legal_name, "due_date": assessment.due_date,
                   "days": abs(days), "link": link}
        out.append(queue_mail(template, to=contact.email, locale=locales.get(contact.email),
                              context=context, org_id=assessment.buyer_org_id,
                              ref=("assessment", assessment.id), kind=f"assessment_{kind}"))
    return out


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
    db.session.commit()
    mail.dispatch(messages)
    return counts


@click.group("reminders")
def reminders_group() -> None:
    """Assessment reminders."""


@reminders_group.command("send")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Pretend today is this date (YYYY-MM-DD).")
@with_appcontext
def send_command(today: object) -> None:
    """Send due-date reminders (run daily) and expire long-overdue assessments."""
    day = today.date() if today is not None else None  # type: ignore[attr-defined]
    counts = send_reminders(day)
    click.echo(f"{counts['reminders']} reminder(s) queued, {counts['expired']} expired.")


def init_app(app: Flask) -> None:
    """Register the command."""
    app.cli.add_command(reminders_group)

