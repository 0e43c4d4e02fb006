"""The answer spreadsheet: an assessment's questions as an XLSX workbook to fill offline, read back.

No Flask and no database here: the caller passes the words (in the contact's language), the choices
of each item and a `seal` (an HMAC with the app's secret). The workbook carries a hidden sheet with
the assessment it belongs to and a seal over where each question id sits, so a file of another
assessment, or one whose ids were edited or moved, is refused as a whole rather than written into
the wrong answers. Reading never evaluates a formula: a formula cell is refused; text that export
neutralised (a leading apostrophe before = + - @) is read back as typed.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation

from vendorcheck.exports import FORMULA_STARTS, neutralise
from vendorcheck.questionnaire import Item, Questionnaire

META_SHEET = "vendorcheck"
LISTS_SHEET = "lists"
MAX_UNZIPPED = 40 * 1024 * 1024   # a genuine answer sheet unzips to well under 1 MB
MAX_ZIP_MEMBERS = 300
EXTRA_ROWS = 50                   # blank rows a section sheet may gain at its end before it is refused
SEPARATOR = ";"

Choices = Callable[[Item], Sequence[tuple[str, str]]]
Words = Callable[[Any], str]


class SheetRefused(ValueError):
    """The file as a whole cannot be read (not an XLSX, another assessment, ids changed, too big)."""


@dataclass(frozen=True)
class SheetTexts:
    """The workbook's own words, in the contact's language."""

    title: str
    instructions: Sequence[str]
    id_header: str
    question_header: str
    answer_header: str
    justification_header: str
    how_header: str
    see_table: str                       # "Answer in the sheet %s"
    one_of: str                          # "One of the list"
    several: str                         # "Several of the list, separated by ;"
    a_date: str
    a_number: str
    text_up_to: str                      # "Text, up to %s characters"
    online_only: str                     # files and attestations
    instructions_sheet: str


@dataclass
class Reading:
    """What a workbook says: raw values and justifications per item, and per-cell problems."""

    values: dict[str, Any] = field(default_factory=dict)
    justifications: dict[str, str | None] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------ layout


def sheet_items(q: Questionnaire) -> list[tuple[str, list[Item]]]:
    """Return (section id, items answerable offline) for each section that has some."""
    sections = []
    for section in q.sections:
        items = [i for i in section.items if offline(i) or i.kind.has_rows]
        if items:
            sections.append((section.id, items))
    return sections


def offline(item: Item) -> bool:
    """Tell whether a cell can hold the item's answer (files and attestations are answered online)."""
    return item.kind.typed and item.kind.widget.reader in ("value", "list")


def _titles(q: Questionnaire, text: Words) -> dict[str, str]:
    """Return a unique, valid sheet title for every section and table (section or table id key)."""
    used = {META_SHEET, LISTS_SHEET}
    titles = {}
    for number, (section_id, items) in enumerate(sheet_items(q), start=1):
        section = next(s for s in q.sections if s.id == section_id)
        titles[section_id] = _unique(f"{number} {text(section.title)}", used)
        for item in items:
            if item.kind.has_rows:
                titles[item.id] = _unique(f"{number} {text(item.label) or item.id}", used)
    return titles


def _unique(title: str, used: set[str]) -> str:
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in title).strip(" '")[:28] or "Sheet"
    candidate, n = cleaned, 2
    while candidate.casefold() in {u.casefold() for u in used}:
        candidate, n = f"{cleaned[:25]} {n}", n + 1
    used.add(candidate)
    return candidate


def layout(positions: Iterable[tuple[str, int, str]]) -> str:
    """Return the text the seal covers: every id with its sheet and row, in order."""
    return "\n".join(f"{sheet}!{row}={item_id}" for sheet, row, item_id in positions)


# ------------------------------------------------------------------------------------------ writing


