"""The expression language: parser, type checker, evaluator and the JSON AST."""

from __future__ import annotations

import contextlib
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vendorcheck.questionnaire.expr.checker import Scope, Type, compile_expr
from vendorcheck.questionnaire.expr.evaluator import Env
from vendorcheck.questionnaire.expr.parser import BinOp, ExprError, Lit, Node, Not, Ref, node_to_json, parse

SCOPE = Scope(
    symbols={
        "yn": Type("string", frozenset({"yes", "no", "na"}), source="yn"),
        "n": Type("number", source="n"), "d": Type("date", source="d"),
        "txt": Type("string", source="txt"),
        "multi": Type("list", frozenset({"a", "b", "none"}), elem="string", source="multi"),
        "cl": Type("list", elem="string", country=True, source="cl"),
        "c": Type("string", country=True, source="c"),
        "tbl": Type("table", table="tbl", source="tbl"), "flag": Type("bool", source="flag"),
    },
    tables={"tbl": {"country": Type("string", country=True), "tool": Type(
        "string", frozenset({"scc", "none"}), source="tool"), "size": Type("number")}},
    categories=frozenset({"contract"}), has_groups=True,
)
GROUPS = {"FR": "eea", "NO": "eea", "CH": "adequate", "US": "adequate_partial"}
VALUES: dict[str, Any] = {
    "yn": "yes", "n": 24, "d": date(2026, 1, 10), "txt": "hello", "multi": ("a", "b"),
    "cl": ("FR", "US"), "c": "NO", "flag": True,
    "tbl": [{"country": "US", "tool": "none", "size": 3}, {"country": "FR", "size": 1}],
}


def run(text: str, values: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    compiled = compile_expr(text, SCOPE, want=None)
    env = Env(dict(VALUES if values is None else values), date(2026, 11, 23),
              lambda code: GROUPS.get(code, "third_country"))
    return compiled.evaluate(env)


@pytest.mark.parametrize(("text", "expected"), [
    ("yn == 'yes'", True), ("yn != 'yes'", False), ("n > 12 and n <= 24", True),
    ("not (n < 1)", True), ("n + 1 - 2 == 23", True), ("yn in ['yes', 'na']", True),
    ("yn not in ['yes']", False), ("selected(multi, 'a')", True),
    ("selected(multi, 'none')", False),
    ("count(multi)", 2), ("count(tbl)", 2), ("count(tbl, row.size > 1)", 1),
    ("any(tbl, row.tool == 'none')", True), ("all(tbl, row.tool == 'none')", False),
    ("all(tbl, row.tool == null or row.tool == 'none')", True),
    ("in_group(c, 'eea')", True), ("in_group('US', 'adequate')", False),
    ("in_group('US', 'adequate_partial')", True), ("in_group('BR', 'third_country')", True),
    ("any_country(cl, not in_group(it, 'eea'))", True),
    ("all_country(cl, in_group(it, 'eea'))", False),
    ("len(txt)", 5), ("d < today()", True), ("today() - d", 317), ("d + days(5) == d", False),
    ("today() - years(1) > d", False), ("answered(txt)", True), ("answered(missing_ok)", None),
    ("flag or false", True), ("true and null == null", True), ("'a\\'b' == 'a\\'b'", True),
    ("multi == ['b', 'a']", True), ("1.5 + 1 == 2.5", True),
])
def test_evaluates(text: str, expected: Any) -> None:
    if expected is None:
        with pytest.raises(ExprError):
            run(text)
    else:
        assert run(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("yn == 'yes'", False), ("yn != 'yes'", False), ("yn == null", True), ("yn != null", False),
    ("n > 3", False), ("n < 3", False), ("not (n > 3)", True), ("yn in ['yes']", False),
    ("selected(multi, 'a')", False), ("count(tbl)", 0), ("any(tbl, true)", False),
    ("all(tbl, false)", True), ("answered(txt)", False), ("n + 1 == null", True),
    ("d + days(1) == null", True), ("len(txt) == null", True), ("flag", None),
    ("in_group(c, 'eea')", False),
])
def test_null_semantics(text: str, expected: Any) -> None:
    assert run(text, values={}) == expected


