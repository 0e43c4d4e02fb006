"""The condition language's type checker and compiler: each node is checked against the items and
compiled to a closure over `evaluator.Env`, so evaluating a rule is a few function calls.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from vendorcheck.questionnaire.expr.evaluator import (
    Duration,
    Env,
    Fn,
    arith_value,
    comparison,
    counts_as_answer,
    matching_countries,
    matching_rows,
    record_match,
    traced,
)
from vendorcheck.questionnaire.expr.parser import (
    BinOp,
    Call,
    ExprError,
    ListLit,
    Lit,
    Node,
    Not,
    Ref,
    node_to_json,
    parse,
)

GROUPS = ("eea", "adequate", "adequate_partial", "third_country")
SEVERITIES = ("critical", "high", "medium", "low", "info")


# ---------------------------------------------------------------------------- types


@dataclass(frozen=True)
class Type:
    """A static type; `values` lists the allowed strings of a choice, `literal` marks constants."""

    kind: str  # bool, number, string, date, duration, list, table, null
    values: frozenset[str] | None = None
    elem: str | None = None  # element kind of a list
    country: bool = False
    table: str | None = None
    source: str | None = None  # item id, for messages
    literal: bool = False

    def describe(self) -> str:
        """Name the type for an error message."""
        what = {"list": "a list", "table": "a table", "null": "null", "bool": "a condition",
                "duration": "a duration", "date": "a date", "number": "a number",
                "string": "a text"}[self.kind]
        return f"'{self.source}' ({what})" if self.source else what


BOOL = Type("bool")
NUMBER = Type("number")
DATE = Type("date")
DURATION = Type("duration")
NULL = Type("null")


@dataclass(frozen=True)
class Compiled:
    """A checked expression: its text, AST, result type, dependencies and compiled closure."""

    text: str
    node: Node
    type: Type
    fn: Fn = field(repr=False, compare=False)
    deps: frozenset[str] = frozenset()
    row_deps: frozenset[str] = frozenset()

    def evaluate(self, env: Env) -> Any:
        """Evaluate against `env`."""
        return self.fn(env)

    def truth(self, env: Env) -> bool:
        """Evaluate as a condition: only `true` is true (null is false)."""
        return self.fn(env) is True

    def to_json(self) -> dict[str, Any]:
        """Return the AST as JSON."""
        return node_to_json(self.node)


@dataclass
class Scope:
    """What names mean while checking one expression."""

    symbols: Mapping[str, Type]
    tables: Mapping[str, Mapping[str, Type]]
    categories: frozenset[str] = frozenset()
    has_groups: bool = False
    tier_context: bool = False
    row: Mapping[str, Type] | None = None
    row_table: str | None = None
    in_country: bool = False
    trace: bool = False  # record node values for explanations (findings and computed values)
    deps: set[str] = field(default_factory=set)
    row_deps: set[str] = field(default_factory=set)


# ---------------------------------------------------------------------------- nodes and operators


def compile_expr(text: str, scope: Scope, *, want: str | None = "bool") -> Compiled:
    """Parse, type-check and compile `text`; raise ExprError on any problem."""
    node = parse(text)
    scope = replace(scope, deps=set(), row_deps=set())
    typ, fn = _compile(node, scope)
    if want is not None and typ.kind != want:
        raise ExprError(f"expected a condition (true/false), got {typ.describe()}", 1)
    return Compiled(text, node, typ, fn, frozenset(scope.deps), frozenset(scope.row_deps))


def check(text: str, scope: Scope) -> Type:
    """Type-check `text` and return its type."""
    return compile_expr(text, scope, want=None).type


def _compile(node: Node, scope: Scope) -> tuple[Type, Fn]:
    """Check and compile one node; traced scopes record its value outside loops."""
    typ, fn = _compile_node(node, scope)
    if scope.trace and scope.row is None and not scope.in_country:
        fn = traced(node, fn)
    return typ, fn


def _compile_node(node: Node, scope: Scope) -> tuple[Type, Fn]:
    """Check and compile one node by its kind."""
    if isinstance(node, Lit):
        return _literal(node)
    if isinstance(node, Ref):
        return _ref(node, scope)
    if isinstance(node, Call):
        return _call(node, scope)
    if isinstance(node, Not):
        return _not(node, scope)
    if isinstance(node, ListLit):
        return _list(node, scope)
    assert isinstance(node, BinOp)
    if node.op in ("and", "or"):
        return _logic(node, scope)
    if node.op in ("+", "-"):
        return _arith(node, scope)
    return _compare(node, scope)


def _const(value: Any) -> Fn:
    """Return a closure yielding `value`."""
    return lambda env: value


def _literal(node: Lit) -> tuple[Type, Fn]:
    """Type a literal."""
    value = node.value
    if value is None:
        return NULL, _const(None)
    if isinstance(value, bool):
        return BOOL, _const(value)
    if isinstance(value, str):
        return Type("string", frozenset({value}), literal=True), _const(value)
    return Type("number", literal=True), _const(value)


def _ref(node: Ref, scope: Scope) -> tuple[Type, Fn]:
    """Type a reference to an item, computed value, row column or `it`."""
    if node.name == "row":
        return _row_ref(node, scope)
    if node.attr is not None:
        raise ExprError(f"unknown item '{node.name}.{node.attr}'", node.col)
    if node.name == "it":
        if not scope.in_country:
            raise ExprError("'it' is only allowed inside any_country()/all_country()", node.col)
        return Type("string", country=True), lambda env: env.it
    typ = scope.symbols.get(node.name)
    if typ is None:
        raise ExprError(f"unknown item '{node.name}'", node.col)
    scope.deps.add(node.name)
    name = node.name
    return typ, lambda env: env.values.get(name)


def _row_ref(node: Ref, scope: Scope) -> tuple[Type, Fn]:
    """Type `row.<column>`."""
    if node.attr is None or scope.row is None:
        raise ExprError("row.<column> is only allowed inside a table column or "
                        "any()/all()/count()", node.col)
    typ = scope.row.get(node.attr)
    if typ is None:
        raise ExprError(f"unknown column '{node.attr}' in table '{scope.row_table}'", node.col)
    scope.row_deps.add(node.attr)
    col = node.attr
    return typ, lambda env: env.row.get(col) if env.row is not None else None


def _not(node: Not, scope: Scope) -> tuple[Type, Fn]:
    """Type `not x`: null counts as false, so `not null` is true."""
    typ, fn = _compile(node.operand, scope)
    _need(typ, ("bool",), "'not'", node.col)
    return BOOL, lambda env: fn(env) is not True


def _logic(node: BinOp, scope: Scope) -> tuple[Type, Fn]:
    """Type `and` / `or`, short-circuiting at run time."""
    lt, lf = _compile(node.left, scope)
    rt, rf = _compile(node.right, scope)
    _need(lt, ("bool",), f"'{node.op}'", node.left.col)
    _need(rt, ("bool",), f"'{node.op}'", node.right.col)
    if node.op == "and":
        return BOOL, lambda env: lf(env) is True and rf(env) is True
    return BOOL, lambda env: lf(env) is True or rf(env) is True


def _need(typ: Type, kinds: tuple[str, ...], what: str, col: int) -> None:
    """Raise unless `typ` is one of `kinds`."""
    if typ.kind not in kinds:
        wanted = " or ".join(Type(k).describe() for k in kinds)
        raise ExprError(f"{what} needs {wanted}, got {typ.describe()}", col)


def _list(node: ListLit, scope: Scope) -> tuple[Type, Fn]:
    """Type a list literal: all strings or all numbers."""
    compiled = [_compile(item, scope) for item in node.items]
    kinds = {t.kind for t, _ in compiled}
    if len(kinds) != 1 or not kinds <= {"string", "number"}:
        raise ExprError("a list holds only texts or only numbers", node.col)
    values: frozenset[str] | None = None
    if all(t.literal and t.values for t, _ in compiled):
        values = frozenset().union(*(t.values or () for t, _ in compiled))
    fns = [f for _, f in compiled]
    typ = Type("list", values, elem=kinds.pop(), literal=values is not None)
    return typ, lambda env: tuple(f(env) for f in fns)


def _arith(node: BinOp, scope: Scope) -> tuple[Type, Fn]:
    """Type `+` / `-` over numbers and dates; null in, null out."""
    lt, lf = _compile(node.left, scope)
    rt, rf = _compile(node.right, scope)
    result = _arith_type(node.op, lt.kind, rt.kind)
    if result is None:
        raise ExprError(f"'{node.op}' cannot combine {lt.describe()} and {rt.describe()}",
                        node.col)
    op = node.op
    return result, lambda env: arith_value(op, lf(env), rf(env))


def _arith_type(op: str, left: str, right: str) -> Type | None:
    """Return the result type of an arithmetic operation, or None if invalid."""
    table = {("number", "number"): NUMBER, ("date", "duration"): DATE,
             ("duration", "duration"): DURATION}
    if op == "+":
        table[("duration", "date")] = DATE
    else:
        table[("date", "date")] = NUMBER
    return table.get((left, right))


def _compare(node: BinOp, scope: Scope) -> tuple[Type, Fn]:
    """Type a comparison; comparing with null is false except `== null` / `!= null`."""
    lt, lf = _compile(node.left, scope)
    rt, rf = _compile(node.right, scope)
    if node.op in ("in", "not in"):
        _check_in(node, lt, rt)
    elif node.op in ("==", "!="):
        if NULL in (lt, rt):
            other = rf if lt == NULL else lf
            if node.op == "==":
                return BOOL, lambda env: other(env) is None
            return BOOL, lambda env: other(env) is not None
        _check_equal(node, lt, rt)
    else:
        _check_order(node, lt, rt)
    return BOOL, comparison(node.op, lf, rf, lt.kind == "list")


def _check_equal(node: BinOp, lt: Type, rt: Type) -> None:
    """Refuse `==`/`!=` between different kinds, or a choice against a value it cannot take."""
    if lt.kind != rt.kind or lt.kind in ("table", "duration"):
        raise ExprError(f"cannot compare {lt.describe()} with {rt.describe()}", node.col)
    if lt.kind == "list" and lt.elem != rt.elem:
        raise ExprError(f"cannot compare {lt.describe()} with {rt.describe()}", node.col)
    _check_values(node, lt, rt)
    _check_values(node, rt, lt)


def _check_values(node: BinOp, choice: Type, other: Type) -> None:
    """Refuse literals that a choice item can never hold."""
    if choice.literal or choice.values is None or not other.literal or other.values is None:
        return
    for value in sorted(other.values - choice.values):
        allowed = ", ".join(sorted(choice.values))
        raise ExprError(f"'{value}' is not a value of '{choice.source}' ({allowed})", node.col)


def _check_order(node: BinOp, lt: Type, rt: Type) -> None:
    """Refuse `<`-style comparisons except between two numbers or two dates."""
    if lt.kind != rt.kind or lt.kind not in ("number", "date"):
        raise ExprError(f"'{node.op}' needs two numbers or two dates, got {lt.describe()} "
                        f"and {rt.describe()}", node.col)


def _check_in(node: BinOp, lt: Type, rt: Type) -> None:
    """Refuse `in` unless the right side is a list of the left side's kind."""
    if rt.kind != "list" or lt.kind != rt.elem:
        raise ExprError(f"'{node.op}' needs a value and a list of the same kind, got "
                        f"{lt.describe()} and {rt.describe()}", node.col)
    _check_values(node, lt, rt)
    _check_values(node, rt, lt)


