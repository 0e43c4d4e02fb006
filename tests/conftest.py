"""Shared fixtures: an app on SQLite (default) or PostgreSQL (VENDORCHECK_TEST_DATABASE_URL)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from vendorcheck import create_app
from vendorcheck.extensions import db


def _test_database_url() -> str | None:
    """Return the PostgreSQL test database (one per pytest-xdist worker, created at first use)."""
    url = os.environ.get("VENDORCHECK_TEST_DATABASE_URL")
    worker = os.environ.get("PYTEST_XDIST_WORKER")  # "gw0", "gw1"… in a worker process
    if not url or not worker or not url.startswith("postgresql"):
        return url
    from sqlalchemy import create_engine, make_url, text

    server = make_url(url)
    name = f"{server.database}_{worker}"
    admin = create_engine(server.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}) is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


TEST_DB_URL = _test_database_url()


def make_config(tmp: Path, **overrides: object) -> dict[str, object]:
    """Return the test configuration; overrides win."""
    config: dict[str, object] = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": TEST_DB_URL or f"sqlite:///{tmp / 'test.sqlite3'}",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SERVER_NAME": None,
        "RESCORE_SYNC": True,  # re-scores wait for results.drain_rescores(); no thread
    }
    config.update(overrides)
    return config


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One app and schema per test session; tables are emptied after each test."""
    tmp = tmp_path_factory.mktemp("app")
    application = create_app(make_config(tmp))
    with application.app_context():
        _reset_schema()
        db.create_all()
    yield application
    with application.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def _reset_schema() -> None:
    """Start from an empty schema; on PostgreSQL also drop tables left by older runs or models."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
    else:
        db.drop_all()


@pytest.fixture(autouse=True)
def _clean_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    """Empty every table after a test that used the app."""
    yield
    if "app" not in request.fixturenames:
        return
    application: Flask = request.getfixturevalue("app")
    pending = application.extensions.get("vendorcheck_local_rescores")
    if pending is not None:
        pending.pending_clear()  # a re-score left waiting names an assessment of this test only
    with application.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client for the session app."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """A CLI runner for the session app."""
    return app.test_cli_runner()


@pytest.fixture(autouse=True)
def _no_server_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail any test during which the app answered 5xx, unless it is marked allow_5xx."""
    if "app" not in request.fixturenames or request.node.get_closest_marker("allow_5xx"):
        yield
        return
    application: Flask = request.getfixturevalue("app")
    seen: list[str] = []

    def record(sender: Flask, response: object, **extra: object) -> None:
        status = getattr(response, "status_code", 200)
        if status >= 500:
            seen.append(f"{status}")

    from flask import request_finished

    request_finished.connect(record, application)
    yield
    request_finished.disconnect(record, application)
    assert not seen, f"the app answered a server error: {seen}"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3 API server (moto, a child process on 127.0.0.1) and test credentials in the environment."""
    from tests.support.s3 import CREDENTIALS, serve_s3

    with pytest.MonkeyPatch.context() as patch, serve_s3() as endpoint:
        for name, value in CREDENTIALS.items():
            patch.setenv(name, value)
        yield endpoint
