"""Run WeasyPrint renders and signature checks in recycled worker processes, with limits.

WeasyPrint's memory grows across renders in a long-lived process, and a hostile or huge
document can keep it busy for minutes. Renders therefore run in a small ``multiprocessing``
pool (forkserver: children fork from a clean, single-threaded server that has WeasyPrint
preloaded) whose children are replaced after ``REPORT_WORKER_MAX_TASKS`` renders and whose
address space is capped at ``REPORT_WORKER_MEMORY_MB`` (``RLIMIT_AS``; 0 turns the cap off).
A render that outlives ``REPORT_RENDER_TIMEOUT`` seconds kills the pool and raises
RenderTimeout (503, "try again"); one that hits the memory cap raises RenderTooLarge. Checking
an uploaded PDF's signature (``verify_pdf_isolated``) runs in the same pool under
``REPORT_VERIFY_TIMEOUT``: a file built to stall or inflate the PDF parser costs one child.
Inside an RQ job the work runs in-process: the RQ work horse is already a fresh process per
job, and RQ's job_timeout bounds it.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import resource
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from multiprocessing.pool import Pool
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from flask import current_app
from flask_babel import lazy_gettext as _l

from vendorcheck.i18n import plain_text
from vendorcheck.pdf.verify import Verification
from vendorcheck.services.errors import DomainError

DEFAULT_TIMEOUT = 300.0
DEFAULT_VERIFY_TIMEOUT = 60.0
DEFAULT_MAX_TASKS = 20
DEFAULT_PROCESSES = 2
# A 4,000-row document peaks at about 510 MB of address space (400 MB resident) here.
DEFAULT_MEMORY_MB = 2048

TOO_MUCH_MEMORY = ("Checking the file needed more memory than this server allows: it may be damaged "
                   "or built to inflate when read.")

_lock = threading.Lock()
_pool: Pool | None = None
_pool_key: tuple[int, int, int, int] | None = None  # (pid, processes, max tasks, memory MB)


class RenderTimeout(DomainError):
    """A render took longer than the configured limit."""

    status = 503
    default = _l("Building the PDF took too long and was stopped. The server may be busy: "
                 "please try again in a few minutes.")


class RenderTooLarge(DomainError):
    """A render needed more memory than one worker may use."""

    status = 503
    default = _l("Building the PDF needed more memory than this server allows for one "
                 "document, so it was stopped. Ask the administrator to raise the limit.")


def render_pdf(html: str, *, static_dir: Path, stylesheets: Sequence[str] = (),
               created: datetime | None = None) -> bytes:
    """Render HTML to PDF in this process; WeasyPrint is imported on first use (about 1 s)."""
    from vendorcheck.pdf.render import render_pdf as render

    return render(html, static_dir=static_dir, stylesheets=stylesheets, created=created)


def verify_pdf(data: bytes, *, trust_roots: Sequence[x509.Certificate]) -> Verification:
    """Check a PDF's signature in this process; pyHanko is imported on first use."""
    from vendorcheck.pdf.verify import verify_pdf as verify

    return verify(data, trust_roots=trust_roots)


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
    pool = _configured_pool()
    pending = pool.apply_async(_render_job, (html, str(static_dir), list(stylesheets), created))
    try:
        pdf: bytes | None = wait_for(pending, pool, limit)
    except multiprocessing.TimeoutError as exc:
        # The child is still busy: terminating the pool is the only way to stop it.
        shutdown()
        raise RenderTimeout(plain_text(RenderTimeout.default)) from exc
    except WorkerDied:
        shutdown()
        pdf = None  # a child that dies under the memory cap failed to allocate in C code
    if pdf is None:
        raise RenderTooLarge(plain_text(RenderTooLarge.default))
    return pdf


