"""The latest Art. 28 audit covers every obligation of Art. 28 with a reachable, serious finding.

For each paragraph and letter (28(2), 28(3)(a)-(h), 28(4), 28(10)) there must be a finding of severity
high or critical whose refs cite it, and one of the file's embedded tests must raise it. The issue's
measured answer sets are also checked here for what embedded tests cannot express: the articles cited.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from vendorcheck.questionnaire import Questionnaire, ScoreResult, load_catalogue, score, validate_answers
from vendorcheck.questionnaire.model import SEVERITIES
from vendorcheck.questionnaire.testing import run_embedded_tests

ROOT = Path(__file__).resolve().parents[3] / "questionnaires"
QID = "art28-processor-audit"
SERIOUS = ("critical", "high")
TODAY = date(2026, 11, 23)
OBLIGATIONS = {
    "gdpr:28.2": "prior authorisation of sub-processors, notice and objection",
    "gdpr:28.3.a": "documented instructions, including for transfers",
    "gdpr:28.3.b": "confidentiality of authorised persons",
    "gdpr:28.3.c": "Article 32 security measures",
    "gdpr:28.3.d": "conditions for engaging sub-processors",
    "gdpr:28.3.e": "assistance with data subject requests",
    "gdpr:28.3.f": "assistance with Articles 32 to 36",
    "gdpr:28.3.g": "deletion or return at the end of the service",
    "gdpr:28.3.h": "information and audits, including inspections",
    "gdpr:28.4": "same obligations for sub-processors, full liability",
    "gdpr:28.10": "reuse for the processor's own purposes",
}


@cache
def latest() -> Questionnaire:
    """Return the newest version of the audit, whatever its status (a draft must comply too)."""
    catalogue = load_catalogue(ROOT)
    return catalogue.get(QID, catalogue.versions(QID)[-1])


@cache
def raised_by_embedded_tests() -> frozenset[str]:
    """Return the ids of the findings that at least one embedded test raises."""
    q = latest()
    found: set[str] = set()
    for test in q.tests:
        checked = validate_answers(q, test.answers)
        assert checked.ok, (test.name, checked.problems)
        found |= {f.id for f in score(q, checked.answers, today=test.today).findings}
    return frozenset(found)


def result(answers: dict[str, Any]) -> ScoreResult:
    """Score answers against the latest version."""
    q = latest()
    checked = validate_answers(q, answers)
    assert checked.ok, checked.problems
    return score(q, checked.answers, today=TODAY)


def good(**changes: Any) -> dict[str, Any]:
    """Return the good EEA vendor's answers with some changed (None drops an answer)."""
    test = next(t for t in latest().tests if t.name == "good_vendor_eea_only_is_low")
    answers = {**test.answers, **changes}
    return {k: v for k, v in answers.items() if v is not None}


def cited(res: ScoreResult, severities: tuple[str, ...] = SERIOUS) -> set[str]:
    """Return every ref cited by the raised findings of these severities."""
    return {ref for f in res.findings if f.severity in severities for ref in f.refs}


def test_the_embedded_tests_pass():
    assert run_embedded_tests(latest()) == []


@pytest.mark.parametrize("ref", OBLIGATIONS, ids=list(OBLIGATIONS.values()))
def test_every_obligation_has_a_serious_finding_raised_by_an_embedded_test(ref):
    serious = {f.id for f in latest().findings if f.severity in SERIOUS and ref in f.refs}
    assert serious, f"no high or critical finding cites {ref}"
    assert serious & raised_by_embedded_tests(), f"no embedded test raises a finding citing {ref}"


def test_the_unlawful_instruction_alert_has_a_serious_finding():
    """Art. 28(3), last subparagraph: the alert is tied to point (h) and cites both."""
    res = result(good(unlawful_instruction_notice="no"))
    assert {"gdpr:28.3", "gdpr:28.3.h"} <= cited(res)


def test_seven_missing_terms_give_a_high_tier_with_each_paragraph_cited():
    res = result(good(dpa_subject_matter_described="no", instructions_documented="no",
                      unlawful_instruction_notice="no", compliance_assistance="no",
                      subprocessor_objection_right="no", subprocessor_liability="no",
                      dsr_assistance="no", dsr_response_days=None))
    assert res.tier in ("high", "unacceptable")
    assert res.score is not None and res.score <= 59.9
    assert {"gdpr:28.3", "gdpr:28.3.a", "gdpr:28.3.e", "gdpr:28.3.f", "gdpr:28.3.h", "gdpr:28.2",
            "gdpr:28.4"} <= cited(res)


