"""`vendorcheck storage migrate`: copy the stored files between backends (local disk, S3)."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from vendorcheck.storage import BACKENDS


@click.group("storage")
def storage_group() -> None:
    """Manage the stored files (evidence, reports, packs, DPA PDFs, certificates)."""


@storage_group.command("migrate")
@click.option("--from", "source", type=click.Choice(sorted(BACKENDS)), required=True,
              help="The backend the files are in now.")
@click.option("--to", "target", type=click.Choice(sorted(BACKENDS)), required=True,
              help="The backend to copy them to (its settings must be set, e.g. STORAGE_S3_BUCKET).")
@click.option("--dry-run", is_flag=True, help="Read and check every file, write nothing.")
@click.option("-v", "--verbose", is_flag=True, help="Print one line per file.")
@with_appcontext
def migrate_command(source: str, target: str, dry_run: bool, verbose: bool) -> None:
    """Copy every file the database points to from one backend to the other, checking each SHA-256.

    Files keep their keys; files already in the target with the right digest are skipped, so the
    command can run again. Exit status 1 if a file is missing, corrupt or has an invalid key.
    """
    from vendorcheck.services import storage_migration as sm

    if source == target:
        raise click.UsageError("--from and --to name the same backend.")
    try:
        stores = BACKENDS[source](current_app), BACKENDS[target](current_app)
    except RuntimeError as error:
        raise click.UsageError(str(error)) from None

    def show(ref: sm.Reference, outcome: sm.Outcome) -> None:
        if verbose or outcome in sm.PROBLEMS:
            click.echo(f"{ref.area.value}/{ref.key}: {outcome.value}", err=outcome in sm.PROBLEMS)

    report = sm.migrate(*stores, dry_run=dry_run, progress=show)
    verb = "would copy" if dry_run else "copied"
    for area in sorted({area for area, _outcome in report.counts}):
        parts = ", ".join(f"{report.counts[(area, outcome)]} "
                          f"{verb if outcome is sm.Outcome.COPIED else outcome.value}"
                          for outcome in sm.Outcome if report.counts[(area, outcome)])
        click.echo(f"{area.value}: {parts}")
    summary = (f"{'Dry run, ' if dry_run else ''}{source} -> {target}: "
               f"{report.total(sm.Outcome.COPIED)} {verb}, {report.total(sm.Outcome.PRESENT)} already there, "
               f"{len(report.problems)} problem(s).")
    click.echo(summary)
    if report.problems:
        sys.exit(1)
