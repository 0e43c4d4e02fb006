"""Why a finding was raised and why a tier was chosen: the answers, rows and countries behind them.

Finding rules, computed values and tier rules are compiled traced (`Scope.trace`): evaluated with
`env.trace` set, they record each node's value and what their loops matched. The walk below reads
that record along the expression's logic (the branch of an `or` that held, both sides of an `and`,
the rows an `any()` matched, the rows an `all()` missed...) and returns plain triggers, which the
pages and the report put into words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from vendorcheck.questionnaire.expr.checker import Compiled
from vendorcheck.questionnaire.expr.evaluator import Env, matched_by
from vendorcheck.questionnaire.expr.parser import BinOp, Call, ListLit, Lit, Node, Not, Ref
from vendorcheck.questionnaire.model import Item, Questionnaire, Tier

ROW_LOOPS = frozenset({"any", "count"})          # true when rows match: the matching rows explain it
ROW_MISSES = frozenset({"all"})                  # false when rows miss: the missing rows explain it
COUNTRY_LOOPS = frozenset({"any_country"})
COUNTRY_MISSES = frozenset({"all_country"})


@dataclass(frozen=True)
class Trigger:
    """One thing that raised a finding: an answer, a table row or a country of a list."""

    kind: str                 # answer, row, country
    item: str                 # the item (the table for rows, the country list for countries)
    index: int | None = None  # the row's position in the table
    code: str | None = None   # the country code


def finding_triggers(q: Questionnaire, when: Compiled, env: Env) -> tuple[Trigger, ...]:
    """Return what made `when` true in `env` (already holding the effective values), once each."""
    outer, env.trace = env.trace, {}
    try:
        if when.fn(env) is not True:
            return ()
        return tuple(dict.fromkeys(_Walker(q, env).why(when.node, True)))
    finally:
        env.trace = outer


class _Walker:
    """Follow an evaluated expression's logic back to the answers it read."""

    def __init__(self, q: Questionnaire, env: Env) -> None:
        self.q = q
        self.env = env
        self.computed = {c.id: c.expr for c in q.computed}

    def why(self, node: Node, want: bool) -> list[Trigger]:
        """Return the triggers that make `node` evaluate to `want` (true, or not true)."""
        if isinstance(node, Not):
            return self.why(node.operand, not want)
        if isinstance(node, BinOp) and node.op in ("and", "or"):
            return self._logic(node, want)
        if isinstance(node, Call):
            return self._call(node, want)
        if isinstance(node, Ref):
            return self._ref(node, want)
        if isinstance(node, BinOp):
            return self._leaves(node)
        return []

    def _holds(self, node: Node, want: bool) -> bool | None:
        """Whether a node's recorded value is `want` (None when it was never evaluated)."""
        if id(node) not in self.env.trace:  # type: ignore[operator]
            return None
        return (self.env.trace[id(node)] is True) == want  # type: ignore[index]

    def _logic(self, node: BinOp, want: bool) -> list[Trigger]:
        """`a and b` true (or `a or b` false) needs both sides; otherwise one side decides."""
        if (node.op == "and") == want:
            return self.why(node.left, want) + self.why(node.right, want)
        for side in (node.left, node.right):
            if self._holds(side, want):
                return self.why(side, want)
        return []

    def _call(self, node: Call, want: bool) -> list[Trigger]:
        """Rows or countries for loops; the answers read for any other function."""
        matched = matched_by(self.env.trace or {}, node)
        table = _ref_name(node.args[0]) if node.args else None
        if node.name == "selected" and want and table is not None and self._is_country_list(table):
            code = node.args[1].value if isinstance(node.args[1], Lit) else None
            return [Trigger("country", table, code=str(code))]
        if matched is not None and table is not None:
            if node.name in ROW_LOOPS and want:
                return [Trigger("row", table, index=i) for i in matched]
            if node.name in ROW_MISSES and not want:
                return [Trigger("row", table, index=i) for i in self._missed_rows(table, matched)]
            if node.name in COUNTRY_LOOPS and want:
                return [Trigger("country", table, code=code) for code in matched]
            if node.name in COUNTRY_MISSES and not want:
                listed = self.env.values.get(table) or ()
                return [Trigger("country", table, code=c) for c in listed if c not in matched]
        return self._leaves(node)

    def _is_country_list(self, item_id: str) -> bool:
        """Whether an item is a list of countries (selected() then names one country)."""
        if not self.q.has_item(item_id):
            return False
        kind = self.q.item(item_id).kind
        return kind.countries and kind.many

    def _missed_rows(self, table: str, matched: list[int]) -> list[int]:
        """Return the indices of the rows an all() did not match."""
        rows = self.env.values.get(table) or ()
        return [i for i in range(len(rows)) if i not in set(matched)]

    def _ref(self, node: Ref, want: bool) -> list[Trigger]:
        """A computed value is explained by its own expression; an item is its answer."""
        expr = self.computed.get(node.name)
        if expr is None:
            return self._leaves(node)
        if (expr.fn(self.env) is True) != want:
            return []
        return self.why(expr.node, want)

    def _leaves(self, node: Node) -> list[Trigger]:
        """Return the answers (and loop matches) a comparison or function call read."""
        out: list[Trigger] = []
        for child in _walk(node):
            if isinstance(child, Call) and child is not node and child.name in ROW_LOOPS:
                out += self._call(child, True)
            elif isinstance(child, Ref) and self.q.has_item(child.name) and child.attr is None:
                out.append(Trigger("answer", child.name))
            elif isinstance(child, Ref) and child.name in self.computed:
                out += self._ref(child, True)
        return out


