"""`vendorcheck audit verify|checkpoint`: check the audit log's hash chain and anchor its head."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("audit")
def audit_group() -> None:
    """Inspect the audit log."""


@audit_group.command("verify")
@with_appcontext
def verify_command() -> None:
    """Check every hash chain and the newest checkpoint; exit 1 naming what is wrong."""
    from sqlalchemy import func, select

    from vendorcheck.audit import head_hash, verify
    from vendorcheck.audit_checkpoints import verify_checkpoints
    from vendorcheck.extensions import db
    from vendorcheck.models import SYSTEM_CHAIN, AuditEntry

    verdict = verify_checkpoints()
    problems = verify() + verdict.problems
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        _warn(verdict.warnings)
        raise SystemExit(1)
    count, chains = db.session.execute(select(
        func.count(AuditEntry.id),
        func.count(AuditEntry.chain_id.distinct()).filter(AuditEntry.chain_id != SYSTEM_CHAIN))).one()
    click.echo(f"Audit log intact: {count} entries, system chain head {head_hash()[:16]}…, "
               f"{_organisation_chains(chains)}.")
    if verdict.checked is not None:
        cp = verdict.checked
        click.echo(f"Matches checkpoint {cp.label} (entry {cp.last_seq}, {cp.count} entries, "
                   f"{_organisation_chains(len(cp.chains or {}))}, written {cp.created_at}).")
    _warn(verdict.warnings)


def _organisation_chains(n: int) -> str:
    return f"{n} organisation chain{'' if n == 1 else 's'}"


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        click.echo(f"Warning: {warning}.", err=True)


@audit_group.command("checkpoint")
@click.option("--force", is_flag=True,
              help="Write it even though the log no longer matches the newest checkpoint "
                   "(after restoring a backup: the lost entries stay reported until then).")
@with_appcontext
def checkpoint_command(force: bool) -> None:
    """Sign the chain's head and store it outside the database (run daily, e.g. from cron)."""
    from vendorcheck.audit_checkpoints import LogDiverged, write_checkpoint

    try:
        cp = write_checkpoint(force=force)
    except LogDiverged as exc:
        raise click.ClickException(f"The audit log no longer matches its newest checkpoint: {exc}. "
                                   "Nothing was written; see `vendorcheck audit verify` (or "
                                   "--force after restoring a backup).") from None
    click.echo(f"Wrote audit checkpoint {cp.label}: entry {cp.last_seq}, {cp.count} entries, "
               f"head {cp.head_hash[:16]}…, {_organisation_chains(len(cp.chains or {}))}.")
