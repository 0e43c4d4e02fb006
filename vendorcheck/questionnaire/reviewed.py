"""The reviewed result: the engine's computed score with the reviewer's overrides applied beside it.

Pure (no Flask, no database): overrides come in as plain (kind, target, new value) triples, so the
computed value is always kept and the effective one is derived from it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from vendorcheck.questionnaire import (
    CategoryScore,
    ItemScore,
    Questionnaire,
    ScoreResult,
    score,
    validate_answers,
)
from vendorcheck.questionnaire.evaluate import evaluate_visibility, make_env
from vendorcheck.questionnaire.scoring import (
    TierContext,
    Verdict,
    category_scores,
    decide,
    overall,
    severity_counts,
)

ITEM_POINTS = "item_points"
FINDING_SEVERITY = "finding_severity"
# The buyer accepted the vendor's fix of a finding (new value: the day, ISO): it no longer counts.
FINDING_REMEDIATED = "finding_remediated"
SEVERITIES = ("critical", "high", "medium", "low", "info")


@dataclass(frozen=True)
class OverrideValue:
    """One override as the result needs it."""

    kind: str
    target: str
    new_value: str


@dataclass(frozen=True)
class ReviewedResult:
    """The computed result and the effective one (after overrides), side by side."""

    computed: ScoreResult
    score: float | None
    tier: str | None
    categories: list[CategoryScore]
    items: dict[str, ItemScore]
    item_points: dict[str, float]          # item id → effective points (overridden only)
    severities: dict[str, str]             # finding id → effective severity (overridden only)
    verdict: Verdict                       # why this tier, and the score before any cap
    remediated: dict[str, date] = field(default_factory=dict)  # finding id → day its fix was accepted

    @property
    def is_overridden(self) -> bool:
        """Tell whether any override (points, severity, an accepted fix) changes the result."""
        return bool(self.item_points or self.severities or self.remediated)

    def severity_of(self, finding_id: str, computed: str) -> str:
        """Return a finding's effective severity."""
        return self.severities.get(finding_id, computed)


def latest_overrides(overrides: Iterable[OverrideValue]) -> tuple[dict[str, float], dict[str, str]]:
    """Return the last override per target, split into item points and finding severities."""
    points: dict[str, float] = {}
    severities: dict[str, str] = {}
    for o in overrides:
        if o.kind == ITEM_POINTS:
            points[o.target] = float(o.new_value)
        elif o.kind == FINDING_SEVERITY and o.new_value in SEVERITIES:
            severities[o.target] = o.new_value
    return points, severities


def remediated_findings(overrides: Iterable[OverrideValue]) -> dict[str, date]:
    """Return the findings whose fix the buyer accepted, with the day it was accepted."""
    out: dict[str, date] = {}
    for o in overrides:
        if o.kind == FINDING_REMEDIATED:
            try:
                out[o.target] = date.fromisoformat(o.new_value)
            except ValueError:
                continue  # a malformed day: the finding keeps counting (fail closed)
    return out


def _apply_points(items: list[ItemScore], points: Mapping[str, float]) -> list[ItemScore]:
    """Replace the earned points of overridden items (clamped to 0 … maximum)."""
    out = []
    for entry in items:
        if entry.item_id in points and entry.maximum > 0:
            earned = min(max(points[entry.item_id], 0.0), float(entry.maximum))
            entry = replace(entry, earned=earned, state="overridden")
        out.append(entry)
    return out


def reviewed_result(q: Questionnaire, answers: Mapping[str, Any],
                    overrides: Iterable[OverrideValue] = (), *,
                    extra_severities: Iterable[str] = (), today: date | None = None
                    ) -> ReviewedResult:
    """Score the answers, then apply overrides and re-derive categories, total and tier.

    `extra_severities` are the severities of findings added by hand; they count for the tier
    (a critical manual finding forces the worst tier, like a computed one); the caller leaves out
    the remediated ones. A `finding_remediated` override takes a raised finding out of the counts.
    """
    computed = score(q, answers, today=today)
    overrides = list(overrides)
    points, severities = latest_overrides(overrides)
    remediated = remediated_findings(overrides)
    extra = list(extra_severities)
    if not points and not severities and not extra and not remediated:
        return ReviewedResult(computed, computed.score, computed.tier, computed.categories,
                              {i.item_id: i for i in computed.items}, {}, {}, computed.verdict)
    items = _apply_points(computed.items, points)
    cats = category_scores(q, items)
    # a remediated finding no longer counts toward the tier (nor its cap on the score); a waived
    # one (an accepted risk) still does: accepting a risk does not remove it
    effective = [severities.get(f.id, f.severity) for f in computed.findings
                 if f.id not in remediated]
    counts = severity_counts([*effective, *extra])
    env = make_env(q, today)
    evaluate_visibility(q, answers, env=env)
    context = TierContext(overall(q, cats), {c.id: c.score for c in cats}, counts, computed.completeness)
    verdict = decide(q, env, context)
    return ReviewedResult(computed, verdict.score, verdict.tier, cats, {i.item_id: i for i in items},
                          points, severities, verdict, remediated)


# --- re-assessment ------------------------------------------------------------------------------


def _item_wording(q: Questionnaire, item_id: str) -> Any:
    """Return what the vendor read for an item: label, options, help and table columns."""
    item = q.item(item_id)
    options = [(o.value, o.label.as_dict(), o.help.as_dict() if o.help else None)
               for o in item.options]
    columns = [(c.id, _item_text(c), [(o.value, o.label.as_dict()) for o in c.options])
               for c in item.columns]
    return (_item_text(item), options, item.help.as_dict() if item.help else None, columns)


def _item_text(item: Any) -> dict[str, str] | None:
    return item.label.as_dict() if item.label else None


def carried_answers(old_q: Questionnaire, new_q: Questionnaire,
                    answers: Iterable[Any]) -> list[tuple[str, Any, str | None, bool]]:
    """Return (item id, value, justification, needs reconfirmation) for answers that still fit."""
    out = []
    for answer in answers:
        if answer.value is None or not new_q.has_item(answer.item_id):
            continue
        if not new_q.item(answer.item_id).kind.carried_over:
            continue  # files belong to the old assessment; the attestation is given anew
        if not validate_answers(new_q, {answer.item_id: answer.value}).ok:
            continue
        changed = (not old_q.has_item(answer.item_id)
                   or _item_wording(old_q, answer.item_id) != _item_wording(new_q, answer.item_id))
        out.append((answer.item_id, answer.value, answer.justification, changed))
    return out