# ---------------------------------------------------------------------------- functions


def _call(node: Call, scope: Scope) -> tuple[Type, Fn]:
    """Type and compile a whitelisted function call."""
    spec = _FUNCTIONS.get(node.name)
    if spec is None:
        raise ExprError(f"unknown function '{node.name}'", node.col)
    arities, handler, tier_only = spec
    if len(node.args) not in arities:
        expected = " or ".join(str(a) for a in arities)
        raise ExprError(f"{node.name}() takes {expected} argument(s), {len(node.args)} given",
                        node.col)
    if tier_only and not scope.tier_context:
        raise ExprError(f"{node.name}() is only allowed in tiers", node.col)
    return handler(node, scope)


def _arg(node: Call, index: int, scope: Scope, kinds: tuple[str, ...]) -> tuple[Type, Fn]:
    """Compile argument `index` and check its kind."""
    typ, fn = _compile(node.args[index], scope)
    _need(typ, kinds, f"{node.name}() argument {index + 1}", node.args[index].col)
    return typ, fn


def _literal_arg(node: Call, index: int, allowed: frozenset[str] | tuple[str, ...]) -> str:
    """Return a string-literal argument, checking it is one of `allowed`."""
    arg = node.args[index]
    if not isinstance(arg, Lit) or not isinstance(arg.value, str):
        raise ExprError(f"{node.name}() argument {index + 1} must be a quoted text", arg.col)
    if arg.value not in allowed:
        choices = ", ".join(sorted(allowed))
        raise ExprError(f"'{arg.value}' is not one of {choices}", arg.col)
    return arg.value


