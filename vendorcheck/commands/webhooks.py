"""`vendorcheck webhooks deliver-due`: attempt the webhook deliveries whose time has come."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("webhooks")
def webhooks_group() -> None:
    """Outgoing webhooks."""


@webhooks_group.command("deliver-due")
@with_appcontext
def deliver_due_command() -> None:
    """Attempt every pending or retrying delivery that is due (cron, when no RQ worker runs)."""
    from vendorcheck.services.webhook_delivery import deliver_due

    counts = deliver_due()
    summary = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "nothing due"
    click.echo(f"Webhook deliveries: {summary}")
