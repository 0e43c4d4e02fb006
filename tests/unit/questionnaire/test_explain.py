"""Each raised finding names what triggered it; a tier rule is told in parts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from vendorcheck.questionnaire import Questionnaire, score, validate_answers
from vendorcheck.questionnaire.explain import Trigger, describe, tier_rule_reasons
from vendorcheck.questionnaire.scoring import TierContext

from .samples import BASE

FULL: dict[str, Any] = {"has_dpa": "yes", "audits": "yes", "hours": 12, "measures": ["mfa", "enc"],
                        "uses_sub": "no"}

EXTRA = """\
  - {id: us_listed, severity: medium, when: "any_country(regions, it == 'US') and has_dpa == 'yes'",
     title: {en: US region, fr: Région US}}
  - {id: not_all_eea, severity: low, when: "not all_country(regions, in_group(it, 'eea'))",
     title: {en: Outside EEA, fr: Hors EEE}}
  - {id: tools_missing, severity: high, when: "not tools_ok", title: {en: Tools, fr: Outils}}
  - {id: us_selected, severity: low, when: "selected(regions, 'US') and selected(measures, 'mfa')",
     title: {en: S, fr: S}}
  - {id: either, severity: low, when: "hours > 48 or has_dpa == 'no'", title: {en: E, fr: E}}
"""


@pytest.fixture
def q(make_q: Callable[..., Questionnaire]) -> Questionnaire:
    return make_q(BASE.replace("  - {id: no_dpa, severity: high", EXTRA + "  - {id: no_dpa, severity: high"))


def _findings(q: Questionnaire, answers: dict[str, Any]) -> dict[str, tuple[Trigger, ...]]:
    checked = validate_answers(q, answers)
    assert not checked.problems, checked.problems
    result = score(q, checked.answers, today=date(2026, 12, 4))
    return {f.id: f.triggers for f in result.findings}


SUBS = [{"name": "Acme", "country": "US", "tool": "none"},
        {"name": "Globex", "country": "US", "tool": "scc"},
        {"name": "Initech", "country": "US", "tool": "none"}]


def test_any_names_the_matching_rows_only(q: Questionnaire) -> None:
    found = _findings(q, {**FULL, "uses_sub": "yes", "subs": SUBS})
    assert found["no_tool"] == (Trigger("row", "subs", index=0), Trigger("row", "subs", index=2))


def test_a_computed_value_is_explained_through_its_own_rule(q: Questionnaire) -> None:
    # tools_ok is all(subs, ...): when it fails, the rows that miss it are the reason.
    found = _findings(q, {**FULL, "uses_sub": "yes", "subs": SUBS})
    assert found["tools_missing"] == (Trigger("row", "subs", index=0), Trigger("row", "subs", index=2))


def test_countries_and_answers_of_an_and(q: Questionnaire) -> None:
    found = _findings(q, {**FULL, "regions": ["FR", "US", "CH"]})
    assert found["us_listed"] == (Trigger("country", "regions", code="US"), Trigger("answer", "has_dpa"))
    assert found["not_all_eea"] == (Trigger("country", "regions", code="US"),
                                    Trigger("country", "regions", code="CH"))


@pytest.mark.parametrize(("answers", "expected"), [
    ({"hours": 72}, (Trigger("answer", "hours"),)),
    ({"has_dpa": "no"}, (Trigger("answer", "has_dpa"),)),    # only the branch of the or that held
])
def test_or_names_the_branch_that_held(q: Questionnaire, answers: dict[str, Any],
                                       expected: tuple[Trigger, ...]) -> None:
    assert _findings(q, {**FULL, **answers})["either"] == expected


def test_describe_puts_rows_countries_and_answers_into_words(q: Questionnaire) -> None:
    values = {"subs": SUBS, "has_dpa": "no", "regions": ["US"]}
    words = {"US": "United States", "FR": "France"}
    kwargs = {"answer_text": lambda item, value: f"<{value}>", "country_text": words.get}
    assert describe(q, Trigger("row", "subs", index=2), values, "en", **kwargs) == {
        "kind": "row", "label": "Subs", "number": 3, "name": "Initech", "country": "United States"}
    assert describe(q, Trigger("country", "regions", code="US"), values, "fr", **kwargs) == {
        "kind": "country", "label": "Régions", "country": "United States"}
    assert describe(q, Trigger("answer", "has_dpa"), values, "en", **kwargs) == {
        "kind": "answer", "label": "DPA?", "value": "<no>"}


def test_tier_rule_reasons_name_the_parts_that_held(q: Questionnaire) -> None:
    high = next(t for t in q.tiers if t.id == "high")   # score() < 60 or findings('high') >= 2
    context = TierContext(55.0, {}, {"high": 1}, 1.0)
    assert tier_rule_reasons(high, context) == [
        {"kind": "score", "op": "<", "limit": 60, "value": 55.0}]
    findings = TierContext(70.0, {}, {"high": 3}, 1.0)    # `or` stops at the first part that held
    assert tier_rule_reasons(high, findings) == [
        {"kind": "findings", "op": ">=", "limit": 2, "severity": "high", "value": 3}]
    low = next(t for t in q.tiers if t.id == "low")
    assert tier_rule_reasons(low, context) == [{"kind": "always"}]


def test_selected_names_the_country_of_a_country_list_and_the_answer_of_a_choice(q: Questionnaire) -> None:
    found = _findings(q, {**FULL, "regions": ["FR", "US"]})
    assert found["us_selected"] == (Trigger("country", "regions", code="US"), Trigger("answer", "measures"))
