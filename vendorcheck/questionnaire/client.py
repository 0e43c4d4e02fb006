"""The visibility plan for the browser: the engine's compiled steps as plain JSON.

`static/js/answer.js` replays these steps exactly like `evaluate.evaluate_visibility` does (items,
sections, computed values and table columns in dependency order), so it only evaluates ASTs and
never parses an expression. The server stays the authority: every save re-evaluates on its side.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from vendorcheck.questionnaire.evaluate import Step
from vendorcheck.questionnaire.expr.checker import Compiled
from vendorcheck.questionnaire.expr.parser import Call, Node, children, node_to_json
from vendorcheck.questionnaire.model import Questionnaire

FORMAT = 2  # steps name their converter ("convert"), not their item type


def client_plan(q: Questionnaire, *, today: date, answers: Mapping[str, Any] | None = None,
                targets: Iterable[str] | None = None, page: Iterable[str] = ()) -> dict[str, Any]:
    """Return the steps `targets`' visibility depends on (all steps when None), as JSON.

    `answers` are the stored answers; those of the items in `page` (read from the form by the
    script) are left out, except for those the form has no input for (files, notes).
    """
    needed = None if targets is None else _closure(q, targets)
    steps = [s for s in q.plan.steps if needed is None or _key(s) in needed]
    on_page = frozenset(page)
    values = answers or {}
    ids = [s.id for s in steps if s.kind == "item"]
    plan: dict[str, Any] = {
        "format": FORMAT, "today": today.isoformat(),
        "steps": [_step_json(q, s) for s in steps],
        "answers": {i: _jsonable(values[i]) for i in ids if i in values
                    and (i not in on_page or not q.item(i).kind.typed)},
    }
    if q.country_groups is not None and any(_uses_groups(s) for s in steps):
        plan["groups"] = {code: q.country_groups.group_of(code, on=today)
                          for code in sorted(q.country_groups.entries)}
    return plan


def _key(step: Step) -> str:
    return "§" + step.id if step.kind == "section" else step.id


def _closure(q: Questionnaire, targets: Iterable[str]) -> set[str]:
    """Return the items, computed values and sections (`§id`) the targets' visibility reads."""
    computed = {c.id: c.expr for c in q.computed}
    sections = {s.id: s for s in q.sections}
    seen: set[str] = set()
    stack = list(targets)
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in computed:
            stack.extend(computed[name].deps)
        elif q.has_item(name):
            item = q.item(name)
            rules = [item.visible_if, *(c.visible_if for c in item.columns)]
            section = sections.get(item.section or "")
            if section is not None and section.visible_if is not None:
                seen.add("§" + section.id)
                rules.append(section.visible_if)
            for rule in rules:
                if rule is not None:
                    stack.extend(rule.deps)
    return seen


def _rule(compiled: Compiled | None) -> dict[str, Any] | None:
    return None if compiled is None else node_to_json(compiled.node)


def _step_json(q: Questionnaire, step: Step) -> dict[str, Any]:
    """Return one step: what it is, its rule and, for items, the converter of its answer."""
    out: dict[str, Any] = {"k": step.kind, "id": step.id, "if": _rule(step.visible_if)}
    if step.kind == "item":
        item = q.item(step.id)
        out.update(section=step.section, convert=item.kind.widget.converter)
        if step.columns:
            out["columns"] = [{"id": c.id, "convert": item.column(c.id).kind.widget.converter,
                               "if": _rule(c.visible_if)} for c in step.columns]
    return out


def _uses_groups(step: Step) -> bool:
    rules = [step.visible_if, *(c.visible_if for c in step.columns)]
    return any(r is not None and _calls(r.node, "in_group") for r in rules)


def _calls(node: Node, name: str) -> bool:
    if isinstance(node, Call) and node.name == name:
        return True
    return any(_calls(child, name) for child in children(node))


def _jsonable(value: Any) -> Any:
    """Return a stored answer as JSON (dates as ISO text, tuples as lists)."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value
