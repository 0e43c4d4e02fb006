"""`vendorcheck reminders send|schedule`: due-date reminders, from cron or RQ."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext


@click.group("reminders")
def reminders_group() -> None:
    """Assessment reminders."""


@reminders_group.command("send")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Pretend today is this date (YYYY-MM-DD).")
@with_appcontext
def send_command(today: object) -> None:
    """Send due-date reminders (run daily) and expire long-overdue assessments."""
    from vendorcheck.services.reminders import send_reminders

    day = today.date() if today is not None else None  # type: ignore[attr-defined]
    counts = send_reminders(day)
    click.echo(f"{counts['reminders']} reminder(s) queued, {counts['expired']} expired, "
               f"{counts.get('renewals', 0)} renewal request(s), "
               f"{counts.get('remediation_reminders', 0)} remediation reminder(s), "
               f"{counts.get('waivers_expired', 0)} waiver(s) expired.")


@reminders_group.command("schedule")
@with_appcontext
def schedule_command() -> None:
    """With Redis: run the reminders every day at REMINDERS_AT (UTC) on an RQ worker."""
    from vendorcheck.services.reminders import QUEUE, schedule_daily

    if not current_app.config.get("REDIS_URL") and \
            "vendorcheck_reminders_queue" not in current_app.extensions:
        raise click.ClickException("Redis is not configured (VENDORCHECK_REDIS_URL). Without it, "
                                   "run `vendorcheck reminders send` once a day, e.g. from cron.")
    try:
        when, created = schedule_daily()
    except click.ClickException:
        raise
    except Exception as exc:  # Redis down or refusing: one clear line, no traceback
        raise click.ClickException(f"Could not reach Redis to schedule the reminders: {exc}") \
            from None
    state = "Scheduled" if created else "Already scheduled:"
    click.echo(f"{state} the daily reminders at {when:%Y-%m-%d %H:%M} UTC (queue "
               f"'{QUEUE}'; run `vendorcheck worker`, which serves it with RQ's scheduler).")
