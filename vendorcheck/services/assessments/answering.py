"""Answering an assessment, vendor side: autosave, section saves, copying earlier answers (evidence files:
`evidence`).

Each service takes the acting user (`by=`), raises a domain exception and commits once.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from flask_babel import format_number
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Row, bindparam, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, load_only
from sqlalchemy.orm.exc import StaleDataError

from vendorcheck import audit, database
from vendorcheck.database import bound
from vendorcheck.extensions import db
from vendorcheck.i18n import clock_text
from vendorcheck.link_access import Actor, user_of
from vendorcheck.models import AuditChainHead, User, Vendor, utcnow
from vendorcheck.models.assessments import (
    EDITABLE_STATUSES,
    Answer,
    Assessment,
    AssessmentStatus,
    AutosaveReceipt,
)
from vendorcheck.questionnaire import Item, Questionnaire, score, validate_answers
from vendorcheck.questionnaire.answers import Invalid, clean_text
from vendorcheck.questionnaire.evaluate import moves_progress
from vendorcheck.services.assessments.reading import (
    MAX_JUSTIFICATION,
    SUBMITTED_STATES,
    answer_rows,
    answers_of,
    check_editable,
    is_editable,
    questionnaire_of,
)
from vendorcheck.services.assessments.results import (
    mirror_progress,
    progress_of,
    progress_update,
    refresh_results,
    schedule_rescore,
    store_progress,
)
from vendorcheck.services.errors import DomainError, ValidationFailed

S = AssessmentStatus


# --- domain exceptions ----------------------------------------------------------------------------


class AnswerInvalid(ValidationFailed):
    """One or more answers were refused; `problems` maps item (or cell) → message."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        self.problems = dict(problems)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.problems.items()))


class UnknownItem(ValidationFailed):
    """The item id does not exist in the pinned questionnaire."""


class Conflict(DomainError):
    """Someone saved a newer version in the meantime; nothing was overwritten."""

    status = 409

    def __init__(self, message: object, *, item_id: str = "", current: Any = None,
                 version: int | None = None) -> None:
        self.item_id, self.current, self.version = item_id, current, version
        super().__init__(message)


# --- private helpers (no commit) ------------------------------------------------------------------


def _item(q: Questionnaire, item_id: str) -> Item:
    if not isinstance(item_id, str) or not q.has_item(item_id):
        raise UnknownItem(_l("Unknown item '%(item)s'.", item=str(item_id)[:64]))
    item = q.item(item_id)
    if not item.kind.typed:
        raise UnknownItem(_l("Item '%(item)s' takes no typed answer.", item=item_id))
    return item


MAX_VERSION = 10**18  # answer versions count saves; a bigger one was never handed out


def read_version(raw: object) -> int | None:
    """Return the answer version a client says it saw; None when it says none.

    An empty text means "no answer when the page loaded" (0), so a colleague's first answer saved
    in the meantime is a conflict rather than silently overwritten. Anything but a whole number
    ≥ 0 (a negative, a fraction, a boolean, a word) is refused: it must not skip the conflict check.
    """
    if raw is None:
        return None
    if raw == "":
        return 0
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 18:
        return int(raw)
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw < MAX_VERSION:
        return raw
    raise AnswerInvalid({"version": _("This is not a valid answer version (a whole number, 0 or "
                                      "more is expected); reload the page.")})


def too_long_message(length: int, limit: int) -> str:
    """Say that a text is over its limit, by how much, and that nothing was saved."""
    return str(_("Too long: %(length)s characters (max %(limit)s characters). Nothing was saved: "
                 "shorten the text (your text stays in the field).",
                 length=format_number(length), limit=format_number(limit)))


def _length_problems(q: Questionnaire, values: Mapping[str, Any]) -> dict[str, str]:
    """Return a clear refusal for each text over its item's limit (never cut, never saved)."""
    problems = {}
    for item_id, value in values.items():
        limit = getattr(q.item(item_id), "max_length", None) if q.has_item(item_id) else None
        if limit and isinstance(value, str) and len(value) > limit:
            problems[item_id] = too_long_message(len(value), int(limit))
    return problems


