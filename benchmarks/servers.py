"""The apps gunicorn serves in the benchmarks, and a helper that starts and stops gunicorn.

`hello_app()` is the baseline: a bare Flask app that answers the same JSON POST with a fixed
JSON body. `vendorcheck_app()` is the real app on the database named by BENCH_DATABASE_URL.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask, Response, jsonify, request

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 2
WORKER_CLASS = "sync"
STOP_WAIT = 2.0  # seconds
# A fixed key: gunicorn workers and the seeding process must sign the same session cookies.
SECRET_KEY = "benchmark-only-secret-key-not-for-production"


def hello_app() -> Flask:
    """Return a bare Flask app: read the JSON body, answer a small JSON object."""
    app = Flask("hello")

    @app.post("/autosave")
    def autosave() -> Response:
        body = request.get_json(silent=True) or {}
        return jsonify(ok=True, item_id=body.get("item_id"), version=1)

    return app


def vendorcheck_app() -> Flask:
    """Return the real app on the benchmark database (set by the parent process)."""
    from vendorcheck import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": os.environ["BENCH_DATABASE_URL"],
                       "SECRET_KEY": SECRET_KEY})


def floor_app() -> Flask:
    """Return the real app on the benchmark database plus the floor route (see `add_floor_route`)."""
    return add_floor_route(vendorcheck_app())


def production_floor_app() -> Flask:
    """Return the real app configured from the environment, as `vendorcheck serve` builds it, plus the floor.

    The proxy bench serves this through gunicorn with our shipped settings, so the autosave and its
    floor are answered by the same workers, one after the other.
    """
    from vendorcheck import create_app

    return add_floor_route(create_app())


def add_floor_route(app: Flask) -> Flask:
    """Add the cheapest authenticated durable write the app can serve; return the app.

    `POST /vendor/assessments/<id>/floor`: the same login, CSRF and permission checks as the
    autosave, then one UPDATE of the assessment's row and a commit. No autosave can cost less
    on this stack; measuring it in the same run shows how much of the gap to hello-world is
    the stack's and how much the autosave's own work.
    """
    from sqlalchemy import update

    from vendorcheck.access import requires
    from vendorcheck.extensions import db
    from vendorcheck.models.assessments import Assessment

    @app.post("/vendor/assessments/<int:assessment_id>/floor")
    @requires("assessments.answer")
    def floor(assessment_id: int) -> Response:
        db.session.execute(update(Assessment).where(Assessment.id == assessment_id)
                           .values(progress=Assessment.progress))
        db.session.commit()
        return jsonify(ok=True)

    return app


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Wait until a worker answers HTTP (any status); fail if gunicorn died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=deadline - time.monotonic())
        try:
            conn.request("GET", "/")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.1)
        finally:
            conn.close()
    raise RuntimeError("gunicorn did not start in time")


@contextmanager
def gunicorn(app_spec: str, *, env: dict[str, str] | None = None,
             workers: int = WORKERS) -> Iterator[int]:
    """Serve `module:factory()` with gunicorn on 127.0.0.1; yield the port; always stop it.

    --preload builds the app once in the master, then forks the workers (as in production).
    """
    port = free_port()
    # --config os.devnull: the benchmark's own settings, not the repository's production gunicorn.conf.py
    # (whose access log would be measured too).
    command = [sys.executable, "-m", "gunicorn", "--config", os.devnull, "--bind", f"127.0.0.1:{port}",
               "--workers", str(workers), "--worker-class", WORKER_CLASS, "--preload",
               "--no-control-socket", "--log-level", "warning", "--graceful-timeout", "5",
               app_spec]
    # A session of its own, so stopping it can end the master and its workers together.
    proc = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **(env or {})},
                            start_new_session=True)
    try:
        _wait_ready(port, proc)
        yield port
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop gunicorn: TERM, then KILL its process group if it lingers.

    A worker of the real app can take the whole graceful timeout to exit (Flask-Limiter's
    in-memory storage runs a timer thread); the load is over, so there is nothing to wait for.
    """
    proc.terminate()
    try:
        proc.wait(timeout=STOP_WAIT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
