"""The shipped questionnaires and the country-groups dataset: sizes, coverage and the law's country lists."""

from __future__ import annotations

from pathlib import Path

import pycountry
import pytest
import yaml

from vendorcheck.questionnaire import load_catalogue, score, validate_answers
from vendorcheck.questionnaire.countries import ISO_3166_ALPHA2, USER_ASSIGNED

ROOT = Path(__file__).resolve().parents[3] / "questionnaires"
CATALOGUE = load_catalogue(ROOT)
SHIPPED = {
    # id: (minimum number of questions, minimum number of embedded tests)
    "art28-processor-audit": (60, 15),
    "dpa-questionnaire": (40, 8),
    "b2b-prospecting-crm": (25, 10),
}
GROUPS = ("eea", "adequate", "adequate_partial", "third_country")


def _questions(q) -> int:
    return sum(1 for item in q.items if item.type != "note")


@pytest.mark.parametrize(("qid", "minimums"), SHIPPED.items())
def test_shipped_questionnaire_sizes(qid, minimums):
    q = CATALOGUE.get(qid)
    min_questions, min_tests = minimums
    assert q.status == "published"
    assert _questions(q) >= min_questions
    assert len(q.tests) >= min_tests
    assert set(q.locales) >= {"en", "fr"}


def _outcomes(q) -> tuple[set[str], set[str]]:
    """Run every embedded test and collect the findings and tiers they actually produce."""
    findings, tiers = set(), set()
    for test in q.tests:
        checked = validate_answers(q, test.answers)
        assert not checked.problems, (test.name, checked.problems)
        result = score(q, checked.answers, today=test.today)
        findings |= {f.id for f in result.findings}
        tiers.add(result.tier)
    return findings, tiers


@pytest.mark.parametrize("qid", SHIPPED)
def test_every_finding_and_tier_is_reached_by_an_embedded_test(qid):
    q = CATALOGUE.get(qid)
    findings, tiers = _outcomes(q)
    assert {f.id for f in q.findings} - findings == set()
    assert {t.id for t in q.tiers} - tiers == set()


@pytest.mark.parametrize("qid", SHIPPED)
def test_shipped_tiers_are_the_house_tiers(qid):
    assert [t.id for t in CATALOGUE.get(qid).tiers] == ["unacceptable", "high", "medium", "low"]


@pytest.mark.parametrize("qid", SHIPPED)
def test_every_text_exists_in_french_and_english(qid):
    q = CATALOGUE.get(qid)
    texts = [q.title, *(s.title for s in q.sections)]
    for item in q.items:
        texts += [t for t in (item.label, item.help, item.body, item.statement) if t is not None]
        texts += [o.label for o in item.options]
    for finding in q.findings:
        texts += [finding.title, finding.remediation]
    for text in texts:
        assert text.get("fr") and text.get("en") and "fr" in text and "en" in text


@pytest.mark.parametrize("qid", SHIPPED)
def test_shipped_questionnaires_pin_the_country_dataset(qid):
    q = CATALOGUE.get(qid)
    assert q.country_groups is not None
    assert q.country_groups.key in CATALOGUE.datasets


def test_art28_keeps_the_core_item_ids_and_types():
    q = CATALOGUE.get("art28-processor-audit")
    expected = {
        "hosting_countries": "country_list", "access_countries": "country_list",
        "transfer_tools": "multi_choice", "tia_done": "yes_no", "uses_subprocessors": "yes_no",
        "subprocessors": "table", "dpa_signed": "yes_no", "processing_register": "yes_no",
        "breach_notification_hours": "number", "encryption_in_transit": "yes_no",
        "encryption_at_rest": "yes_no", "mfa_admin_access": "yes_no", "backups_tested": "yes_no",
        "access_logging": "yes_no", "security_testing": "yes_no", "dpo_appointed": "yes_no",
        "certifications": "multi_choice",
    }
    assert {k: q.item(k).type for k in expected} == expected
    tools = {"adequacy", "dpf", "scc_2021", "bcr", "art49_derogation", "none"}
    assert {o.value for o in q.item("transfer_tools").options} == tools
    assert {o.value for o in q.item("subprocessors").column("transfer_tool").options} == tools
    columns = [c.id for c in q.item("subprocessors").columns]
    assert columns[:4] == ["name", "country", "purpose", "transfer_tool"]
    assert {"iso27001", "soc2_type2", "hds", "secnumcloud", "none"} <= {
        o.value for o in q.item("certifications").options}
    assert q.item("dpo_appointed").na_allowed


def test_art28_uses_every_item_type():
    q = CATALOGUE.get("art28-processor-audit")
    types = {item.type for item in q.items}
    assert types == {"yes_no", "single_choice", "multi_choice", "text", "long_text", "number", "date",
                     "country", "country_list", "email", "url", "file", "table", "attestation", "note"}


def test_iso_codes_match_pycountry():
    assert {c.alpha_2 for c in pycountry.countries} == set(ISO_3166_ALPHA2)


@pytest.mark.parametrize("path", sorted((ROOT / "reference" / "country_groups").glob("*.yaml")),
                         ids=lambda p: p.stem)
def test_every_iso_code_falls_in_exactly_one_group(path):
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    countries = [e for e in raw["entries"] if e.get("kind", "country") == "country"]
    organisations = [e for e in raw["entries"] if e not in countries]
    listed = [str(entry["code"]) for entry in countries]
    assert len(listed) == len(set(listed)), "a country is listed twice"
    assert set(listed) <= set(ISO_3166_ALPHA2)
    assert {entry["group"] for entry in countries} <= set(GROUPS) - {"third_country"}
    # International organisations take user-assigned codes, never a country's.
    assert {str(e["code"]) for e in organisations} <= USER_ASSIGNED
    dataset = CATALOGUE.datasets[f"country_groups@{path.stem}"]
    counts = {group: len(set(dataset.members(group)) & ISO_3166_ALPHA2) for group in GROUPS[:3]}
    third = [code for code in ISO_3166_ALPHA2 if dataset.group_of(code) == "third_country"]
    assert sum(counts.values()) + len(third) == len(ISO_3166_ALPHA2) == 249


@pytest.mark.parametrize(
    ("code", "group"),
    [("FR", "eea"), ("NO", "eea"), ("IS", "eea"), ("LI", "eea"), ("RE", "eea"), ("AX", "eea"),
     ("CH", "adequate"), ("GB", "adequate"), ("BR", "adequate"), ("JE", "adequate"),
     ("US", "adequate_partial"), ("CA", "adequate_partial"), ("JP", "adequate_partial"),
     ("KR", "adequate_partial"), ("IN", "third_country"), ("CN", "third_country"),
     ("PF", "third_country"), ("NC", "third_country")],
)
def test_country_groups_follow_the_law(code, group):
    dataset = CATALOGUE.datasets["country_groups@2026-01-28"]
    assert dataset.group_of(code) == group


def test_eea_has_exactly_the_member_states_efta_and_eu_territories():
    dataset = CATALOGUE.datasets["country_groups@2026-01-28"]
    eu27 = set("AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split())
    territories = {"AX", "GF", "GP", "MQ", "RE", "YT", "MF"}
    assert set(dataset.members("eea")) == eu27 | {"IS", "LI", "NO"} | territories


def test_adequacy_entries_carry_their_decision():
    dataset = CATALOGUE.datasets["country_groups@2026-01-28"]
    for code in dataset.members("adequate") + dataset.members("adequate_partial"):
        entry = dataset.entry(code)
        assert entry.decision and entry.date, code
    for code in dataset.members("adequate_partial"):
        assert dataset.entry(code).condition is not None, code
