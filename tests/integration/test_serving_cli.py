"""`vendorcheck serve` (gunicorn) and `vendorcheck worker` (RQ): what they run and what they refuse."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from click.testing import CliRunner

from tests.integration.conftest import free_port
from vendorcheck.cli import main
from vendorcheck.commands import serving

# Redis index 6 is shared by these modules: `make test` runs them on one pytest-xdist worker.
pytestmark = pytest.mark.xdist_group("redis-db-6")

REDIS_URL = "redis://127.0.0.1:6379/6"  # this branch's own Redis database index


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A development configuration in the environment, as the console script reads it."""
    values = {"VENDORCHECK_SECRET_KEY": "serving-test-secret-key-0123456789",
              "VENDORCHECK_SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'serve.sqlite3'}"}
    for name in ("WEB_CONCURRENCY", "VENDORCHECK_REDIS_URL", "VENDORCHECK_ENV", "VENDORCHECK_BIND"):
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def execs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[str], dict[str, str]]]:
    """Record what `serve` would exec instead of replacing the test process with gunicorn."""
    seen: list[tuple[list[str], dict[str, str]]] = []
    monkeypatch.setattr(serving.os, "execve", lambda path, argv, environ: seen.append((argv, environ)))
    return seen


def test_serve_runs_gunicorn_with_the_shipped_settings() -> None:
    assert serving.gunicorn_argv() == [sys.executable, "-m", "gunicorn", "--config",
                                       "python:vendorcheck.gunicorn_conf", "vendorcheck:create_app()"]
    argv = serving.gunicorn_argv(bind="0.0.0.0:9000", workers=3)  # noqa: S104 - only a string here
    assert argv[-5:] == ["--bind", "0.0.0.0:9000", "--workers", "3", "vendorcheck:create_app()"]  # noqa: S104


def test_serve_tells_the_app_how_many_workers_there_are(env: dict[str, str], execs: list[Any]) -> None:
    result = CliRunner().invoke(main, ["serve", "--workers", "3", "--bind", "127.0.0.1:9001"])
    assert result.exit_code == 0, result.output
    [(argv, environ)] = execs
    assert argv[-5:] == ["--bind", "127.0.0.1:9001", "--workers", "3", "vendorcheck:create_app()"]
    assert environ["WEB_CONCURRENCY"] == "3"
    assert "WEB_CONCURRENCY" not in os.environ  # set for gunicorn only


def test_serve_refuses_a_production_setting_in_one_line(env: dict[str, str], execs: list[Any],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VENDORCHECK_ENV", "production")
    monkeypatch.delenv("VENDORCHECK_SECRET_KEY")
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 1
    assert result.output.strip().startswith("Error: VENDORCHECK_SECRET_KEY must be set")
    assert "Traceback" not in result.output and execs == []


def test_serve_refuses_sqlite_for_several_workers_in_production(env: dict[str, str], execs: list[Any],
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                tmp_path: Path) -> None:
    from vendorcheck import storage
    from vendorcheck.storage import LocalStore

    monkeypatch.setitem(storage.BACKENDS, "local", lambda app: LocalStore.under(tmp_path / "files"))
    monkeypatch.setenv("VENDORCHECK_ENV", "production")
    result = CliRunner().invoke(main, ["serve", "--workers", "4"])
    assert result.exit_code == 1
    assert "SQLite cannot serve 4 web processes" in result.output and execs == []
    result = CliRunner().invoke(main, ["serve", "--workers", "1"])
    assert result.exit_code == 0, result.output


def test_serve_refuses_a_wrong_web_concurrency(env: dict[str, str], execs: list[Any],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", "lots")
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 1 and "WEB_CONCURRENCY" in result.output and execs == []


def _lines(stream: IO[str], into: queue.Queue[str]) -> None:
    for line in stream:
        into.put(line)


@pytest.mark.slow
def test_serve_answers_healthz_then_stops(env: dict[str, str], tmp_path: Path) -> None:
    command = [str(Path(sys.executable).parent / "vendorcheck"), "serve", "--bind", "127.0.0.1:0",
               "--workers", "1"]
    proc = subprocess.Popen(command, env={**os.environ, **env}, cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    errors: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_lines, args=(proc.stderr, errors), daemon=True).start()
    try:
        port = _listening_port(errors)
        health = _get_until_served(f"http://127.0.0.1:{port}/healthz?token=SECRET")
        assert health == {"status": "ok", "checks": {}}
    finally:
        proc.terminate()  # gunicorn took the command's place: TERM stops the master and its worker
        try:
            out, _err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _err = proc.communicate()
    assert proc.returncode == 0
    assert '"GET /healthz HTTP/1.1" 200' in out  # the access log, on stdout, without the query
    assert "SECRET" not in out


def _listening_port(lines: queue.Queue[str]) -> int:
    """Return the port gunicorn says it listens on (it picked a free one for port 0)."""
    while True:
        line = lines.get(timeout=60)
        if "Listening at: http://127.0.0.1:" in line:
            return int(line.split("Listening at: http://127.0.0.1:")[1].split()[0])


def _get_until_served(url: str) -> Any:
    """GET a URL once the worker has booted (the master listens before its worker is ready)."""
    for _attempt in range(600):
        try:
            with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - a local test URL
                return json.loads(response.read())
        except ConnectionError:
            threading.Event().wait(0.1)
    raise AssertionError("the server never answered")


# --- the RQ worker ------------------------------------------------------------------------------------------

def test_worker_refuses_without_redis(env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["worker", "--burst"])
    assert result.exit_code == 1
    assert "VENDORCHECK_REDIS_URL is not set" in result.output and "Traceback" not in result.output


def test_worker_says_when_redis_is_out_of_reach(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VENDORCHECK_REDIS_URL", f"redis://127.0.0.1:{free_port()}/6")
    result = CliRunner().invoke(main, ["worker", "--burst"])
    assert result.exit_code == 1
    assert "Cannot reach Redis" in result.output and "Traceback" not in result.output


def test_worker_listens_to_every_queue_the_services_use(app: Any) -> None:
    import fakeredis

    from vendorcheck import mail
    from vendorcheck.services import packs, reminders, webhook_delivery
    from vendorcheck.services.assessments import results

    worker = serving.build_worker(app, connection=fakeredis.FakeStrictRedis())
    assert worker.queue_names() == [mail.QUEUE, webhook_delivery.QUEUE, results.QUEUE, reminders.QUEUE,
                                    packs.QUEUE]
    assert worker.queue_names() == ["mail", "webhooks", "results", "reminders", "packs"]


@pytest.fixture
def redis_db() -> Iterator[Any]:
    """This branch's Redis database, emptied before and after."""
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def test_worker_runs_a_queued_job(env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                                  redis_db: Any) -> None:
    from rq import Queue

    monkeypatch.setenv("VENDORCHECK_REDIS_URL", REDIS_URL)
    job = Queue("packs", connection=redis_db).enqueue("vendorcheck.jobs.queue_names")
    result = CliRunner().invoke(main, ["worker", "--burst"])
    assert result.exit_code == 0, result.output
    assert "Worker on queues mail, webhooks, results, reminders, packs." in result.output
    job.refresh()
    assert job.get_status() == "finished"
    assert tuple(job.return_value()) == ("mail", "webhooks", "results", "reminders", "packs")
