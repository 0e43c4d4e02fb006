"""The condition language: tokenizer, recursive-descent parser, type checker and compiler.

Expressions are parsed once at load, checked against the items, then compiled to closures, so
evaluating a rule is a few function calls and never touches the parser again.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, NoReturn

MAX_LENGTH = 1000
MAX_DEPTH = 32
KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"})
RESERVED = KEYWORDS | {"row", "it"}
GROUPS = ("eea", "adequate", "adequate_partial", "third_country")
SEVERITIES = ("critical", "high", "medium", "low", "info")
CMP_OPS = frozenset({"==", "!=", "<", "<=", ">", ">="})

_TOKEN = re.compile(
    r"(?P<ws>\s+)|(?P<num>\d+(?:\.\d+)?)|(?P<str>'(?:[^'\\]|\\.)*')"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>==|!=|<=|>=|[<>()\[\],.+-])"
)


class ExprError(Exception):
    """A syntax or type error in an expression, with the 1-based column."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"column {column}: {message}")
        self.message = message
        self.column = column


# ---------------------------------------------------------------------------- tokens and AST


@dataclass(frozen=True)
class Token:
    """A lexical token."""

    kind: str  # num, str, name, kw, op, eof
    value: str
    col: int


@dataclass(frozen=True)
class Node:
    """Base of every AST node; `col` is the 1-based column where it starts."""

    col: int


@dataclass(frozen=True)
class Lit(Node):
    """A literal: string, number, boolean or null."""

    value: str | int | float | bool | None


@dataclass(frozen=True)
class Ref(Node):
    """An item or computed id, `row.<column>` or `it`."""

    name: str
    attr: str | None = None


@dataclass(frozen=True)
class Call(Node):
    """A call of a whitelisted function."""

    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Not(Node):
    """Logical negation."""

    operand: Node


@dataclass(frozen=True)
class BinOp(Node):
    """A binary operator: and, or, comparisons, in, not in, + and -."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class ListLit(Node):
    """A list literal `[a, b]`."""

    items: tuple[Node, ...]


def tokenize(text: str) -> list[Token]:
    """Split `text` into tokens, ending with an eof token."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.lastgroup is None:
            _bad_char(text, pos)
        kind, value = match.lastgroup, match.group()
        if kind != "ws":
            if kind == "name" and value in KEYWORDS:
                kind = "kw"
            tokens.append(Token(kind, value, pos + 1))
        pos = match.end()
    tokens.append(Token("eof", "", len(text) + 1))
    return tokens


def _bad_char(text: str, pos: int) -> NoReturn:
    """Raise the error for an unexpected character."""
    if text[pos] == "'":
        raise ExprError("unterminated string", pos + 1)
    if text[pos] == '"':
        raise ExprError("strings use single quotes", pos + 1)
    raise ExprError(f"unexpected character {text[pos]!r}", pos + 1)


def _unquote(raw: str) -> str:
    """Remove quotes and the `\\'` / `\\\\` escapes."""
    return re.sub(r"\\(.)", r"\1", raw[1:-1])


# ---------------------------------------------------------------------------- parser


def parse(text: str) -> Node:
    """Parse an expression into an AST; raise ExprError on any problem."""
    if not isinstance(text, str):
        raise ExprError("expression must be a string", 1)
    if len(text) > MAX_LENGTH:
        raise ExprError(f"expression too long (max {MAX_LENGTH:,} characters)", MAX_LENGTH + 1)
    if not text.strip():
        raise ExprError("empty expression", 1)
    node = _Parser(tokenize(text)).parse()
    if depth(node) > MAX_DEPTH:
        raise ExprError(f"expression too deep (max {MAX_DEPTH})", 1)
    return node


def depth(node: Node) -> int:
    """Return the depth of the AST."""
    return 1 + max((depth(child) for child in children(node)), default=0)


def children(node: Node) -> tuple[Node, ...]:
    """Return the direct children of a node."""
    if isinstance(node, Call):
        return node.args
    if isinstance(node, ListLit):
        return node.items
    if isinstance(node, Not):
        return (node.operand,)
    if isinstance(node, BinOp):
        return (node.left, node.right)
    return ()