@dataclass
class _Writer:
    q: Questionnaire
    texts: SheetTexts
    choices: Choices
    text: Words
    titles: dict[str, str]
    workbook: Workbook = field(default_factory=Workbook)
    positions: list[tuple[str, int, str]] = field(default_factory=list)
    lists: dict[str, str] = field(default_factory=dict)   # item id → range of its choices


def write_workbook(q: Questionnaire, answers: Mapping[str, Any],
                   justifications: Mapping[str, str | None], *, ref: str, texts: SheetTexts,
                   choices: Choices, text: Words, seal: Callable[[str], str]) -> bytes:
    """Return the workbook: instructions, one sheet per section, one per table, lists, the seal."""
    w = _Writer(q, texts, choices, text, _titles(q, text))
    intro = w.workbook.active
    assert intro is not None
    intro.title = _unique(texts.instructions_sheet, set())
    _instructions(intro, texts)
    lists = w.workbook.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"
    for section_id, items in sheet_items(q):
        ws = w.workbook.create_sheet(w.titles[section_id])
        _section_sheet(w, ws, items, answers, justifications, lists)
        for item in items:
            if item.kind.has_rows:
                _table_sheet(w, w.workbook.create_sheet(w.titles[item.id]), item,
                             answers.get(item.id) or [], lists)
    meta = w.workbook.create_sheet(META_SHEET)
    meta.sheet_state = "veryHidden"
    meta["A1"], meta["A2"] = ref, seal(ref + "\n" + layout(w.positions))
    buffer = io.BytesIO()
    w.workbook.save(buffer)
    return buffer.getvalue()


def _instructions(ws: Any, texts: SheetTexts) -> None:
    ws["A1"] = texts.title
    ws["A1"].font = Font(bold=True, size=14)
    for row, line in enumerate(texts.instructions, start=3):
        _text_cell(ws.cell(row=row, column=1), line)
    ws.column_dimensions["A"].width = 120


def _section_sheet(w: _Writer, ws: Any, items: Sequence[Item], answers: Mapping[str, Any],
                   justifications: Mapping[str, str | None], lists: Any) -> None:
    """Write one row per question: id (hidden), question, answer, justification, how to answer."""
    t = w.texts
    _header(ws, [t.id_header, t.question_header, t.answer_header, t.justification_header,
                 t.how_header])
    for row, item in enumerate(items, start=2):
        w.positions.append((ws.title, row, item.id))
        _text_cell(ws.cell(row=row, column=1), item.id)
        _text_cell(ws.cell(row=row, column=2), w.text(item.label) or item.id)
        answer, how = ws.cell(row=row, column=3), ws.cell(row=row, column=5)
        if item.kind.has_rows:
            _text_cell(answer, t.see_table % w.titles[item.id])
            answer.font = Font(italic=True)
        else:
            _value_cell(answer, item, answers.get(item.id), w)
            answer.protection = Protection(locked=False)
            _validate(w, ws, item, answer.coordinate, lists)
        _text_cell(how, _how(item, w))
        if item.justification is not None:
            note = ws.cell(row=row, column=4)
            _text_cell(note, justifications.get(item.id) or "")
            note.protection = Protection(locked=False)
    _finish(ws, widths=(0, 60, 40, 40, 40))


def _table_sheet(w: _Writer, ws: Any, item: Item, rows: Sequence[Mapping[str, Any]],
                 lists: Any) -> None:
    """Write a table: column ids (hidden row 1), labels (row 2), one answer row per line."""
    columns = [c for c in item.columns if offline(c)]
    for number, col in enumerate(columns, start=1):
        _text_cell(ws.cell(row=1, column=number), col.id)
        w.positions.append((ws.title, number, f"{item.id}.{col.id}"))
        _text_cell(ws.cell(row=2, column=number), w.text(col.label) or col.id)
        ws.cell(row=2, column=number).font = Font(bold=True)
    ws.row_dimensions[1].hidden = True
    limit = table_limit(item)
    for index in range(limit):
        row = rows[index] if index < len(rows) else {}
        for number, col in enumerate(columns, start=1):
            cell = ws.cell(row=index + 3, column=number)
            if row:
                _value_cell(cell, col, row.get(col.id), w)
            cell.protection = Protection(locked=False)
    for number, col in enumerate(columns, start=1):
        letter = ws.cell(row=3, column=number).column_letter
        _validate(w, ws, col, f"{letter}3:{letter}{limit + 2}", lists)
        ws.column_dimensions[letter].width = 32
    ws.freeze_panes = "A3"
    ws.protection.sheet = True


