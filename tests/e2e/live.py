"""A live vendorcheck for browser tests: real WSGI server, SQLite file, SMTP server, all in tmp."""

from __future__ import annotations

import email
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

from flask import Flask, request_finished
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from tests.conftest import make_config
from vendorcheck import create_app
from vendorcheck.extensions import db

# Debian's chromium; another path (another distribution's package) can be given in the environment.
CHROMIUM = os.environ.get("VENDORCHECK_E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
LINK = re.compile(r"https?://127\.0\.0\.1:\d+/\S+")


class Mailbox:
    """aiosmtpd handler that keeps every accepted message."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Message]:
        """Return the messages sent to one address, oldest first."""
        with self._lock:
            return [m for m in self.messages if m["To"] == address]

    def last_link(self, address: str) -> str:
        """Return the first link in the plain-text part of the latest message to `address`."""
        messages = self.to(address)
        assert messages, f"no e-mail was sent to {address}"
        body = next(part.get_payload(decode=True).decode() for part in messages[-1].walk()
                    if part.get_content_type() == "text/plain")
        found = LINK.search(body)
        assert found, f"no link in the e-mail to {address}:\n{body}"
        return found.group(0)


class _QuietHandler(WSGIRequestHandler):
    """Request handler that does not log every request (the browser makes many)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return


@dataclass
class Live:
    """A running app: its base URL, the app object, the mailbox and the server errors seen."""

    app: Flask
    url: str
    mailbox: Mailbox
    tmp: Path
    server_errors: list[str] = field(default_factory=list)


def live_config(tmp: Path, base_url: str, smtp_port: int, **overrides: object
                ) -> dict[str, object]:
    """Return the live app's configuration: the test defaults with CSRF on and real SMTP."""
    config = make_config(
        tmp,
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp / 'e2e.sqlite3'}",
        WTF_CSRF_ENABLED=True,
        BASE_URL=base_url,
        EVIDENCE_DIR=str(tmp / "evidence"),
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp_port,
        MAIL_SENDER="vendorcheck <noreply@e2e.example>",
        REDIS_URL=None,
    )
    config.update(overrides)
    return config


@contextmanager
def live_server(tmp: Path, url_host: str = "127.0.0.1", **overrides: object) -> Iterator[Live]:
    """Start SMTP, create the app and its schema, serve it on 127.0.0.1; stop everything after.

    `url_host` names the server in BASE_URL: passkeys need a domain ("localhost"), not an IP address.
    """
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    smtp_port = _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    server = make_server("127.0.0.1", 0, _placeholder, threaded=True, request_handler=_QuietHandler)
    try:
        base_url = f"http://{url_host}:{server.server_port}"
        app = create_app(live_config(tmp, base_url, smtp_port, **overrides))
        app.instance_path = str(tmp / "instance")  # the signing key lives here
        os.makedirs(app.instance_path, exist_ok=True)
        with app.app_context():
            db.create_all()
        live = Live(app=app, url=base_url, mailbox=mailbox, tmp=tmp)
        receiver = _watch_server_errors(app, live.server_errors)
        server.app = app
        try:
            yield from _serve(server, live)
        finally:
            request_finished.disconnect(receiver, app)
    finally:
        server.server_close()  # also when the app could not be built
        controller.stop()


def _serve(server: BaseWSGIServer, live: Live) -> Iterator[Live]:
    """Run the server in a thread for the duration of the block."""
    thread = threading.Thread(target=server.serve_forever, name="e2e-wsgi", daemon=True)
    thread.start()
    try:
        yield live
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        with live.app.app_context():
            db.session.remove()
            db.engine.dispose()


def _placeholder(environ: Any, start_response: Any) -> list[bytes]:
    """Answer 503 until the real app is attached (the port must be known to build the app)."""
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting"]


def _watch_server_errors(app: Flask, seen: list[str]) -> Any:
    """Record every 5xx the app answers, so a test can fail on it; return the receiver."""

    def record(sender: Flask, response: Any, **extra: Any) -> None:
        from flask import request

        if getattr(response, "status_code", 200) >= 500:
            seen.append(f"{response.status_code} {request.method} {request.path}")

    request_finished.connect(record, app, weak=False)
    return record


def _free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
