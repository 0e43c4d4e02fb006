"""Answer validation: one row per rule, plus the blank and unknown-choice case of every type."""

from __future__ import annotations

from typing import Any

import pytest

from vendorcheck.questionnaire import Questionnaire, validate_answers


@pytest.mark.parametrize(("item", "value", "message"), [
    ("q999", "yes", "unknown item 'q999'"),
    ("has_dpa", "maybe", "'maybe' is not one of yes, no"),
    ("audits", "maybe", "'maybe' is not one of yes, no, na"),
    ("has_dpa", "na", "'na' is not one of yes, no"),
    ("has_dpa", 1, "is not one of"),
    ("hours", "abc", "must be a finite number ≥ 0"),
    ("hours", float("inf"), "must be a finite number ≥ 0"),
    ("hours", float("nan"), "must be a finite number ≥ 0"),
    ("hours", "1e309", "must be a finite number ≥ 0"),
    # Integers too large for a float are refused, not an OverflowError.
    pytest.param("hours", 10**400, "must be a finite number ≥ 0", id="hours-10**400"),
    pytest.param("hours", -(10**400), "must be a finite number ≥ 0", id="hours--10**400"),
    pytest.param("hours", 2 * 10**308, "must be a finite number ≥ 0", id="hours-2e308"),
    ("hours", "Infinity", "must be a finite number ≥ 0"),
    ("hours", "-1e400", "must be a finite number ≥ 0"),
    ("hours", -5, "must be a finite number ≥ 0"),
    ("hours", True, "must be a finite number"),
    ("measures", ["maybe"], "'maybe' is not one of mfa, enc, none"),
    ("measures", ["mfa", "none"], "'none' must be chosen alone"),
    ("measures", ["mfa", "mfa"], "a value is repeated"),
    ("measures", [1], "must be a list of texts"),
    ("notes", "x" * 21, "max 20 characters"),
    ("name", "x" * 501, "max 500 characters"),
    ("name", "a\x00b", "invalid control character"),
    ("name", "a\x1bb", "invalid control character"),
    ("name", "a\ud800b", "invalid Unicode"),
    ("name", 5, "must be a text"),
    ("since", "2026-13-01", "must be a date (YYYY-MM-DD)"),
    ("since", "1999-12-31", "must be on or after 2000-01-01"),
    ("since", "01/02/2026", "must be a date"),
    ("hq", "XX", "'XX' is not an ISO 3166-1 alpha-2 country code"),
    ("hq", "us", "not an ISO 3166-1"),
    ("regions", ["FR", "ZZ"], "'ZZ' is not an ISO"),
    ("site", "javascript:alert(1)", "must be an http:// or https:// address"),
    ("site", "ftp://x.example", "http"),
    ("contact", "not-an-email", "must be an e-mail address"),
    ("docs", ["a", "b", "c"], "at most 2 files"),
    ("docs", ["../x"], "unknown evidence id"),
    ("sign", {"agreed": False, "name": "A", "role": "B"}, "must be agreed"),
    ("sign", {"agreed": True, "name": "A"}, "name and role are required"),
    ("sign", {"agreed": True, "name": "A", "role": "B", "x": 1}, "unknown field 'x'"),
    ("sign", "yes", "must be {agreed, name, role}"),
    ("intro_note", "x", "a note takes no answer"),
    ("subs", "x", "must be a list of rows"),
    ("subs", [{"name": "A"}] * 4, "at most 3 rows"),
])
def test_invalid_answers(demo: Questionnaire, item: str, value: Any, message: str) -> None:
    result = validate_answers(demo, {item: value})
    assert [p.item for p in result.problems] == [item]
    assert message in result.problems[0].message
    assert item not in result.answers


