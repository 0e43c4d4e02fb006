"""The `score` command: load answers, validate, score and print, with no traceback on bad input."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

import click

from vendorcheck.questionnaire import (
    Questionnaire,
    QuestionnaireError,
    load_catalogue,
    load_dataset,
    load_questionnaire,
    result_as_json,
    score,
    validate_answers,
)


def run(target: str, answers_file: Path, *, as_json: bool, locale: str, today: date, root: Path) -> None:
    """Score `answers_file` against `target` and print the result; exit non-zero on bad input."""
    questionnaire = _resolve(target, root)
    raw = _read_answers(answers_file)
    checked = validate_answers(questionnaire, raw)
    if checked.problems:
        for problem in checked.problems:
            click.echo(f"{answers_file.name}: {problem.item}: {problem.message}", err=True)
        sys.exit(2)
    result = score(questionnaire, checked.answers, today=today)
    if as_json:
        click.echo(json.dumps(result_as_json(questionnaire, result, locale), ensure_ascii=False, indent=2))
    else:
        _print_text(questionnaire, result, locale)


def _resolve(target: str, root: Path) -> Questionnaire:
    """Find a questionnaire by id, id@version or file path."""
    try:
        path = Path(target)
        if path.suffix in {".yaml", ".yml"} and path.exists():
            catalogue = load_catalogue(root)
            return load_questionnaire(path, datasets=catalogue.datasets)
        qid, _, version = target.partition("@")
        return load_catalogue(root).get(qid, version or None)
    except QuestionnaireError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        sys.exit(1)
    except KeyError:
        click.echo(f"unknown questionnaire '{target}' (try `vendorcheck questionnaires list`)", err=True)
        sys.exit(1)


def _read_answers(path: Path) -> dict[str, Any]:
    """Read the answers JSON object, exiting with one clear line when it is unusable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        _die(f"{path}: file not found")
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        _die(f"{path.name}: not valid JSON ({str(exc).splitlines()[0][:120]})")
    if not isinstance(data, dict):
        _die(f"{path.name}: expected a JSON object mapping item ids to answers")
    return data


def _die(message: str) -> None:
    """Print one line and exit 2."""
    click.echo(message, err=True)
    sys.exit(2)


def _print_text(q: Questionnaire, result: Any, locale: str) -> None:
    """Print a human summary of a score result."""
    shown = "not assessed" if result.score is None else f"{result.score:.1f}"
    click.echo(f"{q.id} {q.version}: score {shown}, tier {result.tier}, "
               f"completeness {result.completeness:.0%}")
    for cat in result.categories:
        value = f"{cat.score:.1f}" if cat.assessed else "not assessed"
        click.echo(f"  {cat.id}: {value}")
    for finding in result.findings:
        click.echo(f"  [{finding.severity}] {finding.id}: {finding.title.get(locale)}")


__all__ = ["run", "load_dataset"]