def verify_pdf_isolated(data: bytes, *, trust_roots: Sequence[x509.Certificate],
                        timeout: float | None = None) -> Verification:
    """Check a PDF's signature like verify_pdf, in a worker process with a timeout and a cap."""
    cfg = current_app.config
    if cfg.get("REPORT_RENDER_MODE", "pool") == "inline" or _in_rq_job():
        return verify_pdf(data, trust_roots=trust_roots)
    limit = float(timeout if timeout is not None else
                  cfg.get("REPORT_VERIFY_TIMEOUT", DEFAULT_VERIFY_TIMEOUT))
    roots = [cert.public_bytes(Encoding.DER) for cert in trust_roots]  # certificates don't pickle
    pool = _configured_pool()
    pending = pool.apply_async(_verify_job, (data, roots))
    try:
        result: Verification = wait_for(pending, pool, limit)
    except multiprocessing.TimeoutError:
        shutdown()
        return Verification(problems=[
            f"Checking the file did not finish within {limit:g} seconds and was stopped: it "
            "may be damaged or built to stall PDF readers."])
    except WorkerDied:
        shutdown()
        return Verification(problems=[TOO_MUCH_MEMORY])
    return result


class WorkerDied(Exception):
    """The child running a task ended abnormally: the pool has lost the task."""


def wait_for(pending: Any, pool: Pool, limit: float) -> Any:
    """Return a task's result within `limit` seconds, or raise as soon as a worker dies.

    A child killed while working (C code aborting under the memory cap, the kernel's OOM killer)
    is replaced by the pool, but its task is lost and `get()` would wait for the whole limit.
    The pool keeps its processes in `_pool` (multiprocessing has no public accessor); a worker
    recycled after its tasks exits with 0, a dying one with a signal or an error code.
    """
    workers = list(getattr(pool, "_pool", []))
    deadline = time.monotonic() + limit
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise multiprocessing.TimeoutError
        pending.wait(min(0.25, remaining))
        if pending.ready():
            return pending.get(0)
        if any(worker.exitcode not in (None, 0) for worker in workers):
            raise WorkerDied


def _configured_pool() -> Pool:
    """Return the pool sized and capped by the app's configuration."""
    cfg = current_app.config
    return _get_pool(int(cfg.get("REPORT_WORKERS", DEFAULT_PROCESSES)),
                     int(cfg.get("REPORT_WORKER_MAX_TASKS", DEFAULT_MAX_TASKS)),
                     int(cfg.get("REPORT_WORKER_MEMORY_MB", DEFAULT_MEMORY_MB)))


def _verify_job(data: bytes, roots: list[bytes]) -> Verification:
    """Worker-side entry point of verify_pdf_isolated."""
    try:
        return verify_pdf(data, trust_roots=[x509.load_der_x509_certificate(r) for r in roots])
    except MemoryError:
        return Verification(problems=[TOO_MUCH_MEMORY])


def _cap_memory(megabytes: int) -> None:
    """Pool initializer: cap the child's address space (RLIMIT_AS), so a bomb fails alone."""
    if megabytes > 0:
        cap = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def _render_job(html: str, static_dir: str, stylesheets: list[str],
                created: datetime | None) -> bytes | None:
    """Worker-side entry point (module level, so it pickles by name); None: out of memory.

    A MemoryError is not sent back as an exception: pickling it with its traceback needs
    memory the child no longer has, the child dies and the pool loses the task. Returning
    releases the render's frames first. Under the address-space cap, C code (fonts, images)
    that fails to allocate may also surface as a bare SystemError ("error return without
    exception set"): it means the same, and sending it back would lose the task the same way.
    """
    try:
        return render_pdf(html, static_dir=Path(static_dir), stylesheets=stylesheets,
                          created=created)
    except (MemoryError, SystemError):
        return None


def _in_rq_job() -> bool:
    """Tell whether this code runs inside an RQ job."""
    try:
        from rq import get_current_job
    except ImportError:  # pragma: no cover - rq is a dependency
        return False
    return get_current_job() is not None


def _get_pool(processes: int, max_tasks: int, memory_mb: int = 0) -> Pool:
    """Return this process's pool, creating it (again) when needed."""
    global _pool, _pool_key
    key = (os.getpid(), max(1, processes), max(1, max_tasks), max(0, memory_mb))
    with _lock:
        if _pool is not None and _pool_key == key:
            return _pool
        if _pool is not None and _pool_key is not None and _pool_key[0] == key[0]:
            _close(_pool)
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["vendorcheck.pdf.render"])
        _pool = context.Pool(processes=key[1], maxtasksperchild=key[2],
                             initializer=_cap_memory, initargs=(key[3],))
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