def _fn_answered(node: Call, scope: Scope) -> tuple[Type, Fn]:
    _, fn = _compile(node.args[0], scope)
    return BOOL, lambda env: counts_as_answer(fn(env))


def _fn_selected(node: Call, scope: Scope) -> tuple[Type, Fn]:
    typ, fn = _arg(node, 0, scope, ("list",))
    allowed = typ.values if typ.values is not None else frozenset([_lit_str(node, 1)])
    value = _literal_arg(node, 1, allowed)

    def run(env: Env) -> bool:
        chosen = fn(env)
        return chosen is not None and value in chosen

    return BOOL, run


def _lit_str(node: Call, index: int) -> str:
    """Return the literal text argument without checking its value."""
    arg = node.args[index]
    return arg.value if isinstance(arg, Lit) and isinstance(arg.value, str) else ""


def _fn_count(node: Call, scope: Scope) -> tuple[Type, Fn]:
    if len(node.args) == 1:
        _, fn = _arg(node, 0, scope, ("list", "table"))
        return NUMBER, lambda env: len(fn(env) or ())
    rows, cond = _row_loop(node, scope)

    def run(env: Env) -> int:
        found = matching_rows(env, rows(env), cond)
        record_match(env, node, found)
        return len(found)

    return NUMBER, run