def _clean_justification(text: str | None, item_id: str = "justification") -> str | None:
    if text is None:
        return None
    if isinstance(text, str) and len(text) > MAX_JUSTIFICATION:
        raise AnswerInvalid({item_id: too_long_message(
            len(text), MAX_JUSTIFICATION)})
    try:
        return clean_text(text, MAX_JUSTIFICATION).strip() or None
    except Invalid as exc:
        raise AnswerInvalid({"justification": str(exc)}) from None


def _conflict(answer: Answer) -> Conflict:
    """Describe a newer stored answer: who saved it and when, and its value and version."""
    author = db.session.get(User, answer.updated_by_id) if answer.updated_by_id else None
    who = author.name if author is not None else _("someone else")
    when = clock_text(answer.updated_at)
    return Conflict(_l("Changed by %(who)s at %(when)s — your text is kept; reload to merge.",
                       who=who, when=when), item_id=answer.item_id, current=answer.value,
                    version=answer.version)


def store_answer(assessment: Assessment, item_id: str, value: Any, justification: str | None, *,
                 by: Actor, keep_justification: bool = False) -> Answer:
    """Create or update one answer row (no version check here)."""
    answer = next((a for a in assessment.answers if a.item_id == item_id), None)
    if answer is None:
        answer = Answer(item_id=item_id)
        assessment.answers.append(answer)
    answer.value = value
    if not keep_justification:
        answer.justification = justification
    answer.updated_by_id, answer.updated_by = by.id, user_of(by)
    answer.updated_at = utcnow()
    answer.needs_reconfirmation = False
    return answer


def mark_started(assessment: Assessment) -> None:
    """Move a sent assessment to in progress: its vendor has begun answering."""
    if assessment.status is S.SENT:
        assessment.status = S.IN_PROGRESS


def _lost_race(item_id: str) -> Conflict:
    """Roll back a save that lost a race with another one, and describe it (409)."""
    db.session.rollback()
    return Conflict(_l("Someone saved this answer at the same moment; reload to see it."),
                    item_id=item_id)


def _flush_or_conflict(item_id: str) -> None:
    try:
        db.session.flush()
    except (StaleDataError, IntegrityError):
        raise _lost_race(item_id) from None


# --- autosave -------------------------------------------------------------------------------------


@dataclass
class Saved:
    """The result of one autosave: the item, its new version and when."""

    item_id: str
    version: int
    saved_at: datetime | None
    progress: int = 0
    replayed: bool = False


# The session's `info` key naming the assessment whose save turn the current transaction holds.
SAVE_TURN = "vendorcheck_save_turn"
# Built once: the autosave view loads the assessment by its row lock on every change of a field.
# Only the columns a save reads (any other is loaded if something asks for it): the rows are
# turned into objects while the save turn is held, and the next save waits for it.
SAVE_COLUMNS = (Assessment.id, Assessment.buyer_org_id, Assessment.vendor_id,
                Assessment.questionnaire_id, Assessment.questionnaire_version, Assessment.status,
                Assessment.submitted_at, Assessment.progress, Assessment.completeness,
                Assessment.results_stale)
LOCKED_ASSESSMENT = (
    select(Assessment).where(Assessment.id == bindparam("assessment_id"))
    .options(load_only(*SAVE_COLUMNS),
             joinedload(Assessment.vendor).load_only(Vendor.id, Vendor.vendor_org_id))
    .with_for_update(of=Assessment).execution_options(populate_existing=True))
# The same, for an assessment sent to one vendor organisation: another tenant's row is not locked.
LOCKED_OWN_ASSESSMENT = LOCKED_ASSESSMENT.where(
    Assessment.vendor.has(Vendor.vendor_org_id == bindparam("vendor_org_id")))