class _Parser:
    """Recursive descent over the token list; `level` bounds the recursion."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.level = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        """Consume and return the current token."""
        token = self.tokens[self.pos]
        self.pos = min(self.pos + 1, len(self.tokens) - 1)
        return token

    def at(self, kind: str, value: str | None = None) -> bool:
        """Return whether the current token matches."""
        return self.tok.kind == kind and (value is None or self.tok.value == value)

    def expect(self, kind: str, value: str) -> Token:
        """Consume a required token."""
        if not self.at(kind, value):
            raise ExprError(f"expected '{value}', found {self._found()}", self.tok.col)
        return self.advance()

    def _found(self) -> str:
        return "end of expression" if self.tok.kind == "eof" else f"'{self.tok.value}'"

    def parse(self) -> Node:
        """Parse a whole expression and check nothing is left over."""
        node = self.expr()
        if not self.at("eof"):
            raise ExprError(f"unexpected {self._found()}", self.tok.col)
        return node

    def expr(self) -> Node:
        """expr := or"""
        self.level += 1
        if self.level > MAX_DEPTH:
            raise ExprError(f"expression too deep (max {MAX_DEPTH})", self.tok.col)
        node = self._binary("or", self._and)
        self.level -= 1
        return node

    def _and(self) -> Node:
        return self._binary("and", self._not)

    def _binary(self, word: str, sub: Callable[[], Node]) -> Node:
        """Parse `sub (word sub)*` left-associatively."""
        node = sub()
        while self.at("kw", word):
            col = self.advance().col
            node = BinOp(col, word, node, sub())
        return node

    def _not(self) -> Node:
        """not := "not" not | cmp"""
        if not self.at("kw", "not"):
            return self._cmp()
        col = self.advance().col
        self.level += 1
        if self.level > MAX_DEPTH:
            raise ExprError(f"expression too deep (max {MAX_DEPTH})", col)
        node = Not(col, self._not())
        self.level -= 1
        return node

    def _cmp(self) -> Node:
        """cmp := sum (op sum)?"""
        left = self._sum()
        op, col = self._cmp_op()
        if op is None:
            return left
        return BinOp(col, op, left, self._sum())

    def _cmp_op(self) -> tuple[str | None, int]:
        """Consume a comparison operator if present."""
        col = self.tok.col
        if self.tok.kind == "op" and self.tok.value in CMP_OPS:
            return self.advance().value, col
        if self.at("kw", "in"):
            self.advance()
            return "in", col
        if self.at("kw", "not") and self.tokens[self.pos + 1].value == "in":
            self.advance()
            self.advance()
            return "not in", col
        return None, col

    def _sum(self) -> Node:
        """sum := atom (("+" | "-") atom)*"""
        node = self._atom()
        while self.at("op", "+") or self.at("op", "-"):
            token = self.advance()
            node = BinOp(token.col, token.value, node, self._atom())
        return node

    def _atom(self) -> Node:
        """Parse a literal, reference, call, parenthesised expression or list."""
        token = self.tok
        if token.kind == "num":
            return Lit(self.advance().col, _number(token))
        if token.kind == "str":
            return Lit(self.advance().col, _unquote(token.value))
        if token.kind == "kw" and token.value in ("true", "false", "null"):
            self.advance()
            return Lit(token.col, {"true": True, "false": False}.get(token.value))
        if token.kind == "name":
            return self._name()
        if self.at("op", "("):
            self.advance()
            node = self.expr()
            self.expect("op", ")")
            return node
        if self.at("op", "["):
            return self._list()
        raise ExprError(f"unexpected {self._found()}", token.col)

    def _name(self) -> Node:
        """Parse `name`, `name.attr` or `name(args)`."""
        token = self.advance()
        if self.at("op", "("):
            self.advance()
            return Call(token.col, token.value, self._args(")"))
        if self.at("op", "."):
            self.advance()
            if not self.at("name"):
                raise ExprError(f"expected a name after '.', found {self._found()}", self.tok.col)
            return Ref(token.col, token.value, self.advance().value)
        return Ref(token.col, token.value)

    def _list(self) -> Node:
        """Parse `[expr, ...]`."""
        col = self.advance().col
        items = self._args("]")
        if not items:
            raise ExprError("empty list", col)
        return ListLit(col, items)

    def _args(self, close: str) -> tuple[Node, ...]:
        """Parse comma-separated expressions up to `close`."""
        args: list[Node] = []
        if not self.at("op", close):
            args.append(self.expr())
            while self.at("op", ","):
                self.advance()
                args.append(self.expr())
        self.expect("op", close)
        return tuple(args)


def _number(token: Token) -> int | float:
    """Convert a number token, refusing values too large to be finite."""
    if "." not in token.value:
        if len(token.value) > 15:
            raise ExprError("number too large", token.col)
        return int(token.value)
    value = float(token.value)
    if not math.isfinite(value) or len(token.value) > 30:
        raise ExprError("number too large", token.col)
    return value


# ---------------------------------------------------------------------------- JSON for the browser


def node_to_json(node: Node) -> dict[str, Any]:
    """Serialise an AST to plain JSON for a small browser-side interpreter."""
    if isinstance(node, Lit):
        return {"t": "lit", "v": node.value}
    if isinstance(node, Ref):
        if node.name == "row":
            return {"t": "row", "col": node.attr}
        return {"t": "it"} if node.name == "it" else {"t": "ref", "id": node.name}
    if isinstance(node, Call):
        return {"t": "call", "fn": node.name, "args": [node_to_json(a) for a in node.args]}
    if isinstance(node, Not):
        return {"t": "not", "arg": node_to_json(node.operand)}
    if isinstance(node, BinOp):
        return {"t": "op", "op": node.op, "left": node_to_json(node.left),
                "right": node_to_json(node.right)}
    assert isinstance(node, ListLit)
    return {"t": "list", "items": [node_to_json(i) for i in node.items]}


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
        fn = _traced(node, fn)
    return typ, fn


def _traced(node: Node, fn: Fn) -> Fn:
    """Wrap `fn` so that an evaluation with `env.trace` set records the node's value."""
    key = id(node)

    def run(env: Env) -> Any:
        value = fn(env)
        if env.trace is not None:
            env.trace[key] = value
        return value

    return run


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
    return result, lambda env: _arith_value(op, lf(env), rf(env))


