"""Scoring: weighted categories, findings, then tiers. Pure and deterministic."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from vendorcheck.questionnaire.evaluate import Visibility, evaluate_visibility, make_env, truth
from vendorcheck.questionnaire.explain import Trigger, finding_triggers
from vendorcheck.questionnaire.expr.checker import Compiled
from vendorcheck.questionnaire.expr.evaluator import Env
from vendorcheck.questionnaire.model import SEVERITIES, Item, LocaleText, Number, Questionnaire, Tier


@dataclass(frozen=True, slots=True)
class ItemScore:
    """Points of one scored item or computed value (slots: a result holds one per scored item)."""

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
    triggers: tuple[Trigger, ...] = ()  # the answers, rows and countries that raised it


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
    verdict: Verdict


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


def item_score(item: Item, visibility: Visibility) -> ItemScore:
    """Score one item: hidden and N/A are left out, unanswered earns 0. The rules written plainly;
    `all_item_scores` applies them to the plan's compact rows (a test checks both agree)."""
    assert item.category is not None
    if not visibility.visible.get(item.id, False):
        return ItemScore(item.id, item.category, 0, 0, "hidden")
    value = visibility.values.get(item.id)
    if value is None:
        return ItemScore(item.id, item.category, 0, item.max_score, "unanswered")
    if value == "na" and item.na_allowed:
        return ItemScore(item.id, item.category, 0, 0, "na")
    earned = min(item.kind.earned(item, value), item.max_score)
    return ItemScore(item.id, item.category, earned, item.max_score, "scored")


def all_item_scores(q: Questionnaire, visibility: Visibility) -> list[ItemScore]:
    """Score every scored item and computed value, in questionnaire order."""
    visible, values = visibility.visible, visibility.values
    out = []
    # item_score's rules, reading each item's compact row (this loop is most of scoring's time)
    for item_id, category, maximum, na_allowed, points, item in q.plan.scored:
        if not visible.get(item_id, False):
            out.append(ItemScore(item_id, category, 0, 0, "hidden"))
            continue
        value = values.get(item_id)
        if value is None:
            out.append(ItemScore(item_id, category, 0, maximum, "unanswered"))
        elif value == "na" and na_allowed:
            out.append(ItemScore(item_id, category, 0, 0, "na"))
        else:
            earned = points.get(value, 0) if points is not None and isinstance(value, str) \
                else item.kind.earned(item, value)
            out.append(ItemScore(item_id, category, min(earned, maximum), maximum, "scored"))
    for comp in q.computed:
        if comp.is_scored:
            assert comp.category is not None
            earned = comp.points_if_true if visibility.values.get(comp.id) is True else 0
            out.append(ItemScore(comp.id, comp.category, earned, comp.points_if_true, "scored"))
    return out


def category_scores(q: Questionnaire, items: list[ItemScore]) -> list[CategoryScore]:
    """Compute 100 × Σ(weight·earned) / Σ(weight·max) per category."""
    weights = q.plan.weights
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
    return item.kind.is_answered(item, value, visibility)


def completeness(q: Questionnaire, visibility: Visibility) -> tuple[float, list[str]]:
    """Return answered ÷ visible required items, and the missing ids."""
    required, values = visibility.required, visibility.values
    # (id, type, item) rows: the items themselves are only read for the required ones
    needed = [row for row in q.plan.kinds if required.get(row[0], False)]
    missing = [item_id for item_id, kind, item in needed
               if not kind.is_answered(item, values.get(item_id), visibility)]
    if not needed:
        return 1.0, missing
    return round((len(needed) - len(missing)) / len(needed), 4), missing


def raised_findings(q: Questionnaire, env: Env) -> list[FindingResult]:
    """Evaluate finding rules; a rule that errors counts as raised (fail closed)."""
    out = []
    for rule in q.findings:
        if truth(rule.when, env, default=True):
            out.append(FindingResult(rule.id, rule.severity, rule.refs, rule.title,
                                     rule.remediation, rule.due_days, _triggers(q, rule.when, env)))
    return out


