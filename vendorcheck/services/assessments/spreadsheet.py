"""Answering offline: download an assessment as a spreadsheet, upload it back, preview, apply.

The upload is read with the web's rules (the engine's checks, text limits, what is shown given the
other answers, what may still change); nothing is written until the contact applies the preview,
and then each change is one autosave (version-checked and audit-logged like a change typed online).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer

from vendorcheck import audit
from vendorcheck.answer_sheets import (
    Reading,
    SheetRefused,
    SheetTexts,
    cell_text,
    open_workbook,
    read_workbook,
    write_workbook,
)
from vendorcheck.extensions import db
from vendorcheck.link_access import Actor, LinkHolder
from vendorcheck.models.assessments import Assessment
from vendorcheck.questionnaire import Item, Questionnaire, score, validate_answers
from vendorcheck.services.assessments.answering import save_answer, too_long_message
from vendorcheck.services.assessments.reading import (
    answer_rows,
    answers_of,
    check_editable,
    is_editable,
    questionnaire_of,
)
from vendorcheck.services.errors import DomainError, ValidationFailed

MAX_SHEET_BYTES = 5 * 1024 * 1024
PREVIEW_MAX_AGE = 3600  # seconds a preview may wait before it is applied

Choices = Callable[[Item], Sequence[tuple[str, str]]]


class SheetUnreadable(ValidationFailed):
    """The uploaded file as a whole is refused; the message says why and what to do."""


@dataclass(frozen=True)
class SheetChange:
    """One answer the file would change: where, before and after (as the sheet shows them)."""

    item_id: str
    label: str
    before: Any
    after: Any
    note_changed: bool = False
    saved: tuple[Any, ...] = ()   # what applying saves: value, justification, version seen, has a note


@dataclass
class SheetPreview:
    """What applying the file would do, what is wrong in it and what it ignores."""

    changes: list[SheetChange] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[tuple[str, str]] = field(default_factory=list)
    token: str = ""


@dataclass(frozen=True)
class Applied:
    """The result of applying a preview: how many answers changed, which were refused and why."""

    count: int
    refused: list[tuple[str, str]]


# ------------------------------------------------------------------------------------------ download


def workbook_for(assessment: Assessment, *, choices: Choices, by: Actor) -> tuple[str, bytes]:
    """Return the file name and the workbook of an assessment, current answers filled."""
    q = questionnaire_of(assessment)
    rows = answer_rows(assessment)
    data = write_workbook(q, answers_of(assessment), {k: r.justification for k, r in rows.items()},
                          ref=_ref(assessment, q), texts=_texts(), choices=choices, text=_text,
                          seal=_seal)
    audit.record("answer_sheet_downloaded", by=by, org=assessment.vendor_org_id, obj=assessment)
    db.session.commit()
    return f"assessment-{assessment.id}-{q.id}-{q.version}.xlsx", data


def _ref(assessment: Assessment, q: Questionnaire) -> str:
    return f"assessment {assessment.id} / {q.id} {q.version}"


def _seal(text: str) -> str:
    key = hashlib.sha256(b"answer-sheet:" + str(current_app.config["SECRET_KEY"]).encode()).digest()
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def _text(value: Any) -> str:
    return value.get(str(get_locale() or "en")) if value is not None else ""


def _texts() -> SheetTexts:
    """Return the workbook's words in the contact's language."""
    return SheetTexts(
        title=_("Answering offline"),
        instructions=[
            _("Answer in the column “Answer” of each section's sheet; tables have a sheet of their "
              "own, one row per line."),
            _("For a choice, pick it from the drop-down list. Where several answers are allowed, "
              "type them separated by a semicolon (;)."),
            _("Type dates as dates (YYYY-MM-DD) and numbers as numbers. Formulas are not read."),
            _("Do not add, move or delete rows or sheets, and do not change the hidden question "
              "ids: the file would be refused."),
            _("Files (evidence) and the final attestation are added online."),
            _("When done, upload the file on the assessment's page: you will see what changes, "
              "and any problem, before anything is saved."),
        ],
        id_header=_("Id"), question_header=_("Question"), answer_header=_("Answer"),
        justification_header=_("Justification"), how_header=_("How to answer"),
        see_table=_("Answer in the sheet “%s”"), one_of=_("One answer from the list"),
        several=_("One or more answers from the list, separated by ;"),
        a_date=_("A date (YYYY-MM-DD)"), a_number=_("A number"),
        text_up_to=_("Text, up to %s characters"), online_only=_("Answered online"),
        instructions_sheet=_("Instructions"),
    )


# ------------------------------------------------------------------------------------------ upload


REFUSALS = {
    "not xlsx": _l("This file is not a spreadsheet downloaded from this assessment (XLSX)."),
    "too big": _l("This file unpacks to far more data than an answer sheet holds; it was not read."),
    "not ours": _l("This spreadsheet was not downloaded from vendorcheck: download the assessment "
                   "as a spreadsheet and fill that file."),
    "other assessment": _l("This spreadsheet belongs to another assessment (or another version of "
                           "the questionnaire). Download this assessment's spreadsheet and copy "
                           "your answers into it."),
    "ids changed": _l("Rows, sheets or question ids were added, moved or changed in this file, so "
                      "answers could land on the wrong questions. Download a fresh copy and fill it "
                      "without changing its structure."),
    "too many rows": _l("A sheet has more rows than the questionnaire allows; nothing was read."),
}


def preview_workbook(assessment: Assessment, data: bytes, *, choices: Choices,
                     by: Actor) -> SheetPreview:
    """Read an uploaded workbook and say what applying it would change (nothing is saved)."""
    if not _any_editable(assessment):
        check_editable(assessment, "")  # says why (submitted, closed)
    if len(data) > MAX_SHEET_BYTES:
        raise SheetUnreadable(_l("This file is larger than %(size)s MB, the limit for an answer "
                                 "sheet.", size=MAX_SHEET_BYTES // (1024 * 1024)))
    q = questionnaire_of(assessment)
    try:
        book = open_workbook(data)
        try:
            reading = read_workbook(book, q, ref=_ref(assessment, q), choices=choices, text=_text,
                                    seal=_seal)
        finally:
            book.close()  # a read-only workbook keeps its archive open until closed
    except SheetRefused as exc:
        raise SheetUnreadable(REFUSALS[str(exc)]) from None
    preview = _compare(assessment, q, reading, choices)
    if preview.changes:
        preview.token = _serializer().dumps({"a": assessment.id, "u": _who(by), "c": [
            [c.item_id, *c.saved] for c in preview.changes]})
    return preview


def _any_editable(assessment: Assessment) -> bool:
    q = questionnaire_of(assessment)
    return any(is_editable(assessment, i.id) for s in q.sections for i in s.items)


def _compare(assessment: Assessment, q: Questionnaire, reading: Reading,
             choices: Choices) -> SheetPreview:
    """Check each value like the web does, then keep what differs from what is stored."""
    preview, rows = SheetPreview(), answer_rows(assessment)
    checked = _checked_values(q, reading, preview)
    merged = {**answers_of(assessment), **checked}
    visibility = score(q, {k: v for k, v in merged.items() if v is not None}).visibility
    for item_id, new in checked.items():
        item, stored = q.item(item_id), rows.get(item_id)
        note = reading.justifications.get(item_id) if item.justification is not None else None
        old = stored.value if stored is not None else None
        note_changed = item.justification is not None and (
            stored.justification if stored is not None else None) != note
        if old == new and not note_changed:
            continue
        label = _text(item.label) or item_id
        if not visibility.is_visible(item_id):
            preview.ignored.append((label, _("not asked, given your other answers")))
        elif not is_editable(assessment, item_id):
            preview.ignored.append((label, _("can no longer be changed")))
        else:
            version = str(stored.version) if stored is not None else ""
            preview.changes.append(SheetChange(
                item_id, label, cell_text(item, old, choices), cell_text(item, new, choices),
                note_changed, (new, note, version, item.justification is not None)))
    return preview


def _checked_values(q: Questionnaire, reading: Reading, preview: SheetPreview) -> dict[str, Any]:
    """Return the values the engine accepts; name every refusal (cell by cell for tables)."""
    values: dict[str, Any] = {}
    for key, code in reading.problems.items():
        preview.problems.append((_where(q, key), _cell_problem(code)))
    for item_id, raw in reading.values.items():
        if any(k == item_id or k.startswith(item_id + "[") or k.startswith(item_id + ".")
               for k in reading.problems):
            continue
        item = q.item(item_id)
        if item.max_length and isinstance(raw, str) and len(raw) > item.max_length:
            preview.problems.append((_where(q, item_id), too_long_message(len(raw), item.max_length)))
            continue
        result = validate_answers(q, {item_id: raw})
        if result.problems:
            for problem in result.problems:
                preview.problems.append((_where(q, problem.item), problem.message))
            continue
        values[item_id] = result.answers.get(item_id)
    return values


def _cell_problem(code: str) -> str:
    if code == "formula":
        return _("Formulas are not read: type the value itself.")
    if code == "one":
        return _("Only one answer is allowed here.")
    if code.startswith("choice:"):
        return _("“%(value)s” is not one of the answers offered in the list.", value=code[7:])
    return code


def _where(q: Questionnaire, key: str) -> str:
    """Name a problem's place: the question's label, a table's row and column."""
    item_id, _sep, rest = key.partition("[")
    item_id = item_id.split(".")[0]
    if not q.has_item(item_id):
        return key
    label = _text(q.item(item_id).label) or item_id
    if not rest:
        return label
    row, _sep, column = rest.partition("].")
    item = q.item(item_id)
    col = next((c for c in item.columns if c.id == column), None)
    return _("%(table)s, row %(row)s, column “%(column)s”", table=label, row=row,
             column=_text(col.label) if col is not None else column)


