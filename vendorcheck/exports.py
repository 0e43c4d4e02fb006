"""Spreadsheet exports (CSV, XLSX) and the same data as JSON, over plain data (no Flask, no DB).

Every text cell that a spreadsheet could read as a formula (it starts with = + - @, a tab, a
carriage return or NUL) gets a leading apostrophe, and XLSX text cells are written as explicit
strings, so an answer like ``=HYPERLINK(...)`` stays text (OWASP CSV injection; S25).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")
MAX_SHEET_TITLE = 31


@dataclass(frozen=True)
class Column:
    """One column: the key in each row and its header."""

    key: str
    header: str


@dataclass(frozen=True)
class Sheet:
    """A table: a title (the XLSX sheet name), its columns and rows of plain values."""

    title: str
    columns: Sequence[Column]
    rows: Iterable[Mapping[str, Any]]  # a generator can be read once only (streamed exports)


def neutralise(value: Any) -> Any:
    """Return a cell value that no spreadsheet evaluates; numbers and None stay as they are."""
    if value is None or isinstance(value, bool | int | float):
        return value
    text = value if isinstance(value, str) else str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _cell_value(value: Any) -> Any:
    """Flatten lists to text, then neutralise."""
    if isinstance(value, list | tuple):
        value = "; ".join("" if v is None else str(v) for v in value)
    if isinstance(value, bool):
        value = "yes" if value else "no"
    return neutralise(value)


def to_csv(sheet: Sheet) -> bytes:
    """Return one sheet as CSV (RFC 4180, UTF-8 with a BOM so spreadsheets detect it)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(col.header) for col in sheet.columns])
    for row in sheet.rows:
        writer.writerow(["" if (v := _cell_value(row.get(col.key))) is None else v
                         for col in sheet.columns])
    return buffer.getvalue().encode("utf-8-sig")


def iter_csv(columns: Sequence[Column], rows: Iterable[Mapping[str, Any]],
             rows_per_chunk: int = 500) -> Iterator[bytes]:
    """Yield the CSV of `to_csv` in chunks as rows come (a streamed response; rows are read once)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(col.header) for col in columns])
    yield buffer.getvalue().encode("utf-8-sig")
    buffer.seek(0)
    buffer.truncate()
    for count, row in enumerate(rows, start=1):
        writer.writerow(["" if (v := _cell_value(row.get(col.key))) is None else v for col in columns])
        if count % rows_per_chunk == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def to_xlsx_streamed(title: str, columns: Sequence[Column], rows: Iterable[Mapping[str, Any]]) -> bytes:
    """Return one sheet as XLSX written in openpyxl's write-only mode: each row is written as it
    comes and not kept (the workbook `to_xlsx` builds keeps every cell); same cells and layout."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    ws = workbook.create_sheet(_sheet_title(title))
    for number in range(1, len(columns) + 1):
        ws.column_dimensions[_column_letter(number)].width = 28
    ws.freeze_panes = "A2"
    bold = Font(bold=True)

    def cells(values: Iterable[Any], *, header: bool = False) -> list[Any]:
        out = []
        for raw in values:
            cell = WriteOnlyCell(ws)
            _set_value(cell, raw)
            if header:
                cell.font = bold
            out.append(cell)
        return out

    ws.append(cells((col.header for col in columns), header=True))
    for row in rows:
        ws.append(cells(row.get(col.key) for col in columns))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _column_letter(number: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(number))


def to_xlsx(sheets: Sequence[Sheet]) -> bytes:
    """Return the sheets as one XLSX workbook; text cells are explicit strings, never formulas."""
    workbook = Workbook()
    default = workbook.active
    for sheet in sheets:
        ws = workbook.create_sheet(_sheet_title(sheet.title))
        _write_row(ws, 1, [col.header for col in sheet.columns], bold=True)
        for index, row in enumerate(sheet.rows, start=2):
            _write_row(ws, index, [row.get(col.key) for col in sheet.columns])
        for number, _col in enumerate(sheet.columns, start=1):
            letter = ws.cell(row=1, column=number).column_letter
            ws.column_dimensions[letter].width = 28
        ws.freeze_panes = "A2"
    if default is not None and len(workbook.worksheets) > 1:
        workbook.remove(default)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet_title(title: str) -> str:
    """Return a valid sheet name (no []:*?/\\, at most 31 characters)."""
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in title).strip("' ")
    return (cleaned or "Sheet")[:MAX_SHEET_TITLE]


