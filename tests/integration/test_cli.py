"""The command line: start-up without the app, questionnaires list/check and score, `run`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.cli import FlaskGroup

from vendorcheck.cli import EXTENSION_COMMANDS, main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli() -> CliRunner:
    return CliRunner()


def test_list_shows_every_questionnaire(cli):
    result = cli.invoke(main, ["questionnaires", "list"])
    assert result.exit_code == 0, result.output
    assert "art28-processor-audit" in result.output


def test_check_passes_on_the_shipped_files(cli):
    result = cli.invoke(main, ["questionnaires", "check"])
    assert result.exit_code == 0, result.output


def test_check_reports_a_broken_file_with_its_line(cli, tmp_path):
    bad = tmp_path / "broken" / "1.0.0.yaml"
    bad.parent.mkdir()
    bad.write_text("schema: vendorcheck/questionnaire@1\nid: broken\nid: again\n")
    result = cli.invoke(main, ["questionnaires", "check", str(bad)])
    assert result.exit_code == 1
    assert "duplicate key 'id'" in result.output
    assert ":3" in result.output


def _answers(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(data))
    return path


def test_score_json_has_the_documented_shape(cli, tmp_path):
    path = _answers(tmp_path, {"dpa_signed": "yes", "hosting_countries": ["FR"]})
    result = cli.invoke(main, ["score", "art28-processor-audit", str(path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"questionnaire", "score", "tier", "completeness", "categories", "findings"}
    assert set(data["questionnaire"]) == {"id", "version", "sha256"}
    for category in data["categories"]:
        assert set(category) == {"id", "score", "assessed"}
    for finding in data["findings"]:
        assert set(finding) == {"id", "severity", "refs", "title"}


def test_score_in_french(cli, tmp_path):
    path = _answers(tmp_path, {"dpa_signed": "no"})
    result = cli.invoke(main, ["score", "art28-processor-audit", str(path), "--json", "--locale", "fr"])
    assert result.exit_code == 0, result.output


def test_score_accepts_a_path(cli, tmp_path):
    files = sorted((ROOT / "questionnaires" / "art28-processor-audit").glob("*.yaml"))
    path = _answers(tmp_path, {})
    result = cli.invoke(main, ["score", str(files[-1]), str(path)])
    assert result.exit_code == 0, result.output
    assert "tier" in result.output


@pytest.mark.parametrize(
    ("answers", "needle"),
    [
        ({"dpa_signed": "maybe"}, "dpa_signed"),
        ({"q999": "yes"}, "q999"),
        ({"breach_notification_hours": "abc"}, "breach_notification_hours"),
    ],
)
def test_bad_answers_exit_non_zero_with_one_line_per_problem(cli, tmp_path, answers, needle):
    result = cli.invoke(main, ["score", "art28-processor-audit", str(_answers(tmp_path, answers))])
    assert result.exit_code == 2
    assert needle in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", "\udcff"])
def test_unreadable_answer_files_exit_cleanly(cli, tmp_path, content):
    path = tmp_path / "answers.json"
    path.write_text(content, errors="surrogateescape")
    result = cli.invoke(main, ["score", "art28-processor-audit", str(path)])
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_unknown_questionnaire_exits_1(cli, tmp_path):
    result = cli.invoke(main, ["score", "nope", str(_answers(tmp_path, {}))])
    assert result.exit_code == 1
    assert "unknown questionnaire" in result.output


def _copy_questionnaires(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Copy the shipped questionnaires to a temp folder the CLI will use."""
    import shutil

    root = tmp_path / "questionnaires"
    shutil.copytree(ROOT / "questionnaires", root)
    monkeypatch.setenv("VENDORCHECK_QUESTIONNAIRES_DIR", str(root))
    return root


def test_check_fails_when_a_published_version_is_not_locked(cli, tmp_path, monkeypatch):
    root = _copy_questionnaires(tmp_path, monkeypatch)
    (root / "published.lock").write_text("")
    result = cli.invoke(main, ["questionnaires", "check"])
    assert result.exit_code == 1
    assert "published but not locked" in result.output


