"""gunicorn settings for production: `vendorcheck serve` loads them, and so does `gunicorn` run from the
repository root (its `gunicorn.conf.py` imports this module). See docs/deploy.md.

Environment: VENDORCHECK_BIND (default 127.0.0.1:8000), WEB_CONCURRENCY (workers; default 2 x cores + 1,
at most MAX_WORKERS), VENDORCHECK_REPORT_RENDER_TIMEOUT (the worker timeout follows it).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from gunicorn.glogging import Logger

DEFAULT_BIND = "127.0.0.1:8000"
# Each sync worker keeps its own render pool (REPORT_WORKERS children of up to 2 GB): more workers than
# this would trade memory for nothing on the machines we deploy to.
MAX_WORKERS = 8
DEFAULT_RENDER_TIMEOUT = 300  # seconds, as config.Config.REPORT_RENDER_TIMEOUT
TIMEOUT_MARGIN = 30  # the app answers its own 503 "try again" before gunicorn kills a silent worker
GRACEFUL_TIMEOUT = 30  # a restart waits this long for requests in flight: longer than any autosave

# Path segments that are secrets: /auth/reset/<token>, /auth/invitations/<token>,
# /dpa/subscriptions/<token>/... (tests/unit/test_gunicorn_conf.py checks every <token> route is covered).
_TOKEN_SEGMENT = re.compile(r"(/(?:reset|invitations|subscriptions|link)/)[^/?]+")


def cores() -> int:
    """Return the CPUs this process may run on (the container's share, not the host's)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_workers(cpus: int) -> int:
    """Return gunicorn's usual 2 x cores + 1, capped at MAX_WORKERS."""
    return max(1, min(2 * cpus + 1, MAX_WORKERS))


def worker_count(environ: Mapping[str, str]) -> int:
    """Return WEB_CONCURRENCY when set (a positive integer), else the default for this machine."""
    value = environ.get("WEB_CONCURRENCY", "").strip()
    if not value:
        return default_workers(cores())
    if not value.isdigit() or int(value) < 1:
        raise RuntimeError(f"WEB_CONCURRENCY must be a positive number of workers, not {value!r}")
    return int(value)


def worker_timeout(environ: Mapping[str, str]) -> int:
    """Return the worker timeout: longer than the longest request the app serves (a report render)."""
    value = environ.get("VENDORCHECK_REPORT_RENDER_TIMEOUT", "").strip()
    render = int(float(value)) if value.replace(".", "", 1).isdigit() else DEFAULT_RENDER_TIMEOUT
    return render + TIMEOUT_MARGIN


def redact_path(path: str | None) -> str:
    """Return a request path fit for a log: no query string and no token segment."""
    if not path:
        return "-"
    return _TOKEN_SEGMENT.sub(r"\1[token]", path.split("?", 1)[0])


class RedactingLogger(Logger):  # type: ignore[misc]  # gunicorn has no type hints
    """gunicorn's logger whose access-log atoms never carry a query string, a token, or a referrer."""

    def atoms(self, resp: Any, req: Any, environ: Mapping[str, Any], request_time: Any) -> dict[str, Any]:
        """Return gunicorn's atoms with the path redacted and the query, referrer and headers dropped."""
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        path = redact_path(atoms.get("U"))
        atoms = {key: value for key, value in atoms.items() if not key.startswith("{")}
        atoms.update(U=path, q="-", f="-", r=f"{atoms.get('m')} {path} {atoms.get('H')}")
        return atoms


def on_starting(server: Any) -> None:
    """Tell the app how many processes this server runs (production refuses SQLite beyond one)."""
    os.environ["WEB_CONCURRENCY"] = str(server.cfg.workers)


SHM = "/dev/shm"  # noqa: S108 - gunicorn's own advice for worker_tmp_dir (files it creates unlinked)


def _shm() -> str | None:
    """Return /dev/shm when usable: the workers' heartbeat files must not sit on a slow disk."""
    return SHM if os.path.isdir(SHM) and os.access(SHM, os.W_OK) else None


bind = [os.environ.get("VENDORCHECK_BIND") or DEFAULT_BIND]
workers = worker_count(os.environ)
worker_class = "sync"
timeout = worker_timeout(os.environ)
graceful_timeout = GRACEFUL_TIMEOUT
keepalive = 5  # behind a reverse proxy that keeps connections open
preload_app = False  # each worker builds its own app: no database connection or thread crosses a fork
worker_tmp_dir = _shm()
max_requests = 1000  # recycle workers now and then (WeasyPrint and fonts keep memory)
max_requests_jitter = 100
accesslog = "-"
errorlog = "-"
loglevel = "info"
logger_class = RedactingLogger
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'
# The app's ProxyFix (PROXY_COUNT) alone decides which forwarded headers to trust.
secure_scheme_headers: dict[str, str] = {}
proc_name = "vendorcheck"
# gunicorn >= 25 opens a control socket in $HOME by default: two instances on one machine would share it, and
# systemd manages the server with signals (HUP reloads, TERM stops). Older versions ignore the name.
control_socket_disable = True

__all__ = ["access_log_format", "accesslog", "bind", "control_socket_disable", "errorlog", "graceful_timeout",
           "keepalive", "logger_class", "loglevel", "max_requests", "max_requests_jitter", "on_starting",
           "preload_app", "proc_name", "secure_scheme_headers", "timeout", "worker_class", "worker_tmp_dir",
           "workers"]