def take_save_turn(assessment_id: int, vendor_org_id: int | None) -> Assessment | None:
    """Wait for an assessment's save turn and load it, with its vendor, by the row lock itself.

    One `SELECT … FOR UPDATE` rather than a load, then a lock that re-reads it: the autosave
    view calls this first (ownership is checked again after, on the loaded object; a refusal
    rolls back, which ends the turn), and `save_answer` then finds the turn already taken. With
    `vendor_org_id`, only an assessment sent to that organisation is locked, so no one can hold
    another tenant's save turn; without it (a link holder, let in for one assessment only) any.
    """
    database.queue_for_write(db.session)
    if vendor_org_id is None:
        stmt, params = LOCKED_ASSESSMENT, {"assessment_id": assessment_id}
    else:
        stmt, params = LOCKED_OWN_ASSESSMENT, {"assessment_id": assessment_id, "vendor_org_id": vendor_org_id}
    assessment = db.session.scalars(stmt, params).first()
    if assessment is not None:
        db.session.info[SAVE_TURN] = (db.session().get_transaction(), assessment.id)
    return assessment


def _holds_turn(assessment: Assessment) -> bool:
    """Tell whether this transaction took the assessment's save turn (`take_save_turn`)."""
    held = db.session.info.get(SAVE_TURN)
    return (held is not None and held[0] is not None and held[0] is db.session().get_transaction()
            and held[1] == assessment.id)


def _take_turn(assessment: Assessment) -> None:
    """Wait for the assessment's save turn, then re-read what decides whether it may change.

    Saves of one assessment run one at a time from here to their commit (a row lock on
    PostgreSQL, the write queue on SQLite), and read the answers only once it is their turn:
    two people saving different items at the same moment each compute progress with the other's
    answer, and a re-score never commits results that miss an answer saved meanwhile. Checks
    that need no stored state (the item, the value) run before, outside the turn. A caller that
    loaded the assessment by its lock (`take_save_turn`) holds the turn already: nothing to do.
    """
    if _holds_turn(assessment):
        return
    database.queue_for_write(db.session)
    db.session.refresh(assessment, ["status", "submitted_at", "progress", "results_stale"],
                       with_for_update=True)


# Built once: an autosave runs these on every change of a field, and building a statement
# costs about as much as running it. Values are bound by name (`new_<column>`), typed as their column.
ANSWER_STATES = select(Answer.id, Answer.item_id, Answer.value, Answer.version).where(
    Answer.assessment_id == bindparam("assessment_id"))
RECEIPT = select(AutosaveReceipt.assessment_id, AutosaveReceipt.item_id,
                 AutosaveReceipt.answer_version, AutosaveReceipt.created_at).where(
    AutosaveReceipt.request_id == bindparam("request_id"))
_ANSWERS, _RECEIPTS = Answer.__table__, AutosaveReceipt.__table__
ANSWER_FIELDS = ("value", "updated_by_id", "updated_at", "needs_reconfirmation")


def _answer_writes(fields: tuple[str, ...]) -> tuple[Any, Any]:
    """Return the (INSERT, version-guarded UPDATE) of an answer row writing these fields."""
    insert = _ANSWERS.insert().values(**bound(_ANSWERS, "assessment_id", "item_id", "version", *fields))
    update = _ANSWERS.update().where(
        _ANSWERS.c.id == bindparam("answer_id"), _ANSWERS.c.version == bindparam("seen_version"),
    ).values(**bound(_ANSWERS, "version", *fields))
    return insert, update


# With the justification, and without it (an autosave that sends none keeps the stored one).
ANSWER_WRITES = {True: _answer_writes((*ANSWER_FIELDS, "justification")),
                 False: _answer_writes(ANSWER_FIELDS)}


def _claim_statement(insert: Any, prefix: str = "new_") -> Any:
    """Return the receipt's INSERT … ON CONFLICT (request_id) DO NOTHING RETURNING id."""
    return (insert(_RECEIPTS).values(**bound(
        _RECEIPTS, "assessment_id", "request_id", "item_id", "answer_version", "created_at",
        prefix=prefix)).on_conflict_do_nothing(index_elements=["request_id"])
        .returning(_RECEIPTS.c.id))


CLAIM_RECEIPT = {"postgresql": _claim_statement(pg_insert), "sqlite": _claim_statement(sqlite_insert)}


