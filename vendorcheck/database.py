"""Database engine hooks: SQLite pragmas and a write queue shared by the processes of one server.

SQLite lets one writer at a time hold its write lock. A second writer that finds it taken is put
to sleep by SQLite's busy handler in coarse steps (1, 2, 5, 10, 15, 20, 25 … 100 ms) and retried.
Here each write transaction first takes an exclusive `flock` on a `<database>-writequeue` file
beside the database and keeps it until commit or rollback; a waiter polls that lock every
fraction of a millisecond, so it starts as soon as the writer is done. A read-modify-write
service can also take its turn before it reads (`queue_for_write`), so no other process of the
server commits between its reads and its commit (pysqlite only opens a transaction at the first
write). Readers never queue (WAL lets them read while someone writes). PostgreSQL is not affected.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from typing import Any

from flask import Flask
from sqlalchemy import bindparam, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

BUSY_TIMEOUT = 15.0  # seconds a writer waits for the lock before SQLite answers "database is locked"
QUEUE_POLL = 0.0002  # seconds between two tries of the write queue's lock
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def bound(table: Any, *names: str, prefix: str = "new_") -> dict[str, Any]:
    """Return {column: bindparam("<prefix><column>")} typed as the column, for a statement built once
    (autosave, audit appends) and run with its values bound by name."""
    return {name: bindparam(f"{prefix}{name}", type_=table.c[name].type) for name in names}


def init_app(app: Flask) -> None:
    """Set the SQLite connect arguments (call before `db.init_app`, which builds the engine)."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        options = app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {})
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            **options,
            "connect_args": {"timeout": BUSY_TIMEOUT, "factory": QueuedWriteConnection,
                             **options.get("connect_args", {})},
        }


class QueuedWriteConnection(sqlite3.Connection):
    """A SQLite connection whose write transactions wait their turn on a lock file (see above)."""

    def __init__(self, database: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(database, *args, **kwargs)
        name = os.fsdecode(database) if isinstance(database, (str, bytes, os.PathLike)) else ""
        # In-memory and URI databases have no file to put the queue beside: SQLite alone decides.
        on_disk = name not in ("", ":memory:") and not name.startswith("file:")
        self._queue_path = f"{name}-writequeue" if on_disk else None
        self._queue_fd: int | None = None
        self._queue_pid = 0
        self._queued = False
        self._wait = float(kwargs.get("timeout", BUSY_TIMEOUT))

    def queue_for_write(self) -> None:
        """Take the write queue's lock before this connection's transaction starts writing."""
        if self._queue_path is None or self._queued or self.in_transaction:
            return  # in a transaction already: taking the queue now could deadlock with a waiter
        try:
            fd = self._queue_file()
        except OSError:  # e.g. created by another system user: SQLite's own locking still holds
            self._queue_path = None
            return
        deadline = time.monotonic() + self._wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._queued = True
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return  # a stuck holder: fall back on SQLite's own busy timeout
                time.sleep(QUEUE_POLL)

    def _queue_file(self) -> int:
        """Return this process's descriptor of the queue file (a forked worker opens its own)."""
        if self._queue_fd is None or self._queue_pid != os.getpid():
            assert self._queue_path is not None
            self._queue_fd = os.open(self._queue_path, os.O_RDWR | os.O_CREAT, 0o660)
            self._queue_pid = os.getpid()
        return self._queue_fd

    def _leave_queue(self) -> None:
        if self._queued and self._queue_fd is not None:
            self._queued = False
            fcntl.flock(self._queue_fd, fcntl.LOCK_UN)

    def commit(self) -> None:
        """Commit, then let the next writer in."""
        try:
            super().commit()
        finally:
            self._leave_queue()

    def rollback(self) -> None:
        """Roll back, then let the next writer in."""
        try:
            super().rollback()
        finally:
            self._leave_queue()

    def close(self) -> None:
        """Close the connection and the queue file."""
        try:
            super().close()
        finally:
            self._leave_queue()
            if self._queue_fd is not None and self._queue_pid == os.getpid():
                os.close(self._queue_fd)
            self._queue_fd = None


def queue_for_write(session: Session) -> None:
    """On SQLite, wait for this transaction's turn to write now, so what it reads next is current.

    For read-modify-write services (autosave, re-score): no other writer of this server can
    commit between their reads and their commit. PostgreSQL callers lock rows instead.
    """
    dbapi_connection = session.connection().connection.dbapi_connection
    if isinstance(dbapi_connection, QueuedWriteConnection):
        dbapi_connection.queue_for_write()


@event.listens_for(Engine, "before_cursor_execute")
def _queue_sqlite_writes(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
    """Queue before the first write of a transaction (where pysqlite opens it)."""
    dbapi_connection = getattr(cursor, "connection", None)
    if isinstance(dbapi_connection, QueuedWriteConnection) and \
            statement.lstrip()[:7].upper().startswith(WRITES):
        dbapi_connection.queue_for_write()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """Turn on foreign keys and WAL on every SQLite connection (SQLite leaves them off)."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3") and not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