@pytest.mark.parametrize(("text", "message", "column"), [
    ("a ==", "unexpected end of expression", 5), ("yn == 'x", "unterminated string", 7),
    ('yn == "x"', "single quotes", 7), ("yn # 1", "unexpected character '#'", 4),
    ("(yn == 'yes'", "expected ')'", 13), ("yn == 'yes' yn", "unexpected 'yn'", 13),
    ("[]", "empty list", 1), ("", "empty expression", 1), ("row.", "expected a name", 5),
    ("99999999999999999", "number too large", 1),
])
def test_syntax_errors(text: str, message: str, column: int) -> None:
    with pytest.raises(ExprError) as info:
        parse(text)
    assert message in info.value.message
    assert info.value.column == column


@pytest.mark.parametrize(("text", "message"), [
    ("foo == 1", "unknown item 'foo'"), ("yn == 3", "cannot compare 'yn' (a text) with a number"),
    ("yn == 'maybe'", "'maybe' is not a value of 'yn'"), ("yn in ['maybe']", "not a value"),
    ("n < 'x'", "needs two numbers or two dates"), ("yn and flag", "'and' needs a condition"),
    ("not n", "'not' needs a condition"), ("n + d", "cannot combine"),
    ("row.tool == 'scc'", "only allowed inside a table"), ("it == 'FR'", "'it' is only allowed"),
    ("any(tbl, row.nope == 1)", "unknown column 'nope'"),
    ("any(tbl, row.tool == 'x')", "'x' is not a value of 'tool'"),
    ("any(n, true)", "needs a table"), ("selected(multi, 'z')", "'z' is not one of"),
    ("len(txt, txt) > 1", "takes 1 argument(s), 2 given"), ("eval(txt)", "unknown function 'eval'"),
    ("score() > 50", "only allowed in tiers"), ("findings('high') > 0", "only allowed in tiers"),
    ("completeness() == 1", "only allowed in tiers"), ("in_group(txt, 'eea')", "needs a country"),
    ("in_group(c, 'moon')", "'moon' is not one of"), ("yn.x == 1", "unknown item 'yn.x'"),
    ("any_country(multi, true)", "needs a country list"), ("[1, 'a'] == [1]", "only texts or only"),
    ("tbl == tbl", "cannot compare"),
])
def test_type_errors(text: str, message: str) -> None:
    with pytest.raises(ExprError) as info:
        compile_expr(text, SCOPE, want=None)
    assert message in info.value.message


def test_condition_required() -> None:
    with pytest.raises(ExprError, match="expected a condition"):
        compile_expr("n + 1", SCOPE)


def test_tier_functions_allowed_in_tier_scope() -> None:
    from dataclasses import replace
    scope = replace(SCOPE, tier_context=True)
    compile_expr("score() < 60 or score('contract') < 50 or findings('high') > 0", scope)
    with pytest.raises(ExprError, match="'nope' is not one of contract"):
        compile_expr("score('nope') < 60", scope)


@pytest.mark.parametrize("text", ["x" * 1001, "not " * 40 + "true", "(" * 40 + "1" + ")" * 40])
def test_limits(text: str) -> None:
    with pytest.raises(ExprError, match="too (long|deep)"):
        parse(text)


def test_deps_are_collected() -> None:
    compiled = compile_expr("yn == 'yes' and any(tbl, row.size > n)", SCOPE)
    assert compiled.deps == {"yn", "tbl", "n"}


