"""Checks that block publication: each problem names the item (and row) to edit."""

from __future__ import annotations

import pytest

from tests.unit.dpa.conftest import answer_set
from vendorcheck.dpa.checks import check_draft


def codes(result):
    return [(p.code, p.item_id, p.row) for p in result.problems]


def test_complete_answers_pass(dpa_q, complete):
    result = check_draft(dpa_q, complete)
    assert result.ok and result.problems == [] and result.warnings == []


def test_empty_draft_lists_every_required_item(dpa_q):
    result = check_draft(dpa_q, {})
    assert not result.ok
    items = {p.item_id for p in result.problems}
    assert {"processor_legal_name", "breach_notice_hours", "data_categories", "signatory"} <= items
    assert all(p.section_id for p in result.problems)  # each points to a section page


def test_third_country_subprocessor_without_tool(dpa_q):
    result = check_draft(dpa_q, answer_set(dpa_q, "us_subprocessor_without_tool_is_blocked"))
    assert codes(result) == [("subprocessor_transfer_without_tool", "subprocessors", 1)]
    assert result.problems[0].section_id == "subprocessing"
    assert "Chapter V" in result.problems[0].text


def test_own_processing_abroad_without_tool(dpa_q):
    result = check_draft(dpa_q, answer_set(dpa_q, "india_support_access_without_tool_is_blocked"))
    assert codes(result) == [("own_transfer_without_tool", "own_transfer_tool", None)]


@pytest.mark.parametrize(("hours", "blocked"), [("72", False), ("73", True), ("720", True)])
def test_breach_hours_above_72_block(dpa_q, complete, hours, blocked):
    complete["breach_notice_hours"] = hours
    result = check_draft(dpa_q, complete)
    assert (("breach_hours", "breach_notice_hours", None) in codes(result)) is blocked


def test_breach_hours_missing_is_listed_once(dpa_q, complete):
    del complete["breach_notice_hours"]
    problems = [p for p in check_draft(dpa_q, complete).problems
                if p.item_id == "breach_notice_hours"]
    assert [p.code for p in problems] == ["missing_answer"]


def test_subprocessor_without_activity(dpa_q, complete):
    complete["subprocessors"][0]["activity"] = "   "
    assert ("subprocessor_without_activity", "subprocessors", 0) in codes(
        check_draft(dpa_q, complete))


def test_uses_subprocessors_but_none_listed(dpa_q, complete):
    complete["subprocessors"] = []
    result = check_draft(dpa_q, complete)
    assert any(p.item_id == "subprocessors" for p in result.problems)


def test_missing_parties(dpa_q, complete):
    del complete["processor_address"]
    assert ("missing_answer", "processor_address", None) in codes(check_draft(dpa_q, complete))


def test_special_categories_without_safeguards(dpa_q):
    result = check_draft(dpa_q, answer_set(dpa_q, "health_data_without_safeguards_and_no_deletion"))
    assert ("sensitive_without_safeguards", "special_safeguards", None) in codes(result)
    assert ("no_return_or_deletion", "end_of_contract", None) in codes(result)
    fine = check_draft(dpa_q, answer_set(dpa_q, "health_data_with_safeguards_is_fine"))
    assert fine.ok


def test_mandatory_commitments(dpa_q):
    result = check_draft(dpa_q, answer_set(dpa_q, "audit_refused_and_no_flow_down"))
    assert {c for c, _i, _r in codes(result)} == {"no_flow_down", "audit_refused"}


def test_confidentiality_refused(dpa_q, complete):
    complete["staff_confidentiality"] = "no"
    assert ("no_confidentiality", "staff_confidentiality", None) in codes(
        check_draft(dpa_q, complete))


def test_warnings_do_not_block(dpa_q, complete):
    complete["notice_days"] = "7"
    result = check_draft(dpa_q, complete)
    assert result.ok and [w.code for w in result.warnings] == ["notice_period_short"]
    art49 = check_draft(dpa_q, answer_set(dpa_q, "art49_and_dpf_misuse_are_flagged"))
    assert "art49_derogation" in [w.code for w in art49.warnings]
