"""Checks that block publication: each problem names the item (and row) to edit."""

from __future__ import annotations

import pytest

from tests.unit.dpa.conftest import answer_set
from vendorcheck.agreement.checks import (
    check_draft,
    is_generic_measure,
    is_vague_activity,
    objection_period_problem,
)


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


@pytest.mark.parametrize("hours", ["72", "73", "720"])
def test_breach_outer_limit_never_blocks_more_than_no_limit(dpa_q, complete, hours):
    # Judged by Art. 33(2): the documents say "without undue delay" and the hours are an outer
    # limit on top, so a long limit is a warning; having no limit at all is lawful.
    complete["breach_notice_hours"] = hours
    result = check_draft(dpa_q, complete)
    assert result.ok
    assert ("breach_outer_limit_long" in [w.code for w in result.warnings]) is (int(hours) > 72)
    complete.update(breach_undue_delay="yes")
    del complete["breach_notice_hours"]
    assert check_draft(dpa_q, complete).ok


def test_no_breach_commitment_or_refusing_undue_delay_blocks(dpa_q, complete):
    del complete["breach_notice_hours"]
    assert ("missing_answer", "breach_notice_hours", None) in codes(check_draft(dpa_q, complete))
    complete.update(breach_undue_delay="no", breach_notice_hours="24")
    assert codes(check_draft(dpa_q, complete)) == [
        ("breach_undue_delay_refused", "breach_undue_delay", None)]


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


def test_article_49_and_dpf_outside_the_us_are_no_transfer_tool(dpa_q):
    # A sub-processor's ongoing processing is systematic: Art. 49 is no tool for it, and the DPF
    # covers only US recipients (both were warnings before; a DPA relying on them is unlawful).
    result = check_draft(dpa_q, answer_set(dpa_q, "art49_and_dpf_misuse_are_flagged"))
    assert codes(result) == [("subprocessor_transfer_without_tool", "subprocessors", 1),
                             ("subprocessor_transfer_without_tool", "subprocessors", 2)]
    assert "Article 49" in result.problems[0].text and "United States" in result.problems[1].text


@pytest.mark.parametrize(("name", "expected"), [
    ("documents_only_is_not_an_audit", ("audit_documents_only", "audit_model", None)),
    ("deletion_without_return_choice", ("deletion_without_choice", "end_of_contract", None)),
    ("deletion_not_certified", ("deletion_not_certified", "deletion_certificate", None)),
    ("zero_day_change_notice", ("notice_days_zero", "notice_days", None)),
    ("subprocessor_without_contact_person", ("subprocessor_without_contact", "subprocessors", 0)),
    ("subprocessor_role_too_vague", ("subprocessor_activity_vague", "subprocessors", 0)),
    ("specific_authorisation_with_silence_as_consent",
     ("silence_as_authorisation", "specific_silence_is_consent", None)),
    ("subprocessors_engaged_before_authorisation",
     ("engaged_before_authorisation", "engaged_before_authorisation", None)),
])
def test_each_unlawful_term_blocks_publication(dpa_q, name, expected):
    assert codes(check_draft(dpa_q, answer_set(dpa_q, name))) == [expected]


def test_specific_authorisation_needs_its_request_period(dpa_q):
    answers = answer_set(dpa_q, "specific_authorisation_done_right")
    assert check_draft(dpa_q, answers).ok
    del answers["authorisation_request_days"]
    assert codes(check_draft(dpa_q, answers)) == [
        ("request_days_missing", "authorisation_request_days", None)]


@pytest.mark.parametrize(("objection", "blocked"), [(None, False), (30, False), (45, False),
                                                    (29, True), (1, True)])
def test_objection_period_at_least_the_notice_period(dpa_q, complete, objection, blocked):
    result = check_draft(dpa_q, complete, objection_days=objection)  # notice: 30 days
    assert (("objection_shorter_than_notice", "notice_days", None) in codes(result)) is blocked
    if blocked:
        assert f"({objection} days)" in result.problems[0].text