def test_table_row_errors_are_named(demo: Questionnaire) -> None:
    rows = [{"name": "A", "country": "FR"}, {"name": "B", "country": "US", "tool": "x"},
            {"name": "A", "country": "XX", "nope": 1}]
    result = validate_answers(demo, {"subs": rows})
    assert [str(p) for p in result.problems] == [
        "subs[1].tool: 'x' is not one of scc, none",
        "subs[2].country: 'XX' is not an ISO 3166-1 alpha-2 country code",
        "subs[2].nope: unknown column",
        "subs[2].name: duplicate value 'A'",
    ]


def test_row_cap_is_500_whatever_max_rows(make_q: Any) -> None:
    from .samples import BASE
    q = make_q(BASE.replace("max_rows: 3", "max_rows: 500"))
    result = validate_answers(q, {"subs": [{"name": str(i)} for i in range(501)]})
    assert result.problems[0].message == "at most 500 rows"


@pytest.mark.parametrize("item", ["has_dpa", "audits", "hours", "measures", "subs", "contact",
                                  "site", "since", "hq", "regions", "notes", "name", "docs",
                                  "sign"])
@pytest.mark.parametrize("blank", [None, "", "  ", [], {}])
def test_blank_is_no_answer_for_every_type(demo: Questionnaire, item: str, blank: Any) -> None:
    result = validate_answers(demo, {item: blank})
    assert result.problems == []
    assert result.answers == {}


@pytest.mark.parametrize(("item", "value"), [
    ("has_dpa", "unknown"), ("audits", "unknown"), ("measures", ["unknown"]),
    ("subs", [{"tool": "unknown"}]), ("hq", "unknown"), ("regions", ["unknown"]),
    ("hours", "unknown"), ("since", "unknown"), ("contact", "unknown"), ("site", "unknown"),
    ("sign", "unknown"), ("docs", ["unknown!"]),
])
def test_unknown_choice_for_every_type(demo: Questionnaire, item: str, value: Any) -> None:
    result = validate_answers(demo, {item: value})
    assert len(result.problems) == 1


@pytest.mark.parametrize(("item", "value", "stored"), [
    ("hours", "24", 24), ("hours", "24.5", 24.5), ("hours", 24.0, 24), ("hours", " 7 ", 7),
    ("measures", "mfa", ["mfa"]), ("regions", ["NO", "SE"], ["NO", "SE"]),
    ("sign", {"agreed": "true", "name": " Ann ", "role": "DPO"},
     {"agreed": True, "name": "Ann", "role": "DPO"}),
    ("notes", "line\nbreak\ttab", "line\nbreak\ttab"), ("site", "https://x.example/a", None),
    ("contact", "dpo@x.example", None), ("since", "2026-01-31", None),
])
def test_valid_answers_are_normalised(demo: Questionnaire, item: str, value: Any,
                                      stored: Any) -> None:
    result = validate_answers(demo, {item: value})
    assert result.problems == []
    assert result.answers[item] == (value if stored is None else stored)


def test_hidden_answers_are_kept(demo: Questionnaire) -> None:
    result = validate_answers(demo, {"uses_sub": "no", "subs": [{"name": "A", "country": "FR"}]})
    assert "subs" in result.answers


def test_clean_text_refuses_exactly_the_control_characters_and_lone_surrogates() -> None:
    import unicodedata

    from vendorcheck.questionnaire.model import ALLOWED_CONTROLS, Invalid, clean_text

    refused = []
    for code in range(0x10000):  # the whole Basic Multilingual Plane, surrogates included
        try:
            clean_text(f"a{chr(code)}b", 10)
        except Invalid:
            refused.append(code)
    expected = [code for code in range(0x10000) if 0xD800 <= code <= 0xDFFF
                or (unicodedata.category(chr(code)) == "Cc" and chr(code) not in ALLOWED_CONTROLS)]
    assert refused == expected
    assert clean_text("line\r\nnext\tcell", 20) == "line\r\nnext\tcell"
    with pytest.raises(Invalid, match="max 4 characters"):
        clean_text("a\nbcd", 4)
