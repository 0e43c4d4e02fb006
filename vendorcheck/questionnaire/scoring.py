"""Scoring: weighted categories, findings, then tiers. Pure and deterministic."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from vendorcheck.questionnaire.evaluate import Visibility, evaluate_visibility, make_env, truth
from vendorcheck.questionnaire.expr import Env
from vendorcheck.questionnaire.model import Item, LocaleText, Number, Questionnaire


@dataclass(frozen=True)
class ItemScore:
    """Points of one scored item or computed value."""

    item_id: str
    category: str
    earned: Number
    maximum: Number
    state: str  # scored, na, hidden, unanswered


@dataclass(frozen=True)
class CategoryScore:
    """A category's score, or None when nothing was assessed."""

    id: str
    score: float | None
    assessed: bool
    earned: float
    maximum: float


@dataclass(frozen=True)
class FindingResult:
    """A raised finding."""

    id: str
    severity: str
    refs: tuple[str, ...]
    title: LocaleText
    remediation: LocaleText | None
    due_days: int | None


@dataclass(frozen=True)
class ScoreResult:
    """The full result of scoring an answer set."""

    score: float | None
    tier: str | None
    completeness: float
    categories: list[CategoryScore]
    findings: list[FindingResult]
    items: list[ItemScore]
    missing_required: list[str]
    visibility: Visibility


@dataclass(frozen=True)
class TierContext:
    """What score(), findings() and completeness() read inside tier rules."""

    score: float | None
    category_scores: Mapping[str, float | None]
    finding_counts: Mapping[str, int]
    completeness: float


def round1(value: float) -> float:
    """Round half up to one decimal, the same on every platform."""
    return math.floor(value * 10 + 0.5) / 10


# ---------------------------------------------------------------------------- item points


def _yes_no(item: Item, value: Any) -> Number:
    return (item.points or 0) if value == item.good else 0


def _single(item: Item, value: Any) -> Number:
    option = item.option(value)
    return option.points if option is not None else 0


def _multi(item: Item, value: Any) -> Number:
    total = sum(o.points for o in item.options if o.value in value)
    return total if item.max_points is None else min(total, item.max_points)


def _number(item: Item, value: Any) -> Number:
    return next((b.points for b in item.bands if b.matches(value)), 0)


EARN: dict[str, Callable[[Item, Any], Number]] = {
    "yes_no": _yes_no, "single_choice": _single, "multi_choice": _multi, "number": _number,
}


def item_score(item: Item, visibility: Visibility) -> ItemScore:
    """Score one item: hidden and N/A are left out, unanswered earns 0."""
    assert item.category is not None
    if not visibility.is_visible(item.id):
        return ItemScore(item.id, item.category, 0, 0, "hidden")
    value = visibility.values.get(item.id)
    if value is None:
        return ItemScore(item.id, item.category, 0, item.max_score, "unanswered")
    if value == "na" and item.na_allowed:
        return ItemScore(item.id, item.category, 0, 0, "na")
    earned = min(EARN[item.type](item, value), item.max_score)
    return ItemScore(item.id, item.category, earned, item.max_score, "scored")


def all_item_scores(q: Questionnaire, visibility: Visibility) -> list[ItemScore]:
    """Score every scored item and computed value, in questionnaire order."""
    out = [item_score(item, visibility) for item in q.items if item.is_scored]
    for comp in q.computed:
        if comp.is_scored:
            assert comp.category is not None
            earned = comp.points_if_true if visibility.values.get(comp.id) is True else 0
            out.append(ItemScore(comp.id, comp.category, earned, comp.points_if_true, "scored"))
    return out


def category_scores(q: Questionnaire, items: list[ItemScore]) -> list[CategoryScore]:
    """Compute 100 × Σ(weight·earned) / Σ(weight·max) per category."""
    weights = {i.id: i.weight for i in q.items}
    weights.update({c.id: c.weight for c in q.computed})
    sums = {c.id: [0.0, 0.0] for c in q.categories}
    for entry in items:
        weight = weights[entry.item_id]
        sums[entry.category][0] += weight * entry.earned
        sums[entry.category][1] += weight * entry.maximum
    out = []
    for cat in q.categories:
        earned, maximum = sums[cat.id]
        value = round1(100 * earned / maximum) if maximum > 0 else None
        out.append(CategoryScore(cat.id, value, value is not None, earned, maximum))
    return out


