"""`vendorcheck questionnaires list|check|lock` and `vendorcheck score`: work without the app."""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path
from typing import Any

import click

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
    from vendorcheck.questionnaire import check_catalogue, check_paths

    root = _questionnaires_dir()
    # the whole folder is loaded once: the lock is checked against the questionnaires just loaded
    problems = check_paths(list(paths), root) if paths else check_catalogue(root)
    if problems:
        _fail_with_problems(problems)
    click.echo("All questionnaire files are valid and their embedded tests pass.")


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
    from vendorcheck.commands import scoring

    scoring.run(questionnaire, answers_file, as_json=as_json, locale=locale,
                    today=today.date() if today else date.today(), root=_questionnaires_dir())
