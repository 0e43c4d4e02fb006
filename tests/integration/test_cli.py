"""The command line: questionnaires list/check and score, through click's runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from vendorcheck.cli import main

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
