"""Signed checkpoints of the audit chains' heads, kept outside the database, in the store.

The hash chains (`audit.py`) show an edited or deleted row, but not the newest rows deleted: the
shorter chain is still a valid chain. A checkpoint `{last_seq, last_id, head_hash, count,
created_at}` of the system chain, plus `chains`, the same head of every organisation's chain, is
written (daily, and on demand) into the store's `audit` area, under a name derived
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

from vendorcheck.audit import GENESIS, canonical_json, chain_label
from vendorcheck.config import secret_keys
from vendorcheck.extensions import db
from vendorcheck.models import SYSTEM_CHAIN, AuditEntry, utcnow
from vendorcheck.storage import Area, FileMissing, current_store

VERSION = 2  # 2 adds `chains`; a version 1 checkpoint (one chain) is the system chain's head
NAME_LABEL = "vendorcheck/audit-checkpoint"
MAC_LABEL = b"vendorcheck/audit-checkpoint/hmac/v1"
MAX_PER_DAY = 1000
MAX_BYTES = 32 * 1024 * 1024  # about 100 bytes per organisation chain
DEFAULT_LOOKBACK_DAYS = 400  # how far back `verify` looks for the newest checkpoint
DEFAULT_MAX_AGE_DAYS = 2  # a newest checkpoint older than this is worth a warning
FIELDS_V1 = ("version", "day", "n", "last_seq", "last_id", "head_hash", "count", "created_at",
             "forced")
FIELDS = (*FIELDS_V1, "chains")


class CheckpointRefused(ValueError):
    """A stored checkpoint that cannot be trusted (bad signature, wrong name, unreadable)."""


class LogDiverged(RuntimeError):
    """The log no longer matches the newest checkpoint: checkpointing it would hide that."""


@dataclass(frozen=True)
class Head:
    """The newest entry of one chain and how many entries it has."""

    last_seq: int
    last_id: int | None
    head_hash: str
    count: int


@dataclass(frozen=True)
class Checkpoint:
    """The heads of the chains at one moment, as signed (the system chain's fields inline)."""

    day: date
    n: int
    last_seq: int
    last_id: int | None
    head_hash: str
    count: int
    created_at: str
    forced: bool = False
    chains: dict[int, Head] | None = None  # organisation id -> head; None in a version 1 checkpoint

    @property
    def label(self) -> str:
        return f"{self.day.isoformat()} #{self.n}"

    def heads(self) -> dict[int, Head]:
        """Return every chain's head, the system chain's included."""
        system = Head(self.last_seq, self.last_id, self.head_hash, self.count)
        return {SYSTEM_CHAIN: system, **(self.chains or {})}

    def payload(self) -> dict[str, Any]:
        body = {"version": VERSION, "day": self.day.isoformat(), "n": self.n,
                "last_seq": self.last_seq, "last_id": self.last_id, "head_hash": self.head_hash,
                "count": self.count, "created_at": self.created_at, "forced": self.forced}
        if self.chains is None:
            return {**body, "version": 1}
        return {**body, "chains": {str(chain): [h.last_seq, h.last_id, h.head_hash, h.count]
                                   for chain, h in sorted(self.chains.items())}}


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
    heads = current_heads()
    system = heads.pop(SYSTEM_CHAIN, Head(0, None, GENESIS, 0))
    store, day = current_store(), now.date()
    n = next((i for i in range(MAX_PER_DAY) if not store.exists(Area.AUDIT, checkpoint_key(day, i))),
             None)
    if n is None:
        raise RuntimeError(f"{MAX_PER_DAY} audit checkpoints were already written on {day}")
    checkpoint = Checkpoint(day=day, n=n, last_seq=system.last_seq, last_id=system.last_id,
                            head_hash=system.head_hash, count=system.count,
                            created_at=now.isoformat(timespec="seconds"), forced=force,
                            chains=heads)
    payload = checkpoint.payload()
    body = {**payload, "mac": _mac(payload, secret_keys(current_app.config)[0])}
    store.put(Area.AUDIT, checkpoint_key(day, n), io.BytesIO(canonical_json(body).encode()))
    return checkpoint


def current_heads() -> dict[int, Head]:
    """Return the head of every chain in the table, from one grouped query and one join."""
    per_chain = (select(AuditEntry.chain_id, func.max(AuditEntry.seq).label("last"),
                        func.count(AuditEntry.id).label("entries"))
                 .group_by(AuditEntry.chain_id).subquery())
    rows = db.session.execute(
        select(per_chain.c.chain_id, per_chain.c.entries, AuditEntry.seq, AuditEntry.id,
               AuditEntry.hash)
        .join(AuditEntry, (AuditEntry.chain_id == per_chain.c.chain_id)
              & (AuditEntry.seq == per_chain.c.last)))
    return {row.chain_id: Head(row.seq, row.id, row.hash, int(row.entries)) for row in rows}


# ------------------------------------------------------------------------------------ reading

def read_checkpoint(day: date, n: int) -> Checkpoint:
    """Read and check one stored checkpoint; CheckpointRefused if it cannot be trusted."""
    with current_store().open(Area.AUDIT, checkpoint_key(day, n)) as handle:
        raw = handle.read(MAX_BYTES + 1)
    try:
        body = json.loads(raw) if len(raw) <= MAX_BYTES else None
    except ValueError:
        body = None
    fields = _fields_of(body)
    if not isinstance(body, dict) or fields is None or set(body) != {*fields, "mac"}:
        raise CheckpointRefused("unreadable or not a checkpoint")
    payload = {k: body[k] for k in fields}
    if not any(hmac.compare_digest(str(body["mac"]), _mac(payload, secret))
               for secret in secret_keys(current_app.config)):
        raise CheckpointRefused("the signature does not match (edited, or signed with a key this "
                                "server does not have)")
    if payload["day"] != day.isoformat() or payload["n"] != n:
        raise CheckpointRefused(f"it is the checkpoint of {payload['day']} #{payload['n']}, "
                                f"stored under another name")
    return Checkpoint(day=day, n=n, last_seq=int(payload["last_seq"]), last_id=payload["last_id"],
                      head_hash=str(payload["head_hash"]), count=int(payload["count"]),
                      created_at=str(payload["created_at"]), forced=bool(payload["forced"]),
                      chains=_chains(payload.get("chains")))


def _fields_of(body: Any) -> tuple[str, ...] | None:
    """Return the signed fields of a checkpoint body by its version (None: not a checkpoint)."""
    version = body.get("version") if isinstance(body, dict) else None
    return {1: FIELDS_V1, VERSION: FIELDS}.get(version) if isinstance(version, int) else None


def _chains(raw: Any) -> dict[int, Head] | None:
    """Read the signed `chains` of a version 2 checkpoint (None for version 1)."""
    if raw is None:
        return None
    try:
        return {int(chain): Head(int(seq), last_id, str(hash_), int(count))
                for chain, (seq, last_id, hash_, count) in raw.items()}
    except (AttributeError, TypeError, ValueError):
        raise CheckpointRefused("unreadable or not a checkpoint") from None


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
        for chain, head in checkpoint.heads().items():
            problems.extend(_compare(checkpoint, chain, head))
        warnings = []
        max_age = int(cfg.get("AUDIT_CHECKPOINT_MAX_AGE_DAYS", DEFAULT_MAX_AGE_DAYS))
        if (today - day).days > max_age:
            warnings.append(f"the newest checkpoint is from {day.isoformat()}: entries written "
                            f"since are not anchored (run `vendorcheck audit checkpoint` daily)")
        return Verdict(problems, checkpoint, warnings)
    return Verdict(problems, None, [
        f"no audit checkpoint in the last {lookback} days: deleting the newest entries cannot be "
        f"detected (run `vendorcheck audit checkpoint` daily)"])


def _compare(checkpoint: Checkpoint, chain: int, head: Head) -> list[str]:
    """Return how one chain differs from its head in a checkpoint: missing entries, a rewrite."""
    last, prefix = head.last_seq, chain_label(chain)
    where = f"the checkpoint of {checkpoint.label} (written {checkpoint.created_at})"
    in_chain = AuditEntry.chain_id == chain
    rows = int(db.session.scalar(select(func.count(AuditEntry.id))
                                 .where(in_chain, AuditEntry.seq <= last)) or 0)
    found = db.session.scalar(select(AuditEntry.hash).where(in_chain, AuditEntry.seq == last)) \
        if last else None
    if rows != last or (last and found is None):  # seqs run 1, 2, 3…: some are gone
        seqs = db.session.scalars(select(AuditEntry.seq).where(in_chain, AuditEntry.seq <= last)
                                  .order_by(AuditEntry.seq).execution_options(yield_per=10_000))
        newest = db.session.scalar(select(func.max(AuditEntry.seq)).where(in_chain))
        return [f"{prefix}missing entries {_gaps(seqs, last)}: {where} has entry {last} as the "
                f"head (id {head.last_id}) and {head.count} entries; the table now ends at "
                f"entry {newest or 0}"]
    problems = []
    if last and found != head.head_hash:
        problems.append(f"{prefix}entry {last}: hash differs from {where} (the log was rewritten)")
    if rows != head.count:
        problems.append(f"{prefix}{where} counts {head.count} entries up to entry {last}; the "
                        f"table has {rows}")
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