def _row_loop(node: Call, scope: Scope) -> tuple[Fn, Fn]:
    """Compile `(table, cond)` where `cond` may use `row.<column>`."""
    typ, rows = _arg(node, 0, scope, ("table",))
    assert typ.table is not None
    inner = replace(scope, row=scope.tables[typ.table], row_table=typ.table, row_deps=set())
    ctype, cond = _compile(node.args[1], inner)
    _need(ctype, ("bool",), f"{node.name}() argument 2", node.args[1].col)
    return rows, cond


def _fn_any(node: Call, scope: Scope) -> tuple[Type, Fn]:
    rows, cond = _row_loop(node, scope)

    def run(env: Env) -> bool:
        found = matching_rows(env, rows(env), cond)
        record_match(env, node, found)
        return bool(found)

    return BOOL, run


def _fn_all(node: Call, scope: Scope) -> tuple[Type, Fn]:
    rows, cond = _row_loop(node, scope)

    def run(env: Env) -> bool:
        table = rows(env) or ()
        found = matching_rows(env, table, cond)
        record_match(env, node, found)
        return len(found) == len(table)

    return BOOL, run


def _country_loop(node: Call, scope: Scope) -> tuple[Fn, Fn]:
    """Compile `(country_list, cond)` where `cond` may use `it`."""
    typ, codes = _arg(node, 0, scope, ("list",))
    if not typ.country:
        raise ExprError(f"{node.name}() needs a country list", node.args[0].col)
    ctype, cond = _compile(node.args[1], replace(scope, in_country=True))
    _need(ctype, ("bool",), f"{node.name}() argument 2", node.args[1].col)
    return codes, cond