def table_limit(item: Item) -> int:
    """Return how many rows a table's sheet offers (its max_rows, capped like the web form)."""
    return min(item.max_rows or 500, 500)


def _header(ws: Any, headers: Sequence[str]) -> None:
    for number, header in enumerate(headers, start=1):
        cell = ws.cell(row=1, column=number)
        _text_cell(cell, header)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE3EA")


def _finish(ws: Any, widths: Sequence[int]) -> None:
    for number, width in enumerate(widths, start=1):
        letter = ws.cell(row=1, column=number).column_letter
        ws.column_dimensions[letter].width = width or 10
        ws.column_dimensions[letter].hidden = width == 0
        for cell in ws[letter]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "C2"
    ws.protection.sheet = True  # ids and questions are locked; answer cells are not


def _text_cell(cell: Any, value: str) -> None:
    """Write text that no spreadsheet evaluates (see exports.neutralise)."""
    cell._value = neutralise(value)  # noqa: SLF001 - the public setter turns "=..." into a formula
    cell.data_type = "s"


def _value_cell(cell: Any, item: Item, value: Any, w: _Writer) -> None:
    """Write a stored answer as the contact would type it (labels for choices, dates as dates)."""
    shown = cell_text(item, value, w.choices)
    if isinstance(shown, (int, float, date)) and not isinstance(shown, bool):
        cell.value = shown
        if isinstance(shown, date):
            cell.number_format = "yyyy-mm-dd"
    elif shown is not None:
        _text_cell(cell, shown)


def cell_text(item: Item, value: Any, choices: Choices) -> Any:
    """Return an answer as its cell shows it: a label, labels joined by ;, a date, a number, a text."""
    if value is None or value == "" or value == []:
        return None
    source = item.kind.widget.choices
    if source is not None:
        labels = dict(choices(item))
        values = value if isinstance(value, (list, tuple)) else [value]
        return f"{SEPARATOR} ".join(labels.get(str(v), str(v)) for v in values)
    if item.kind.name == "date" and isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return str(value)


def _how(item: Item, w: _Writer) -> str:
    t = w.texts
    if item.kind.has_rows:
        return t.see_table % w.titles[item.id]
    if item.kind.widget.choices is not None:
        return t.several if item.kind.many else t.one_of
    if item.kind.name == "date":
        return t.a_date
    if item.kind.name in ("number", "percentage"):
        return t.a_number
    return t.text_up_to % (item.max_length or 2000)


def _validate(w: _Writer, ws: Any, item: Item, cells: str, lists: Any) -> None:
    """Offer a drop-down for one-of-a-list answers (several answers are typed, separated by ;)."""
    if item.kind.widget.choices is None or item.kind.many:
        return
    if item.id not in w.lists:
        column = len(w.lists) + 1
        labels = [label for _value, label in w.choices(item)]
        for row, label in enumerate(labels, start=1):
            _text_cell(lists.cell(row=row, column=column), label)
        letter = lists.cell(row=1, column=column).column_letter
        w.lists[item.id] = f"{LISTS_SHEET}!${letter}$1:${letter}${max(len(labels), 1)}"
    check = DataValidation(type="list", formula1=f"={w.lists[item.id]}", allow_blank=True,
                           showErrorMessage=True)
    ws.add_data_validation(check)
    check.add(cells)