def _write_row(ws: Any, row: int, values: Sequence[Any], *, bold: bool = False) -> None:
    """Write one row; strings are stored with data_type "s" whatever they start with."""
    from openpyxl.styles import Font

    for column, raw in enumerate(values, start=1):
        cell = ws.cell(row=row, column=column)
        _set_value(cell, raw)
        if bold:
            cell.font = Font(bold=True)


def _set_value(cell: Any, raw: Any) -> None:
    """Store a value in a cell; strings with data_type "s" whatever they start with."""
    value = _cell_value(raw)
    if isinstance(value, str):
        # XML cannot hold NUL and most control characters: drop them (after neutralising).
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        # Assign the internal value directly: the public setter turns "=..." into a formula.
        cell._value = value  # noqa: SLF001
        cell.data_type = "s"
    else:
        cell.value = value


def to_json(sheet: Sheet) -> list[dict[str, Any]]:
    """Return a sheet's rows as plain dicts (raw values, for the API; not neutralised)."""
    return [{col.key: row.get(col.key) for col in sheet.columns} for row in sheet.rows]


# ------------------------------------------------------------------------- assessment export

def _answer_text(answer: Mapping[str, Any], words: Mapping[str, str]) -> str:
    """Return an answer in words from the report context's answer structure."""
    if answer.get("rows"):
        lines = []
        for row in answer["rows"]:
            cells = [words.get(c[1:], c[1:]) if c.startswith("@") else c for c in row]
            lines.append(" | ".join(cells))
        return "\n".join(lines)
    if answer.get("list"):
        return ", ".join(answer["list"])
    code = answer.get("code")
    if code:
        return str(words.get(code, code)) + (f" {answer['text']}" if answer.get("text") else "")
    return str(answer.get("text") or "")


def assessment_sheets(context: Mapping[str, Any], labels: Mapping[str, str]) -> list[Sheet]:
    """Return the answers and findings sheets of one assessment from a report context.

    ``labels`` translates headers and codes (yes/no/na, severities, states) in the export's
    language; missing keys show the key itself.
    """
    def t(key: str) -> str:
        return labels.get(key, key)

    answers = []
    for section in context["sections"]:
        for q in section["questions"]:
            answers.append({
                "section": f"{section['number']}. {section['title']}",
                "number": q["number"], "item_id": q["id"], "question": q["label"],
                "answer": _answer_text(q["answer"], labels),
                "justification": q["justification"],
                "evidence": "; ".join(f"{e['file_name']} (SHA-256 {e['sha256']})"
                                      for e in q["evidence"]),
                "references": "; ".join(q["refs"]),
            })
    findings = [{
        "id": f["id"], "severity": t(f["severity"]),
        "computed_severity": t(f["computed_severity"]) if f["computed_severity"] else "",
        "title": f["title"], "references": "; ".join(f["refs"]),
        "remediation": f["remediation"], "due_date": f["due_date"], "state": t(f["state"]),
        "comment": "\n".join(c for c in (f["comment"], f["override_comment"]) if c),
    } for f in context["findings"]]
    return [
        Sheet(t("Answers"), [Column(k, t(k)) for k in (
            "section", "number", "item_id", "question", "answer", "justification", "evidence",
            "references")], answers),
        Sheet(t("Findings"), [Column(k, t(k)) for k in (
            "id", "severity", "computed_severity", "title", "references", "remediation",
            "due_date", "state", "comment")], findings),
    ]


REGISTER_COLUMNS = ("vendor", "country", "criticality", "services", "status", "tier", "score",
                    "decision", "decided_at", "next_review", "archived")


def register_sheet(rows: Iterable[Mapping[str, Any]], labels: Mapping[str, str]) -> Sheet:
    """Return the vendor register: one row per vendor with its latest assessment."""
    return Sheet(labels.get("Vendor register", "Vendor register"),
                 [Column(k, labels.get(k, k)) for k in REGISTER_COLUMNS], rows)
