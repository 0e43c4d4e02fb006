"""Append to and verify the hash-chained audit log: one chain per organisation, plus the system chain."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import g, has_request_context, request
from sqlalchemy import Select, and_, bindparam, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from vendorcheck import database
from vendorcheck.extensions import db
from vendorcheck.models import SYSTEM_CHAIN, AuditChainHead, AuditEntry, Organisation, User, utcnow
from vendorcheck.models.links import LinkHolder

GENESIS = "0" * 64


def canonical_json(entry: dict[str, Any]) -> str:
    """Serialise an entry the one way the hash is computed over."""
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_payload(entry: AuditEntry) -> dict[str, Any]:
    """Return the fields covered by the hash (everything but the hashes and the row id)."""
    return {
        "seq": entry.seq,
        "created_at": entry.created_at.isoformat(timespec="microseconds"),
        "user_id": entry.user_id,
        "user_email": entry.user_email,
        "organisation_id": entry.organisation_id,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "ip": entry.ip,
        "details": entry.details or {},
    }


def compute_hash(prev_hash: str, entry: AuditEntry) -> str:
    """Return sha256(prev_hash + canonical_json(entry))."""
    return hashlib.sha256((prev_hash + canonical_json(entry_payload(entry))).encode()).hexdigest()


# Appends lock their chain's head row, so organisations never wait on each other (on SQLite,
# writes serialise anyway and FOR UPDATE is left out). Built once: one is appended on every autosave.
_HEAD = AuditChainHead.__table__
LOCK_HEAD = (select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.chain_id == bindparam("chain"))
             .with_for_update())
MOVE_HEAD = (_HEAD.update().where(_HEAD.c.chain_id == bindparam("chain"))
             .values(seq=bindparam("new_seq"), hash=bindparam("new_hash")))
_ENTRY = AuditEntry.__table__
ENTRY_COLUMNS = tuple(column.key for column in _ENTRY.columns if column.key != "id")
APPEND = _ENTRY.insert().values(database.bound(_ENTRY, *ENTRY_COLUMNS, prefix="entry_"))
# PostgreSQL: the entry and the head's move in one statement (a data-modifying WITH always runs).
APPEND_AND_MOVE = APPEND.add_cte(MOVE_HEAD.cte("moved_head"))
# The same two as WITH clauses, for a caller's own statement (`append_on_held_head`).
APPEND_AND_MOVE_CTES = (APPEND.cte("appended_entry"), MOVE_HEAD.cte("moved_head"))


def chain_of(org_id: int | None) -> int:
    """Return the chain an entry of this organisation (or of none) is appended to."""
    return org_id if org_id is not None else SYSTEM_CHAIN


# The session's `info` key of a head its caller read FOR UPDATE itself, for the next append.
HELD_HEAD = "vendorcheck_audit_held_head"


def hold_head(chain: int, seq: int, hash_: str) -> None:
    """Hand the next append of this transaction a chain head the caller already read with
    `LOCK_HEAD`'s lock, joined to a read of its own (an autosave reads it with the answers:
    one statement less). Used once, and only in the same transaction and chain."""
    db.session.info[HELD_HEAD] = (db.session().get_transaction(), chain, seq, hash_)


def _held_head(chain: int) -> tuple[int, str] | None:
    """Return (and forget) the head `hold_head` left for this transaction and chain, if any."""
    held = db.session.info.pop(HELD_HEAD, None)
    if held is None or held[0] is None or held[0] is not db.session().get_transaction():
        return None
    return (held[2], held[3]) if held[1] == chain else None


def _lock_head(chain: int) -> tuple[int, str]:
    """Lock one chain's head row (creating it for a new chain) and return its (seq, hash)."""
    held = _held_head(chain)
    if held is not None:
        return held
    database.queue_for_write(db.session)  # SQLite: read the head inside our write turn
    head = db.session.execute(LOCK_HEAD, {"chain": chain}).first()
    if head is None:  # the chain's first entry: a concurrent first append waits on the key
        dialect = db.session.get_bind().dialect.name
        insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
        db.session.execute(insert(_HEAD).values(chain_id=chain, seq=0, hash=GENESIS)
                           .on_conflict_do_nothing(index_elements=[_HEAD.c.chain_id]))
        head = db.session.execute(LOCK_HEAD, {"chain": chain}).one()
    return head.seq, head.hash


