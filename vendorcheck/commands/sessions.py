"""`vendorcheck sessions prune`: forget login sessions and failed logins that no longer matter."""

from __future__ import annotations

from datetime import timedelta

import click
from flask.cli import with_appcontext


@click.group("sessions")
def sessions_group() -> None:
    """Login sessions."""


@sessions_group.command("prune")
@click.option("--older-than", "days", type=click.IntRange(1, 3650), default=30, show_default=True,
              help="Delete sessions that ended more than this many days ago.")
@with_appcontext
def prune_command(days: int) -> None:
    """Delete long-ended sessions and failed logins that no longer count (run daily)."""
    from vendorcheck.services import sessions

    ended, throttles = sessions.prune(older_than=timedelta(days=days))
    click.echo(f"Deleted {ended} ended session(s) and {throttles} old failed-login record(s).")
