"""Spreadsheet exports: formulas neutralised, XLSX cells are strings, JSON reuses the data."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from openpyxl import load_workbook

from vendorcheck.exports import Column, Sheet, neutralise, to_csv, to_json, to_xlsx

HOSTILE = ['=HYPERLINK("http://x","y")', "@SUM(1)", "-2+3", "\t=1", "+1", "\r=2", "\0=3"]


@pytest.mark.parametrize("value", HOSTILE)
def test_neutralise_prefixes_an_apostrophe(value):
    assert neutralise(value) == "'" + value


def test_safe_values_are_unchanged():
    assert neutralise("Acme") == "Acme"
    assert neutralise(-2) == -2 and neutralise(3.5) == 3.5 and neutralise(None) is None


def _sheet():
    rows = [{"answer": value, "score": 42.5} for value in HOSTILE]
    return Sheet("Answers: [all]", [Column("answer", "=Answer"), Column("score", "Score")], rows)


def test_csv_cells_start_with_an_apostrophe():
    rows = list(csv.reader(io.StringIO(to_csv(_sheet()).decode("utf-8-sig"), newline="")))
    assert rows[0] == ["'=Answer", "Score"]
    assert [row[0] for row in rows[1:]] == ["'" + v for v in HOSTILE]
    assert rows[1][1] == "42.5"


def test_xlsx_has_no_formula_and_string_cells():
    data = to_xlsx([_sheet()])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        assert all(b"<f>" not in archive.read(n) for n in sheets)
    workbook = load_workbook(io.BytesIO(data))
    ws = workbook.worksheets[0]
    assert ws.title == "Answers   all"
    cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
    assert all(c.data_type == "s" for c in cells if isinstance(c.value, str))
    # XML cannot hold NUL or CR-less control characters: they are dropped after neutralising.
    assert [ws.cell(row=i, column=1).value for i in range(2, 2 + len(HOSTILE))] == [
        "'" + v.replace("\0", "") for v in HOSTILE]
    assert ws.cell(row=2, column=2).value == 42.5


def test_json_rows_are_plain_dicts():
    assert to_json(_sheet())[0] == {"answer": HOSTILE[0], "score": 42.5}