def record(
    action: str,
    *,
    by: User | LinkHolder | None = None,
    org: Organisation | int | None = None,
    obj: Any = None,
    email: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append an entry in the caller's transaction (the caller commits).

    A link holder is logged by the contact's address with `"via": "link"` (no user id), under
    the vendor's organisation, or the buyer's while the vendor has none.
    """
    db.session.flush()
    entry, params = _entry(action, by, org, obj, email, details, _lock_head)
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(APPEND_AND_MOVE, params)
    else:
        db.session.execute(APPEND, params)
        db.session.execute(MOVE_HEAD, params)
    return entry


def append_on_held_head(action: str, *, by: User | LinkHolder | None = None,
                        org: Organisation | int | None = None, obj: Any = None,
                        details: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """Return the bound values of `APPEND_AND_MOVE_CTES` for an entry appended on the head this
    transaction holds (`hold_head`), for the caller to run inside a statement of its own (an
    autosave: one round trip less); None when no head of its chain is held (then `record`).

    The entry, its hash and the head's move are exactly `record`'s; the caller must run the
    statement in this transaction (a rollback drops the entry with the rest)."""
    db.session.flush()

    def head_of(chain: int) -> tuple[int, str]:
        head = _held_head(chain)
        if head is None:
            raise LookupError(chain)
        return head

    try:
        return _entry(action, by, org, obj, None, details, head_of)[1]
    except LookupError:
        return None


def _entry(action: str, by: User | LinkHolder | None, org: Organisation | int | None, obj: Any,
           email: str | None, details: dict[str, Any] | None,
           head_of: Callable[[int], tuple[int, str]]) -> tuple[AuditEntry, dict[str, Any]]:
    """Build an entry on its chain's head (`head_of(chain)` → (seq, hash)) with its hash; return
    it and the bound values of the INSERT and the head's move."""
    org_id = org if isinstance(org, int) or org is None else org.id
    if isinstance(by, LinkHolder):
        org_id, email = org_id or by.buyer_org_id, by.email
        details, by = {**(details or {}), "via": "link", "link_id": by.link_id}, None
    if org_id is None and by is not None:
        org_id = _primary_org_id(by)
    chain = chain_of(org_id)
    head_seq, head_hash_ = head_of(chain)
    entry = AuditEntry(
        chain_id=chain,
        seq=head_seq + 1,
        created_at=utcnow(),
        user_id=by.id if by is not None else None,
        user_email=(by.email if by is not None else email),
        organisation_id=org_id,
        action=action,
        object_type=_object_type(obj),
        object_id=str(obj.id) if obj is not None else None,
        ip=request.remote_addr if has_request_context() else None,
        details=_with_token(details),
        prev_hash=head_hash_,
    )
    entry.hash = compute_hash(entry.prev_hash, entry)
    # A plain INSERT rather than the unit of work: one is appended on every autosave. The
    # returned entry is a detached copy of what was written.
    params = {f"entry_{name}": getattr(entry, name) for name in ENTRY_COLUMNS}
    params.update(chain=chain, new_seq=entry.seq, new_hash=entry.hash)
    return entry, params


def _with_token(details: dict[str, Any] | None) -> dict[str, Any]:
    """Add the API token a request acted with (its id), so API writes are told apart from the web's."""
    token_id = g.get("api_token_id") if has_request_context() else None
    if token_id is None:
        return details or {}
    return {**(details or {}), "api_token_id": token_id}


def _primary_org_id(user: User) -> int | None:
    """Return the organisation a user-level event (login, password) is logged under."""
    from vendorcheck.models import Membership

    query = (select(Membership.organisation_id).join(Membership.organisation)
             .where(Membership.user_id == user.id)
             .order_by(Organisation.is_buyer.desc(), Organisation.name, Membership.id).limit(1))
    return db.session.scalar(query)


def _object_type(obj: Any) -> str | None:
    """Name an object by its table."""
    if obj is None:
        return None
    return str(getattr(obj, "__tablename__", type(obj).__name__.lower()))


def chain_label(chain: int) -> str:
    """Name a chain in messages: the system chain's entries keep their plain "entry N"."""
    return "" if chain == SYSTEM_CHAIN else f"organisation {chain}, "


def verify() -> list[str]:
    """Check every chain; return problems in order (empty when all are intact)."""
    problems: list[str] = []
    chain, prev = None, GENESIS
    for entry in _iter_entries():
        if entry.chain_id != chain:
            chain, prev = entry.chain_id, GENESIS
        where = f"{chain_label(entry.chain_id)}entry {entry.seq}"
        if entry.chain_id != SYSTEM_CHAIN and entry.organisation_id != entry.chain_id:
            problems.append(f"{where}: logged under organisation {entry.organisation_id}")
        if entry.prev_hash != prev:
            problems.append(f"{where}: prev_hash mismatch")
        if compute_hash(entry.prev_hash, entry) != entry.hash:
            problems.append(f"{where}: hash mismatch")
        prev = entry.hash
    return problems


def _iter_entries(batch: int = 500) -> Iterator[AuditEntry]:
    """Yield entries chain by chain, by seq, without loading the whole log at once."""
    after = (-1, 0)
    while True:
        rows = db.session.scalars(
            select(AuditEntry)
            .where(or_(AuditEntry.chain_id > after[0],
                       and_(AuditEntry.chain_id == after[0], AuditEntry.seq > after[1])))
            .order_by(AuditEntry.chain_id, AuditEntry.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        after = (rows[-1].chain_id, rows[-1].seq)
        db.session.expunge_all()


@dataclass(frozen=True)
class AuditFilter:
    """What the organisation log page filters on."""

    action: str | None = None
    user_email: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def org_entries_query(org_id: int, flt: AuditFilter) -> Select[tuple[AuditEntry]]:
    """Return the newest-first query of one organisation's entries, filtered."""
    query = select(AuditEntry).where(AuditEntry.organisation_id == org_id)
    if flt.action:
        query = query.where(AuditEntry.action == flt.action)
    if flt.user_email:
        query = query.where(AuditEntry.user_email == flt.user_email.strip().lower())
    if flt.since:
        query = query.where(AuditEntry.created_at >= flt.since)
    if flt.until:
        query = query.where(AuditEntry.created_at < flt.until)
    return query.order_by(AuditEntry.id.desc())  # seq counts within a chain; ids run across them


def org_actions(org_id: int) -> list[str]:
    """Return the distinct actions recorded for an organisation (for the filter list)."""
    query = (
        select(AuditEntry.action).where(AuditEntry.organisation_id == org_id)
        .group_by(AuditEntry.action).order_by(AuditEntry.action)
    )
    return list(db.session.scalars(query))


def head_hash(chain: int = SYSTEM_CHAIN) -> str:
    """Return the hash of the newest entry of a chain (GENESIS when it has none)."""
    last = db.session.scalar(select(func.max(AuditEntry.seq)).where(AuditEntry.chain_id == chain))
    if last is None:
        return GENESIS
    return str(db.session.scalar(select(AuditEntry.hash).where(AuditEntry.chain_id == chain,
                                                               AuditEntry.seq == last)))