@pytest.mark.parametrize(("changes", "refs"), [
    ({"end_of_contract_choice": "return_only"}, {"gdpr:28.3.g"}),
    ({"end_of_contract_choice": "deletion_only"}, {"gdpr:28.3.g"}),
    ({"audit_rights": "reports_only"}, {"gdpr:28.3.h"}),
    ({"legal_request_handling": "no_policy"}, {"gdpr:28.3.a", "gdpr:48"}),
    ({"instructions_documented": "no"}, {"gdpr:28.3.a", "gdpr:29"}),
    ({"own_purpose_uses": ["ai_training"]}, {"gdpr:28.10"}),
    ({"subprocessor_notice_days": 0}, {"gdpr:28.2"}),
], ids=["return_only", "deletion_only", "reports_only", "disclose_without_telling",
        "instructions_not_documented", "ai_training", "no_advance_notice"])
def test_partial_answers_are_serious_findings_citing_their_paragraph(changes, refs):
    res = result(good(**changes))
    assert refs <= cited(res)
    assert res.tier == "high" and res.score is not None and res.score <= 59.9


@pytest.mark.parametrize("changes", [{"dpa_signed": "no"}, {"encryption_in_transit": "no"}],
                         ids=["no_written_dpa", "no_encryption_in_transit"])
def test_an_unacceptable_vendor_never_shows_a_high_score(changes):
    res = result(good(**changes))
    assert res.tier == "unacceptable"
    assert res.score is not None and res.score <= 39.9
    assert res.verdict.uncapped_score is not None and res.verdict.uncapped_score > 90


def _worst(res: ScoreResult) -> int:
    """Return the index of the worst raised severity (lower is worse; len when none)."""
    return min((SEVERITIES.index(f.severity) for f in res.findings), default=len(SEVERITIES))


def test_no_fixed_breach_deadline_is_judged_harsher_than_a_72_hour_maximum():
    capped = result(good(breach_notification_hours=72))
    no_figure = result(good(breach_notice_commitment="undue_delay_only", breach_notification_hours=None))
    none = result(good(breach_notice_commitment="none", breach_notification_hours=None,
                       breach_notice_content=None))
    assert _worst(none) < _worst(no_figure) < _worst(capped)
    assert "gdpr:33.2" in cited(none)


def test_a_derogation_for_daily_transfers_is_no_valid_tool():
    res = result(good(access_countries=["FR", "IN"], transfer_tools=["art49_derogation"], tia_done="yes",
                      tia_date="2026-03-01", key_custody="vendor_held_eea",
                      cleartext_access_from_third_country="no"))
    assert res.tier == "unacceptable"
    assert {"gdpr:49", "gdpr:44", "gdpr:46"} <= cited(res, ("critical",))


def test_an_occasional_transfer_on_a_derogation_is_not_a_knockout():
    res = result(good(access_countries=["FR", "IN"], transfer_tools=["art49_derogation"],
                      art49_transfer_pattern="occasional", key_custody="vendor_held_eea"))
    assert res.tier == "low"


def test_clear_text_access_from_china_under_sccs_is_high():
    res = result(good(access_countries=["FR", "CN"], transfer_tools=["scc_2021"], tia_done="yes",
                      tia_date="2026-03-01", key_custody="vendor_held_eea",
                      cleartext_access_from_third_country="yes"))
    assert res.tier == "high"
    assert any(f.severity == "high" and "gdpr:46" in f.refs for f in res.findings)


@pytest.mark.parametrize(("countries", "tools", "extra"), [
    (["US", "FR"], ["dpf"], {"us_recipients_dpf_certified": "yes", "dpf_fallback_scc": "yes"}),
    (["CH", "FR"], ["adequacy"], {}),
], ids=["dpf_certified_us", "adequate_switzerland"])
def test_clear_text_access_is_no_finding_without_an_article_46_transfer(countries, tools, extra):
    res = result(good(access_countries=countries, transfer_tools=tools,
                      key_custody="vendor_held_third_country",
                      cleartext_access_from_third_country="yes", **extra))
    assert res.findings == [] and res.tier == "low"


def test_health_data_of_patients_at_scale_without_a_dpo_is_not_a_clean_pass():
    res = result(good(data_subject_categories=["patients"], data_categories=["identification", "health"],
                      special_categories_processed="yes", dpo_mandatory_criteria=["none"],
                      dpo_appointed="na", dpo_name=None, dpo_email=None))
    assert res.tier == "high"
    assert {"gdpr:37.1.c", "gdpr:9"} <= cited(res)


def test_answer_sets_written_for_the_first_version_still_validate():
    catalogue = load_catalogue(ROOT)
    first = catalogue.get(QID, catalogue.versions(QID)[0])
    for test in first.tests:
        assert validate_answers(latest(), test.answers).ok, test.name
