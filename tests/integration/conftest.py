"""Integration fixtures: the two-tenant world, logging in, an SMTP server, database fingerprints."""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import make_config
from tests.factories.accounts import PASSWORD, make_session
from tests.factories.assessments import make_contact, make_scored_assessment
from tests.factories.questionnaires import HIGH
from tests.factories.world import World, make_world
from vendorcheck import create_app
from vendorcheck.extensions import db, limiter
from vendorcheck.models import OutboxMessage, User


@pytest.fixture
def world(app: Flask) -> World:
    """Two tenants with every kind of object; B's text carries CANARY-B."""
    with app.app_context():
        return make_world()


@pytest.fixture
def submitted(app: Flask, world: World) -> int:
    """A submitted assessment of tenant A (tier high, two high findings) sent to one contact."""
    with app.app_context():
        contact = make_contact(world["a"].vendor, "contact@vendor-a.example", "Contact A")
        a = make_scored_assessment(world["a"].buyer, world["a"].vendor, answers=HIGH,
                                   by=world.user("a.assessor"), contacts=[contact])
        return a.id


@pytest.fixture
def login_as(client: FlaskClient, request: pytest.FixtureRequest) -> Callable[[User | None], None]:
    """Log a user in with a fresh server-side session set in the cookie (no slow password check).

    The session's id is left in world.extra["current_session"] when the test has a world.
    """

    def _login(user: User | None) -> None:
        cookie = None
        if user is not None:
            with client.application.app_context():
                row, cookie = make_session(user.id)
            if "world" in request.fixturenames:
                request.getfixturevalue("world").extra["current_session"] = row.id
        with client.session_transaction() as sess:
            sess.clear()
            if cookie is not None:
                sess["_user_id"] = cookie
                sess["_fresh"] = True

    return _login


@pytest.fixture
def login(client: FlaskClient) -> Callable[..., Any]:
    """Log in through the real form."""

    def _login(email: str, password: str = PASSWORD, **kwargs: Any) -> Any:
        return client.post("/auth/login", data={"email": email, "password": password}, **kwargs)

    return _login


def db_fingerprint(app: Flask, skip: tuple[str, ...] = ("audit_entry", "audit_chain_head")) -> str:
    """Hash every row of every table (except the append-only log and its heads) to prove nothing changed."""
    digest = hashlib.sha256()
    with app.app_context(), db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            if table.name in skip:
                continue
            rows = conn.execute(table.select().order_by(*table.primary_key.columns)).all()
            digest.update(f"{table.name}:{rows!r}".encode())
    return digest.hexdigest()


@pytest.fixture
def fingerprint(app: Flask) -> Callable[[], str]:
    """Return a function computing the database fingerprint."""
    return lambda: db_fingerprint(app)


def outbox(app: Flask) -> list[OutboxMessage]:
    """Return every outbox message, oldest first (detached)."""
    with app.app_context():
        rows = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RecordingHandler:
    """aiosmtpd handler: answers from a script of codes, records what was accepted."""

    def __init__(self, script: list[str] | None = None) -> None:
        self.script = list(script or [])
        self.messages: list[bytes] = []
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.script:
            answer = self.script.pop(0)
            if not answer.startswith("250"):
                return answer
        self.messages.append(envelope.content)
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    """Start aiosmtpd on 127.0.0.1 (random port) and point the app at it."""
    from aiosmtpd.controller import Controller

    controllers: list[Any] = []

    def _start(script: list[str] | None = None) -> RecordingHandler:
        handler = RecordingHandler(script)
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        controllers.append(controller)
        monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
        monkeypatch.setitem(app.config, "MAIL_PORT", port)
        monkeypatch.setitem(app.config, "MAIL_SENDER", "vendorcheck <noreply@test.example>")
        return handler

    yield _start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def limited_client(app: Flask, tmp_path: Path) -> Iterator[FlaskClient]:
    """A client of an app with rate limiting on (the limiter is global: restore it after)."""
    limited = create_app(make_config(
        tmp_path, RATELIMIT_ENABLED=True,
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"]))
    limiter.reset()
    yield limited.test_client()
    limiter.reset()
    limiter.enabled = False
    with limited.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def limiter_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests whose apps turn rate limiting on in the one shared limiter: put it back as it was after."""
    from vendorcheck.extensions import limiter

    manager = limiter.limit_manager
    monkeypatch.setattr(manager, "_application_limits", manager._application_limits)
    monkeypatch.setattr(limiter, "enabled", limiter.enabled)
    for name in ("_storage", "_limiter", "_storage_uri"):  # where its counters go (Redis db 6 here)
        monkeypatch.setattr(limiter, name, getattr(limiter, name, None))