_HEAD = AuditChainHead.__table__
# The answers, and the head of the audit chain the save appends to, locked, in one statement:
# one row per answer (one with no answer columns when there is none yet).
ANSWERS_AND_HEAD = (
    select(_HEAD.c.seq.label("head_seq"), _HEAD.c.hash.label("head_hash"), _ANSWERS.c.id,
           _ANSWERS.c.item_id, _ANSWERS.c.value, _ANSWERS.c.version)
    .select_from(_HEAD.outerjoin(_ANSWERS, _ANSWERS.c.assessment_id == bindparam("assessment_id")))
    .where(_HEAD.c.chain_id == bindparam("chain")).with_for_update(of=_HEAD))


class AnswerState(NamedTuple):
    """One stored answer as an autosave compares it (a row of `ANSWER_STATES`, or of the list
    `ANSWERS_AND_HEAD_PG` reads)."""

    id: int
    item_id: str
    value: Any
    version: int


# PostgreSQL: the head locked, with the assessment's answers as one JSON list of
# [id, item id, value, version] (one row and one decoding rather than one per answer).
ANSWERS_AND_HEAD_PG = (
    select(_HEAD.c.seq.label("head_seq"), _HEAD.c.hash.label("head_hash"),
           select(func.json_agg(func.json_build_array(
               _ANSWERS.c.id, _ANSWERS.c.item_id, _ANSWERS.c.value, _ANSWERS.c.version)))
           .where(_ANSWERS.c.assessment_id == bindparam("assessment_id"))
           .scalar_subquery().label("answers"))
    .where(_HEAD.c.chain_id == bindparam("chain")).with_for_update(of=_HEAD))


def _answer_states(assessment: Assessment) -> dict[str, Row[Any] | AnswerState]:
    """Read an assessment's answers as plain rows: an autosave compares them, never edits them.
    (PostgreSQL: as one JSON list, `ANSWERS_AND_HEAD_PG`.)

    With a vendor organisation, the same statement locks the head of its audit chain and hands
    it to the entry this save appends (`audit.hold_head`). Read inside the save turn: no answer
    of this assessment can be committed by anyone else until the save commits, even while the
    statement waits for the head (another save of the organisation)."""
    org_id = assessment.vendor_org_id
    params = {"assessment_id": assessment.id, "chain": audit.chain_of(org_id)}
    if org_id is not None and db.session.get_bind().dialect.name == "postgresql":
        head = db.session.execute(ANSWERS_AND_HEAD_PG, params).first()
        if head is not None:  # else the chain's first entry: the append creates its head
            audit.hold_head(params["chain"], head.head_seq, head.head_hash)
            listed = json.loads(head.answers) if isinstance(head.answers, str) else head.answers
            return {row[1]: AnswerState(*row) for row in listed or ()}
    elif org_id is not None:
        rows = db.session.execute(ANSWERS_AND_HEAD, params).all()
        if rows:  # else the chain's first entry: the append creates its head
            audit.hold_head(params["chain"], rows[0].head_seq, rows[0].head_hash)
            return {row.item_id: row for row in rows if row.id is not None}
    return {row.item_id: row for row in db.session.execute(
        ANSWER_STATES, {"assessment_id": assessment.id})}


def _replay(assessment: Assessment, item_id: str, request_id: str) -> Saved | None:
    """Return the stored result of an autosave request already handled, if any."""
    receipt = db.session.execute(RECEIPT, {"request_id": request_id[:64]}).first()
    if receipt is None:
        return None
    if receipt.assessment_id != assessment.id or receipt.item_id != item_id:
        raise Conflict(_l("This request was already used for another answer."))
    return Saved(item_id, receipt.answer_version, receipt.created_at, assessment.progress,
                 replayed=True)


def _write_answer(assessment_id: int, item_id: str, current: Row[Any] | AnswerState | None,
                  version: int, changes: dict[str, Any]) -> None:
    """Insert or update one answer row at `version`, guarded by its current version.

    Plain UPDATE/INSERT statements: the ORM's unit of work costs more than the rest of an
    autosave. The version check is in the WHERE clause, so a lost race updates nothing.
    `changes` maps fields to values; with "justification" or without it.
    """
    insert, update = ANSWER_WRITES["justification" in changes]
    values = {f"new_{name}": value for name, value in changes.items()}
    try:
        if current is None:
            db.session.execute(insert, {**values, "new_assessment_id": assessment_id,
                                        "new_item_id": item_id, "new_version": version})
            return
        updated = db.session.execute(update, {**values, "answer_id": current.id,
                                              "seen_version": current.version,
                                              "new_version": version})
    except IntegrityError:
        updated = None
    if updated is None or updated.rowcount != 1:  # type: ignore[attr-defined]
        raise _lost_race(item_id)


