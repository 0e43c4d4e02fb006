"""The verdict: tiers never better than the worst finding, scores that never contradict the tier."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from vendorcheck.questionnaire import Questionnaire, QuestionnaireError, score, validate_answers

from .samples import BASE

FULL: dict[str, Any] = {"has_dpa": "yes", "audits": "yes", "hours": 12, "measures": ["mfa", "enc"],
                        "uses_sub": "no"}

FLOORED_TIERS = """\
scoring: {assessed_from: 0.5}
tiers:
  - {id: unacceptable, when: "findings('critical') > 0", floor: critical, score_max: 39.9,
     label: {en: U, fr: U}}
  - {id: high, when: "score() < 60 or findings('high') >= 2", floor: high, score_max: 59.9,
     label: {en: H, fr: H}}
  - {id: medium, when: "score() < 80", floor: medium, score_max: 79.9, label: {en: M, fr: M}}
  - {id: low, when: "true", label: {en: L, fr: L}}
tests:
"""

EXTRA_FINDINGS = """\
  - {id: slow_breach, severity: medium, when: "hours > 24", title: {en: Slow, fr: Lent}}
  - {id: no_audit, severity: critical, when: "audits == 'no'", title: {en: No audit, fr: Pas d'audit}}
"""


def _floored(base: str = BASE) -> str:
    head, _, _ = base.partition("tiers:\n")
    head = head.replace("  - {id: no_dpa, severity: high", EXTRA_FINDINGS + "  - {id: no_dpa, severity: high")
    return head + FLOORED_TIERS + "  []\n"


@pytest.fixture
def floored(make_q: Callable[..., Questionnaire]) -> Questionnaire:
    return make_q(_floored().replace("tests:\n  []\n", ""))


def _score(q: Questionnaire, answers: dict[str, Any]) -> Any:
    checked = validate_answers(q, answers)
    assert not checked.problems, checked.problems
    return score(q, checked.answers, today=date(2026, 12, 4))


@pytest.mark.parametrize(("changes", "tier", "score_max", "reason", "severity"), [
    ({}, "low", 100, "rule", None),
    ({"has_dpa": "no"}, "high", 59.9, "finding", "high"),          # 66.7 by points: capped to the tier
    ({"hours": 48}, "medium", 79.9, "finding", "medium"),         # 91.7 by points: a medium finding
    ({"audits": "no"}, "unacceptable", 39.9, "finding", "critical"),
    ({"measures": ["none"], "hours": None}, "medium", 79.9, "rule", None),  # 75.0: the score rule
])
def test_tier_follows_the_worst_finding_and_caps_the_score(
        floored: Questionnaire, changes: dict[str, Any], tier: str, score_max: float, reason: str,
        severity: str | None) -> None:
    answers = {k: v for k, v in {**FULL, **changes}.items() if v is not None}
    result = _score(floored, answers)
    assert result.tier == tier
    assert result.score is not None and result.score <= score_max
    assert result.verdict.reason == reason and result.verdict.severity == severity
    assert result.verdict.uncapped_score >= result.score


def test_capped_score_keeps_the_uncapped_value_beside_it(floored: Questionnaire) -> None:
    result = _score(floored, {**FULL, "has_dpa": "no"})
    assert result.verdict.is_capped
    assert result.verdict.uncapped_score == pytest.approx(66.7, abs=0.1)
    assert result.score == 59.9


def test_a_finding_cannot_improve_a_worse_rule_tier(floored: Questionnaire) -> None:
    # score 41.7 by points: the rule says high, a medium finding must not lift it to medium.
    result = _score(floored, {**FULL, "has_dpa": "no", "audits": "na", "measures": ["none"],
                              "hours": 48})
    assert result.tier == "high"


def test_nothing_answered_is_not_assessed(floored: Questionnaire, demo: Questionnaire) -> None:
    for q in (floored, demo):  # also for files that declare no threshold
        result = _score(q, {})
        assert result.score is None and result.tier is None
        assert result.verdict.reason == "not_assessed"


def test_below_the_threshold_only_a_finding_sets_a_tier(floored: Questionnaire) -> None:
    partial = _score(floored, {"has_dpa": "yes"})           # 1 of 3 required items
    assert partial.completeness < 0.5
    assert (partial.score, partial.tier) == (None, None)
    forced = _score(floored, {"audits": "no"})              # a knockout answered first
    assert forced.score is None and forced.tier == "unacceptable"


def test_files_without_floors_keep_their_results(demo: Questionnaire) -> None:
    """Published 1.0.0 files declare no floor: their pinned assessments score as before."""
    result = _score(demo, {**FULL, "has_dpa": "no"})
    assert (result.tier, result.score) == ("medium", pytest.approx(66.7, abs=0.1))


@pytest.mark.parametrize(("tiers", "message"), [
    ("  - {id: a, when: \"true\", floor: medium, label: {en: A, fr: A}}\n"
     "  - {id: b, when: \"true\", floor: high, label: {en: B, fr: B}}\n",
     "floors must name milder severities in later tiers"),
    ("  - {id: a, when: \"true\", score_max: 80, label: {en: A, fr: A}}\n"
     "  - {id: b, when: \"true\", score_max: 50, label: {en: B, fr: B}}\n",
     "score_max must not fall in later tiers"),
    ("  - {id: a, when: \"true\", score_max: 180, label: {en: A, fr: A}}\n", "must be at most 100"),
    ("  - {id: a, when: \"true\", floor: severe, label: {en: A, fr: A}}\n", "Must be one of"),
])
def test_contradictory_tier_settings_are_load_errors(make_q: Callable[..., Questionnaire], tiers: str,
                                                    message: str) -> None:
    head, _, _ = BASE.partition("tiers:\n")
    with pytest.raises(QuestionnaireError, match=message):
        make_q(head + "tiers:\n" + tiers)


def test_embedded_test_can_expect_not_assessed(make_q: Callable[..., Questionnaire]) -> None:
    from vendorcheck.questionnaire.testing import run_embedded_tests

    text = _floored().replace("tests:\n  []\n", """tests:
  - {name: empty, answers: {}, expect: {assessed: false}}
  - {name: wrong, answers: {}, expect: {assessed: true}}
""")
    problems = run_embedded_tests(make_q(text))
    assert [p.message for p in problems] == ["test 'wrong': expected a score, got None"]


# --- accepted fixes and waivers (docs/remediation.md) ------------------------------------------------


def test_a_remediated_finding_no_longer_counts_and_lifts_the_cap(floored: Questionnaire) -> None:
    from vendorcheck.questionnaire.reviewed import (
        FINDING_REMEDIATED,
        OverrideValue,
        reviewed_result,
    )

    answers = validate_answers(floored, {**FULL, "has_dpa": "no"}).answers
    day = date(2026, 12, 4)
    before = reviewed_result(floored, answers, today=day)
    assert (before.tier, before.score, before.verdict.reason) == ("high", 59.9, "finding")
    fixed = reviewed_result(floored, answers, [OverrideValue(FINDING_REMEDIATED, "no_dpa",
                                                             "2026-12-05")], today=day)
    # the answers are unchanged (66.7 by points): only the finding's cap on the score is gone
    assert fixed.tier == "medium" and fixed.score == 66.7 and fixed.verdict.reason == "rule"
    assert fixed.remediated == {"no_dpa": date(2026, 12, 5)}
    assert fixed.computed.findings[0].id == "no_dpa"  # still raised by the answers, kept beside it
    # a malformed day is ignored: the finding keeps counting (fail closed)
    broken = reviewed_result(floored, answers, [OverrideValue(FINDING_REMEDIATED, "no_dpa", "soon")],
                             today=day)
    assert broken.tier == "high"


def test_the_explanation_names_remediated_and_accepted_risk_findings() -> None:
    from types import SimpleNamespace

    from vendorcheck.questionnaire.explain import ExplainedFinding, explain_verdict

    q = SimpleNamespace(assessed_from=0.5, categories=[])
    verdict = SimpleNamespace(reason="finding", tier="high", severity="high", context=None,
                              rule=None, is_capped=False)
    findings = [ExplainedFinding("Fixed", "high", remediated_on="5 Dec 2026"),
                ExplainedFinding("Waived", "high", accepted_risk=True, risk_until="1 Mar 2027"),
                ExplainedFinding("Open", "high")]
    out = explain_verdict(q, verdict, findings, "en")  # type: ignore[arg-type]
    assert [f.title for f in out["findings"]] == ["Waived", "Open"]  # what still sets the tier
    assert [f.title for f in out["remediated"]] == ["Fixed"]
    assert [f.title for f in out["accepted_risks"]] == ["Waived"]
