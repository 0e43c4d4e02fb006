"""The `vendorcheck` command line (a FlaskGroup, so `flask ...` works from the repo root too)."""

from __future__ import annotations

import copy
import functools
import os
import sys
from datetime import date
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, run_command, with_appcontext

from vendorcheck.config import ROOT


def _questionnaires_dir() -> Path:
    """Return the questionnaire folder without needing an app (check must work on broken files)."""
    return Path(os.environ.get("VENDORCHECK_QUESTIONNAIRES_DIR", ROOT / "questionnaires"))


@click.group("questionnaires")
def questionnaires_group() -> None:
    """List and validate questionnaire files."""


@questionnaires_group.command("list")
def list_questionnaires() -> None:
    """List every questionnaire version with its status and digest."""
    from vendorcheck.questionnaire import QuestionnaireError, load_catalogue

    try:
        catalogue = load_catalogue(_questionnaires_dir())
    except QuestionnaireError as exc:
        _fail_with_problems(exc.problems)
    for q in catalogue.questionnaires:
        questions = sum(1 for item in q.items if item.kind.is_question)
        click.echo(f"{q.id}\t{q.version}\t{q.status}\t{questions} questions\t"
                   f"{q.sha256[:12]}\t{q.title.get('en')}")


@questionnaires_group.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def check_questionnaires(paths: tuple[Path, ...]) -> None:
    """Validate questionnaire files and run their embedded tests (exit 1 on any error)."""
    from vendorcheck.questionnaire import check_paths

    root = _questionnaires_dir()
    problems = check_paths(list(paths) or [root], root)
    if not paths and not problems:
        problems = _unlocked_published(root)
    if problems:
        _fail_with_problems(problems)
    click.echo("All questionnaire files are valid and their embedded tests pass.")


def _unlocked_published(root: Path) -> list[Any]:
    """Name every published version missing from published.lock (its wording must be frozen)."""
    from vendorcheck.questionnaire import Problem, load_catalogue
    from vendorcheck.questionnaire.catalogue import LOCK_NAME, read_lock

    locked, problems = read_lock(root)
    for q in load_catalogue(root).questionnaires:
        if q.status == "published" and (q.id, q.version) not in locked:
            problems.append(Problem(LOCK_NAME, None, f"{q.id} {q.version}",
                                    "published but not locked: run `vendorcheck questionnaires lock`"))
    return problems


@questionnaires_group.command("lock")
def lock_questionnaires() -> None:
    """Record the SHA-256 of every published version not yet in published.lock (never rewrites one)."""
    from vendorcheck.questionnaire import QuestionnaireError, load_catalogue
    from vendorcheck.questionnaire.catalogue import LOCK_NAME, read_lock

    root = _questionnaires_dir()
    try:
        catalogue = load_catalogue(root)
    except QuestionnaireError as exc:
        _fail_with_problems(exc.problems)
    locked, problems = read_lock(root)
    if problems:
        _fail_with_problems(problems)
    new = [q for q in catalogue.questionnaires if q.status == "published" and (q.id, q.version) not in locked]
    with (root / LOCK_NAME).open("a", encoding="utf-8") as lock:
        for q in new:
            lock.write(f"{q.id} {q.version} {q.sha256}\n")
            click.echo(f"locked {q.id} {q.version} {q.sha256}")
    if not new:
        click.echo("Every published version is already locked.")


def _fail_with_problems(problems: list[Any]) -> None:
    """Print one line per problem on stderr and exit 1."""
    for problem in problems:
        click.echo(str(problem), err=True)
    click.echo(f"{len(problems)} problem(s) found.", err=True)
    sys.exit(1)


@click.command("score")
@click.argument("questionnaire")
@click.argument("answers_file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@click.option("--locale", type=click.Choice(["en", "fr"]), default="en", show_default=True)
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), help="Date used by date rules.")
def score_command(questionnaire: str, answers_file: Path, as_json: bool, locale: str, today: Any) -> None:
    """Score an answer set (QUESTIONNAIRE is an id, id@version, or a path to a YAML file)."""
    from vendorcheck import scoring_cli

    scoring_cli.run(questionnaire, answers_file, as_json=as_json, locale=locale,
                    today=today.date() if today else date.today(), root=_questionnaires_dir())


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the database schema through the migrations."""
    from flask_migrate import upgrade

    upgrade()
    click.echo(f"Database ready: {_safe_url(current_app.config['SQLALCHEMY_DATABASE_URI'])}")


def _safe_url(url: str) -> str:
    """Hide a password in a database URL before printing it."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


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
    """Delete the files of evidence packs finished more than --older-than days ago."""
    from flask import current_app

    from vendorcheck.services import packs

    days = days or int(current_app.config.get("PACK_RETENTION_DAYS", 30))
    pruned = packs.prune(days)
    click.echo(f"Removed {pruned.packs} evidence pack file(s) older than {days} days "
               f"({pruned.size} bytes).")


def init_app(app: Flask) -> None:
    """Register app-bound commands (the app-free ones are on `main` too)."""
    app.cli.add_command(questionnaires_group)
    app.cli.add_command(score_command)
    app.cli.add_command(init_db)
    from vendorcheck.audit import audit_group
    from vendorcheck.commands.reports import report_group
    from vendorcheck.demo import demo_command
    from vendorcheck.mail import mail_group
    from vendorcheck.services.reminders import reminders_group

    app.cli.add_command(demo_command)
    app.cli.add_command(mail_group)
    app.cli.add_command(audit_group)
    report_group.add_command(pack_command)
    report_group.add_command(prune_packs_command)
    app.cli.add_command(report_group)
    app.cli.add_command(reminders_group)
    from vendorcheck.services.dpa_changes import dpa_group

    app.cli.add_command(dpa_group)


def _create_app() -> Flask:
    """Build the app for the console script."""
    from vendorcheck import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app)
def main() -> None:
    """vendorcheck: GDPR processor due diligence."""


def dev_origin(host: str, port: int) -> str:
    """Return the URL a browser on this machine uses for a development server on host:port."""
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - naming the wildcard, not binding to it
        host = "127.0.0.1"  # listening everywhere: e-mailed links still need one reachable name
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _run_with_base_url() -> click.Command:
    """Flask's `run`, whose BASE_URL (mailed links, certificate name) follows --host/--port when unset."""
    command = copy.copy(run_command)
    serve = command.callback
    assert serve is not None

    @functools.wraps(serve)
    def run(*args: Any, **kwargs: Any) -> Any:
        os.environ.setdefault("VENDORCHECK_BASE_URL", dev_origin(kwargs["host"], kwargs["port"]))
        return serve(*args, **kwargs)

    command.callback = run
    return command


main.add_command(_run_with_base_url(), "run")
# These work without building the app, so a broken questionnaire file can still be diagnosed.
main.add_command(questionnaires_group)
main.add_command(score_command)
