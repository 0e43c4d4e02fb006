"""Turn stored answers, findings and scores into what the reviewer reads: words, not codes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from flask import url_for
from flask_babel import format_date, format_decimal, ngettext
from flask_babel import gettext as _

from vendorcheck.i18n import country_name
from vendorcheck.models.assessments import (
    Assessment,
    Clarification,
    ClarificationState,
    Evidence,
    FindingRecord,
    FindingState,
    Override,
)
from vendorcheck.questionnaire import Item, ItemScore, LocaleText, Questionnaire, Section
from vendorcheck.questionnaire.explain import ExplainedFinding, Trigger, describe, explain_verdict
from vendorcheck.questionnaire.itemtypes import TableWords, Words, answer_words
from vendorcheck.questionnaire.reviewed import FINDING_SEVERITY, ReviewedResult

T = TypeVar("T")


def status_labels() -> dict[str, str]:
    """Return the assessment statuses in words."""
    return {"draft": _("Draft"), "sent": _("Sent"), "in_progress": _("In progress"),
            "submitted": _("Submitted"), "in_review": _("In review"),
            "clarification_requested": _("Clarification requested"), "decided": _("Decided"),
            "expired": _("Expired"), "cancelled": _("Cancelled"), "none": _("Not assessed yet")}


def tier_labels() -> dict[str, str]:
    """Return the risk tiers in words."""
    return {"low": _("Low"), "medium": _("Medium"), "high": _("High"),
            "unacceptable": _("Unacceptable")}


def severity_labels() -> dict[str, str]:
    """Return the finding severities in words."""
    return {"critical": _("Critical"), "high": _("High"), "medium": _("Medium"), "low": _("Low"),
            "info": _("Information")}


def finding_state_labels() -> dict[str, str]:
    """Return the finding states in words."""
    return {"open": _("Open"), "vendor_responded": _("Vendor responded"),
            "accepted_risk": _("Risk accepted"), "remediated": _("Remediated"),
            "closed": _("Closed")}


def decision_labels() -> dict[str, str]:
    """Return the decisions in words."""
    return {"approved": _("Approved"), "approved_with_conditions": _("Approved with conditions"),
            "rejected": _("Rejected")}


def evidence_url(evidence: Evidence) -> str:
    """Return the buyer's download link of an evidence file."""
    return url_for("buyer.download_evidence", assessment_id=evidence.assessment_id,
                   evidence_id=evidence.id)


# --- answers in words ---------------------------------------------------------------------------


class PageFormatter:
    """Write values in the page's locale for the item types' words (Flask-Babel formats)."""

    def __init__(self, locale: str) -> None:
        self.locale = locale

    def text(self, value: LocaleText | None) -> str:
        """Return a questionnaire text in the page's locale."""
        return value.get(self.locale) if value is not None else ""

    def number(self, value: Any) -> str:
        """Return a number with the locale's separators."""
        return str(format_decimal(value))

    def date(self, value: date | str) -> str:
        """Return an ISO date text in the medium format; anything else as given."""
        if not isinstance(value, str):
            return str(value)  # a rule's date (a finding's trigger) reads as ISO, as it always did
        try:
            return str(format_date(date.fromisoformat(value)))
        except ValueError:
            return value

    def place(self, item: Item | None, code: Any) -> str:
        """Return a country's name, or the name of an international organisation the item lists."""
        named = item.organisation_name(code, self.locale) if item is not None else None
        return named or country_name(code, self.locale)


def _spoken(words: Words) -> str | list[str]:
    """Say an answer's words on the page: lists stay lists, codes become words."""
    if words.values is not None:
        return list(words.values)
    if words.signer is not None:
        name, role = words.signer
        return str(_("Agreed by %(name)s (%(role)s)", name=name, role=role))
    if words.files is not None:
        return ngettext("%(num)d file", "%(num)d files", words.files)
    said = {"unanswered": _("Not answered"), "na": _("Not applicable"), "yes": _("Yes"),
            "no": _("No")}.get(words.code or "")
    return str(said) if said is not None else words.text


def in_words(item: Item, value: Any, locale: str) -> str | list[str]:
    """Return an answer as the reviewer reads it; lists for multiple values."""
    return _spoken(answer_words(item, value, PageFormatter(locale)))


def _as_text(words: str | list[str]) -> str:
    return ", ".join(words) if isinstance(words, list) else words


@dataclass
class TableView:
    """A table answer: column headers and rows of cells in words."""

    headers: list[str]
    rows: list[list[str]]


@dataclass
class ItemView:
    """One question of the review page."""

    item: Item
    label: str
    answer: str | list[str] | None
    table: TableView | None
    justification: str | None
    needs_reconfirmation: bool
    evidence: list[tuple[Evidence, str]]
    clarifications: list[Clarification]
    points: tuple[float, float, float | None] | None   # computed, maximum, overridden
    overrides: list[Override] = field(default_factory=list)

    @property
    def has_open_clarification(self) -> bool:
        return any(c.state is ClarificationState.OPEN for c in self.clarifications)


def _table(table: TableWords) -> TableView:
    """Return a table answer's cells as the reviewer reads them ("—" for an empty cell)."""
    body = [["—" if cell.code == "unanswered" else _as_text(_spoken(cell)) for cell in row]
            for row in table.rows]
    return TableView(list(table.columns), body)


def _points(item: Item, scored: Mapping[str, ItemScore],
            result: ReviewedResult) -> tuple[float, float, float | None] | None:
    computed = scored.get(item.id)
    if computed is None or computed.maximum == 0:
        return None
    return computed.earned, computed.maximum, result.item_points.get(item.id)