def _arith_type(op: str, left: str, right: str) -> Type | None:
    """Return the result type of an arithmetic operation, or None if invalid."""
    table = {("number", "number"): NUMBER, ("date", "duration"): DATE,
             ("duration", "duration"): DURATION}
    if op == "+":
        table[("duration", "date")] = DATE
    else:
        table[("date", "date")] = NUMBER
    return table.get((left, right))


def _arith_value(op: str, left: Any, right: Any) -> Any:
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
    return BOOL, _comparison(node.op, lf, rf, lt.kind == "list")


def _comparison(op: str, lf: Fn, rf: Fn, as_sets: bool) -> Fn:
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


def _is_answered(value: Any) -> bool:
    """Return whether a value counts as an answer (non-empty text or list)."""
    if value is None:
        return False
    return not (isinstance(value, (str, tuple, list)) and len(value) == 0)


def _fn_answered(node: Call, scope: Scope) -> tuple[Type, Fn]:
    _, fn = _compile(node.args[0], scope)
    return BOOL, lambda env: _is_answered(fn(env))


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
        found = _matching(env, rows(env), cond)
        _record(env, node, found)
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


def _matching(env: Env, rows: Any, cond: Fn) -> list[int]:
    """Return the indices of the rows for which `cond` is true, restoring the outer row."""
    outer, found = env.row, []
    for index, row in enumerate(rows or ()):
        env.row = row
        if cond(env) is True:
            found.append(index)
    env.row = outer
    return found


def _record(env: Env, node: Node, matched: list[Any]) -> None:
    """Remember what a loop matched, when the evaluation is traced."""
    if env.trace is not None:
        env.trace[("match", id(node))] = matched


def matched_by(trace: dict[Any, Any], node: Node) -> list[Any] | None:
    """Return the row indices or country codes a traced loop matched (None: not evaluated)."""
    return trace.get(("match", id(node)))


def _fn_any(node: Call, scope: Scope) -> tuple[Type, Fn]:
    rows, cond = _row_loop(node, scope)

    def run(env: Env) -> bool:
        found = _matching(env, rows(env), cond)
        _record(env, node, found)
        return bool(found)

    return BOOL, run


def _fn_all(node: Call, scope: Scope) -> tuple[Type, Fn]:
    rows, cond = _row_loop(node, scope)

    def run(env: Env) -> bool:
        table = rows(env) or ()
        found = _matching(env, table, cond)
        _record(env, node, found)
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


def _countries(env: Env, codes: Any, cond: Fn) -> list[str]:
    """Return the country codes for which `cond` is true, restoring the outer `it`."""
    outer, found = env.it, []
    for code in codes or ():
        env.it = code
        if cond(env) is True:
            found.append(code)
    env.it = outer
    return found


def _fn_any_country(node: Call, scope: Scope) -> tuple[Type, Fn]:
    codes, cond = _country_loop(node, scope)

    def run(env: Env) -> bool:
        found = _countries(env, codes(env), cond)
        _record(env, node, found)
        return bool(found)

    return BOOL, run


def _fn_all_country(node: Call, scope: Scope) -> tuple[Type, Fn]:
    codes, cond = _country_loop(node, scope)

    def run(env: Env) -> bool:
        listed = codes(env) or ()
        found = _countries(env, listed, cond)
        _record(env, node, found)
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
