"""The shipped gunicorn settings: worker count, timeouts, and an access log without secrets."""

from __future__ import annotations

import os
import runpy
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from vendorcheck import gunicorn_conf
from vendorcheck.gunicorn_conf import (
    MAX_WORKERS,
    RedactingLogger,
    default_workers,
    redact_path,
    worker_count,
    worker_timeout,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("cpus", "expected"), [(1, 3), (2, 5), (3, 7), (4, MAX_WORKERS), (64, MAX_WORKERS)])
def test_workers_are_two_per_core_plus_one_capped(cpus: int, expected: int) -> None:
    assert default_workers(cpus) == expected


def test_web_concurrency_sets_the_workers() -> None:
    assert worker_count({"WEB_CONCURRENCY": "3"}) == 3
    assert worker_count({}) == default_workers(gunicorn_conf.cores())


@pytest.mark.parametrize("value", ["0", "-2", "four", "1.5"])
def test_a_wrong_web_concurrency_is_refused_by_name(value: str) -> None:
    with pytest.raises(RuntimeError, match="WEB_CONCURRENCY"):
        worker_count({"WEB_CONCURRENCY": value})


def test_the_worker_timeout_outlasts_the_render_timeout_and_restarts_drain_less() -> None:
    # The app answers a slow render with its own 503 before gunicorn kills the worker; a restart waits
    # for autosaves (well under a second) but not for a five-minute render.
    assert worker_timeout({}) == 300 + gunicorn_conf.TIMEOUT_MARGIN
    assert worker_timeout({"VENDORCHECK_REPORT_RENDER_TIMEOUT": "60"}) == 60 + gunicorn_conf.TIMEOUT_MARGIN
    assert 10 <= gunicorn_conf.graceful_timeout < worker_timeout({})


def test_the_top_level_file_gives_gunicorn_every_setting() -> None:
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    config = Config()
    for name in gunicorn_conf.__all__:
        assert name in settings
        if name in config.settings:
            config.set(name, settings[name])  # gunicorn's own validation of each value
    assert config.preload_app is False
    assert config.accesslog == "-"
    assert config.logger_class is RedactingLogger
    assert "%(q)s" not in config.access_log_format and "%(r)s" not in config.access_log_format
    assert "%(f)s" not in config.access_log_format


def test_the_heartbeat_files_go_to_shared_memory_when_there_is_some() -> None:
    expected = "/dev/shm" if Path("/dev/shm").is_dir() else None  # noqa: S108
    assert gunicorn_conf.worker_tmp_dir == expected


@pytest.mark.parametrize(("path", "logged"), [
    ("/auth/reset/Zm9vYmFy-secret_token", "/auth/reset/[token]"),
    ("/auth/invitations/abcDEF123", "/auth/invitations/[token]"),
    ("/dpa/subscriptions/abc123/confirm", "/dpa/subscriptions/[token]/confirm"),
    ("/buyer/vendors?q=acme&token=x", "/buyer/vendors"),
    ("/", "/"),
    ("", "-"),
])
def test_paths_are_logged_without_tokens_or_query(path: str, logged: str) -> None:
    assert redact_path(path) == logged


def test_the_access_log_line_carries_no_query_token_or_referrer() -> None:
    logger = RedactingLogger(Config())
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/auth/reset/SECRET?next=/x&t=SECRET",
               "PATH_INFO": "/auth/reset/SECRET", "QUERY_STRING": "next=/x&t=SECRET",
               "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "203.0.113.9",
               "HTTP_REFERER": "https://example.org/?t=SECRET", "HTTP_USER_AGENT": "probe"}
    response = SimpleNamespace(status="200 OK", sent=12, headers=[("Set-Cookie", "session=SECRET")])
    request = SimpleNamespace(headers=[("COOKIE", "session=SECRET")])
    atoms = logger.atoms(response, request, environ, timedelta(milliseconds=5))
    line = gunicorn_conf.access_log_format % atoms
    assert "SECRET" not in line
    assert not any("SECRET" in str(value) for value in atoms.values())
    assert line.startswith('203.0.113.9 "GET /auth/reset/[token] HTTP/1.1" 200 12 5ms')


def test_on_starting_tells_the_workers_how_many_they_are(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", "1")  # restored after the test
    gunicorn_conf.on_starting(SimpleNamespace(cfg=SimpleNamespace(workers=5)))
    assert os.environ["WEB_CONCURRENCY"] == "5"
