"""Visibility and requiredness: one pass over the items in dependency order."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any

from vendorcheck.questionnaire.expr.checker import Compiled
from vendorcheck.questionnaire.expr.evaluator import Env
from vendorcheck.questionnaire.model import Item, ItemType, Questionnaire

Convert = Callable[[Any], Any]


@dataclass(frozen=True)
class ColumnStep:
    """How to evaluate one column of a table row."""

    id: str
    visible_if: Compiled | None
    required: bool
    required_expr: Compiled | None
    convert: Convert


@dataclass(frozen=True)
class Step:
    """How to evaluate one section, item or computed value."""

    kind: str  # section, item, computed
    id: str
    section: str | None = None
    visible_if: Compiled | None = None
    required: bool = False
    required_expr: Compiled | None = None
    convert: Convert | None = None
    columns: tuple[ColumnStep, ...] = ()
    section_key: str = ""  # the item's section as `Visibility.visible` names it (`§id`)


@dataclass(frozen=True)
class Plan:
    """The precompiled evaluation order of a questionnaire, and what scoring reads per item."""

    steps: tuple[Step, ...]
    order: tuple[str, ...] = ()  # item ids in questionnaire order
    scored: tuple[ScoredRow, ...] = ()  # the items that count towards a category, in order
    weights: Mapping[str, Any] = field(default_factory=dict)  # item and computed id -> weight
    kinds: tuple[tuple[str, ItemType, Item], ...] = ()  # (id, type, item) in questionnaire order
    by_id: Mapping[str, tuple[ItemType, Item]] = field(default_factory=dict)  # id -> (type, item)
    rule_inputs: frozenset[str] = frozenset()  # ids any visibility or requiredness rule reads


# What scoring reads of a scored item, side by side in one small tuple rather than spread over the
# item's many fields: id, category, max_score, na_allowed, points by text answer (None: ask the
# item's type), the item.
ScoredRow = tuple[str, str, Any, bool, Mapping[str, Any] | None, Item]


@dataclass(frozen=True)
class Visibility:
    """Which items are shown and required, with the effective values rules read."""

    visible: Mapping[str, bool]
    required: Mapping[str, bool]
    values: Mapping[str, Any]
    rows: Mapping[str, list[tuple[frozenset[str], frozenset[str]]]]
    order: tuple[str, ...]

    def is_visible(self, item_id: str) -> bool:
        """Return whether an item (or section, prefixed `§`) is shown."""
        return self.visible.get(item_id, False)

    def is_required(self, item_id: str) -> bool:
        """Return whether a shown item must be answered."""
        return self.required.get(item_id, False)

    @property
    def visible_items(self) -> list[str]:
        """Return the shown items in questionnaire order."""
        return [i for i in self.order if self.visible.get(i)]

    def row_columns(self, table_id: str, index: int) -> tuple[frozenset[str], frozenset[str]]:
        """Return (visible, required) column ids of one table row."""
        rows = self.rows.get(table_id, [])
        return rows[index] if index < len(rows) else (frozenset(), frozenset())


# ---------------------------------------------------------------------------- plan


def make_plan(q: Questionnaire, order: list[str], columns: Mapping[str, tuple[str, ...]]) -> Plan:
    """Precompute the steps of one evaluation pass."""
    computed = {c.id: c for c in q.computed}
    sections = {s.id: s for s in q.sections}
    steps = []
    for node in order:
        if node.startswith("§"):
            steps.append(Step("section", node[1:], visible_if=sections[node[1:]].visible_if))
        elif node in computed:
            steps.append(Step("computed", node, visible_if=computed[node].expr))
        else:
            steps.append(_item_step(q.item(node), columns.get(node, ())))
    weights = {i.id: i.weight for i in q.items}
    weights.update({c.id: c.weight for c in q.computed})
    scored = tuple((i.id, i.category, i.max_score, i.na_allowed, i.kind.points_by_value(i), i)
                   for i in q.items if i.is_scored and i.category is not None)
    kinds = tuple((i.id, i.kind, i) for i in q.items)
    return Plan(tuple(steps), tuple(i.id for i in q.items), scored, weights, kinds,
                {item_id: (kind, item) for item_id, kind, item in kinds}, _rule_inputs(steps))


def _rule_inputs(steps: list[Step]) -> frozenset[str]:
    """Return the ids (items, computed values) that a section, item, column or computed rule reads."""
    rules = [r for s in steps for r in (s.visible_if, s.required_expr,
                                        *(x for c in s.columns for x in (c.visible_if, c.required_expr)))]
    return frozenset(name for rule in rules if rule is not None for name in rule.deps)


def _item_step(item: Item, column_order: tuple[str, ...]) -> Step:
    """Build the step of one item, with its columns in dependency order."""
    cols = tuple(ColumnStep(c.id, c.visible_if, c.required, c.required_expr, c.kind.convert)
                 for c in (item.column(cid) for cid in column_order))
    return Step("item", item.id, item.section, item.visible_if, item.required,
                item.required_expr, item.kind.convert, cols, f"§{item.section}")


# ---------------------------------------------------------------------------- evaluation


def make_env(q: Questionnaire, today: date | None) -> Env:
    """Create an evaluation environment."""
    day = today or date.today()
    groups = q.country_groups
    # Groups are read on the scoring day: an adequacy decision past its sunset date no longer counts.
    group_of = partial(groups.group_of, on=day) if groups is not None else None
    return Env({}, day, group_of)


def moves_progress(q: Questionnaire, item_id: str, old: Any, new: Any) -> bool:
    """Tell whether storing `new` in place of `old` as an item's answer can change which items are
    shown or required, or which shown items count as answered (what progress and completeness count).

    No when no rule reads the item, it has no rows (a table's answered state follows its rows'
    rules) and it was answered before and after, or unanswered before and after: then the counts
    are those stored by the last save, and an autosave need not evaluate the questionnaire again.
    """
    kind, item = q.plan.by_id[item_id]
    if item_id in q.plan.rule_inputs or kind.has_rows:
        return True
    return _answered(kind, item, old) != _answered(kind, item, new)


def _answered(kind: ItemType, item: Item, raw: Any) -> bool:
    """Return whether a stored answer counts as given, as `evaluate_visibility` and progress read it."""
    return kind.is_answered(item, kind.convert(raw), _NO_ROWS)


# Row rules for an item without rows (never asked: a table always moves the progress).
_NO_ROWS = Visibility({}, {}, {}, {}, ())


def truth(compiled: Compiled | None, env: Env, *, default: bool) -> bool:
    """Evaluate a condition; a missing rule gives `default`, an error fails closed to `default`."""
    if compiled is None:
        return default
    try:
        return compiled.fn(env) is True
    except Exception:  # rules are type-checked at load; this is only the fail-closed backstop
        return default


def evaluate_visibility(q: Questionnaire, answers: Mapping[str, Any], *,
                        today: date | None = None, env: Env | None = None) -> Visibility:
    """Evaluate visibility and requiredness of every item, each once, in dependency order."""
    env = env or make_env(q, today)
    values: dict[str, Any] = {}
    env.values = values
    visible: dict[str, bool] = {}
    required: dict[str, bool] = {}
    rows: dict[str, list[tuple[frozenset[str], frozenset[str]]]] = {}
    out = (visible, required, rows)  # built once: this loop runs once per item
    for step in q.plan.steps:
        if step.kind == "item":
            _item(step, answers, env, out)
        elif step.kind == "section":
            visible["§" + step.id] = truth(step.visible_if, env, default=True)
        else:
            values[step.id] = truth(step.visible_if, env, default=False)
    return Visibility(visible, required, values, rows, q.plan.order)


def _item(step: Step, answers: Mapping[str, Any], env: Env,
          out: tuple[dict[str, bool], dict[str, bool], dict[str, Any]]) -> None:
    """Evaluate one item: shown, required, and its effective value."""
    visible, required, rows = out
    shown = visible.get(step.section_key, True) and truth(step.visible_if, env, default=True)
    visible[step.id] = shown
    required[step.id] = shown and (step.required or truth(step.required_expr, env, default=False))
    if not shown or step.convert is None:
        return
    value = step.convert(answers.get(step.id))
    if value is not None and step.columns:
        value, rows[step.id] = _table(step, value, env)
    if value is not None:
        env.values[step.id] = value


def _table(step: Step, raw_rows: list[Mapping[str, Any]], env: Env
           ) -> tuple[list[dict[str, Any]], list[tuple[frozenset[str], frozenset[str]]]]:
    """Evaluate each row's columns; hidden cells read as null."""
    out, shape = [], []
    for raw in raw_rows:
        row: dict[str, Any] = {}
        env.row = row
        shown, needed = set(), set()
        for col in step.columns:
            if not truth(col.visible_if, env, default=True):
                continue
            shown.add(col.id)
            if col.required or (col.required_expr and truth(col.required_expr, env, default=True)):
                needed.add(col.id)
            cell = col.convert(raw.get(col.id))
            if cell is not None:
                row[col.id] = cell
        out.append(row)
        shape.append((frozenset(shown), frozenset(needed)))
    env.row = None
    return out, shape
