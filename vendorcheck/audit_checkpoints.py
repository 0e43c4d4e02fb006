"""Signed checkpoints of the audit chain's head, kept outside the database, in the store.

The hash chain (`audit.py`) shows an edited or deleted row, but not the newest rows deleted: the
shorter chain is still a valid chain. A checkpoint `{last_seq, last_id, head_hash, count,
created_at}` is written (daily, and on demand) into the store's `audit` area, under a name derived
from its day and its number that day, so `verify_checkpoints` finds it without asking the
database, which an attacker may have truncated too. Each checkpoint is signed with an HMAC whose
key is derived from SECRET_KEY (fallback keys are accepted on reading): a checkpoint edited or
copied under another name is refused. See docs/audit-log.md for what this does and does not catch.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import itertools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from vendorcheck.audit import GENESIS, canonical_json
from vendorcheck.config import secret_keys
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry, utcnow
from vendorcheck.storage import Area, FileMissing, current_store

VERSION = 1
NAME_LABEL = "vendorcheck/audit-checkpoint"
MAC_LABEL = b"vendorcheck/audit-checkpoint/hmac/v1"
MAX_PER_DAY = 1000
MAX_BYTES = 64 * 1024
DEFAULT_LOOKBACK_DAYS = 400  # how far back `verify` looks for the newest checkpoint
DEFAULT_MAX_AGE_DAYS = 2  # a newest checkpoint older than this is worth a warning
FIELDS = ("version", "day", "n", "last_seq", "last_id", "head_hash", "count", "created_at", "forced")


class CheckpointRefused(ValueError):
    """A stored checkpoint that cannot be trusted (bad signature, wrong name, unreadable)."""


class LogDiverged(RuntimeError):
    """The log no longer matches the newest checkpoint: checkpointing it would hide that."""


@dataclass(frozen=True)
class Checkpoint:
    """The head of the chain at one moment, as signed."""

    day: date
    n: int
    last_seq: int
    last_id: int | None
    head_hash: str
    count: int
    created_at: str
    forced: bool = False

    @property
    def label(self) -> str:
        return f"{self.day.isoformat()} #{self.n}"

    def payload(self) -> dict[str, Any]:
        return {"version": VERSION, "day": self.day.isoformat(), "n": self.n,
                "last_seq": self.last_seq, "last_id": self.last_id, "head_hash": self.head_hash,
                "count": self.count, "created_at": self.created_at, "forced": self.forced}


@dataclass(frozen=True)
class Verdict:
    """What the newest checkpoints say about the table: problems (empty when it matches)."""

    problems: list[str]
    checked: Checkpoint | None  # the newest trustworthy checkpoint compared with the table
    warnings: list[str]


def checkpoint_key(day: date, n: int) -> str:
    """Return the store key of the n-th checkpoint of a day (found again without the database)."""
    return hashlib.sha256(f"{NAME_LABEL}:{day.isoformat()}:{n}".encode()).hexdigest()


def _mac(payload: dict[str, Any], secret: bytes) -> str:
    """Sign a checkpoint with a key derived from one secret key (never the secret key itself)."""
    key = hmac.new(secret, MAC_LABEL, hashlib.sha256).digest()
    return hmac.new(key, canonical_json(payload).encode(), hashlib.sha256).hexdigest()


# ------------------------------------------------------------------------------------ writing

def write_checkpoint(*, now: datetime | None = None, force: bool = False) -> Checkpoint:
    """Sign the chain's current head and store it as today's next checkpoint.

    Refused (LogDiverged) when the table no longer matches the newest checkpoint, unless `force`
    (after a restore from a backup, say): a new checkpoint would otherwise hide the loss.
    """
    if not force:
        verdict = verify_checkpoints(today=(now or utcnow()).date())
        if verdict.problems:
            raise LogDiverged("; ".join(verdict.problems))
    now = now or utcnow()
    head = db.session.execute(select(AuditEntry.seq, AuditEntry.id, AuditEntry.hash)
                              .order_by(AuditEntry.seq.desc()).limit(1)).first()
    count = int(db.session.scalar(select(func.count(AuditEntry.id))) or 0)
    store, day = current_store(), now.date()
    n = next((i for i in range(MAX_PER_DAY) if not store.exists(Area.AUDIT, checkpoint_key(day, i))),
             None)
    if n is None:
        raise RuntimeError(f"{MAX_PER_DAY} audit checkpoints were already written on {day}")
    checkpoint = Checkpoint(day=day, n=n, last_seq=head.seq if head else 0,
                            last_id=head.id if head else None,
                            head_hash=head.hash if head else GENESIS, count=count,
                            created_at=now.isoformat(timespec="seconds"), forced=force)
    payload = checkpoint.payload()
    body = {**payload, "mac": _mac(payload, secret_keys(current_app.config)[0])}
    store.put(Area.AUDIT, checkpoint_key(day, n), io.BytesIO(canonical_json(body).encode()))
    return checkpoint


# ------------------------------------------------------------------------------------ reading

def read_checkpoint(day: date, n: int) -> Checkpoint:
    """Read and check one stored checkpoint; CheckpointRefused if it cannot be trusted."""
    with current_store().open(Area.AUDIT, checkpoint_key(day, n)) as handle:
        raw = handle.read(MAX_BYTES + 1)
    try:
        body = json.loads(raw) if len(raw) <= MAX_BYTES else None
    except ValueError:
        body = None
    if not isinstance(body, dict) or set(body) != {*FIELDS, "mac"} or body["version"] != VERSION:
        raise CheckpointRefused("unreadable or not a checkpoint")
    payload = {k: body[k] for k in FIELDS}
    if not any(hmac.compare_digest(str(body["mac"]), _mac(payload, secret))
               for secret in secret_keys(current_app.config)):
        raise CheckpointRefused("the signature does not match (edited, or signed with a key this "
                                "server does not have)")
    if payload["day"] != day.isoformat() or payload["n"] != n:
        raise CheckpointRefused(f"it is the checkpoint of {payload['day']} #{payload['n']}, "
                                f"stored under another name")
    return Checkpoint(day=day, n=n, last_seq=int(payload["last_seq"]), last_id=payload["last_id"],
                      head_hash=str(payload["head_hash"]), count=int(payload["count"]),
                      created_at=str(payload["created_at"]), forced=bool(payload["forced"]))


def _stored_names(today: date, lookback: int) -> Iterator[tuple[date, int]]:
    """Yield (day, n) of stored checkpoints, newest first, over the last `lookback` days."""
    store = current_store()
    for back in range(lookback + 1):
        day = today - timedelta(days=back)
        count = 0
        while count < MAX_PER_DAY and store.exists(Area.AUDIT, checkpoint_key(day, count)):
            count += 1
        for n in reversed(range(count)):
            yield day, n


def verify_checkpoints(*, today: date | None = None) -> Verdict:
    """Compare the table with the newest trustworthy checkpoint; refused checkpoints are problems."""
    today = today or utcnow().date()
    cfg = current_app.config
    lookback = int(cfg.get("AUDIT_CHECKPOINT_LOOKBACK_DAYS", DEFAULT_LOOKBACK_DAYS))
    problems: list[str] = []
    for day, n in _stored_names(today, lookback):
        try:
            checkpoint = read_checkpoint(day, n)
        except (CheckpointRefused, FileMissing) as exc:
            problems.append(f"checkpoint {day.isoformat()} #{n} refused: {exc}")
            continue
        problems.extend(_compare(checkpoint))
        warnings = []
        max_age = int(cfg.get("AUDIT_CHECKPOINT_MAX_AGE_DAYS", DEFAULT_MAX_AGE_DAYS))
        if (today - day).days > max_age:
            warnings.append(f"the newest checkpoint is from {day.isoformat()}: entries written "
                            f"since are not anchored (run `vendorcheck audit checkpoint` daily)")
        return Verdict(problems, checkpoint, warnings)
    return Verdict(problems, None, [
        f"no audit checkpoint in the last {lookback} days: deleting the newest entries cannot be "
        f"detected (run `vendorcheck audit checkpoint` daily)"])


def _compare(checkpoint: Checkpoint) -> list[str]:
    """Return how the table differs from a checkpoint: missing entries, a rewritten head."""
    last = checkpoint.last_seq
    where = f"the checkpoint of {checkpoint.label} (written {checkpoint.created_at})"
    rows = int(db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.seq <= last)) or 0)
    head = db.session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == last)) if last else None
    if rows != last or (last and head is None):  # seqs run 1, 2, 3…: some are gone
        seqs = db.session.scalars(select(AuditEntry.seq).where(AuditEntry.seq <= last)
                                  .order_by(AuditEntry.seq).execution_options(yield_per=10_000))
        newest = db.session.scalar(select(func.max(AuditEntry.seq)))
        return [f"missing entries {_gaps(seqs, last)}: {where} has entry {last} as the head "
                f"(id {checkpoint.last_id}) and {checkpoint.count} entries; the table now ends at "
                f"entry {newest or 0}"]
    problems = []
    if last and head != checkpoint.head_hash:
        problems.append(f"entry {last}: hash differs from {where} (the log was rewritten)")
    if rows != checkpoint.count:
        problems.append(f"{where} counts {checkpoint.count} entries up to entry {last}; the table "
                        f"has {rows}")
    return problems


def _gaps(seqs: Iterable[int], last: int, *, shown: int = 20) -> str:
    """Name the numbers of 1..last absent from the sorted `seqs`, as ranges ("5-7, 9")."""
    ranges, expected = [], 1
    for seq in itertools.chain(seqs, [last + 1]):
        if seq > expected:
            ranges.append(str(expected) if seq - 1 == expected else f"{expected}-{seq - 1}")
        expected = max(expected, seq + 1)
    more = f" and {len(ranges) - shown} more ranges" if len(ranges) > shown else ""
    return ", ".join(ranges[:shown]) + more
