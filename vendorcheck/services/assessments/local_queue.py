"""Re-scores in this process when no RQ worker is configured (no Redis): a background thread.

It takes the RQ queue's place for `schedule_rescore` (same `enqueue_in`), so no request re-scores
stale results inline, with or without Redis. Debounced: an assessment already waiting keeps its
first due time (the burst of saves that made it stale shares one re-score). What is still waiting
when the process stops is re-scored then (`drain`, at exit). With `RESCORE_SYNC` (the tests), no
thread runs: jobs wait until `drain()` is called, so a test decides when the "worker" ran.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections.abc import Callable
from datetime import timedelta

from flask import Flask

log = logging.getLogger(__name__)


class LocalRescoreQueue:
    """Assessment ids waiting for a re-score, each with its due time (monotonic seconds)."""

    def __init__(self, app: Flask, run: Callable[[int], object], *, threaded: bool) -> None:
        self._app = app
        self._run = run
        self._threaded = threaded
        self._due: dict[int, float] = {}
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False

    def enqueue_in(self, delay: timedelta, name: str, assessment_id: int, **_: object) -> None:
        """Schedule one re-score `delay` from now, unless that assessment is already waiting."""
        with self._wake:
            self._due.setdefault(assessment_id, time.monotonic() + delay.total_seconds())
            if self._threaded and not self._stopping:
                self._start()
                self._wake.notify()

    def pending(self) -> list[int]:
        """Return the ids waiting, soonest first."""
        with self._wake:
            return sorted(self._due, key=self._due.__getitem__)

    def pending_clear(self) -> None:
        """Forget what is waiting (the tests, between two tests' data)."""
        with self._wake:
            self._due.clear()

    def drain(self) -> int:
        """Re-score everything waiting now, in the calling thread; return how many ran."""
        with self._wake:
            ids = sorted(self._due, key=self._due.__getitem__)
            self._due.clear()
        for assessment_id in ids:
            self._run_one(assessment_id)
        return len(ids)

    def stop(self) -> None:
        """Stop the thread, then re-score what is still waiting (process exit)."""
        with self._wake:
            self._stopping = True
            self._wake.notify()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)
        self.drain()

    def _start(self) -> None:
        """Start the thread on first use (so a preloading server's master never runs one)."""
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._loop, name="vendorcheck-rescore", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        """Wait for the soonest due re-score, run it, repeat until stopped."""
        while True:
            with self._wake:
                while not self._stopping:
                    ready = self._next_ready()
                    if ready is not None:
                        break
                    soonest = min(self._due.values(), default=None)
                    self._wake.wait(None if soonest is None else max(0.0, soonest - time.monotonic()))
                else:
                    return
                del self._due[ready]
            self._run_one(ready)

    def _next_ready(self) -> int | None:
        """Return an assessment whose due time has come, if any (lock held)."""
        now = time.monotonic()
        return next((aid for aid, due in self._due.items() if due <= now), None)

    def _run_one(self, assessment_id: int) -> None:
        """Re-score one assessment in its own app context; a failure is logged, never raised."""
        try:
            with self._app.app_context():
                self._run(assessment_id)
        except Exception:  # the results stay stale; readers of one assessment still re-score it
            log.exception("in-process re-score of assessment %s failed", assessment_id)


def stop_at_exit(queue: LocalRescoreQueue) -> None:
    """Drain the queue when the process exits (gunicorn's graceful stop, the CLI, the tests)."""
    ref = weakref.ref(queue)

    def _stop() -> None:
        alive = ref()
        if alive is not None:
            alive.stop()

    atexit.register(_stop)