def _claim_receipt(assessment: Assessment, item_id: str, request_id: str, version: int,
                   saved_at: datetime) -> Saved | None:
    """Record the request id with the version this save writes, in one INSERT … ON CONFLICT DO
    NOTHING; if the id was recorded before, return that earlier result (a replay) instead.

    The version is known before the write (the answer's current version + 1, or 1), so the receipt
    needs no SELECT first; a failed save rolls the receipt back with the rest.
    """
    dialect = db.session.get_bind().dialect.name
    claimed = db.session.execute(CLAIM_RECEIPT[dialect], {
        "new_assessment_id": assessment.id, "new_request_id": request_id[:64],
        "new_item_id": item_id, "new_answer_version": version, "new_created_at": saved_at}).first()
    return None if claimed is not None else _replay(assessment, item_id, request_id)


def save_answer(assessment: Assessment, item_id: str, value: Any, *, seen_version: object,
                request_id: str | None, by: Actor, justification: str | None = None,
                keep_justification: bool = True) -> Saved:
    """Save one item's answer (autosave): validate, check the version, update progress, commit.

    `seen_version` is the version the client showed, as it sent it (`read_version`).
    The score, tier and findings are only marked stale here: a worker re-scores them shortly
    after (`schedule_rescore`); a report or one assessment read through the API re-scores it first
    if it is still stale (`ensure_fresh`): an autosave comes with every change of a field.
    """
    q = questionnaire_of(assessment)
    _item(q, item_id)
    seen = read_version(seen_version)
    too_long = _length_problems(q, {item_id: value})
    if too_long:
        raise AnswerInvalid(too_long)
    checked = validate_answers(q, {item_id: value})
    if checked.problems:
        raise AnswerInvalid({p.item: p.message for p in checked.problems})
    text = _clean_justification(justification, item_id)
    _take_turn(assessment)
    rows = _answer_states(assessment)
    current = rows.get(item_id)
    try:
        _check_may_write(assessment, item_id, current, seen)
    except DomainError:  # a replayed request still gets the answer it was given, whatever changed
        replayed = _replay(assessment, item_id, str(request_id)) if request_id else None
        if replayed is None:
            raise
        db.session.rollback()  # ends the turn
        return replayed
    saved_at, new = utcnow(), checked.answers.get(item_id)
    changes = {"value": new, "updated_by_id": by.id, "updated_at": saved_at,
               "needs_reconfirmation": False}
    if not (keep_justification and justification is None):
        changes["justification"] = text
    answers = None  # the stored progress stands unless this save can move it
    if moves_progress(q, item_id, current.value if current is not None else None, new):
        answers = {k: r.value for k, r in rows.items() if r.value is not None and k != item_id}
        if new is not None:
            answers[item_id] = new
    turns_stale = not assessment.results_stale
    receipt = _Receipt(str(request_id)[:64], saved_at) if request_id else None
    version = 1 if current is None else current.version + 1
    details = {"item": item_id, "version": version}
    # PostgreSQL: the audit entry goes into the save's own statement when its chain's head was
    # locked with the answers (one round trip less); else it is appended after, as any other.
    entry = (audit.append_on_held_head("answer_saved", by=by, org=assessment.vendor_org_id,
                                       obj=assessment, details=details)
             if db.session.get_bind().dialect.name == "postgresql" else None)
    replayed = _write_save(assessment, item_id, current, version, changes,
                          progress_of(assessment, q, answers), receipt, entry)
    if replayed is not None:
        db.session.rollback()  # a replay: nothing of this request is kept; ends the turn
        return replayed
    if entry is None:
        audit.record("answer_saved", by=by, org=assessment.vendor_org_id, obj=assessment,
                     details=details)
    saved = Saved(item_id, version, saved_at, assessment.progress)
    db.session.commit()
    if turns_stale:
        schedule_rescore(assessment.id)
    return saved


