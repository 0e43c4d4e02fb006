"""Versions published before document kinds existed render exactly as they did.

Golden HTML per clause of the legacy template (`2021-915/v1`) and of the whole legacy document,
rendered from stored content (tests/unit/dpa/golden/legacy/*.json, frozen when the two kinds of
document were introduced). These files are never regenerated: a difference means an old version
changed. The golden text of the two current kinds is in test_golden_kinds.py.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from tests.unit.dpa.conftest import LEGACY, legacy_content
from vendorcheck.agreement.assemble import content_sha256, document_context, document_kind

ROOT = Path(__file__).resolve().parents[3]
GOLDEN = Path(__file__).parent / "golden"
CLAUSES = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"]
LEGACY_SETS = ["complete_eu_processor_is_low_risk", "us_subprocessor_under_scc_is_accepted"]


@pytest.fixture(scope="module")
def env():
    return Environment(loader=FileSystemLoader(ROOT / "templates"), autoescape=True,
                       undefined=StrictUndefined)


@pytest.fixture(scope="module")
def clause_block(env):
    return env.get_template("dpa/_clause.html").module.clause_block


def _clauses(q, content, locale):
    context = document_context(content, locale=locale, q=q)
    found = {c["id"]: c for s in context["sections"] for c in s["clauses"]}
    return found, context["words"]


@pytest.mark.parametrize("locale", ["en", "fr"])
@pytest.mark.parametrize("clause_id", CLAUSES)
def test_legacy_clause_matches_golden(dpa_q_v1, clause_block, locale, clause_id):
    clauses, words = _clauses(dpa_q_v1, legacy_content(), locale)
    html = str(clause_block(clauses[clause_id], 3, words)).strip() + "\n"
    assert html == (GOLDEN / locale / f"clause-{clause_id}.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("locale", ["en", "fr"])
@pytest.mark.parametrize("name", LEGACY_SETS)
def test_legacy_document_renders_as_stored(dpa_q_v1, env, name, locale):
    content = legacy_content(name)
    assert document_kind(content) == "legacy"
    version = SimpleNamespace(number=3, sha256=content_sha256(content), content=content,
                              published_at=datetime(2026, 11, 23, 12, 0, tzinfo=UTC),
                              vendor_org=SimpleNamespace(name="Vendor org"))
    html = env.get_template("dpa/_document.html").render(
        doc=document_context(content, locale=locale, q=dpa_q_v1), version=version)
    assert html.strip() + "\n" == (LEGACY / f"{name}.{locale}.html").read_text(encoding="utf-8")


def _variant(**clauses):
    """Return the stored legacy content with some clause values changed (another stored version)."""
    content = copy.deepcopy(legacy_content())
    content["clauses"].update(clauses)
    return content


def test_legacy_variants_follow_the_stored_values(dpa_q_v1, clause_block):
    content = _variant(subprocessor_authorisation="specific", end_of_contract="delete_only",
                       audit_model="onsite_audit")
    content["clauses"].pop("notice_days")
    content["processing"].update(special_categories=["health"], special_safeguards="x" * 40)
    clauses, words = _clauses(dpa_q_v1, content, "en")
    seven = str(clause_block(clauses["7"], 3, words))
    assert "Prior specific authorisation" in seven and "General written authorisation" not in seven
    assert "The processing involves personal data revealing the special categories" in seven
    assert "carried out by the controller or by an independent auditor it mandates" in seven
    ten = str(clause_block(clauses["10"], 3, words))
    assert "deletes all personal data processed on behalf of the controller, and existing copies" in ten
    assert "the controller's choice" not in ten.replace("&#39;", "'")


def test_legacy_no_subprocessors_variant(dpa_q_v1, clause_block):
    content = copy.deepcopy(legacy_content())
    content["subprocessors"] = []
    clauses, words = _clauses(dpa_q_v1, content, "fr")
    seven = str(clause_block(clauses["7"], 3, words))
    assert "ne fait appel à aucun sous-traitant ultérieur" in seven


def test_legacy_governing_law_clause_only_when_stored(dpa_q_v1):
    content = copy.deepcopy(legacy_content())
    del content["clauses"]["governing_law"]
    clauses, _words = _clauses(dpa_q_v1, content, "en")
    assert "11" not in clauses