def test_no_objection_period_blocks_a_general_authorisation(dpa_q, complete):
    """Settings saved before the 1-day minimum may hold 0 days: nobody could object."""
    result = check_draft(dpa_q, complete, objection_days=0)
    assert codes(result) == [("no_objection_period", "notice_days", None)]
    assert "at least one day" in result.problems[0].text


@pytest.mark.parametrize(("objection", "notice", "general", "problem"), [
    (30, 30, True, None), (45, 30, True, None), (29, 30, True, "objection_shorter_than_notice"),
    (0, 30, True, "no_objection_period"), (0, None, True, "no_objection_period"),
    (1, None, True, None), (None, 30, True, None),
    (0, None, False, None), (10, 30, False, None)])  # specific: nobody objects
def test_the_one_objection_period_rule(objection, notice, general, problem):
    assert objection_period_problem(objection, notice, general=general) == problem


GENERIC = ["Industry standard.", "We apply industry-standard security measures at all times.",
           "Appropriate technical and organisational measures in line with best practices.",
           "See our security page at https://example.com/security for the details.",
           "Nous appliquons des mesures de sécurité conformes aux standards du marché."]


@pytest.mark.parametrize("text", GENERIC)
def test_generic_security_measures_block(dpa_q, complete, text):
    complete["annex2_encryption"] = text
    assert codes(check_draft(dpa_q, complete)) == [
        ("measures_too_generic", "annex2_encryption", None)]


@pytest.mark.parametrize("text", ["AES-256 at rest, TLS 1.3 in transit.",
                                  "Chiffrement AES-256 des bases, clés dans un HSM en France."])
def test_short_but_concrete_measures_pass(text):
    assert not is_generic_measure(text)


@pytest.mark.parametrize(("activity", "vague"), [
    ("Hosting", True), ("IT services provider", True), ("Prestataire informatique", True),
    ("Infrastructure hosting", False), ("Transactional e-mail", False),
    ("Hébergement de la base de production", False)])
def test_vague_subprocessor_activities(activity, vague):
    assert is_vague_activity(activity) is vague


def test_identical_descriptions_need_a_delimitation(dpa_q):
    answers = answer_set(dpa_q, "us_subprocessor_under_scc_is_accepted")
    assert check_draft(dpa_q, answers).ok  # distinct descriptions delimit the roles
    for row in answers["subprocessors"]:
        row["activity"] = "Storage of customer files"
    assert codes(check_draft(dpa_q, answers)) == [
        ("subprocessor_without_delimitation", "subprocessors", 0),
        ("subprocessor_without_delimitation", "subprocessors", 1)]
    answers["subprocessors"][0]["responsibilities"] = "Primary copy in Roubaix only."
    answers["subprocessors"][1]["responsibilities"] = "Encrypted backups only."
    assert check_draft(dpa_q, answers).ok


def test_words_of_the_heading_are_not_a_measure(dpa_q, complete):
    complete["annex2_logging"] = "Logging is done according to industry best practices."
    assert codes(check_draft(dpa_q, complete)) == [
        ("measures_too_generic", "annex2_logging", None)]
    assert not is_generic_measure("Logs of every admin action kept 12 months in a SIEM.",
                                  "Events logging")


def test_drafts_of_questionnaire_1_0_0_are_still_checked(dpa_q_v1):
    # A draft not yet moved to 1.1.0 has no request-period question: the problem points to
    # the authorisation model, and the rest of the checks work as before.
    assert check_draft(dpa_q_v1, answer_set(dpa_q_v1, "complete_eu_processor_is_low_risk")).ok
    specific = answer_set(dpa_q_v1, "complete_eu_processor_is_low_risk")
    specific.update(subprocessor_authorisation="specific")
    del specific["notice_days"]
    assert codes(check_draft(dpa_q_v1, specific)) == [
        ("request_days_missing", "subprocessor_authorisation", None)]
