"""The answer workbook without Flask: choices typed as labels or codes, numbers, formulas, the seal."""

from __future__ import annotations

import hashlib
import hmac
import io
from typing import Any

import pytest
from openpyxl import load_workbook

from vendorcheck.answer_sheets import (
    SheetRefused,
    SheetTexts,
    choice_lookup,
    open_workbook,
    read_workbook,
    sheet_items,
    write_workbook,
)
from vendorcheck.questionnaire import Item, Questionnaire
from vendorcheck.questionnaire.answers import validate_answers

TEXTS = SheetTexts(
    title="Offline", instructions=["Fill it"], id_header="Id", question_header="Question",
    answer_header="Answer", justification_header="Why", how_header="How", see_table="See %s",
    one_of="One", several="Several", a_date="Date", a_number="Number", text_up_to="Text %s",
    online_only="Online", instructions_sheet="Instructions")


def _choices(item: Item) -> list[tuple[str, str]]:
    source = item.kind.widget.choices
    if source == "words":
        return [("yes", "Yes"), ("no", "No")]
    if source == "countries":
        return [("FR", "France (FR)"), ("US", "United States (US)")]
    return [(o.value, o.label.get("en") if o.label else o.value) for o in item.options]


def _text(value: Any) -> str:
    return value.get("en") if value is not None else ""


def _seal(text: str) -> str:
    return hmac.new(b"k", text.encode(), hashlib.sha256).hexdigest()


def _write(q: Questionnaire, answers: dict[str, Any], ref: str = "a1") -> bytes:
    return write_workbook(q, answers, {}, ref=ref, texts=TEXTS, choices=_choices, text=_text,
                          seal=_seal)


def _read(q: Questionnaire, data: bytes, ref: str = "a1") -> Any:
    book = open_workbook(data)
    try:
        return read_workbook(book, q, ref=ref, choices=_choices, text=_text, seal=_seal)
    finally:
        book.close()


def test_choice_lookup_takes_labels_codes_and_country_names():
    lookup = choice_lookup([("FR", "France (FR)"), ("yes", "Yes")])
    assert lookup["france"] == lookup["fr"] == lookup["france (fr)"] == "FR"
    assert lookup["yes"] == "yes"


def test_round_trip_of_valid_answers_gives_them_back(demo: Questionnaire):
    answers = {}
    for _section, items in sheet_items(demo):
        for item in items:
            if item.kind.widget.choices is not None and not item.kind.many and _choices(item):
                answers[item.id] = _choices(item)[0][0]
    answers = validate_answers(demo, answers).answers
    assert answers, "the demo questionnaire has list questions"
    reading = _read(demo, _write(demo, answers))
    assert not reading.problems
    assert {k: v for k, v in reading.values.items() if v not in (None, [])} == answers


def test_formula_and_unknown_choice_are_named_per_cell(demo: Questionnaire):
    book = load_workbook(io.BytesIO(_write(demo, {})))
    choice = next(i for _s, items in sheet_items(demo) for i in items
                  if i.kind.widget.choices == "words")
    sheet = next(ws for ws in book.worksheets[2:]
                 if any(c.value == choice.id for c in ws["A"]))
    row = next(c.row for c in sheet["A"] if c.value == choice.id)
    sheet.cell(row=row, column=3).value = "Maybe"
    buffer = io.BytesIO()
    book.save(buffer)
    assert _read(demo, buffer.getvalue()).problems[choice.id] == "choice:Maybe"
    sheet.cell(row=row, column=3).value = "=1+1"
    buffer = io.BytesIO()
    book.save(buffer)
    assert _read(demo, buffer.getvalue()).problems[choice.id] == "formula"


def test_a_file_for_another_reference_or_with_moved_ids_is_refused(demo: Questionnaire):
    data = _write(demo, {})
    with pytest.raises(SheetRefused, match="other assessment"):
        _read(demo, data, ref="a2")
    book = load_workbook(io.BytesIO(data))
    book.worksheets[2].insert_rows(2)
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(SheetRefused, match="ids changed"):
        _read(demo, buffer.getvalue())


def test_not_a_workbook_is_refused():
    with pytest.raises(SheetRefused, match="not xlsx"):
        open_workbook(b"hello")