def _fn_any_country(node: Call, scope: Scope) -> tuple[Type, Fn]:
    codes, cond = _country_loop(node, scope)

    def run(env: Env) -> bool:
        found = matching_countries(env, codes(env), cond)
        record_match(env, node, found)
        return bool(found)

    return BOOL, run


def _fn_all_country(node: Call, scope: Scope) -> tuple[Type, Fn]:
    codes, cond = _country_loop(node, scope)

    def run(env: Env) -> bool:
        listed = codes(env) or ()
        found = matching_countries(env, listed, cond)
        record_match(env, node, found)
        return len(found) == len(listed)

    return BOOL, run


def _fn_in_group(node: Call, scope: Scope) -> tuple[Type, Fn]:
    if not scope.has_groups:
        raise ExprError("in_group() needs reference_data: [country_groups@<date>]", node.col)
    typ, fn = _arg(node, 0, scope, ("string",))
    if not (typ.country or typ.literal):
        raise ExprError(f"in_group() needs a country, got {typ.describe()}", node.args[0].col)
    group = _literal_arg(node, 1, GROUPS)

    def run(env: Env) -> bool:
        code = fn(env)
        return code is not None and env.group_of is not None and env.group_of(code) == group

    return BOOL, run


def _fn_len(node: Call, scope: Scope) -> tuple[Type, Fn]:
    _, fn = _arg(node, 0, scope, ("string", "list"))
    return NUMBER, lambda env: None if (value := fn(env)) is None else len(value)


def _fn_today(node: Call, scope: Scope) -> tuple[Type, Fn]:
    return DATE, lambda env: env.today


def _fn_span(node: Call, scope: Scope) -> tuple[Type, Fn]:
    _, fn = _arg(node, 0, scope, ("number",))
    if node.name == "days":
        return DURATION, lambda env: None if (n := fn(env)) is None else Duration(days=n)
    return DURATION, lambda env: None if (n := fn(env)) is None else Duration(years=n)


def _fn_score(node: Call, scope: Scope) -> tuple[Type, Fn]:
    if not node.args:
        return NUMBER, lambda env: env.tier.score
    category = _literal_arg(node, 0, scope.categories)
    return NUMBER, lambda env: env.tier.category_scores.get(category)


def _fn_findings(node: Call, scope: Scope) -> tuple[Type, Fn]:
    severity = _literal_arg(node, 0, SEVERITIES)
    return NUMBER, lambda env: env.tier.finding_counts.get(severity, 0)


def _fn_completeness(node: Call, scope: Scope) -> tuple[Type, Fn]:
    return NUMBER, lambda env: env.tier.completeness


Handler = Callable[[Call, Scope], tuple[Type, Fn]]
_FUNCTIONS: dict[str, tuple[tuple[int, ...], Handler, bool]] = {
    "answered": ((1,), _fn_answered, False),
    "selected": ((2,), _fn_selected, False),
    "count": ((1, 2), _fn_count, False),
    "any": ((2,), _fn_any, False),
    "all": ((2,), _fn_all, False),
    "any_country": ((2,), _fn_any_country, False),
    "all_country": ((2,), _fn_all_country, False),
    "in_group": ((2,), _fn_in_group, False),
    "len": ((1,), _fn_len, False),
    "today": ((0,), _fn_today, False),
    "days": ((1,), _fn_span, False),
    "years": ((1,), _fn_span, False),
    "score": ((0, 1), _fn_score, True),
    "findings": ((1,), _fn_findings, True),
    "completeness": ((0,), _fn_completeness, True),
}
FUNCTIONS = frozenset(_FUNCTIONS)
