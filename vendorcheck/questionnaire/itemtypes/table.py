"""The table type: rows of typed columns (sub-processors, tools), read by rules through `row.<col>`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from vendorcheck.questionnaire.expr.checker import Type
from vendorcheck.questionnaire.model import (
    Formatter,
    Invalid,
    ItemType,
    LocaleText,
    Problem,
    TableWords,
    Widget,
    Words,
    as_list,
    is_blank,
)
from vendorcheck.questionnaire.schemakeys import ItemBase, List, Num, Raw, ids

if TYPE_CHECKING:
    from vendorcheck.questionnaire.model import Item, RowRules

MAX_ROWS_CAP = 500


class TableSchema(ItemBase):
    columns = List(Raw(), required=True)
    min_rows = Num(integer=True, minimum=0)
    max_rows = Num(integer=True, minimum=1)
    unique = ids()


class Table(ItemType):
    """A list of rows; each column is an item of a type allowed in tables."""

    name = "table"
    label = LocaleText.of({"en": "table", "fr": "tableau"})
    schema = TableSchema
    widget = Widget("supplier/widgets/table.html", converter="rows", reader="rows", field=None)
    in_tables = False
    has_rows = True

    def value_type(self, item: Item) -> Type:
        return Type("table", table=item.id, source=item.id)

    def check(self, item: Item, value: object, problem: Problem) -> list[dict[str, object]]:
        """Check each row; cell problems are named `table[row].column`."""
        if not isinstance(value, (list, tuple)) or not all(isinstance(r, Mapping) for r in value):
            raise Invalid("must be a list of rows")
        limit = min(item.max_rows or MAX_ROWS_CAP, MAX_ROWS_CAP)
        if len(value) > limit:
            raise Invalid(f"at most {limit} rows")
        rows = [_check_row(item, index, row, problem) for index, row in enumerate(value)]
        _check_unique(item, rows, problem)
        return rows

    def convert(self, value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            return [row for row in value if isinstance(row, Mapping)]
        return None

    def is_answered(self, item: Item, value: Any, visibility: RowRules) -> bool:
        """A table counts as answered when every required cell of every row is filled."""
        if not super().is_answered(item, value, visibility):
            return False
        for index, row in enumerate(value):
            _, needed = visibility.row_columns(item.id, index)
            if any(row.get(col) is None for col in needed):
                return False
        return True

    def describe(self, item: Item, value: Any, fmt: Formatter) -> Words:
        """Return the rows' cells in words (the text keeps the raw rows, for plain readers)."""
        if not isinstance(value, (list, tuple)):
            return Words(text=str(value))
        columns = tuple(fmt.text(col.label) or col.id for col in item.columns)
        rows = tuple(tuple(col.kind.words(col, row.get(col.id) if isinstance(row, Mapping) else None,
                                          fmt) for col in item.columns) for row in as_list(value))
        return Words(text=str(value), table=TableWords(columns, rows))


def _check_row(item: Item, index: int, row: Mapping[str, object],
               problem: Problem) -> dict[str, object]:
    """Check one row's cells."""
    columns = {c.id: c for c in item.columns}
    out: dict[str, object] = {}
    for key, cell in row.items():
        where = f"{item.id}[{index}].{key}"
        if key not in columns:
            problem(where, "unknown column")
        elif not is_blank(cell):
            column = columns[key]
            try:
                out[key] = column.kind.check(column, cell, problem)
            except Invalid as exc:
                problem(where, str(exc))
    return out


def _check_unique(item: Item, rows: list[dict[str, object]], problem: Problem) -> None:
    """Refuse repeated values in `unique` columns."""
    for col in item.unique:
        seen: set[str] = set()
        for index, row in enumerate(rows):
            if col not in row:
                continue
            key = repr(row[col])
            if key in seen:
                problem(f"{item.id}[{index}].{col}", f"duplicate value {row[col]!r}")
            seen.add(key)
