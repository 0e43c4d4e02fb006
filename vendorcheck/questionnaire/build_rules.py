"""Build the rules: computed values, findings, tiers (floors and score caps) and the embedded tests."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from vendorcheck.questionnaire.build_context import Ctx, compile_at
from vendorcheck.questionnaire.expr.checker import Scope
from vendorcheck.questionnaire.model import (
    SEVERITIES,
    Computed,
    EmbeddedTest,
    Finding,
    LocaleText,
    TestExpect,
    Tier,
)
from vendorcheck.questionnaire.yamlload import PathKey, format_path


def computed_values(ctx: Ctx, data: dict[str, Any], scope: Scope) -> tuple[Computed, ...]:
    """Compile the computed booleans (traced: findings that read them are explained through them)."""
    out = []
    scope = replace(scope, trace=True)
    for index, raw in enumerate(data.get("computed") or ()):
        path: PathKey = ("computed", index)
        expr = compile_at(ctx, raw["expr"], (*path, "expr"), scope, raw["id"])
        category = raw.get("category")
        if category is not None and category not in ctx.categories:
            ctx.problem((*path, "category"), f"unknown category '{category}'")
        if expr is not None:
            out.append(Computed(raw["id"], raw["expr"], expr, format_path(path), category,
                                raw.get("weight", 1), raw.get("points_if_true", 0),
                                ctx.text(raw.get("label"), (*path, "label"))))
    return tuple(out)


def findings(ctx: Ctx, data: dict[str, Any], scope: Scope) -> tuple[Finding, ...]:
    """Compile the finding rules, traced so a raised finding can say what triggered it."""
    out: list[Finding] = []
    scope = replace(scope, trace=True)
    for index, raw in enumerate(data.get("findings") or ()):
        path: PathKey = ("findings", index)
        if raw["id"] in {f.id for f in out}:
            ctx.problem((*path, "id"), f"duplicate finding '{raw['id']}'")
        when = compile_at(ctx, raw["when"], (*path, "when"), scope, raw["id"])
        title = ctx.text(raw["title"], (*path, "title")) or LocaleText(())
        if when is not None:
            out.append(Finding(raw["id"], raw["severity"], raw["when"], when, title,
                               ctx.refs(raw.get("refs"), (*path, "refs")),
                               ctx.text(raw.get("remediation"), (*path, "remediation")),
                               raw.get("due_days")))
    return tuple(out)


def tiers(ctx: Ctx, data: dict[str, Any], scope: Scope) -> tuple[Tier, ...]:
    """Compile the tier rules, where score(), findings() and completeness() are allowed."""
    out: list[Tier] = []
    tier_scope = replace(scope, tier_context=True, trace=True)
    for index, raw in enumerate(data.get("tiers") or ()):
        path: PathKey = ("tiers", index)
        if raw["id"] in {t.id for t in out}:
            ctx.problem((*path, "id"), f"duplicate tier '{raw['id']}'")
        when = compile_at(ctx, raw["when"], (*path, "when"), tier_scope, raw["id"])
        if when is not None:
            out.append(Tier(raw["id"], raw["when"], when,
                            ctx.text(raw.get("label"), (*path, "label")),
                            raw.get("floor"), raw.get("score_max")))
    _check_floors(ctx, out)
    return tuple(out)


def _check_floors(ctx: Ctx, rules: list[Tier]) -> None:
    """Floors and score caps must get stricter towards the worst tier, or the verdict contradicts itself."""
    floors = [(index, SEVERITIES.index(t.floor)) for index, t in enumerate(rules) if t.floor]
    for (_, before), (index, after) in zip(floors, floors[1:], strict=False):
        if after <= before:
            ctx.problem(("tiers", index, "floor"), "floors must name milder severities in later tiers")
    caps = [(index, float(t.score_max)) for index, t in enumerate(rules) if t.score_max is not None]
    for (_, cap_before), (index, cap_after) in zip(caps, caps[1:], strict=False):
        if cap_after < cap_before:
            ctx.problem(("tiers", index, "score_max"), "score_max must not fall in later tiers")


def tests(ctx: Ctx, data: dict[str, Any], rule_ids: tuple[set[str], set[str]]
          ) -> tuple[EmbeddedTest, ...]:
    """Build the embedded tests, checking they name known findings and tiers."""
    finding_ids, tier_ids = rule_ids
    out = []
    for index, raw in enumerate(data.get("tests") or ()):
        path: PathKey = ("tests", index)
        exp = raw["expect"]
        if exp.get("tier") is not None and exp["tier"] not in tier_ids:
            ctx.problem((*path, "expect", "tier"), f"unknown tier '{exp['tier']}'")
        for key in ("findings", "findings_include", "findings_exclude"):
            for fid in exp.get(key) or ():
                if fid not in finding_ids:
                    ctx.problem((*path, "expect", key), f"unknown finding '{fid}'")
        expect = TestExpect(exp.get("tier"), None if exp.get("findings") is None
                            else tuple(exp["findings"]), tuple(exp.get("findings_include") or ()),
                            tuple(exp.get("findings_exclude") or ()), exp.get("score_min"),
                            exp.get("score_max"), exp.get("assessed"))
        out.append(EmbeddedTest(raw["name"], raw["answers"], expect, format_path(path),
                                raw.get("today")))
    return tuple(out)
