"""The condition language's syntax: tokens, the AST, the recursive-descent parser and its JSON form."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

MAX_LENGTH = 1000
MAX_DEPTH = 32
KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"})
RESERVED = KEYWORDS | {"row", "it"}
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