# ------------------------------------------------------------------------------------------ reading


def open_workbook(data: bytes) -> Any:
    """Open an uploaded workbook safely: a real XLSX, not a zip bomb, formulas kept as formulas."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > MAX_ZIP_MEMBERS or sum(m.file_size for m in members) > MAX_UNZIPPED:
                raise SheetRefused("too big")
    except zipfile.BadZipFile:
        raise SheetRefused("not xlsx") from None
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
    except (InvalidFileException, KeyError, ValueError, OSError, zipfile.BadZipFile):
        raise SheetRefused("not xlsx") from None


def read_workbook(book: Any, q: Questionnaire, *, ref: str, choices: Choices, text: Words,
                  seal: Callable[[str], str]) -> Reading:
    """Read the answers of a workbook written by `write_workbook` for this assessment."""
    if META_SHEET not in book.sheetnames:
        raise SheetRefused("not ours")
    meta = [row for row in book[META_SHEET].iter_rows(min_row=1, max_row=2, max_col=1,
                                                      values_only=True)]
    found_ref, found_seal = (str(meta[0][0] or ""), str(meta[1][0] or "")) if len(meta) == 2 \
        else ("", "")
    if found_ref != ref:
        raise SheetRefused("other assessment")
    titles = _titles(q, text)
    cells = _SheetCells(book, titles)
    positions = cells.positions(q)
    if seal(ref + "\n" + layout(positions)) != found_seal:
        raise SheetRefused("ids changed")
    reading = Reading()
    for section_id, items in sheet_items(q):
        rows = cells.section_rows(titles[section_id], len(items))
        for item, row in zip(items, rows, strict=False):
            if item.kind.has_rows:
                _read_table(cells, titles[item.id], item, reading, choices)
                continue
            _read_answer(item, row[2] if len(row) > 2 else None, item.id, reading, choices)
            if item.justification is not None:
                note = _plain(row[3] if len(row) > 3 else None, item.id + ".justification", reading)
                reading.justifications[item.id] = note if isinstance(note, str) or note is None \
                    else str(note)
    return reading


class _SheetCells:
    """Rows of the workbook's sheets, read once each, within the row limits."""

    def __init__(self, book: Any, titles: Mapping[str, str]) -> None:
        self.book, self.titles, self.cache = book, titles, {}

    def rows(self, title: str, limit: int) -> list[tuple[Any, ...]]:
        if title not in self.cache:
            if title not in self.book.sheetnames:
                raise SheetRefused("ids changed")
            rows = []
            for row in self.book[title].iter_rows(values_only=False):
                rows.append(tuple(_raw(cell) for cell in row[:8]))
                if len(rows) > limit:
                    raise SheetRefused("too many rows")
            self.cache[title] = rows
        return self.cache[title]

    def section_rows(self, title: str, count: int) -> list[tuple[Any, ...]]:
        rows = self.rows(title, count + 1 + EXTRA_ROWS)[1:]
        return rows + [()] * (count - len(rows))

    def positions(self, q: Questionnaire) -> list[tuple[str, int, str]]:
        """Return where the file puts each id (what the seal must cover, as written)."""
        found = []
        for section_id, items in sheet_items(q):
            title = self.titles[section_id]
            for row, cells in enumerate(self.section_rows(title, len(items)), start=2):
                if cells and cells[0] not in (None, ""):
                    found.append((title, row, str(cells[0])))
            for item in items:
                if item.kind.has_rows:
                    title = self.titles[item.id]
                    header = self.rows(title, table_limit(item) + 2)[:1]
                    for number, cell in enumerate(header[0] if header else (), start=1):
                        if cell not in (None, ""):
                            found.append((title, number, f"{item.id}.{cell}"))
        return found


class _Formula(str):
    """A cell that holds a formula (never evaluated, always refused)."""