def _check_may_write(assessment: Assessment, item_id: str, current: Row[Any] | AnswerState | None,
                     seen: int | None) -> None:
    """Raise unless the item may change and the client saw its current version (409 otherwise)."""
    check_editable(assessment, item_id)
    if current is not None and seen is not None and current.version != seen:
        raise _conflict(db.session.get_one(Answer, current.id))  # who saved it, and when
    if current is None and seen:
        raise Conflict(_l("This answer was removed in the meantime; reload the page."),
                       item_id=item_id)


@dataclass(frozen=True)
class _Receipt:
    """The request id an autosave is recorded under, and when it was saved."""

    request_id: str
    saved_at: datetime


def _write_save(assessment: Assessment, item_id: str, current: Row[Any] | AnswerState | None,
                version: int, changes: dict[str, Any], progress: dict[str, Any],
                receipt: _Receipt | None, entry: dict[str, Any] | None = None) -> Saved | None:
    """Write the receipt, the answer at `version` and the progress (and the audit `entry`
    prepared by `audit.append_on_held_head`, if any); return None, or the earlier result when
    the request id was recorded before (a replay: the caller rolls back).

    PostgreSQL: one statement (`_one_statement_save`); SQLite: three (and no `entry`)."""
    if db.session.get_bind().dialect.name != "postgresql":
        assert entry is None, "the audit entry is appended on its own on SQLite"
        if receipt is not None:
            replayed = _claim_receipt(assessment, item_id, receipt.request_id, version,
                                      receipt.saved_at)
            if replayed is not None:
                return replayed
        _write_answer(assessment.id, item_id, current, version, changes)
        store_progress(assessment, progress)
        return None
    statement = _one_statement_save(receipt is not None, current is None,
                                    "justification" in changes, tuple(progress), entry is not None)
    params = {**{f"new_{k}": v for k, v in changes.items()},
              **{f"progress_{k}": v for k, v in progress.items()},
              "progress_assessment_id": assessment.id, "new_assessment_id": assessment.id,
              "new_item_id": item_id, "new_version": version,
              "answer_id": current.id if current is not None else None,
              "seen_version": current.version if current is not None else None}
    if entry is not None:
        params.update(entry)
    if receipt is not None:
        params.update(receipt_assessment_id=assessment.id, receipt_request_id=receipt.request_id,
                      receipt_item_id=item_id, receipt_answer_version=version,
                      receipt_created_at=receipt.saved_at)
    try:
        outcome = db.session.execute(statement, params).one()
    except IntegrityError:  # a first answer of this item inserted meanwhile
        raise _lost_race(item_id) from None
    if receipt is not None and not outcome.claimed:
        replayed = _replay(assessment, item_id, receipt.request_id)
        if replayed is None:  # the receipt it conflicted with is gone meanwhile: a retry saves
            raise _lost_race(item_id)
        return replayed
    if outcome.written != 1:
        raise _lost_race(item_id)
    mirror_progress(assessment, progress)
    return None


@functools.cache
def _one_statement_save(with_receipt: bool, first: bool, justification: bool,
                        progress: tuple[str, ...], audited: bool = False) -> Any:
    """Return, built once per shape, the PostgreSQL statement that records the receipt, writes
    the answer and the assessment's `progress` columns (if any), and with `audited` appends the
    audit entry and moves its chain's head (data-modifying WITH clauses, each always run), and
    says whether the receipt was claimed and the answer written: one round trip instead of four.
    A replay or a lost race is rolled back by the caller, the entry with it."""
    insert, update = ANSWER_WRITES[justification]
    written = (insert if first else update).returning(_ANSWERS.c.id).cte("written")
    counts: list[Any] = [select(func.count()).select_from(written).scalar_subquery().label("written")]
    ctes = [*((progress_update("progress_", progress).cte("progressed"),) if progress else ()),
            *(audit.APPEND_AND_MOVE_CTES if audited else ())]
    if with_receipt:
        claimed = _claim_statement(pg_insert, "receipt_").cte("claimed")
        counts.append(select(func.count()).select_from(claimed).scalar_subquery().label("claimed"))
        ctes.append(claimed)
    return select(*counts).add_cte(*ctes)