def test_lock_records_new_versions_once(cli, tmp_path, monkeypatch):
    root = _copy_questionnaires(tmp_path, monkeypatch)
    (root / "published.lock").write_text("")
    first = cli.invoke(main, ["questionnaires", "lock"])
    second = cli.invoke(main, ["questionnaires", "lock"])
    assert first.exit_code == 0 and "locked art28-processor-audit" in first.output
    assert "already locked" in second.output
    assert cli.invoke(main, ["questionnaires", "check"]).exit_code == 0


def test_check_fails_when_a_locked_file_is_edited(cli, tmp_path, monkeypatch):
    root = _copy_questionnaires(tmp_path, monkeypatch)
    path = next((root / "art28-processor-audit").glob("*.yaml"))
    path.write_text(path.read_text().replace('title: {en: "GDPR Article 28', 'title: {en: "GDPR Art. 28', 1))
    result = cli.invoke(main, ["questionnaires", "check"])
    assert result.exit_code == 1
    assert "changed after publication" in result.output


def test_check_loads_each_file_once(cli, tmp_path, monkeypatch):
    from vendorcheck.questionnaire import catalogue

    root = _copy_questionnaires(tmp_path, monkeypatch)
    loads: list[str] = []
    real = catalogue.load_questionnaire

    def counting(path, **kwargs):
        loads.append(Path(path).relative_to(root).as_posix())
        return real(path, **kwargs)

    monkeypatch.setattr(catalogue, "load_questionnaire", counting)
    result = cli.invoke(main, ["questionnaires", "check"])
    assert result.exit_code == 0, result.output
    files = [p.relative_to(root).as_posix() for p in catalogue.questionnaire_files(root)]
    assert sorted(loads) == files  # once each, not once to check and again for the lock


def test_check_names_a_locked_version_whose_file_is_gone(cli, tmp_path, monkeypatch):
    root = _copy_questionnaires(tmp_path, monkeypatch)
    with (root / "published.lock").open("a") as lock:
        lock.write(f"art28-processor-audit 9.9.9 {'0' * 64}\n")
    result = cli.invoke(main, ["questionnaires", "check"])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "art28-processor-audit v9.9.9 is published but its file is missing" in result.output


@pytest.mark.parametrize(("args", "base_url"), [
    (["--port", "8123"], "http://127.0.0.1:8123"),
    (["--host", "0.0.0.0", "--port", "5001"], "http://127.0.0.1:5001"),
    (["--host", "::1", "--port", "5002"], "http://[::1]:5002"),
])
def test_run_base_url_follows_host_and_port(cli, monkeypatch, tmp_path, args, base_url):
    served = _serve_without_listening(monkeypatch, tmp_path)
    monkeypatch.setenv("VENDORCHECK_BASE_URL", "recorded, so that the run's own value is undone too")
    monkeypatch.delenv("VENDORCHECK_BASE_URL")
    result = cli.invoke(main, ["run", "--no-reload", *args])
    assert result.exit_code == 0, result.output
    assert served["port"] == int(args[-1])
    assert served["app"].config["BASE_URL"] == base_url


def test_run_keeps_a_configured_base_url(cli, monkeypatch, tmp_path):
    served = _serve_without_listening(monkeypatch, tmp_path)
    monkeypatch.setenv("VENDORCHECK_BASE_URL", "https://vendorcheck.example")
    result = cli.invoke(main, ["run", "--no-reload", "--port", "8124"])
    assert result.exit_code == 0, result.output
    assert served["app"].config["BASE_URL"] == "https://vendorcheck.example"


def _serve_without_listening(monkeypatch, tmp_path) -> dict:
    """Replace the development server by a recorder; keep the app's files in tmp_path."""
    import flask.cli

    served: dict = {}
    monkeypatch.setattr(flask.cli, "run_simple",
                        lambda host, port, app, **_kw: served.update(host=host, port=port, app=app))
    monkeypatch.setenv("VENDORCHECK_SECRET_KEY", "s" * 32)
    monkeypatch.setenv("VENDORCHECK_SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path / 'run.sqlite3'}")
    return served


# What the app pulls in (SQLAlchemy models, Alembic, marshmallow, the PDF stack): listing commands needs none.
HEAVY = ("weasyprint", "pyhanko", "sqlalchemy", "alembic", "flask_migrate", "flask_smorest", "marshmallow",
         "flask_limiter", "vendorcheck.models", "vendorcheck.services", "vendorcheck.questionnaire")
PDF_STACK = ("weasyprint", "pyhanko")


