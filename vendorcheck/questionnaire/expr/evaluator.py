"""What compiled expressions run on: the environment, durations and the run-time meaning of operators.

The checker (`checker.py`) builds closures from these pieces; evaluating a rule never touches the
parser or the checker again.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from vendorcheck.questionnaire.expr.parser import Node


@dataclass(frozen=True)
class Duration:
    """A span added to or subtracted from dates: days(n) or years(n)."""

    days: float = 0
    years: float = 0


class Env:
    """What an evaluation reads: effective values, the current row or country, today, groups."""

    __slots__ = ("values", "row", "it", "today", "group_of", "tier", "trace")

    def __init__(self, values: dict[str, Any], today: date,
                 group_of: Callable[[str], str] | None = None, tier: Any = None) -> None:
        self.values = values
        self.row: Mapping[str, Any] | None = None
        self.it: str | None = None
        self.today = today
        self.group_of = group_of
        self.tier = tier
        # When a dict, traced expressions record each node's value and the rows or countries
        # their loops matched, keyed by node: the explanation of a finding reads it.
        self.trace: dict[Any, Any] | None = None


Fn = Callable[[Env], Any]


def traced(node: Node, fn: Fn) -> Fn:
    """Wrap `fn` so that an evaluation with `env.trace` set records the node's value."""
    key = id(node)

    def run(env: Env) -> Any:
        value = fn(env)
        if env.trace is not None:
            env.trace[key] = value
        return value

    return run


def arith_value(op: str, left: Any, right: Any) -> Any:
    """Compute `left op right`; any overflow gives null so evaluation stays total."""
    if left is None or right is None:
        return None
    try:
        if isinstance(left, Duration) and isinstance(right, Duration):
            sign = 1 if op == "+" else -1
            return Duration(left.days + sign * right.days, left.years + sign * right.years)
        if isinstance(right, Duration) or isinstance(left, Duration):
            return _shift(left, right, op)
        if isinstance(left, date):
            return (left - right).days
        result = left + right if op == "+" else left - right
        return result if math.isfinite(result) else None
    except (OverflowError, ValueError, TypeError):
        return None


def _shift(left: Any, right: Any, op: str) -> date:
    """Add or subtract a duration to a date."""
    day, span = (left, right) if isinstance(left, date) else (right, left)
    sign = 1 if op == "+" else -1
    total_days = span.days
    if span.years == int(span.years):
        day = _add_years(day, sign * int(span.years))
    else:
        total_days += span.years * 365.25
    return day + timedelta(days=sign * round(total_days))


def _add_years(day: date, years: int) -> date:
    """Move a date by whole years; 29 February becomes 28 February in other years."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def comparison(op: str, lf: Fn, rf: Fn, as_sets: bool) -> Fn:
    """Build the closure of a comparison that is false whenever a side is null."""
    test: Callable[[Any, Any], bool] = {
        "==": lambda a, b: a == b, "!=": lambda a, b: a != b,
        "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
        "in": lambda a, b: a in b, "not in": lambda a, b: a not in b,
    }[op]
    if as_sets:  # lists compare as sets: the order of ticked boxes does not matter
        inner = test
        test = lambda a, b: inner(frozenset(a), frozenset(b))  # noqa: E731

    def run(env: Env) -> bool:
        left, right = lf(env), rf(env)
        return left is not None and right is not None and test(left, right)

    return run


def counts_as_answer(value: Any) -> bool:
    """Return whether a value counts as an answer (non-empty text or list)."""
    if value is None:
        return False
    return not (isinstance(value, (str, tuple, list)) and len(value) == 0)


def matching_rows(env: Env, rows: Any, cond: Fn) -> list[int]:
    """Return the indices of the rows for which `cond` is true, restoring the outer row."""
    outer, found = env.row, []
    for index, row in enumerate(rows or ()):
        env.row = row
        if cond(env) is True:
            found.append(index)
    env.row = outer
    return found


def matching_countries(env: Env, codes: Any, cond: Fn) -> list[str]:
    """Return the country codes for which `cond` is true, restoring the outer `it`."""
    outer, found = env.it, []
    for code in codes or ():
        env.it = code
        if cond(env) is True:
            found.append(code)
    env.it = outer
    return found


def record_match(env: Env, node: Node, matched: list[Any]) -> None:
    """Remember what a loop matched, when the evaluation is traced."""
    if env.trace is not None:
        env.trace[("match", id(node))] = matched


def matched_by(trace: dict[Any, Any], node: Node) -> list[Any] | None:
    """Return the row indices or country codes a traced loop matched (None: not evaluated)."""
    return trace.get(("match", id(node)))