# --- sections and copies --------------------------------------------------------------------------


@dataclass
class SectionInput:
    """What a section form posted: values, justifications and the versions the form showed."""

    values: dict[str, Any]
    justifications: dict[str, str | None] = field(default_factory=dict)
    versions: dict[str, object] = field(default_factory=dict)  # as posted (`read_version`)


def save_section(assessment: Assessment, section_id: str, data: SectionInput, *,
                 by: Actor) -> int:
    """Save a section's visible answers at once (hidden items' values are ignored); return count."""
    q = questionnaire_of(assessment)
    section = next((s for s in q.sections if s.id == section_id), None)
    if section is None:
        raise UnknownItem(_l("Unknown section."))
    rows = answer_rows(assessment)
    editable = [i for i in section.items if i.kind.typed
                and is_editable(assessment, i.id) and i.id in data.values]
    if not editable:
        check_editable(assessment, "")
    merged = {**answers_of(assessment), **{i.id: data.values[i.id] for i in editable}}
    visibility = score(q, {k: v for k, v in merged.items()
                           if not validate_answers(q, {k: v}).problems}).visibility
    shown = [i for i in editable if visibility.is_visible(i.id)]
    checked = validate_answers(q, {i.id: data.values[i.id] for i in shown})
    problems = {p.item: p.message for p in checked.problems}
    problems.update(_length_problems(q, {i.id: data.values[i.id] for i in shown}))
    for item in shown:
        stored = rows.get(item.id)
        try:
            seen = read_version(data.versions.get(item.id))
        except AnswerInvalid as exc:
            problems[item.id] = exc.problems["version"]
            continue
        new = checked.answers.get(item.id)
        if stored is not None and seen is not None and stored.version != seen and stored.value != new:
            problems[item.id] = str(_conflict(stored))
    if problems:
        raise AnswerInvalid(problems)
    changed = 0
    for item in shown:
        new, text = (checked.answers.get(item.id),
                     _clean_justification(data.justifications.get(item.id), item.id))
        stored = rows.get(item.id)
        if stored is None and new is None and text is None:
            continue
        if stored is not None and stored.value == new and stored.justification == text:
            continue
        store_answer(assessment, item.id, new, text, by=by)
        changed += 1
    mark_started(assessment)
    _flush_or_conflict(section_id)
    refresh_results(assessment, q)
    audit.record("section_saved", by=by, org=assessment.vendor_org_id, obj=assessment,
                 details={"section": section_id, "changed": changed})
    db.session.commit()
    return changed


def copy_answers_from(previous: Assessment, into: Assessment, *, by: User) -> int:
    """Copy the vendor's own previous answers into empty items; they must be re-confirmed."""
    if (previous.vendor_org_id is None or previous.vendor_org_id != into.vendor_org_id
            or previous.questionnaire_id != into.questionnaire_id
            or previous.status not in SUBMITTED_STATES or previous.id == into.id):
        raise ValidationFailed(_l("Answers can only be copied from one of your own submitted "
                                  "assessments of the same questionnaire."))
    if into.status not in EDITABLE_STATUSES:
        check_editable(into, "")
    q = questionnaire_of(into)
    current, copied = answers_of(into), 0
    for old in previous.answers:
        if old.value is None or old.item_id in current or not q.has_item(old.item_id):
            continue
        if not q.item(old.item_id).kind.carried_over:
            continue
        checked = validate_answers(q, {old.item_id: old.value})
        if checked.problems or old.item_id not in checked.answers:
            continue
        answer = store_answer(into, old.item_id, checked.answers[old.item_id], old.justification, by=by)
        answer.needs_reconfirmation = True
        copied += 1
    mark_started(into)
    db.session.flush()
    refresh_results(into, q)
    audit.record("answers_copied", by=by, org=into.vendor_org_id, obj=into,
                 details={"from": previous.id, "copied": copied})
    db.session.commit()
    return copied