def _start_in_new_interpreter(args: list[str], cwd: Path) -> dict:
    """Run `vendorcheck ARGS` in a new interpreter; report its exit, output, heavy modules and app builds."""
    probe = f"""
import json, sys
import vendorcheck
built = []
build = vendorcheck.create_app
vendorcheck.create_app = lambda *a, **k: built.append(1) or build(*a, **k)
from vendorcheck.cli import main
try:
    main({args!r}, prog_name="vendorcheck")
except SystemExit as exit:
    code = exit.code
heavy = sorted(m for m in sys.modules if any(m == h or m.startswith(h + ".") for h in {HEAVY!r}))
print(json.dumps({{"code": code, "built": len(built), "heavy": heavy}}))
"""
    done = subprocess.run([sys.executable, "-c", probe], cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    *output, report = done.stdout.strip().splitlines()
    return {**json.loads(report), "output": "\n".join(output), "stderr": done.stderr}


@pytest.mark.parametrize("args", [
    ["--help"], ["audit", "--help"], ["report", "--help"], ["init-db", "--help"],
    ["tokens", "create", "--help"], ["questionnaires", "--help"], ["score", "--help"],
], ids=" ".join)
def test_help_builds_no_app_and_imports_no_heavy_library(args, tmp_path):
    """`vendorcheck [GROUP] --help` starts in Flask's import time: no app, no models, no PDF stack."""
    started = _start_in_new_interpreter(args, tmp_path)
    assert started["code"] == 0, started
    assert started["built"] == 0, "the app was built to show the help"
    assert started["heavy"] == []
    assert started["stderr"] == ""


def test_top_level_help_names_every_command(tmp_path):
    started = _start_in_new_interpreter(["--help"], tmp_path)
    rows = started["output"].split("Commands:")[1].splitlines()
    listed = {row.split()[0] for row in rows if row.strip()}
    assert {"audit", "db", "demo", "dpa", "init-db", "limiter", "mail", "openapi", "questionnaires",
            "reminders", "report", "routes", "run", "score", "seed-scale", "serve", "sessions", "shell",
            "storage", "tokens", "webhooks", "worker"} <= listed


def test_an_extension_group_help_builds_no_app(tmp_path):
    """`vendorcheck db --help` imports Flask-Migrate to list its commands, but builds no app."""
    started = _start_in_new_interpreter(["db", "--help"], tmp_path)
    assert started["code"] == 0 and started["built"] == 0
    assert "upgrade" in started["output"]
    assert not [m for m in started["heavy"] if m.startswith(PDF_STACK)]


def test_help_lists_what_the_app_offers_with_the_same_text(app: Flask):
    """The help equals Flask's own listing, which builds the app and imports every command."""
    reference = FlaskGroup(name=main.name, help=main.help, create_app=lambda: app)
    for name, command in main.commands.items():
        reference.add_command(command, name)
    expected = CliRunner().invoke(reference, ["--help"], prog_name="vendorcheck")
    result = CliRunner().invoke(main, ["--help"], prog_name="vendorcheck")
    assert result.exit_code == expected.exit_code == 0, result.output
    assert result.output == expected.output


@pytest.mark.parametrize("name", sorted(EXTENSION_COMMANDS))
def test_an_extension_command_is_listed_with_its_own_help(name):
    """The one-line help shown before importing an extension's command is the command's own."""
    import pkgutil

    import click

    command = pkgutil.resolve_name(EXTENSION_COMMANDS[name][0])
    stand_in = click.Command(name, help=EXTENSION_COMMANDS[name][1])
    for limit in (20, 45, 200):
        assert stand_in.get_short_help_str(limit) == command.get_short_help_str(limit)


def test_app_commands_build_the_app_when_they_run(tmp_path):
    """`init-db` then Flask-Migrate's `db current`, through `main`: the app is built for each run."""
    database = tmp_path / "cli.sqlite3"
    probe = ("from vendorcheck.cli import main\n"
             "main(['init-db'], prog_name='vendorcheck', standalone_mode=False)\n"
             "main(['db', 'current'], prog_name='vendorcheck', standalone_mode=False)\n")
    env = {**os.environ, "VENDORCHECK_SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
           "VENDORCHECK_INSTANCE_PATH": str(tmp_path / "instance")}
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    assert "Database ready" in done.stdout
    assert "(head)" in done.stdout + done.stderr
