"""`vendorcheck report render|verify|pack|prune-packs|prune-drafts`: signed reports and evidence packs."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

MAX_VERIFY_BYTES = 100 * 1024 * 1024


@click.group("report")
def report_group() -> None:
    """Render and verify signed audit reports."""


@report_group.command("render")
@click.argument("assessment_id", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the signed PDF.")
@click.option("--locale", type=click.Choice(["en", "fr"]), default="en", show_default=True)
@with_appcontext
def render_command(assessment_id: int, output: Path, locale: str) -> None:
    """Render the signed report of ASSESSMENT_ID (stored once the assessment is decided)."""
    from vendorcheck.extensions import db
    from vendorcheck.models.assessments import Assessment
    from vendorcheck.services import reports
    from vendorcheck.services.errors import DomainError

    assessment = db.session.get(Assessment, assessment_id) if 0 < assessment_id < 2**63 else None
    if assessment is None:
        click.echo(f"No assessment with id {assessment_id}.", err=True)
        sys.exit(1)
    try:
        pdf = reports.render_assessment_report(assessment, locale=locale, by=None)
    except DomainError as exc:
        click.echo(exc.message, err=True)
        sys.exit(1)
    output.write_bytes(pdf)
    kind = "signed report" if assessment.status.value == "decided" else "signed DRAFT report"
    click.echo(f"Wrote the {kind} of assessment {assessment_id} ({locale}, {len(pdf)} bytes) "
               f"to {output}.")


@report_group.command("verify")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def verify_command(path: Path) -> None:
    """Check a signed report: signature, whole-file coverage and the stored digest (exit 0 if intact)."""
    from vendorcheck.services import verification  # the PDF stack loads only for this command

    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_VERIFY_BYTES + 1)
    except OSError as exc:
        click.echo(f"Cannot read {path}: {exc.strerror}.", err=True)
        sys.exit(1)
    if len(data) > MAX_VERIFY_BYTES:
        click.echo("The file is too large to be a report.", err=True)
        sys.exit(1)
    check = verification.check_report(data)
    v = check.verification
    click.echo(f"File:      {path.name}")
    click.echo(f"SHA-256:   {check.sha256}")
    click.echo(f"Signer:    {v.signer or 'unknown'}")
    click.echo(f"Signed at: {v.signed_at.isoformat() if v.signed_at else 'unknown'}")
    if check.record is not None:
        click.echo(f"Record:    {check.record}")
    for warning in check.warnings:
        click.echo(f"Warning:   {warning}")
    if check.ok:
        click.echo("Result:    VALID — intact, trusted, and covering the whole file.")
        return
    for problem in [*v.problems, *check.problems]:
        click.echo(f"Problem:   {problem}", err=True)
    click.echo("Result:    INVALID", err=True)
    sys.exit(1)


@click.command("pack")
@click.argument("assessment_id", type=int, required=False)
@click.option("--vendor", "vendor_id", type=int, help="Pack every assessment of this vendor.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the signed evidence pack.")
@click.option("--locale", type=click.Choice(["en", "fr"]), default="en", show_default=True)
@with_appcontext
def pack_command(assessment_id: int | None, vendor_id: int | None, output: Path, locale: str) -> None:
    """Build the signed evidence pack of ASSESSMENT_ID (or of --vendor VENDOR_ID)."""
    from vendorcheck.services import packs
    from vendorcheck.services.errors import DomainError

    if (assessment_id is None) == (vendor_id is None):
        click.echo("Give an ASSESSMENT_ID or --vendor VENDOR_ID (one of the two).", err=True)
        sys.exit(2)
    found = packs.assessments_for(assessment_id=assessment_id, vendor_id=vendor_id)
    if not found:
        what = f"assessment with id {assessment_id}" if assessment_id is not None \
            else f"vendor with id {vendor_id}, or it has no assessment"
        click.echo(f"No {what}.", err=True)
        sys.exit(1)
    if not output.parent.is_dir():
        click.echo(f"The folder {output.parent} does not exist.", err=True)
        sys.exit(1)

    def progress(percent: int, message: str) -> None:
        click.echo(f"[{percent:3d} %] {message}")

    try:
        built = packs.build_pack(found, locale=locale, output=output, by=None, progress=progress)
    except DomainError as exc:
        click.echo(exc.message, err=True)
        sys.exit(1)
    except OSError as exc:
        click.echo(f"Cannot write {output}: {exc.strerror}.", err=True)
        sys.exit(1)
    packs.record_cli_build(found, built, locale=locale)
    click.echo(f"Wrote the signed evidence pack ({locale}, {built.pages} pages, "
               f"{len(built.attachments)} attachments, {built.size} bytes) to {output}.")
    click.echo(f"SHA-256: {built.sha256}")


@click.command("prune-packs")
@click.option("--older-than", "days", type=click.IntRange(min=1), default=None,
              help="Days after which a finished pack's file is deleted "
                   "(default: PACK_RETENTION_DAYS, 30).")
@with_appcontext
def prune_packs_command(days: int | None) -> None:
    """Delete the files of evidence packs finished more than --older-than days ago.

    Also marks pack jobs whose worker died as interrupted and removes the working folders no
    running job uses (run it on every machine that builds packs).
    """
    from vendorcheck.services import packs

    days = days or int(current_app.config.get("PACK_RETENTION_DAYS", 30))
    pruned = packs.prune(days)
    click.echo(f"Removed {pruned.packs} evidence pack file(s) older than {days} days "
               f"({pruned.size} bytes).")
    cleaned = packs.clean_interrupted()
    click.echo(f"Marked {cleaned.interrupted} interrupted pack job(s); removed {cleaned.folders} "
               f"leftover working folder(s).")


@click.command("prune-drafts")
@click.option("--older-than", "days", type=click.IntRange(min=1), default=1, show_default=True,
              help="Days after which a cached draft report is deleted.")
@with_appcontext
def prune_drafts_command(days: int) -> None:
    """Delete cached draft reports older than --older-than days, and those of decided assessments."""
    from vendorcheck.services import reports

    pruned = reports.prune_drafts(days)
    click.echo(f"Removed {pruned} cached draft report(s).")


report_group.add_command(pack_command)
report_group.add_command(prune_packs_command)
report_group.add_command(prune_drafts_command)
