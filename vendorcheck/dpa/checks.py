"""Checks that block publishing a DPA: missing or inconsistent answers, each pointing to an item.

Pure: no Flask request, no database. Messages are lazy translations, read in the active locale.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l

from vendorcheck.dpa.assemble import assemble, needs_transfer_tool
from vendorcheck.questionnaire import Questionnaire, score

MAX_BREACH_HOURS = 72  # the controller itself has 72 hours to notify the authority (Art. 33(1))
MIN_SAFEGUARDS = 30    # same threshold as the questionnaire's special_data_without_safeguards rule
MIN_NOTICE_DAYS = 15   # below this, the notice_period_short finding is raised (a warning here)


@dataclass(frozen=True)
class CheckProblem:
    """One thing to fix before publishing: a code, the item to edit and a message."""

    code: str
    item_id: str
    section_id: str
    message: Any  # a lazy string, translated when shown
    row: int | None = None

    @property
    def text(self) -> str:
        """Return the message in the active locale."""
        return str(self.message)


@dataclass(frozen=True)
class CheckResult:
    """Blocking problems and non-blocking warnings of a draft."""

    problems: list[CheckProblem] = field(default_factory=list)
    warnings: list[CheckProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the draft may be published."""
        return not self.problems


def _problem(q: Questionnaire, code: str, item_id: str, message: Any,
             row: int | None = None) -> CheckProblem:
    """Build a problem pointing to an item (and its section)."""
    section = q.item(item_id).section or "" if q.has_item(item_id) else ""
    return CheckProblem(code, item_id, section, message, row)


def _missing(q: Questionnaire, answers: Mapping[str, Any], today: date | None
             ) -> list[CheckProblem]:
    """Return one problem per required, shown, unanswered item."""
    result = score(q, answers, today=today)
    return [_problem(q, "missing_answer", item_id, _l("This question must be answered."))
            for item_id in result.missing_required]


def _subprocessor_problems(q: Questionnaire, content: Mapping[str, Any],
                           answers: Mapping[str, Any]) -> list[CheckProblem]:
    """Return problems of the sub-processor list: no rows, no activity, transfers without tool."""
    out: list[CheckProblem] = []
    if answers.get("uses_subprocessors") == "yes" and not content["subprocessors"]:
        out.append(_problem(q, "no_subprocessor_listed", "subprocessors", _l(
            "You answered that you use sub-processors: list each of them.")))
    group_of = q.country_groups.group_of if q.country_groups is not None else None
    for index, row in enumerate(content["subprocessors"]):
        name = row.get("name") or f"#{index + 1}"
        if not row.get("activity"):
            out.append(_problem(q, "subprocessor_without_activity", "subprocessors", _l(
                "Sub-processor %(name)s: describe the processing entrusted to it.", name=name),
                index))
        tool = row.get("transfer_tool")
        if needs_transfer_tool(row.get("location"), group_of) and tool in (None, "none"):
            out.append(_problem(q, "subprocessor_transfer_without_tool", "subprocessors", _l(
                "Sub-processor %(name)s processes data outside the EEA without a transfer tool "
                "(Chapter V GDPR): choose one, or move the processing into the EEA.", name=name),
                index))
    return out


def _processing_problems(q: Questionnaire, content: Mapping[str, Any]) -> list[CheckProblem]:
    """Return problems of the description of processing (Annex II)."""
    out: list[CheckProblem] = []
    p = content["processing"]
    if not p.get("data_categories"):
        out.append(_problem(q, "no_data_categories", "data_categories", _l(
            "List at least one category of personal data.")))
    if not p.get("data_subjects"):
        out.append(_problem(q, "no_data_subjects", "data_subjects", _l(
            "List at least one category of data subjects.")))
    sensitive = bool(p.get("special_categories")) or p.get("criminal_data") == "yes"
    if sensitive and len(p.get("special_safeguards") or "") < MIN_SAFEGUARDS:
        out.append(_problem(q, "sensitive_without_safeguards", "special_safeguards", _l(
            "Sensitive data are declared: describe the restrictions and additional safeguards "
            "applied to them (at least %(n)d characters).", n=MIN_SAFEGUARDS)))
    group_of = q.country_groups.group_of if q.country_groups is not None else None
    abroad = any(needs_transfer_tool(c, group_of) for c in p.get("processing_locations") or [])
    if abroad and p.get("transfer_tool") in (None, "none"):
        out.append(_problem(q, "own_transfer_without_tool", "own_transfer_tool", _l(
            "You store or access data outside the EEA: choose the transfer tool that covers it.")))
    return out


