"""Scoring rules, as parametrized tables over the demo questionnaire."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from vendorcheck.questionnaire import (
    Questionnaire,
    evaluate_visibility,
    result_as_json,
    score,
    validate_answers,
)

from .samples import BASE

FULL: dict[str, Any] = {"has_dpa": "yes", "audits": "yes", "hours": 12, "measures": ["mfa", "enc"],
                        "uses_sub": "no"}


MEASURES_HIDDEN = "      - id: measures\n        visible_if: \"uses_sub == 'yes'\"\n"


def scored(q: Questionnaire, answers: dict[str, Any]) -> Any:
    checked = validate_answers(q, answers)
    assert not checked.problems, checked.problems
    return score(q, checked.answers, today=date(2026, 11, 23))


def cat(result: Any, cid: str) -> Any:
    return next(c for c in result.categories if c.id == cid)


@pytest.mark.parametrize(("changes", "contract", "security", "overall", "tier"), [
    ({}, 100.0, 100.0, 100.0, "low"),
    ({"audits": "na"}, 100.0, 100.0, 100.0, "low"),                  # N/A left out of both sums
    ({"audits": "no"}, 66.7, 100.0, 83.4, "low"),                    # 2 of 3 points in contract
    ({"audits": None}, 66.7, 100.0, 83.4, "medium"),                 # unanswered: 0, incomplete
    ({"hours": 48}, 100.0, 66.7, 91.7, "low"),                       # second band
    ({"hours": 100}, 100.0, 50.0, 87.5, "low"),                      # no band → 0
    ({"measures": ["mfa"]}, 100.0, 83.3, 95.8, "low"),               # 2 of max_points 3
    ({"measures": ["none"]}, 100.0, 50.0, 87.5, "low"),
    ({"has_dpa": "no"}, 33.3, 100.0, 66.7, "medium"),                # high finding → medium
])
def test_category_table(demo: Questionnaire, changes: dict[str, Any], contract: float,
                        security: float, overall: float, tier: str) -> None:
    answers = {k: v for k, v in {**FULL, **changes}.items() if v is not None}
    result = scored(demo, answers)
    assert cat(result, "contract").score == contract
    assert cat(result, "security").score == security
    assert result.tier == tier
    assert result.score == pytest.approx(overall, abs=0.1)


def test_multi_choice_capped_at_max_points(demo: Questionnaire) -> None:
    result = scored(demo, FULL)
    item = next(i for i in result.items if i.item_id == "measures")
    assert (item.earned, item.maximum) == (3, 3)


def test_hidden_items_are_excluded_and_read_as_null(make_q: Callable[..., Questionnaire]) -> None:
    q = make_q(BASE.replace("{id: hours, type: number,",
                            "{id: hours, type: number, visible_if: \"has_dpa == 'yes'\","))
    result = scored(q, {**FULL, "has_dpa": "no"})
    hours = next(i for i in result.items if i.item_id == "hours")
    assert hours.state == "hidden"
    assert cat(result, "security").score == 100.0
    assert not result.visibility.is_visible("hours")
    assert "hours" not in result.visibility.values


def test_not_assessed_category_is_none_never_100(make_q: Callable[..., Questionnaire]) -> None:
    result = scored(make_q(), {**FULL, "hours": None, "measures": None} and
                    {k: v for k, v in FULL.items() if k not in ("hours", "measures")})
    assert cat(result, "security").score == 0.0  # unanswered visible items still count
    q = make_q(BASE.replace("{id: hours, type: number,", "{id: hours, type: number, "
                            "visible_if: \"uses_sub == 'yes'\",").replace(
        "      - id: measures\n", MEASURES_HIDDEN),
        name="b.yaml")
    result = scored(q, {k: v for k, v in FULL.items() if k not in ("hours", "measures")})
    security = cat(result, "security")
    assert (security.score, security.assessed) == (None, False)
    assert result.score == pytest.approx(100.0)


def test_computed_points(demo: Questionnaire) -> None:
    ok = scored(demo, {**FULL, "uses_sub": "yes", "subs": [{"name": "A", "country": "US",
                                                            "tool": "scc"}]})
    bad = scored(demo, {**FULL, "uses_sub": "yes", "subs": [{"name": "A", "country": "US",
                                                             "tool": "none"}]})
    assert cat(ok, "transfers").score == 100.0
    assert cat(bad, "transfers").score == 0.0


def test_critical_finding_forces_worst_tier(demo: Questionnaire) -> None:
    result = scored(demo, {**FULL, "uses_sub": "yes",
                           "subs": [{"name": "A", "country": "US", "tool": "none"}]})
    assert result.tier == "unacceptable"
    assert [f.id for f in result.findings] == ["no_tool"]
    assert result.findings[0].due_days == 30


def test_incomplete_answers_cannot_get_best_tier(demo: Questionnaire) -> None:
    result = scored(demo, {**FULL, "uses_sub": "yes", "subs": []} | {"uses_sub": "yes"})
    assert result.completeness < 1
    assert "subs" in result.missing_required
    assert result.tier == "medium"


def test_table_with_missing_required_cell_is_incomplete(demo: Questionnaire) -> None:
    result = scored(demo, {**FULL, "uses_sub": "yes", "subs": [{"name": "A", "country": "US"}]})
    assert result.missing_required == ["subs"]
    assert result.completeness == 0.75


def test_norway_needs_no_tool(demo: Questionnaire) -> None:
    result = scored(demo, {**FULL, "uses_sub": "yes", "subs": [{"name": "A", "country": "NO"}]})
    assert result.visibility.row_columns("subs", 0)[0] == {"name", "country"}
    assert result.tier == "low"


def test_deterministic_and_pure(demo: Questionnaire) -> None:
    answers = {**FULL, "audits": "no"}
    before = dict(answers)
    first = result_as_json(demo, scored(demo, answers), "fr")
    assert all(result_as_json(demo, scored(demo, answers), "fr") == first for _ in range(5))
    assert answers == before


def test_result_json_shape(demo: Questionnaire) -> None:
    result = scored(demo, {**FULL, "has_dpa": "no"})
    data = result_as_json(demo, result, "fr")
    assert set(data) == {"questionnaire", "score", "tier", "completeness", "categories", "findings"}
    assert data["questionnaire"] == {"id": "demo", "version": "1.0.0", "sha256": demo.sha256}
    assert data["categories"][0] == {"id": "contract", "score": 33.3, "assessed": True}
    assert data["findings"] == [{"id": "no_dpa", "severity": "high", "refs": [],
                                 "title": "Pas de contrat"}]


def test_nothing_assessed_gives_none(demo: Questionnaire) -> None:
    result = scored(demo, {"audits": "na"})
    assert result.score is not None  # unanswered scored items still count as 0
    assert result.completeness < 1


def test_visibility_api(demo: Questionnaire) -> None:
    vis = evaluate_visibility(demo, {"uses_sub": "no"})
    assert not vis.is_visible("subs")
    assert vis.is_required("has_dpa")
    assert not vis.is_required("subs")
    assert "subs" not in vis.visible_items


def test_item_rows_score_every_shipped_item_as_item_score_does() -> None:
    """The plan's compact rows give what `item_score` gives, item by item, on real answer sets."""
    from pathlib import Path

    from vendorcheck.questionnaire import evaluate_visibility, load_catalogue, validate_answers
    from vendorcheck.questionnaire.scoring import all_item_scores, item_score

    root = Path(__file__).resolve().parents[3] / "questionnaires"
    compared = 0
    for q in load_catalogue(root).questionnaires:
        scored = [i for i in q.items if i.is_scored]
        for test in q.tests:
            answers = dict(validate_answers(q, test.answers).answers)
            # every choice answered with a value it does not offer, too: it earns 0 either way
            odd = {i.id: "zzz" for i in scored if i.kind.points_by_value(i) is not None}
            for answer_set in (answers, {**answers, **odd}):
                visibility = evaluate_visibility(q, answer_set, today=test.today)
                rows = all_item_scores(q, visibility)[:len(scored)]
                assert rows == [item_score(i, visibility) for i in scored]
                compared += len(scored)
    assert compared > 1000
