"""Run WeasyPrint renders in recycled worker processes, with a timeout.

WeasyPrint's memory grows across renders in a long-lived process, and a hostile or huge
document can keep it busy for minutes. Renders therefore run in a small ``multiprocessing``
pool (forkserver: children fork from a clean, single-threaded server that has WeasyPrint
preloaded) whose children are replaced after ``REPORT_WORKER_MAX_TASKS`` renders. A render
that outlives ``REPORT_RENDER_TIMEOUT`` seconds kills the pool and raises RenderTimeout
(503, "try again"). Inside an RQ job the render runs in-process: the RQ work horse is
already a fresh process per job, and RQ's job_timeout bounds it.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
from collections.abc import Sequence
from datetime import datetime
from multiprocessing.pool import Pool
from pathlib import Path
from typing import Any

from flask import current_app, has_request_context
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from vendorcheck.reports.pdf import render_pdf
from vendorcheck.services.errors import DomainError

DEFAULT_TIMEOUT = 300.0
DEFAULT_MAX_TASKS = 20
DEFAULT_PROCESSES = 2

_lock = threading.Lock()
_pool: Pool | None = None
_pool_key: tuple[int, int, int] | None = None  # (pid, processes, max tasks)


class RenderTimeout(DomainError):
    """A render took longer than the configured limit."""

    status = 503
    default = _l("Building the PDF took too long and was stopped. The server may be busy: "
                 "please try again in a few minutes.")


def render_pdf_isolated(
    html: str,
    *,
    static_dir: Path,
    stylesheets: Sequence[str] = (),
    created: datetime | None = None,
    timeout: float | None = None,
) -> bytes:
    """Render like render_pdf, in a worker process with a timeout (in-process in RQ jobs)."""
    cfg = current_app.config
    if cfg.get("REPORT_RENDER_MODE", "pool") == "inline" or _in_rq_job():
        return render_pdf(html, static_dir=static_dir, stylesheets=stylesheets, created=created)
    limit = float(timeout if timeout is not None else
                  cfg.get("REPORT_RENDER_TIMEOUT", DEFAULT_TIMEOUT))
    pool = _get_pool(int(cfg.get("REPORT_WORKERS", DEFAULT_PROCESSES)),
                     int(cfg.get("REPORT_WORKER_MAX_TASKS", DEFAULT_MAX_TASKS)))
    pending = pool.apply_async(_render_job, (html, str(static_dir), list(stylesheets), created))
    try:
        pdf: bytes = pending.get(limit)
    except multiprocessing.TimeoutError as exc:
        # The child is still busy: terminating the pool is the only way to stop it.
        shutdown()
        raise RenderTimeout(_plain(RenderTimeout.default)) from exc
    return pdf


def _plain(message: Any) -> str:
    """Return a lazy message as text: in the request's language, else in English (CLI, jobs)."""
    if has_request_context():
        return str(message)
    with force_locale("en"):
        return str(message)


def _render_job(html: str, static_dir: str, stylesheets: list[str],
                created: datetime | None) -> bytes:
    """Worker-side entry point (module level, so it pickles by name)."""
    return render_pdf(html, static_dir=Path(static_dir), stylesheets=stylesheets,
                      created=created)


def _in_rq_job() -> bool:
    """Tell whether this code runs inside an RQ job."""
    try:
        from rq import get_current_job
    except ImportError:  # pragma: no cover - rq is a dependency
        return False
    return get_current_job() is not None


def _get_pool(processes: int, max_tasks: int) -> Pool:
    """Return this process's pool, creating it (again) when needed."""
    global _pool, _pool_key
    key = (os.getpid(), max(1, processes), max(1, max_tasks))
    with _lock:
        if _pool is not None and _pool_key == key:
            return _pool
        if _pool is not None and _pool_key is not None and _pool_key[0] == key[0]:
            _close(_pool)
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["vendorcheck.reports.pdf"])
        _pool = context.Pool(processes=key[1], maxtasksperchild=key[2])
        _pool_key = key
        return _pool


def shutdown() -> None:
    """Stop the pool of this process (a new one starts on the next render)."""
    global _pool, _pool_key
    with _lock:
        if _pool is not None and _pool_key is not None and _pool_key[0] == os.getpid():
            _close(_pool)
        _pool, _pool_key = None, None


def _close(pool: Any) -> None:
    """Terminate a pool and wait for its processes."""
    pool.terminate()
    pool.join()


atexit.register(shutdown)
