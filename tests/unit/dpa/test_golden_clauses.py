"""Golden HTML per clause: each clause rendered for a fixed answer set equals its stored snippet.

Regenerate after an intended wording change with VENDORCHECK_UPDATE_GOLDEN=1, then review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from vendorcheck.dpa.assemble import assemble, document_context

ROOT = Path(__file__).resolve().parents[3]
GOLDEN = Path(__file__).parent / "golden"
CLAUSES = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"]


@pytest.fixture(scope="module")
def clause_block():
    env = Environment(loader=FileSystemLoader(ROOT / "templates"), autoescape=True,
                      undefined=StrictUndefined)
    return env.get_template("dpa/_clause.html").module.clause_block


def _clauses(q, answers, locale):
    context = document_context(assemble(q, answers), locale=locale, q=q)
    found = {c["id"]: c for s in context["sections"] for c in s["clauses"]}
    return found, context["words"]


@pytest.mark.parametrize("locale", ["en", "fr"])
@pytest.mark.parametrize("clause_id", CLAUSES)
def test_clause_matches_golden(dpa_q, complete, clause_block, locale, clause_id):
    clauses, words = _clauses(dpa_q, complete, locale)
    html = str(clause_block(clauses[clause_id], 3, words)).strip() + "\n"
    path = GOLDEN / locale / f"clause-{clause_id}.html"
    if os.environ.get("VENDORCHECK_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html, encoding="utf-8")
    assert html == path.read_text(encoding="utf-8")


def test_variants_follow_the_answers(dpa_q, complete, clause_block):
    complete.update(subprocessor_authorisation="specific", special_categories="yes",
                    special_categories_which=["health"], end_of_contract="delete_only",
                    audit_model="onsite_audit", special_safeguards="x" * 40)
    complete.pop("notice_days", None)
    clauses, words = _clauses(dpa_q, complete, "en")
    seven = str(clause_block(clauses["7"], 3, words))
    assert "Prior specific authorisation" in seven and "General written authorisation" not in seven
    assert "The processing involves personal data revealing the special categories" in seven
    assert "carried out by the controller or by an independent auditor it mandates" in seven
    ten = str(clause_block(clauses["10"], 3, words))
    assert "deletes all personal data processed on behalf of the controller, and existing copies" in ten
    assert "the controller's choice" not in ten.replace("&#39;", "'")


def test_no_subprocessors_variant(dpa_q, complete, clause_block):
    complete["uses_subprocessors"] = "no"
    clauses, words = _clauses(dpa_q, complete, "fr")
    seven = str(clause_block(clauses["7"], 3, words))
    assert "ne fait appel à aucun sous-traitant ultérieur" in seven


def test_governing_law_clause_only_when_answered(dpa_q, complete):
    del complete["governing_law"]
    clauses, _words = _clauses(dpa_q, complete, "en")
    assert "11" not in clauses