def _ref_name(node: Node) -> str | None:
    """Return the item a loop iterates over, when it is named directly."""
    return node.name if isinstance(node, Ref) and node.attr is None else None


def _walk(node: Node) -> list[Node]:
    """Return the node and its descendants, not entering the conditions of loops."""
    out = [node]
    if isinstance(node, Call):
        args = node.args[:1] if node.name in ROW_LOOPS | ROW_MISSES | COUNTRY_LOOPS | COUNTRY_MISSES \
            else node.args
        for arg in args:
            out += _walk(arg)
    elif isinstance(node, BinOp):
        out += _walk(node.left) + _walk(node.right)
    elif isinstance(node, Not):
        out += _walk(node.operand)
    elif isinstance(node, ListLit):
        for element in node.items:
            out += _walk(element)
    return out


# --- in words -------------------------------------------------------------------------------------

AnswerText = Callable[[Item, Any], str]
CountryText = Callable[[str], str]


def describe(q: Questionnaire, trigger: Trigger, values: Mapping[str, Any], locale: str,
             answer_text: AnswerText, country_text: CountryText) -> dict[str, Any]:
    """Return a trigger as plain words for a template: the item's label and what it held."""
    item = q.item(trigger.item) if q.has_item(trigger.item) else None
    label = item.label.get(locale) if item is not None and item.label else trigger.item
    if trigger.kind == "country":
        return {"kind": "country", "label": label, "country": country_text(trigger.code or "")}
    if trigger.kind == "row" and item is not None:
        rows = values.get(trigger.item) or ()
        row = rows[trigger.index] if trigger.index is not None and trigger.index < len(rows) else {}
        name, country = _row_name(item, row, country_text)
        return {"kind": "row", "label": label, "number": (trigger.index or 0) + 1, "name": name,
                "country": country}
    value = values.get(trigger.item)
    shown = answer_text(item, value) if item is not None else str(value)
    return {"kind": "answer", "label": label, "value": shown}


def _row_name(table: Item, row: Mapping[str, Any], country_text: CountryText) -> tuple[str, str]:
    """Return a row's name (its first text cell) and its first country, for a reader."""
    name = next((str(row[c.id]) for c in table.columns
                 if c.kind.names_rows and row.get(c.id)), "")
    code = next((row[c.id] for c in table.columns
                 if c.kind.countries and not c.kind.many and row.get(c.id)), None)
    return name, country_text(code) if code else ""


# --- tier rules in words ----------------------------------------------------------------------------

TIER_FUNCTIONS = frozenset({"score", "findings", "completeness"})


def tier_rule_reasons(tier: Tier, context: Any) -> list[dict[str, Any]]:
    """Return the parts of a matched tier rule that held, as {kind, limit, value, ...}.

    Kinds: `score` (overall score vs a limit), `category` (a category's score), `findings` (how many
    findings of a severity), `completeness`, `always` (the catch-all `true`) and `rule` (any other
    expression, given as its text).
    """
    env = Env({}, date.today())
    env.tier = context
    env.trace = {}
    if tier.when.fn(env) is not True:
        return []
    return [_reason(part, context) for part in _true_parts(tier.when.node, env.trace)]