def _party_problems(q: Questionnaire, content: Mapping[str, Any]) -> list[CheckProblem]:
    """Return problems of Annex I: the processor must be identified."""
    parties = content["parties"]
    needed = {"processor_name": "processor_legal_name", "processor_address": "processor_address",
              "processor_country": "processor_country", "contact_email": "contact_email"}
    return [_problem(q, "missing_party_details", item_id, _l(
        "The list of parties needs this detail of the processor."))
        for key, item_id in needed.items() if not parties.get(key)]


def _clause_problems(q: Questionnaire, content: Mapping[str, Any]) -> list[CheckProblem]:
    """Return problems of the commitments Article 28(3) makes mandatory."""
    c = content["clauses"]
    out: list[CheckProblem] = []
    hours = c.get("breach_hours")
    if hours is None or hours > MAX_BREACH_HOURS:
        out.append(_problem(q, "breach_hours", "breach_notice_hours", _l(
            "Give the breach notification delay in hours: at most %(max)d, so the controller "
            "can notify the authority in time (Art. 33 GDPR).", max=MAX_BREACH_HOURS)))
    if c.get("confidentiality") == "no":
        out.append(_problem(q, "no_confidentiality", "staff_confidentiality", _l(
            "Article 28(3)(b) requires everyone processing the data to be bound by "
            "confidentiality.")))
    if content["subprocessors"] and c.get("flow_down") == "no":
        out.append(_problem(q, "no_flow_down", "flow_down", _l(
            "Article 28(4) requires the same obligations to be imposed on every sub-processor.")))
    if c.get("end_of_contract") in (None, "no_commitment"):
        out.append(_problem(q, "no_return_or_deletion", "end_of_contract", _l(
            "Article 28(3)(g) requires a commitment to delete or return the data at the end.")))
    if c.get("audit_model") in (None, "no_audit"):
        out.append(_problem(q, "audit_refused", "audit_model", _l(
            "Article 28(3)(h) requires the processor to allow and contribute to audits.")))
    if content["subprocessors"] and c.get("subprocessor_authorisation") == "general" and \
            c.get("notice_days") is None:
        out.append(_problem(q, "notice_days_missing", "notice_days", _l(
            "Give the notice period for sub-processor changes (Art. 28(2) GDPR).")))
    return out


def _warnings(q: Questionnaire, content: Mapping[str, Any]) -> list[CheckProblem]:
    """Return non-blocking remarks worth fixing."""
    c, out = content["clauses"], []
    days = c.get("notice_days")
    if c.get("subprocessor_authorisation") == "general" and days is not None and \
            days < MIN_NOTICE_DAYS:
        out.append(_problem(q, "notice_period_short", "notice_days", _l(
            "A notice period shorter than %(n)d days leaves controllers little time to object.",
            n=MIN_NOTICE_DAYS)))
    for index, row in enumerate(content["subprocessors"]):
        if row.get("transfer_tool") == "art49_derogation":
            out.append(_problem(q, "art49_derogation", "subprocessors", _l(
                "Sub-processor %(name)s relies on an Article 49 derogation, meant for occasional "
                "transfers only.", name=row.get("name") or f"#{index + 1}"), index))
    return out


def _dedupe(problems: list[CheckProblem]) -> list[CheckProblem]:
    """Keep the first problem per (item, row, code)."""
    seen: set[tuple[str, int | None, str]] = set()
    out = []
    for problem in problems:
        key = (problem.item_id, problem.row, problem.code)
        if key not in seen:
            seen.add(key)
            out.append(problem)
    return out


def check_draft(q: Questionnaire, answers: Mapping[str, Any], *,
                today: date | None = None) -> CheckResult:
    """Return what blocks publication of these answers, and the warnings."""
    content = assemble(q, answers)
    problems = _missing(q, answers, today)
    answered_missing = {p.item_id for p in problems}
    more = (_party_problems(q, content) + _processing_problems(q, content)
            + _subprocessor_problems(q, content, answers) + _clause_problems(q, content))
    # A missing answer already says what to do; do not list the same item twice.
    problems += [p for p in more if p.item_id not in answered_missing or p.row is not None]
    return CheckResult(_dedupe(problems), _warnings(q, content))


__all__ = ["CheckProblem", "CheckResult", "check_draft"]
