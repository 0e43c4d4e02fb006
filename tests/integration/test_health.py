"""/healthz, /readyz, and a database out of reach: 503 with Retry-After, then recovery on its own."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from tests.conftest import TEST_DB_URL, make_config
from tests.integration.conftest import free_port
from vendorcheck import create_app
from vendorcheck.extensions import db
from vendorcheck.storage import StoreUnavailable, current_store

# Redis index 6 is shared by these modules: `make test` runs them on one pytest-xdist worker.
pytestmark = pytest.mark.xdist_group("redis-db-6")


def _json(response: Any) -> dict[str, Any]:
    data = response.get_json()
    assert isinstance(data, dict)
    return data


# --- /healthz and /readyz on the session app (SQLite or PostgreSQL, local store) ---------------------------

def test_healthz_answers_without_login(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert _json(response) == {"status": "ok", "checks": {}}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_readyz_checks_the_database_and_the_store(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert _json(response) == {"status": "ok", "checks": {"database": "ok", "storage": "ok"}}


@pytest.mark.allow_5xx
def test_readyz_says_which_check_failed_and_nothing_more(app: Flask, client: FlaskClient,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    with app.app_context():
        store = current_store()

    def broken() -> None:
        raise StoreUnavailable("the evidence folder /srv/secret-path cannot be written")

    monkeypatch.setattr(store, "ping", broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert _json(response) == {"status": "unavailable",
                               "checks": {"database": "ok", "storage": "unavailable"}}
    assert b"secret-path" not in response.data


@pytest.mark.allow_5xx
def test_readyz_checks_redis_when_configured(app: Flask, client: FlaskClient,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://:hunter2@127.0.0.1:{free_port()}/6")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert _json(response)["checks"] == {"database": "ok", "redis": "unavailable", "storage": "ok"}
    assert b"hunter2" not in response.data and b"127.0.0.1" not in response.data


def test_readyz_reaches_a_live_redis(app: Flask, client: FlaskClient,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    url = "redis://127.0.0.1:6379/6"  # this branch's own Redis database index
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    monkeypatch.setitem(app.config, "REDIS_URL", url)
    assert _json(client.get("/readyz"))["checks"]["redis"] == "ok"


def test_health_checks_are_not_rate_limited(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from vendorcheck.extensions import limiter

    # The limiter is one object for every app: put back what this app's settings change in it.
    manager = limiter.limit_manager
    monkeypatch.setattr(manager, "_application_limits", manager._application_limits)
    monkeypatch.setattr(limiter, "enabled", limiter.enabled)
    app = create_app(make_config(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'limits.sqlite3'}",
                                 RATELIMIT_ENABLED=True, RATELIMIT_APPLICATION="2/minute"))
    client = app.test_client()
    try:
        assert [client.get("/healthz").status_code for _ in range(5)] == [200] * 5
        assert [client.get("/readyz").status_code for _ in range(5)] == [200] * 5
    finally:
        limiter.reset()
        with app.app_context():
            db.engine.dispose()


# --- a database that refuses connections (no database server needed) --------------------------------------

@pytest.fixture
def unreachable(tmp_path: Path) -> Flask:
    """An app whose PostgreSQL address refuses connections (a free port nobody listens on)."""
    url = f"postgresql://vendorcheck@127.0.0.1:{free_port()}/vendorcheck"
    return create_app(make_config(tmp_path, SQLALCHEMY_DATABASE_URI=url))


def _logged_in(app: Flask) -> FlaskClient:
    """A new client whose session names a server-side session of user 1: loading it needs the database.

    A new one each time: once the app found no such session, it drops it from the cookie.
    """
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = f"1:{'s' * 32}"  # `user_id:secret`, the shape sessions.parse_cookie_id accepts
        session["_fresh"] = True
    return client


def _assert_unavailable_page(response: Any, words: str) -> None:
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert words in page
    assert "vendorcheck" in page and 'class="topbar"' in page  # our layout, not a bare server page
    assert "psycopg" not in page and "Traceback" not in page


@pytest.mark.allow_5xx
def test_a_page_answers_503_when_loading_the_user_needs_the_database(unreachable: Flask) -> None:
    response = _logged_in(unreachable).get("/auth/profile")
    _assert_unavailable_page(response, "The service is briefly unavailable")
    assert "Log in" in response.get_data(as_text=True)  # the menu of an anonymous visitor: no query


@pytest.mark.allow_5xx
def test_the_unavailable_page_is_translated(unreachable: Flask) -> None:
    response = _logged_in(unreachable).get("/auth/profile", headers={"Accept-Language": "fr"})
    _assert_unavailable_page(response, "Le service est momentanément indisponible")


@pytest.mark.allow_5xx
def test_an_anonymous_form_answers_503(unreachable: Flask) -> None:
    response = unreachable.test_client().post("/auth/login", data={"email": "a@b.example",
                                                                   "password": "whatever-long-enough"})
    _assert_unavailable_page(response, "The service is briefly unavailable")


@pytest.mark.allow_5xx
def test_autosave_answers_503_in_json(unreachable: Flask) -> None:
    response = _logged_in(unreachable).post("/vendor/assessments/1/autosave",
                                            json={"item_id": "x", "value": "y", "version": 0},
                                            headers={"Accept": "application/json"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    body = _json(response)
    assert body["error"] == 503 and body["retry_after"] == 30
    assert body["message"] == "The service is briefly unavailable. Please try again in a minute."


@pytest.mark.allow_5xx
def test_health_and_readiness_with_the_database_down(unreachable: Flask) -> None:
    client = unreachable.test_client()
    assert client.get("/healthz").status_code == 200  # the process is alive: do not restart it
    response = client.get("/readyz")
    assert response.status_code == 503
    assert _json(response) == {"status": "unavailable",
                               "checks": {"database": "unavailable", "storage": "ok"}}


@pytest.mark.allow_5xx
def test_a_lost_database_in_an_after_request_hook_answers_503(tmp_path: Path) -> None:
    # Outside a view Flask hands the error to the 500 handler (when it does not propagate, as in production).
    app = create_app(make_config(tmp_path, PROPAGATE_EXCEPTIONS=False))

    @app.get("/_test/late")
    def late() -> str:
        return "done"

    @app.after_request
    def save_late(response: Any) -> Any:
        raise OperationalError("UPDATE sessions", {}, ConnectionRefusedError("server closed the connection"))

    response = app.test_client().get("/_test/late")
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"


def test_a_bad_statement_is_still_a_500_not_a_503(tmp_path: Path) -> None:
    from sqlalchemy.exc import IntegrityError, ProgrammingError

    from vendorcheck.errors import database_unreachable

    assert not database_unreachable(IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert not database_unreachable(ProgrammingError("SELECT", {}, Exception("syntax error")))
    assert database_unreachable(OperationalError("SELECT", {}, Exception("connection refused")))


# --- recovery: the database goes away and comes back, the app follows without a restart -------------------

@pytest.mark.allow_5xx
def test_the_app_recovers_when_a_sqlite_file_comes_back(tmp_path: Path) -> None:
    folder = tmp_path / "db"
    folder.mkdir()
    app = create_app(make_config(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'app.sqlite3'}"))
    with app.app_context():
        db.create_all()
    client = app.test_client()
    try:
        assert _logged_in(app).get("/auth/profile").status_code == 302  # no such session: sent to log in
        folder.rename(tmp_path / "away")
        with app.app_context():
            db.engine.dispose()  # the pooled connections are lost with the server
        _assert_unavailable_page(_logged_in(app).get("/auth/profile"), "briefly unavailable")
        assert client.get("/readyz").status_code == 503
        (tmp_path / "away").rename(folder)
        assert _logged_in(app).get("/auth/profile").status_code == 302
        assert client.get("/readyz").status_code == 200
    finally:
        with app.app_context():
            db.engine.dispose()


class Relay:
    """A TCP relay to PostgreSQL that can be cut (connections dropped, new ones refused) and restored."""

    def __init__(self, host: str, port: int) -> None:
        self.target, self.port = (host, port), free_port()
        self.listener: socket.socket | None = None
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()

    def start(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def cut(self) -> None:
        with self.lock:
            doomed = [*self.sockets, *([self.listener] if self.listener else [])]
            self.sockets, self.listener = [], None
        for sock in doomed:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _address = listener.accept()
            except OSError:
                return  # cut
            server = socket.create_connection(self.target)
            with self.lock:
                self.sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def relay() -> Iterator[Relay]:
    if not TEST_DB_URL or not TEST_DB_URL.startswith("postgresql"):
        pytest.skip("needs VENDORCHECK_TEST_DATABASE_URL (PostgreSQL)")
    url = make_url(TEST_DB_URL)
    relay = Relay(url.host or "127.0.0.1", url.port or 5432)
    relay.start()
    yield relay
    relay.cut()


@pytest.mark.postgres
@pytest.mark.allow_5xx
def test_the_app_recovers_when_postgresql_comes_back(app: Flask, relay: Relay, tmp_path: Path) -> None:
    # `app` made the schema; this second app reaches the same database through the relay.
    assert TEST_DB_URL is not None
    url = make_url(TEST_DB_URL).set(host="127.0.0.1", port=relay.port)
    behind = create_app(make_config(tmp_path,
                                    SQLALCHEMY_DATABASE_URI=url.render_as_string(hide_password=False)))
    client = behind.test_client()
    try:
        assert _logged_in(behind).get("/auth/profile").status_code == 302  # a pooled connection is now open
        assert client.get("/readyz").status_code == 200
        relay.cut()  # the server goes away: the pooled connection dies, new ones are refused
        _assert_unavailable_page(_logged_in(behind).get("/auth/profile"), "briefly unavailable")
        assert _json(client.get("/readyz"))["checks"]["database"] == "unavailable"
        relay.start()  # it is back: pool_pre_ping replaces the dead connection, no restart
        assert _logged_in(behind).get("/auth/profile").status_code == 302
        assert client.get("/readyz").status_code == 200
    finally:
        with behind.app_context():
            db.engine.dispose()