# ------------------------------------------------------------------------------------------ apply


def _who(by: Actor) -> str:
    """Name who previewed, so only they can apply it: the user, or the holder of that link."""
    return f"link {by.link_id}" if isinstance(by, LinkHolder) else f"user {by.id}"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="answer-sheet-preview")


def apply_preview(assessment: Assessment, token: str, *, by: Actor) -> Applied:
    """Save the previewed changes, one autosave each; a change someone made meanwhile is refused."""
    try:
        data = _serializer().loads(token, max_age=PREVIEW_MAX_AGE)
    except BadSignature:
        raise ValidationFailed(_l("This preview has expired or was altered; upload the file "
                                  "again.")) from None
    if not isinstance(data, dict) or data.get("a") != assessment.id or data.get("u") != _who(by):
        raise ValidationFailed(_l("This preview is not for this assessment; upload the file again."))
    count, refused = 0, []
    for item_id, value, note, version, has_note in data["c"]:
        try:
            save_answer(assessment, item_id, value, seen_version=version, request_id=None, by=by,
                        justification=note, keep_justification=not has_note)
            count += 1
        except DomainError as exc:
            db.session.rollback()
            refused.append((_where(questionnaire_of(assessment), item_id), str(exc)))
    audit.record("answer_sheet_applied", by=by, org=assessment.vendor_org_id, obj=assessment,
                 details={"applied": count, "refused": len(refused)})
    db.session.commit()
    return Applied(count, refused)