def _raw(cell: Any) -> Any:
    """Return a cell's value; a formula cell comes back marked, never evaluated."""
    value = cell.value
    if getattr(cell, "data_type", None) == "f" or (isinstance(value, str) and value.startswith("=")
                                                   and getattr(cell, "data_type", "s") != "s"):
        return _Formula(str(value))
    return value


def _read_table(cells: _SheetCells, title: str, item: Item, reading: Reading,
                choices: Choices) -> None:
    """Read a table's rows (blank rows skipped) as the web form would post them."""
    columns = [c for c in item.columns if offline(c)]
    rows = cells.rows(title, table_limit(item) + 2)[2:]
    answer = []
    for index, row in enumerate(rows):
        cells_of_row = list(row) + [None] * (len(columns) - len(row))
        if all(v in (None, "") for v in cells_of_row[:len(columns)]):
            continue
        values: dict[str, Any] = {}
        for number, col in enumerate(columns):
            sub = Reading()
            _read_answer(col, cells_of_row[number], "x", sub, choices)
            if "x" in sub.problems:
                reading.problems[f"{item.id}[{index + 1}].{col.id}"] = sub.problems["x"]
            values[col.id] = sub.values.get("x", "")
        answer.append(values)
    reading.values[item.id] = answer


def _plain(value: Any, key: str, reading: Reading) -> Any:
    """Return a cell's plain value; a formula is refused, neutralised text read back as typed."""
    if isinstance(value, _Formula):
        reading.problems[key] = "formula"
        return None
    if isinstance(value, str):
        if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
            value = value[1:]
        return value.strip() or None
    return value


def _read_answer(item: Item, raw: Any, key: str, reading: Reading, choices: Choices) -> None:
    """Turn one cell into the raw answer the web would post (checked later by the engine)."""
    value = _plain(raw, key, reading)
    if key in reading.problems:
        return
    if value is None:
        reading.values[key] = [] if item.kind.many else None
        return
    if item.kind.widget.choices is not None:
        _read_choice(item, value, key, reading, choices)
    elif item.kind.name == "date" and isinstance(value, (datetime, date)):
        reading.values[key] = (value.date() if isinstance(value, datetime) else value).isoformat()
    elif item.kind.name in ("number", "percentage"):
        reading.values[key] = _number(value)
    elif isinstance(value, float) and value.is_integer():
        reading.values[key] = str(int(value))
    else:
        reading.values[key] = str(value)


def _read_choice(item: Item, value: Any, key: str, reading: Reading, choices: Choices) -> None:
    lookup = choice_lookup(choices(item))
    typed = [part.strip() for part in str(value).replace("\n", SEPARATOR).split(SEPARATOR)]
    typed = [part for part in typed if part]
    unknown = [part for part in typed if part.casefold() not in lookup]
    if unknown:
        reading.problems[key] = "choice:" + unknown[0][:80]
        return
    codes = [lookup[part.casefold()] for part in typed]
    if item.kind.many:
        reading.values[key] = list(dict.fromkeys(codes))
    elif len(codes) > 1:
        reading.problems[key] = "one"
    else:
        reading.values[key] = codes[0]


def choice_lookup(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Map what a contact may type (the label, the code, a country's name alone) to the code."""
    lookup: dict[str, str] = {}
    for code, label in pairs:
        lookup.setdefault(code.casefold(), code)
        lookup.setdefault(label.casefold(), code)
        if label.endswith(f" ({code})"):
            lookup.setdefault(label[: -len(code) - 3].casefold(), code)
    return lookup


def _number(value: Any) -> Any:
    """Return a number typed as text ("1 000,5") as a number; anything else as given."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value) if isinstance(value, float) and value.is_integer() else value
    text = str(value).replace("\u00a0", "").replace("\u202f", "").replace(" ", "").rstrip("%")
    try:
        number = float(text.replace(",", "."))
    except ValueError:
        return str(value)
    return int(number) if number.is_integer() else number
