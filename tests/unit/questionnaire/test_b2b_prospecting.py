"""b2b-prospecting-crm 1.1.0: a MINOR version of 1.0.0 whose verdicts follow the law (CPCE L.34-5, GDPR)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vendorcheck.questionnaire import load_catalogue, score, validate_answers
from vendorcheck.questionnaire.legal_refs import format_ref
from vendorcheck.questionnaire.model import SEVERITIES

ROOT = Path(__file__).resolve().parents[3] / "questionnaires"
CATALOGUE = load_catalogue(ROOT)
OLD = CATALOGUE.get("b2b-prospecting-crm", "1.0.0")
NEW = CATALOGUE.get("b2b-prospecting-crm", "1.1.0")
TIER_FOR = {"critical": "unacceptable", "high": "high", "medium": "medium"}
TIERS = ["unacceptable", "high", "medium", "low"]


def _shape(q) -> dict[str, tuple[str, frozenset[str]]]:
    """Map every item and table column id to its type and option values."""
    out = {}
    for item in q.items:
        out[item.id] = (item.type, frozenset(o.value for o in item.options))
        for column in item.columns:
            out[f"{item.id}.{column.id}"] = (column.type, frozenset(o.value for o in column.options))
    return out


def test_every_item_column_and_option_of_1_0_0_is_kept():
    old, new = _shape(OLD), _shape(NEW)
    for key, (kind, options) in old.items():
        assert key in new, key
        assert new[key][0] == kind, key
        assert options <= new[key][1], key


def test_items_added_in_1_1_0_are_optional():
    added = [item for item in NEW.items if item.id not in {i.id for i in OLD.items}]
    assert added
    required = [i.id for i in added if i.required or i.required_expr is not None]
    assert required == []


@pytest.mark.parametrize("test", OLD.tests, ids=lambda t: t.name)
def test_answers_written_for_1_0_0_validate_against_1_1_0(test):
    assert validate_answers(NEW, test.answers).problems == []


@pytest.mark.parametrize("test", OLD.tests + NEW.tests, ids=lambda t: t.name)
def test_the_tier_is_never_better_than_the_worst_finding(test):
    result = score(NEW, validate_answers(NEW, test.answers).answers)
    severities = [f.severity for f in result.findings if f.severity in TIER_FOR]
    if severities:
        worst = min(severities, key=SEVERITIES.index)
        assert TIERS.index(result.tier) <= TIERS.index(TIER_FOR[worst])
    caps = {"unacceptable": 39.9, "high": 59.9, "medium": 79.9}
    if result.score is not None and result.tier in caps:
        assert result.score <= caps[result.tier]


@pytest.mark.parametrize("finding_id", ["no_unsubscribe_link", "sender_not_identified",
                                        "consumers_without_consent",
                                        "no_information_or_objection_at_collection"])
def test_outright_bans_of_l34_5_are_high_and_cite_it(finding_id):
    finding = next(f for f in NEW.findings if f.id == finding_id)
    assert finding.severity == "high"
    assert "cpce:L34-5" in finding.refs


def test_a_single_ban_sets_the_high_tier_although_the_score_is_high():
    answers = dict(next(t for t in OLD.tests if t.name == "compliant_b2b_vendor_is_low_risk").answers)
    answers["sender_identified"] = "no"
    old = score(OLD, validate_answers(OLD, answers).answers)
    new = score(NEW, validate_answers(NEW, answers).answers)
    assert (old.tier, new.tier) == ("medium", "high")
    assert new.verdict.uncapped_score > 90 and new.score == 59.9


def test_the_cpce_reference_reads_as_the_article_with_its_legifrance_link():
    ref = format_ref("cpce:L34-5", NEW.references, "fr")
    assert ref.text == "Code des postes et des communications électroniques, article L34-5"
    assert ref.url == "https://www.legifrance.gouv.fr/codes/article_lc/LEGIARTI000006465785"


@pytest.mark.parametrize(("tool", "country", "finding"), [
    ("art49_derogation", "US", "tool_transfer_on_derogation"),
    ("art49_derogation", "IN", "tool_transfer_on_derogation"),
    ("dpf", "IN", "tool_dpf_outside_us"),
    ("dpf", "KR", "tool_dpf_outside_us"),
    ("adequacy", "CN", "tool_adequacy_without_decision"),
])
def test_invalid_transfer_tools_for_a_crm_tool_are_critical(tool, country, finding):
    answers = dict(next(t for t in OLD.tests if t.name == "compliant_b2b_vendor_is_low_risk").answers)
    row = {"tool_name": "Tool", "country": country, "purpose": "chat", "transfer_tool": tool,
           "dpa_signed": "yes"}
    answers |= {"uses_non_eu_tools": "yes", "non_eu_tools": [row]}
    result = score(NEW, validate_answers(NEW, answers).answers)
    assert [f.id for f in result.findings] == [finding]
    assert result.tier == "unacceptable"


def test_a_tool_and_a_vendor_without_article_28_terms_weigh_the_same():
    severity = {f.id: f.severity for f in NEW.findings}
    assert severity["tool_without_processor_contract"] == "high"
    assert severity["vendor_without_processor_contract"] == "high"