def _true_parts(node: Node, trace: Mapping[Any, Any]) -> list[Node]:
    """Split `a or b` into the disjuncts that held (and `a and b` into both)."""
    if isinstance(node, BinOp) and node.op in ("or", "and"):
        parts = [side for side in (node.left, node.right) if trace.get(id(side)) is True]
        if node.op == "and":
            parts = [node.left, node.right]
        return [p for side in parts for p in _true_parts(side, trace)]
    return [node]


def _reason(node: Node, context: Any) -> dict[str, Any]:
    """Describe one comparison of a tier rule against the tier context."""
    if isinstance(node, Lit) and node.value is True:
        return {"kind": "always"}
    if isinstance(node, BinOp) and isinstance(node.left, Call) and isinstance(node.right, Lit) \
            and node.left.name in TIER_FUNCTIONS:
        call, limit = node.left, node.right.value
        arg = call.args[0].value if call.args and isinstance(call.args[0], Lit) else None
        if call.name == "score" and arg is None:
            return {"kind": "score", "op": node.op, "limit": limit, "value": context.score}
        if call.name == "score":
            return {"kind": "category", "op": node.op, "limit": limit, "category": arg,
                    "value": context.category_scores.get(arg)}
        if call.name == "findings":
            return {"kind": "findings", "op": node.op, "limit": limit, "severity": arg,
                    "value": context.finding_counts.get(arg, 0)}
        return {"kind": "completeness", "op": node.op, "limit": limit, "value": context.completeness}
    return {"kind": "rule", "text": _text_of(node)}


def _text_of(node: Node) -> str:
    """Return a short rendering of an expression node for the fallback reason."""
    if isinstance(node, BinOp):
        return f"{_text_of(node.left)} {node.op} {_text_of(node.right)}"
    if isinstance(node, Call):
        return f"{node.name}({', '.join(_text_of(a) for a in node.args)})"
    if isinstance(node, Lit):
        return repr(node.value) if isinstance(node.value, str) else str(node.value).lower()
    if isinstance(node, Ref):
        return node.name if node.attr is None else f"{node.name}.{node.attr}"
    if isinstance(node, Not):
        return f"not {_text_of(node.operand)}"
    return "…"


# --- the verdict in parts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ExplainedFinding:
    """A finding as the reader sees it: its title, effective severity and triggers in words."""

    title: str
    severity: str
    triggers: tuple[dict[str, Any], ...] = ()
    remediated_on: str = ""        # the day (in words) the buyer accepted its fix: it counts no more
    accepted_risk: bool = False    # waived: the buyer accepted the risk, which still counts
    risk_until: str = ""           # the waiver's expiry (in words), if any


def explain_verdict(q: Questionnaire, verdict: Any, findings: Sequence[ExplainedFinding],
                    locale: str) -> dict[str, Any]:
    """Return why the tier is what it is, for a template to put into words.

    `reason` is finding (with the findings of the worst severity), rule (with the parts of the tier
    rule that held), incomplete (with how many required answers are missing), not_assessed, or none.
    `capped` holds the score shown and the score the answers alone give, when the tier lowered it.
    `remediated` lists the findings whose fix was accepted (they no longer count), `accepted_risks`
    the waived ones (they still count).
    """
    context = verdict.context
    counted = [f for f in findings if not f.remediated_on]
    out: dict[str, Any] = {"reason": verdict.reason, "tier": verdict.tier, "severity": verdict.severity,
                           "findings": [], "rule": [], "capped": None,
                           "remediated": [f for f in findings if f.remediated_on],
                           "accepted_risks": [f for f in counted if f.accepted_risk],
                           "completeness": round((context.completeness if context else 0) * 100),
                           "needed": round(max(q.assessed_from, 0.01) * 100)}
    if verdict.reason == "finding":
        out["findings"] = [f for f in counted if f.severity == verdict.severity]
    elif verdict.reason == "rule" and verdict.rule is not None and context is not None:
        labels = {c.id: c.label.get(locale) for c in q.categories}
        out["rule"] = [_with_label(part, labels) for part in tier_rule_reasons(verdict.rule, context)]
    if verdict.is_capped:
        out["capped"] = {"score": verdict.score, "uncapped": verdict.uncapped_score}
    return out


def _with_label(part: dict[str, Any], labels: Mapping[str, str]) -> dict[str, Any]:
    """Name a category reason by its label rather than its id."""
    if part.get("kind") == "category":
        return {**part, "category": labels.get(part["category"], part["category"])}
    return part
