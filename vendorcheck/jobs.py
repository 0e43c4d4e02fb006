"""What background workers run (RQ): each entry point builds the app once and calls its service.

Services enqueue these by name ("vendorcheck.jobs.build_pack"), so no service imports the app factory
and a worker process imports only what the job needs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, has_app_context

T = TypeVar("T")

_app: Flask | None = None


def _in_app(work: Callable[..., T], *args: Any) -> T:
    """Run `work` inside an app context, building the worker's app on first use."""
    global _app
    if has_app_context():
        return work(*args)
    if _app is None:
        from vendorcheck import create_app

        _app = create_app()
    with _app.app_context():
        return work(*args)


def queue_names() -> tuple[str, ...]:
    """Return the RQ queues the services enqueue on, the quick ones first (a worker serves them in order)."""
    from vendorcheck import mail
    from vendorcheck.services import packs, reminders, webhook_delivery
    from vendorcheck.services.assessments import results

    return (mail.QUEUE, webhook_delivery.QUEUE, results.QUEUE, reminders.QUEUE, packs.QUEUE)


def use_app(app: Flask) -> None:
    """Let the jobs of this process run in `app` (a worker builds it once, before it forks per job)."""
    global _app
    _app = app


def deliver_mail(message_id: int) -> str:
    """Send one outbox message over SMTP."""
    from vendorcheck import mail

    return _in_app(mail.deliver, message_id)


def deliver_webhook(delivery_id: int) -> str:
    """Make one attempt of a webhook delivery (a failure schedules the next one)."""
    from vendorcheck.services import webhook_delivery

    return _in_app(webhook_delivery.deliver, delivery_id)


def rescore_assessment(assessment_id: int) -> str:
    """Re-score one assessment an autosave left stale (a no-op if a reader got there first)."""
    from vendorcheck.services.assessments import results

    return _in_app(results.rescore, assessment_id)


def build_pack(job_id: int) -> str:
    """Build one evidence pack."""
    from vendorcheck.services import packs

    return _in_app(packs.run_pack_job, job_id)


def daily_reminders() -> dict[str, int]:
    """Schedule tomorrow's run, then send today's reminders (apply due DPA changes, anchor the audit log)."""
    from vendorcheck.services import reminders

    return _in_app(reminders.daily_run)
