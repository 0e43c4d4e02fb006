"""`vendorcheck audit verify`: check the audit log's hash chain."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("audit")
def audit_group() -> None:
    """Inspect the audit log."""


@audit_group.command("verify")
@with_appcontext
def verify_command() -> None:
    """Check the hash chain; exit 1 naming the first bad entry."""
    from sqlalchemy import func, select

    from vendorcheck.audit import head_hash, verify
    from vendorcheck.extensions import db
    from vendorcheck.models import AuditEntry

    problems = verify()
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        raise SystemExit(1)
    count = db.session.scalar(select(func.count(AuditEntry.id)))
    click.echo(f"Audit log intact: {count} entries, head {head_hash()[:16]}…")
