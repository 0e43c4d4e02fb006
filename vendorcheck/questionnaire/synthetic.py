"""A synthetic questionnaire of any size, for benchmarks and scaling tests."""

from __future__ import annotations

import json
from typing import Any

CATEGORIES = ("contract", "security", "transfers", "governance")


def _item(index: int) -> tuple[dict[str, Any], Any]:
    """Return one scored item and a plausible answer; every third depends on the previous one."""
    item: dict[str, Any] = {"id": f"q{index}", "category": CATEGORIES[index % 4],
                            "label": {"en": f"Question {index}", "fr": f"Question {index}"}}
    if index % 3 == 2:
        item["visible_if"] = f"q{index - 1} != null"
    if index % 2 == 0:
        item.update(type="yes_no", points="2", required="true", na_allowed="true")
        return item, "yes" if index % 10 else "na"
    item.update(type="single_choice", options=[
        {"value": "full", "points": "2", "label": {"en": "Full", "fr": "Complet"}},
        {"value": "part", "points": "1", "label": {"en": "Partial", "fr": "Partiel"}},
        {"value": "none", "points": "0", "label": {"en": "None", "fr": "Aucun"}}])
    return item, ("full", "part", "none")[index % 3]


def _table() -> dict[str, Any]:
    """Return a sub-processor table item."""
    return {"id": "subs", "type": "table", "label": {"en": "Subs", "fr": "Sous-traitants"},
            "columns": [
                {"id": "name", "type": "text", "required": "true",
                 "label": {"en": "Name", "fr": "Nom"}},
                {"id": "country", "type": "country", "required": "true",
                 "label": {"en": "Country", "fr": "Pays"}},
                {"id": "dpa", "type": "yes_no", "visible_if": "row.country != null",
                 "label": {"en": "DPA", "fr": "Contrat"}}]}


def make_synthetic(n_items: int) -> tuple[str, dict[str, Any]]:
    """Return (YAML text, answers) for a valid questionnaire with `n_items` scored items."""
    sections: list[dict[str, Any]] = []
    answers: dict[str, Any] = {}
    for start in range(0, n_items, 100):
        items = []
        for index in range(start, min(start + 100, n_items)):
            item, answer = _item(index)
            items.append(item)
            answers[item["id"]] = answer
        sections.append({"id": f"s{start // 100}", "items": items,
                         "title": {"en": f"Part {start // 100}", "fr": f"Partie {start // 100}"}})
    sections[-1]["items"].append(_table())
    answers["subs"] = [{"name": "Acme", "country": "US", "dpa": "yes"},
                       {"name": "Beta", "country": "FR", "dpa": "no"}]
    doc = _document(sections)
    # JSON is valid YAML flow syntax, so the strict loader reads it (all values stay strings).
    return json.dumps(doc, indent=1), answers


def _document(sections: list[dict[str, Any]]) -> dict[str, Any]:
    """Wrap sections with the header, categories, computed values, findings and tiers."""
    loc = {"en": "Synthetic", "fr": "Synthétique"}
    return {
        "schema": "vendorcheck/questionnaire@1", "id": "synthetic", "version": "1.0.0",
        "status": "draft", "default_locale": "en", "locales": ["en", "fr"], "title": loc,
        "categories": [{"id": c, "weight": "1", "label": loc} for c in CATEGORIES],
        "sections": sections,
        "computed": [{"id": "all_dpas", "expr": "all(subs, row.dpa == 'yes')",
                      "category": "contract", "points_if_true": "2"}],
        "findings": [
            {"id": "missing_dpa", "severity": "high", "when": "not all_dpas", "title": loc},
            {"id": "no_first", "severity": "critical", "when": "q0 == 'no'", "title": loc}],
        "tiers": [
            {"id": "unacceptable", "when": "findings('critical') > 0"},
            {"id": "high", "when": "score() < 60 or findings('high') >= 2"},
            {"id": "medium", "when": "score() < 80 or findings('high') > 0"},
            {"id": "low", "when": "true"}],
    }
