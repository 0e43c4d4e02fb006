"""`vendorcheck mail send-pending`: deliver the e-mail outbox."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("mail")
def mail_group() -> None:
    """Deliver the e-mail outbox."""


@mail_group.command("send-pending")
@with_appcontext
def send_pending_command() -> None:
    """Deliver every pending message that is due (run from cron, or let RQ do it)."""
    from sqlalchemy import func, select

    from vendorcheck.extensions import db
    from vendorcheck.mail import send_pending, smtp_configured
    from vendorcheck.models import OutboxMessage, OutboxStatus

    if not smtp_configured():
        pending = db.session.scalar(select(func.count(OutboxMessage.id)).where(
            OutboxMessage.status == OutboxStatus.PENDING))
        click.echo(f"No SMTP server configured (VENDORCHECK_MAIL_SERVER); "
                   f"{pending} message(s) kept in the outbox.")
        return
    counts = send_pending()
    summary = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "nothing due"
    click.echo(f"Outbox: {summary}")
