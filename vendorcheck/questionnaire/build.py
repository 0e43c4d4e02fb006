"""Build a Questionnaire from a validated document: cross-references, expressions, cycles.

The steps live beside this module: `build_context` (shared state and problems), `build_items`
(options, items and their expressions), `build_rules` (computed values, findings, tiers, tests) and
`build_order` (evaluation order and cycles).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from vendorcheck.questionnaire.build_context import Ctx, compile_at
from vendorcheck.questionnaire.build_items import base_scope, compile_item, item, option_sets
from vendorcheck.questionnaire.build_order import evaluation_order
from vendorcheck.questionnaire.build_rules import computed_values, findings, tests, tiers
from vendorcheck.questionnaire.datasets import CountryGroups
from vendorcheck.questionnaire.errors import QuestionnaireError
from vendorcheck.questionnaire.evaluate import make_plan
from vendorcheck.questionnaire.expr.checker import Scope
from vendorcheck.questionnaire.model import (
    Category,
    Computed,
    Item,
    LocaleText,
    Organisation,
    Questionnaire,
    Reference,
    Section,
    Tier,
)
from vendorcheck.questionnaire.yamlload import PathKey, YamlDoc, format_path

# Questionnaires vendors fill in for themselves (the DPA builder), for versions without `audience`.
# The key came after these versions were published, and published files are frozen (published.lock),
# so their audience is derived from the id; a new version states `audience: vendor` in its YAML.
VENDOR_SIDE_IDS = frozenset({"dpa-questionnaire"})


def audience_of(data: Mapping[str, Any]) -> str:
    """Return who sends the questionnaire: its `audience` key, else derived from its id."""
    declared = data.get("audience")
    if declared:
        return str(declared)
    return "vendor" if data.get("id") in VENDOR_SIDE_IDS else "buyer"


def canonical_sha256(data: Mapping[str, Any]) -> str:
    """Return the sha256 of the canonical JSON of a parsed document."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------- top-level parts


def references(ctx: Ctx, data: dict[str, Any]) -> dict[str, Reference]:
    """Build the reference registry."""
    out = {}
    for key, raw in (data.get("references") or {}).items():
        out[key] = Reference(key, ctx.text(raw["title"], ("references", key, "title"))
                             or LocaleText(()), raw.get("url"))
    ctx.prefixes = frozenset(out)
    return out


def categories(ctx: Ctx, data: dict[str, Any]) -> tuple[Category, ...]:
    """Build the scoring categories."""
    out: list[Category] = []
    for index, raw in enumerate(data.get("categories") or ()):
        path: PathKey = ("categories", index)
        if raw["id"] in {c.id for c in out}:
            ctx.problem((*path, "id"), f"duplicate category '{raw['id']}'")
        out.append(Category(raw["id"], raw["weight"],
                            ctx.text(raw["label"], (*path, "label")) or LocaleText(())))
    ctx.categories = frozenset(c.id for c in out)
    return tuple(out)


# ---------------------------------------------------------------------------- assembly


def build_questionnaire(doc: YamlDoc, data: dict[str, Any],
                        datasets: Mapping[str, CountryGroups]) -> Questionnaire:
    """Build and check a questionnaire; raise QuestionnaireError listing every problem."""
    locales = tuple(data["locales"])
    ctx = Ctx(doc, locales, data["default_locale"])
    _check_header(ctx, data)
    refs = references(ctx, data)
    option_sets(ctx, data)
    cats = categories(ctx, data)
    groups = _groups(ctx, data, datasets)
    ctx.organisations = _organisations(groups)
    structure = _structure(ctx, data)
    computed_ids = [c["id"] for c in data.get("computed") or ()]
    for index, cid in enumerate(computed_ids):
        ctx.claim(cid, ("computed", index))
    scope = base_scope(ctx, [items for _, items in structure], computed_ids, groups is not None)
    sections = _sections(ctx, data, structure, scope)
    comp = computed_values(ctx, data, scope)
    rules = findings(ctx, data, scope)
    tier_rules = tiers(ctx, data, scope)
    embedded = tests(ctx, data, ({f.id for f in rules}, {t.id for t in tier_rules}))
    order, columns = evaluation_order(ctx, sections, comp)
    _check_scoring(ctx, sections, comp, tier_rules)
    if ctx.problems:
        raise QuestionnaireError(sorted(ctx.problems, key=lambda p: (p.line or 0, p.path)))
    q = Questionnaire(
        id=data["id"], version=data["version"], sha256=canonical_sha256(doc.data),
        status=data["status"], file=doc.file, default_locale=ctx.default, locales=locales,
        title=ctx.text(data["title"], ("title",)) or LocaleText(()), sections=sections,
        canonical=doc.data, description=ctx.text(data.get("description"), ("description",)),
        intro=ctx.text(data.get("intro"), ("intro",)), effective_date=data.get("effective_date"),
        review_by=data.get("review_by"), audience=audience_of(data),
        reference_data=tuple(data.get("reference_data") or ()),
        references=refs, option_sets=dict(ctx.option_sets), categories=cats, computed=comp,
        findings=rules, tiers=tier_rules, tests=embedded, country_groups=groups,
        assessed_from=float((data.get("scoring") or {}).get("assessed_from", 0)))
    return replace(q, plan=make_plan(q, order, columns))