def test_ast_json() -> None:
    assert node_to_json(parse("not row.x in ['a'] or f(it, 1)")) == {
        "t": "op", "op": "or",
        "left": {"t": "not", "arg": {"t": "op", "op": "in", "left": {"t": "row", "col": "x"},
                                     "right": {"t": "list", "items": [{"t": "lit", "v": "a"}]}}},
        "right": {"t": "call", "fn": "f", "args": [{"t": "it"}, {"t": "lit", "v": 1}]},
    }


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from([*"ab'()[],.=!<>+- 0123456789_\\\"\t", "not ", " and ", " in ",
                                  "row.", "true", "null", "count(", "any("])).map("".join)
       | st.text(max_size=60))
def test_parse_raises_only_expr_error(text: str) -> None:
    with contextlib.suppress(ExprError):
        parse(text)


# Random well-typed ASTs: the evaluator must never raise, whatever the values.

def _bools(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    return st.one_of(
        st.builds(lambda a: Not(1, a), children),
        st.builds(lambda op, a, b: BinOp(1, op, a, b), st.sampled_from(["and", "or"]),
                  children, children),
    )


NUMBERS: st.SearchStrategy[Node] = st.recursive(
    st.one_of(st.builds(lambda v: Lit(1, v), st.integers(-10**6, 10**6)),
              st.just(Ref(1, "n"))),
    lambda kids: st.builds(lambda op, a, b: BinOp(1, op, a, b), st.sampled_from(["+", "-"]),
                           kids, kids), max_leaves=6)
DATES: st.SearchStrategy[Node] = st.one_of(st.just(Ref(1, "d")), st.just(parse("today()")),
                                           st.builds(lambda n: parse(f"d + days({n})"),
                                                     st.integers(0, 10**7)),
                                           st.builds(lambda n: parse(f"d - years({n})"),
                                                     st.integers(0, 10**5)))
ATOMS: st.SearchStrategy[Node] = st.one_of(
    st.builds(lambda op, a, b: BinOp(1, op, a, b), st.sampled_from(["<", "<=", "==", "!="]),
              NUMBERS, NUMBERS),
    st.builds(lambda op, a, b: BinOp(1, op, a, b), st.sampled_from([">", "==", "!="]),
              DATES, DATES),
    st.sampled_from([parse(t) for t in (
        "yn == 'yes'", "selected(multi, 'a')", "any(tbl, row.tool == 'none')", "flag",
        "all(tbl, row.size > n)", "in_group(c, 'eea')", "answered(txt)", "len(txt) > n",
        "any_country(cl, in_group(it, 'adequate'))", "yn in ['yes', 'na']")]),
)
CONDITIONS = st.recursive(ATOMS, _bools, max_leaves=8)
VALUE_SETS = st.fixed_dictionaries({}, optional={
    "yn": st.sampled_from(["yes", "no", "na"]), "n": st.integers(-10**9, 10**9) | st.floats(
        allow_nan=False, allow_infinity=False), "d": st.dates(), "txt": st.text(max_size=5),
    "multi": st.lists(st.sampled_from(["a", "b"]), unique=True).map(tuple),
    "cl": st.lists(st.sampled_from(["FR", "US", "ZZ"])).map(tuple), "c": st.sampled_from(
        ["FR", "US"]), "flag": st.booleans(),
    "tbl": st.lists(st.fixed_dictionaries({}, optional={
        "tool": st.sampled_from(["scc", "none"]), "size": st.integers(0, 5)}), max_size=3),
})


@settings(max_examples=300, deadline=None)
@given(CONDITIONS, VALUE_SETS)
def test_well_typed_asts_never_raise(node: Node, values: dict[str, Any]) -> None:
    from vendorcheck.questionnaire.expr.checker import _compile
    typ, fn = _compile(node, Scope(SCOPE.symbols, SCOPE.tables, SCOPE.categories, True))
    assert typ.kind == "bool"
    env = Env(values, date(2026, 11, 23), lambda code: GROUPS.get(code, "third_country"))
    assert fn(env) in (True, False, None)  # a bare unanswered boolean reads as null


def test_ref_node_is_plain_data() -> None:
    assert parse("row.country") == Ref(1, "row", "country")