def _triggers(q: Questionnaire, when: Compiled, env: Env) -> tuple[Trigger, ...]:
    """Explain a raised finding; a rule that cannot be explained still stands (fail closed)."""
    try:
        return finding_triggers(q, when, env)
    except Exception:  # the rule raised by failing closed: there is nothing to point at
        return ()


def choose_tier(q: Questionnaire, env: Env, context: TierContext) -> str | None:
    """Pick the tier: the verdict's tier (kept for callers that only need the id)."""
    return decide(q, env, context).tier


@dataclass(frozen=True)
class Verdict:
    """The tier and the score shown with it, and why that tier."""

    score: float | None           # capped so it never contradicts the tier; None: not assessed
    tier: str | None
    uncapped_score: float | None  # the weighted mean of the categories, before any cap
    reason: str                   # finding, rule, incomplete, not_assessed, none
    severity: str | None = None   # the worst severity when a finding set the tier
    rule: Tier | None = None      # the tier rule that matched when `reason` is "rule"
    context: TierContext | None = None  # what the rules read (score, counts, completeness)

    @property
    def is_capped(self) -> bool:
        """Whether the worst finding or the tier lowered the score."""
        return self.score is not None and self.uncapped_score is not None and self.score < self.uncapped_score


def decide(q: Questionnaire, env: Env, context: TierContext) -> Verdict:
    """Apply the tier rules, then the floors findings impose, then cap the score by the tier.

    A critical finding always forces the worst tier; a tier with `floor: high` is the best tier any
    high (or worse) finding allows; below `scoring.assessed_from` completeness (or with nothing
    answered) there is no score, and a tier only when a finding forces one.
    """
    if not q.tiers:
        return Verdict(context.score, None, context.score, "none", context=context)
    floor_index, worst = _floor(q, context.finding_counts)
    if context.completeness < q.assessed_from or context.completeness == 0:
        if floor_index is None:
            return Verdict(None, None, context.score, "not_assessed", context=context)
        return Verdict(None, q.tiers[floor_index].id, context.score, "finding", worst, context=context)
    env.tier = context
    index = next((n for n, t in enumerate(q.tiers) if truth(t.when, env, default=True)), 0)
    reason = "rule"
    if index == len(q.tiers) - 1 and context.completeness < 1 and len(q.tiers) > 1:
        index, reason = index - 1, "incomplete"
    if floor_index is not None and floor_index <= index:
        index, reason = floor_index, "finding"
    tier = q.tiers[index]
    capped = _cap(context.score, tier.score_max)
    return Verdict(capped, tier.id, context.score, reason, worst if reason == "finding" else None,
                   tier if reason == "rule" else None, context)


def _floor(q: Questionnaire, counts: Mapping[str, int]) -> tuple[int | None, str | None]:
    """Return the best tier index the worst raised finding allows, and that severity."""
    raised = [sev for sev in SEVERITIES if counts.get(sev, 0) > 0]
    if not raised:
        return None, None
    worst = raised[0]
    if worst == "critical":
        return 0, worst
    rank = SEVERITIES.index(worst)
    allowed = [n for n, t in enumerate(q.tiers) if t.floor and SEVERITIES.index(t.floor) >= rank]
    return (min(allowed), worst) if allowed else (None, None)


def _cap(value: float | None, score_max: Number | None) -> float | None:
    """Lower `value` to `score_max` when it is higher."""
    if value is None or score_max is None:
        return value
    return min(value, float(score_max))


def severity_counts(severities: Iterable[str]) -> dict[str, int]:
    """Count findings per severity."""
    counts: dict[str, int] = {}
    for severity in severities:
        counts[severity] = counts.get(severity, 0) + 1
    return counts


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
    counts = severity_counts(f.severity for f in found)
    verdict = decide(q, env, TierContext(total, {c.id: c.score for c in cats}, counts, done))
    return ScoreResult(verdict.score, verdict.tier, done, cats, found, items, missing, visibility,
                       verdict)


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