def _by_item(rows: Iterable[T], key: Callable[[T], str | None]) -> dict[str | None, list[T]]:
    """Group rows by the item they belong to, in their order: one pass, not one per question."""
    grouped: dict[str | None, list[T]] = defaultdict(list)
    for row in rows:
        grouped[key(row)].append(row)
    return grouped


def item_views(assessment: Assessment, section: Section, result: ReviewedResult,
               locale: str) -> list[ItemView]:
    """Build the questions of one section with answers in words, evidence and clarifications."""
    answers = {a.item_id: a for a in assessment.answers}
    visible = result.computed.visibility
    scored = {i.item_id: i for i in result.computed.items}
    # Files sent with a clarification's answer are shown with that answer, not under the question.
    evidence = _by_item((e for e in assessment.evidence if e.clarification_id is None), lambda e: e.item_id)
    clarifications = _by_item(assessment.clarifications, lambda c: c.item_id)
    overrides = _by_item(assessment.overrides, lambda o: o.target)
    out = []
    for item in section.items:
        answer = answers.get(item.id)
        if not item.kind.is_question or (not visible.is_visible(item.id) and answer is None):
            continue
        value = answer.value if answer is not None else None
        words = answer_words(item, value, PageFormatter(locale))
        out.append(ItemView(
            item=item, label=item.label.get(locale) if item.label else item.id,
            answer=None if words.table is not None else _spoken(words),
            table=_table(words.table) if words.table is not None else None,
            justification=answer.justification if answer is not None else None,
            needs_reconfirmation=bool(answer and answer.needs_reconfirmation),
            evidence=[(e, evidence_url(e)) for e in evidence.get(item.id, [])],
            clarifications=clarifications.get(item.id, []),
            points=_points(item, scored, result),
            overrides=overrides.get(item.id, [])))
    return out


# --- findings and categories --------------------------------------------------------------------


@dataclass
class FindingView:
    """A finding with its record (state, due date) and its severity before and after override."""

    finding_id: str
    title: str
    remediation: str | None
    refs: tuple[str, ...]
    computed_severity: str
    severity: str
    source: str
    record: FindingRecord | None
    overrides: list[Override]
    triggers: tuple[dict[str, Any], ...] = ()   # what raised it, in words (computed findings)


def _local(mapping: dict[str, str] | None, locale: str) -> str | None:
    if not mapping:
        return None
    return mapping.get(locale) or mapping.get("en") or next(iter(mapping.values()))


def finding_views(q: Questionnaire, assessment: Assessment, result: ReviewedResult,
                  locale: str) -> list[FindingView]:
    """Return computed findings (with their records) then the ones added by hand."""
    records = {r.finding_id: r for r in assessment.findings}
    out = []
    for f in result.computed.findings:
        out.append(FindingView(
            f.id, f.title.get(locale), f.remediation.get(locale) if f.remediation else None,
            f.refs, f.severity, result.severity_of(f.id, f.severity), "computed",
            records.get(f.id), [o for o in assessment.overrides
                                if o.target == f.id and o.kind == FINDING_SEVERITY],
            triggers_in_words(q, f.triggers, result.computed.visibility.values, locale)))
    for r in assessment.findings:
        if r.source == "manual":
            out.append(FindingView(r.finding_id, _local(r.title, locale) or r.finding_id,
                                   _local(r.remediation, locale), tuple(r.refs or ()),
                                   r.severity, r.severity, "manual", r, []))
    return out


def triggers_in_words(q: Questionnaire, triggers: Iterable[Trigger], values: Mapping[str, Any],
                      locale: str) -> tuple[dict[str, Any], ...]:
    """Return a finding's triggers as labels and answers in words."""
    return tuple(describe(q, t, values, locale,
                          answer_text=lambda item, value: _as_text(in_words(item, value, locale)),
                          country_text=lambda code: country_name(code, locale)) for t in triggers)


def verdict_view(q: Questionnaire, result: ReviewedResult, findings: list[FindingView],
                 locale: str, waivers: Mapping[str, date | None] | None = None) -> dict[str, Any]:
    """Return why the tier is what it is, for templates/_verdict.html; `waivers` maps a waived
    finding to its expiry (remediated findings come from the result)."""
    waivers = waivers or {}
    explained = [ExplainedFinding(
        f.title, f.severity, f.triggers,
        remediated_on=_day(result.remediated.get(f.finding_id)),
        accepted_risk=f.record is not None and f.record.state is FindingState.ACCEPTED_RISK,
        risk_until=_day(waivers.get(f.finding_id))) for f in findings]
    return explain_verdict(q, result.verdict, explained, locale)


def _day(day: date | None) -> str:
    return format_date(day, "medium") if day else ""


@dataclass
class CategoryView:
    """A category's computed and effective score."""

    label: str
    computed: float | None
    effective: float | None


def category_views(q: Questionnaire, result: ReviewedResult, locale: str) -> list[CategoryView]:
    """Return each category's label with its computed and effective score."""
    effective = {c.id: c.score for c in result.categories}
    return [CategoryView(q.category(c.id).label.get(locale), c.score, effective.get(c.id))
            for c in result.computed.categories]


def visible_sections(q: Questionnaire, result: ReviewedResult) -> Iterable[Section]:
    """Return the sections shown to the vendor."""
    return [s for s in q.sections if result.computed.visibility.is_visible("§" + s.id)]