def _check_header(ctx: Ctx, data: dict[str, Any]) -> None:
    """Check locales: the default is listed, and a published file has en and fr."""
    if ctx.default not in ctx.locales:
        ctx.problem(("default_locale",), f"'{ctx.default}' is not in locales")
    if data["status"] == "published":
        for locale in ("en", "fr"):
            if locale not in ctx.locales:
                ctx.problem(("locales",), f"a published questionnaire needs '{locale}'")


def _groups(ctx: Ctx, data: dict[str, Any], datasets: Mapping[str, CountryGroups]
            ) -> CountryGroups | None:
    """Resolve the pinned country-groups dataset."""
    found = None
    for index, key in enumerate(data.get("reference_data") or ()):
        if key not in datasets:
            known = ", ".join(sorted(datasets)) or "none loaded"
            ctx.problem(("reference_data", index), f"unknown dataset '{key}' (known: {known})")
        elif key.startswith("country_groups@"):
            found = datasets[key]
    return found


def _organisations(groups: CountryGroups | None) -> tuple[Organisation, ...]:
    """Return the international organisations of the pinned dataset, for country answers."""
    if groups is None:
        return ()
    return tuple(Organisation(e.code, e.label) for e in groups.organisations() if e.label)


def _structure(ctx: Ctx, data: dict[str, Any]) -> list[tuple[dict[str, Any], list[Item]]]:
    """Build every section's items (structure only), claiming ids."""
    out = []
    seen: set[str] = set()
    for s_index, raw in enumerate(data["sections"]):
        if raw["id"] in seen:
            ctx.problem(("sections", s_index, "id"), f"duplicate section '{raw['id']}'")
        seen.add(raw["id"])
        items = []
        for i_index, raw_item in enumerate(raw["items"]):
            path: PathKey = ("sections", s_index, "items", i_index)
            ctx.claim(raw_item["id"], path)
            items.append(item(ctx, raw_item, path, raw["id"]))
        out.append((raw, items))
    return out


def _sections(ctx: Ctx, data: dict[str, Any],
              structure: list[tuple[dict[str, Any], list[Item]]], scope: Scope
              ) -> tuple[Section, ...]:
    """Compile the sections' and items' expressions."""
    out = []
    for s_index, (raw, items) in enumerate(structure):
        path: PathKey = ("sections", s_index)
        compiled = tuple(compile_item(ctx, it, (*path, "items", i), scope)
                         for i, it in enumerate(items))
        out.append(Section(raw["id"], ctx.text(raw["title"], (*path, "title")) or LocaleText(()),
                           format_path(path), compiled, ctx.text(raw.get("help"), (*path, "help")),
                           raw.get("visible_if"), compile_at(ctx, raw.get("visible_if"),
                                                             (*path, "visible_if"), scope,
                                                             raw["id"])))
    return tuple(out)


def _check_scoring(ctx: Ctx, sections: tuple[Section, ...], comp: tuple[Computed, ...],
                   tier_rules: tuple[Tier, ...]) -> None:
    """Anything scored needs tiers."""
    scored = any(i.is_scored for s in sections for i in s.items) or any(c.is_scored for c in comp)
    if scored and not tier_rules:
        ctx.problem(("tiers",), "tiers are required when items are scored")
