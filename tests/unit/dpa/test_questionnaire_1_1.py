"""dpa-questionnaire 1.1.0 is a minor version of 1.0.0 and cites the exact paragraph of each term."""

from __future__ import annotations

import pytest

from vendorcheck.questionnaire import score, validate_answers


def test_every_1_0_0_item_and_option_is_kept(dpa_q, dpa_q_v1):
    assert dpa_q.version == "1.1.0"
    for item in dpa_q_v1.items:
        assert dpa_q.has_item(item.id), item.id
        new = dpa_q.item(item.id)
        assert new.type == item.type, item.id
        assert {o.value for o in item.options} <= {o.value for o in new.options}, item.id
        assert {c.id for c in item.columns} <= {c.id for c in new.columns}, item.id


def test_1_0_0_answer_sets_still_validate(dpa_q, dpa_q_v1):
    for test in dpa_q_v1.tests:
        assert validate_answers(dpa_q, test.answers).ok, test.name


def test_new_items_are_optional(dpa_q, dpa_q_v1):
    for item in dpa_q.items:
        if not dpa_q_v1.has_item(item.id):
            assert item.required is False and item.required_expr is None, item.id


@pytest.mark.parametrize(("finding", "refs"), [
    ("audit_documents_only", {"gdpr:28.3.h"}),
    ("deletion_without_controller_choice", {"gdpr:28.3.g"}),
    ("deletion_not_certified", {"gdpr:28.3.g", "scc:10"}),
    ("breach_notice_missing", {"gdpr:33.2", "gdpr:28.3.f"}),
    ("change_notice_missing_or_zero", {"gdpr:28.2"}),
    ("silence_counted_as_authorisation", {"gdpr:28.2"}),
    ("subprocessor_engaged_before_authorisation", {"gdpr:28.2"}),
    ("subprocessor_contact_missing", {"gdpr:28.2"}),
    ("subprocessor_role_vague", {"gdpr:28.2"}),
    ("no_confidentiality", {"gdpr:28.3.b"}),
    ("dsr_assistance_too_slow", {"gdpr:28.3.e"}),
])
def test_findings_cite_the_paragraph(dpa_q, finding, refs):
    rule = next(f for f in dpa_q.findings if f.id == finding)
    assert refs <= set(rule.refs)
    assert rule.title.get("en") and rule.title.get("fr") and rule.remediation is not None
    assert rule.due_days


def test_a_fixed_cap_is_never_harsher_than_no_commitment(dpa_q, complete):
    severities = {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}

    def worst(**changes):
        answers = {**complete, **changes}
        answers = {k: v for k, v in answers.items() if v is not None}
        found = score(dpa_q, validate_answers(dpa_q, answers).answers).findings
        return max((severities[f.severity] for f in found), default=-1)

    no_commitment = worst(breach_notice_hours=None)
    for hours in ("24", "72", "96", "720"):
        assert worst(breach_notice_hours=hours) < no_commitment, hours
        assert worst(breach_undue_delay="yes", breach_notice_hours=hours) < no_commitment, hours
    assert worst(breach_undue_delay="yes", breach_notice_hours=None) == -1