def overall(q: Questionnaire, cats: list[CategoryScore]) -> float | None:
    """Return the weighted mean of the assessed categories (None if none was)."""
    weights = {c.id: c.weight for c in q.categories}
    pairs = [(weights[c.id], c.score) for c in cats if c.score is not None and weights[c.id] > 0]
    total = sum(w for w, _ in pairs)
    return round1(sum(w * s for w, s in pairs) / total) if total > 0 else None


def is_answered(item: Item, value: Any, visibility: Visibility) -> bool:
    """Return whether a shown item has an answer (tables: every required cell filled)."""
    if value is None or (isinstance(value, (str, tuple, list)) and len(value) == 0):
        return False
    if item.type != "table":
        return True
    for index, row in enumerate(value):
        _, needed = visibility.row_columns(item.id, index)
        if any(row.get(col) is None for col in needed):
            return False
    return True


def completeness(q: Questionnaire, visibility: Visibility) -> tuple[float, list[str]]:
    """Return answered ÷ visible required items, and the missing ids."""
    needed = [i for i in q.items if visibility.is_required(i.id)]
    missing = [i.id for i in needed if not is_answered(i, visibility.values.get(i.id), visibility)]
    if not needed:
        return 1.0, missing
    return round((len(needed) - len(missing)) / len(needed), 4), missing


def raised_findings(q: Questionnaire, env: Env) -> list[FindingResult]:
    """Evaluate finding rules; a rule that errors counts as raised (fail closed)."""
    out = []
    for rule in q.findings:
        if truth(rule.when, env, default=True):
            out.append(FindingResult(rule.id, rule.severity, rule.refs, rule.title,
                                     rule.remediation, rule.due_days))
    return out


def choose_tier(q: Questionnaire, env: Env, context: TierContext) -> str | None:
    """Pick the first matching tier; critical → worst; incomplete never gets the best."""
    if not q.tiers:
        return None
    worst, best = q.tiers[0].id, q.tiers[-1].id
    if context.finding_counts.get("critical", 0) > 0:
        return worst
    env.tier = context
    chosen = next((t.id for t in q.tiers if truth(t.when, env, default=True)), worst)
    if chosen == best and context.completeness < 1 and len(q.tiers) > 1:
        return q.tiers[-2].id
    return chosen


def score(q: Questionnaire, answers: Mapping[str, Any], *, today: date | None = None
          ) -> ScoreResult:
    """Score an answer set: same inputs, same output."""
    env = make_env(q, today)
    visibility = evaluate_visibility(q, answers, env=env)
    items = all_item_scores(q, visibility)
    cats = category_scores(q, items)
    total = overall(q, cats)
    done, missing = completeness(q, visibility)
    found = raised_findings(q, env)
    counts: dict[str, int] = {}
    for finding in found:
        counts[finding.severity] = counts.get(finding.severity, 0) + 1
    context = TierContext(total, {c.id: c.score for c in cats}, counts, done)
    tier = choose_tier(q, env, context)
    return ScoreResult(total, tier, done, cats, found, items, missing, visibility)


def result_as_json(q: Questionnaire, result: ScoreResult, locale: str = "en") -> dict[str, Any]:
    """Return the stable JSON summary printed by `vendorcheck score --json`."""
    return {
        "questionnaire": {"id": q.id, "version": q.version, "sha256": q.sha256},
        "score": result.score,
        "tier": result.tier,
        "completeness": result.completeness,
        "categories": [{"id": c.id, "score": c.score, "assessed": c.assessed}
                       for c in result.categories],
        "findings": [{"id": f.id, "severity": f.severity, "refs": list(f.refs),
                      "title": f.title.get(locale)} for f in result.findings],
    }
