"""`vendorcheck dpa apply-changes`: bring due sub-processor changes into force."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask.cli import with_appcontext


@click.group("dpa")
def dpa_group() -> None:
    """Published data processing agreements."""


@dpa_group.command("apply-changes")
@click.option("--now", "moment", type=click.DateTime(formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d"]),
              default=None, help="Pretend the time (UTC) is this, e.g. 2026-12-24T00:00.")
@with_appcontext
def apply_changes_command(moment: datetime | None) -> None:
    """Bring into force the proposed sub-processor changes whose effective date has come."""
    from vendorcheck.services.dpa_changes import apply_due

    now = moment.replace(tzinfo=UTC) if moment is not None else None
    applied = apply_due(now=now)
    for proposal in applied:
        click.echo(f"{proposal.profile.slug}: version {proposal.version.number} in force since "
                   f"{proposal.effective_at:%Y-%m-%d %H:%M} UTC.")
    click.echo(f"{len(applied)} sub-processor change(s) took effect.")
