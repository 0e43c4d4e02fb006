"""The audit report of one assessment: a pure context builder, then HTML and PDF rendering.

``build_report_context`` turns plain data (answers, findings, reviewer records) and a loaded
questionnaire into display-ready values in one locale: option labels, country names, dates and
numbers formatted with Babel, legal references in words. Fixed vocabulary (yes/no, severities,
states, decisions) stays as codes; the templates translate them with ``force_locale``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from babel.numbers import format_decimal

from vendorcheck.questionnaire import (
    CategoryScore,
    Item,
    LocaleText,
    Questionnaire,
    ScoreResult,
    score,
)
from vendorcheck.questionnaire.explain import ExplainedFinding, Trigger, describe, explain_verdict
from vendorcheck.questionnaire.itemtypes import Words
from vendorcheck.questionnaire.itemtypes import answer_words as words_of
from vendorcheck.questionnaire.legal_refs import format_ref
from vendorcheck.questionnaire.model import SEVERITIES
from vendorcheck.questionnaire.scoring import Verdict

LOCALES = ("en", "fr")
YES_NO_CODES = frozenset({"yes", "no", "na", "unknown"})
CSS_PATH = Path(__file__).resolve().parents[2] / "static" / "css" / "report.css"
# How a date and a time join, as on pages ("%(date)s, %(time)s UTC" in messages.po; French "à").
MOMENT_PATTERNS = {"en": "{date}, {time} UTC", "fr": "{date} à {time} UTC"}


@dataclass(frozen=True)
class ReportData:
    """Everything the report shows about one assessment, as plain values."""

    assessment_id: int
    buyer: str
    vendor: str
    answers: Mapping[str, Any]
    generated_at: datetime
    service: str = ""
    status: str = "decided"
    decided: bool = False
    decision: str | None = None
    decision_comment: str | None = None
    reviewer: str | None = None
    sent_at: datetime | None = None
    submitted_at: datetime | None = None
    decided_at: datetime | None = None
    due_date: date | None = None
    next_review_date: date | None = None
    score: float | None = None
    tier: str | None = None
    justifications: Mapping[str, str] = field(default_factory=dict)
    findings: Sequence[Mapping[str, Any]] = ()
    overrides: Sequence[Mapping[str, Any]] = ()
    evidence: Sequence[Mapping[str, Any]] = ()
    clarifications: Sequence[Mapping[str, Any]] = ()
    attestation: Mapping[str, Any] | None = None
    verdict: Verdict | None = None  # the reviewed verdict (overrides applied); else the computed one
    categories: Sequence[CategoryScore] | None = None  # reviewed category scores; else computed
    remediations: Sequence[Mapping[str, Any]] = ()  # requests sent to the vendor, with their history


def answers_sha256(answers: Mapping[str, Any]) -> str:
    """Return the SHA-256 of the answers' canonical JSON (sorted keys, no spaces, UTF-8)."""
    text = json.dumps(answers, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Formatter:
    """Format values for one locale with Babel (pure: no Flask)."""

    def __init__(self, locale: str) -> None:
        self.locale = locale if locale in LOCALES else "en"
        self._territories: Mapping[str, str] = Locale.parse(self.locale).territories

    def text(self, value: LocaleText | Mapping[str, str] | None) -> str:
        """Return a questionnaire locale map in this locale (English fallback)."""
        if value is None:
            return ""
        if isinstance(value, LocaleText):
            return value.get(self.locale)
        return str(value.get(self.locale) or value.get("en") or next(iter(value.values()), ""))

    def country(self, code: Any) -> str:
        """Return a country's name in this locale; unknown codes are shown as given."""
        key = str(code).upper()
        return str(self._territories.get(key, key))

    def place(self, item: Item | None, code: Any) -> str:
        """Return the name of a country, or of an international organisation the item lists."""
        named = item.organisation_name(code, self.locale) if item is not None else None
        return named or self.country(code)

    def date(self, value: date | datetime | str | None) -> str:
        """Return a long date ("12 mars 2026"), or "" for None."""
        if value is None or value == "":
            return ""
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value[:10])
            except ValueError:
                return str(value)
        if isinstance(value, datetime):
            value = value.astimezone(UTC).date()
        return str(format_date(value, format="long", locale=self.locale))

    def legacy_datetime(self, value: datetime | None) -> str:
        """Return a moment as DPA documents of the legacy format were published: "…, 12:00:00 PM UTC"."""
        if value is None:
            return ""
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        stamp = format_datetime(moment.astimezone(UTC), format="medium", tzinfo=UTC,
                                locale=self.locale)
        return f"{stamp} UTC"

    def datetime(self, value: datetime | None) -> str:
        """Return a moment in UTC, labelled, as pages write it: "12 mars 2026 à 14:05 UTC"."""
        if value is None:
            return ""
        moment = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
        day = format_date(moment.date(), format="medium", locale=self.locale)
        clock = format_time(moment.time(), "HH:mm", locale=self.locale)
        return MOMENT_PATTERNS[self.locale].format(date=day, time=clock)

    def number(self, value: Any, *, one_decimal: bool = False) -> str:
        """Return a number with the locale's separators."""
        if value is None or value == "":
            return ""
        try:
            number = float(value)
        except (TypeError, ValueError):
            return str(value)
        if one_decimal:
            return str(format_decimal(number, format="#,##0.0", locale=self.locale))
        if number.is_integer():
            return str(format_decimal(int(number), locale=self.locale))
        return str(format_decimal(number, locale=self.locale))


# ------------------------------------------------------------------------------ answers in words

def answer_words(item: Item, value: Any, fmt: Formatter) -> dict[str, Any]:
    """Return how an answer reads: {"code": yes/no/na/None, "text": str, "list": [...], "rows"}.

    The words come from the item's type (the same for every page); this only shapes them for the
    report's templates and exports, which say the codes in the report's language.
    """
    words = words_of(item, value, fmt)
    out: dict[str, Any] = {"code": None, "text": "", "list": [], "rows": [], "columns": [],
                           "keeps_spaces": False}
    if words.code is not None:
        out["code"] = words.code
    elif words.table is not None:
        out["columns"] = list(words.table.columns)
        out["rows"] = [[_cell(cell) for cell in row] for row in words.table.rows]
    elif words.values is not None:
        out["list"] = list(words.values)
    elif words.files is None:  # files are listed with the evidence, not as an answer
        out["text"] = words.text
        out["keeps_spaces"] = keeps_spaces(words.text)
    return out


def keeps_spaces(text: str) -> bool:
    """Return whether a text reads differently once its spaces are collapsed (CSS pre-line).

    Only such a text needs an element of its own (white-space: pre-wrap) in the report: every
    element costs render time, and most answers are a few words.
    """
    return text != text.strip(" ") or any(run in text for run in ("  ", "\t", " \n", "\n "))


def _cell(words: Words) -> str:
    """Return one table cell in words (yes/no cells stay codes for the template)."""
    if words.code == "unanswered":
        return ""
    if words.code in YES_NO_CODES:
        return f"@{words.code}"
    if words.values:
        return ", ".join(words.values)
    return words.text


# ------------------------------------------------------------------------------------ context

def build_report_context(
    q: Questionnaire,
    data: ReportData,
    locale: str,
    *,
    base_url: str,
    result: ScoreResult | None = None,
) -> dict[str, Any]:
    """Return the template context of the audit report in ``locale`` (pure)."""
    fmt = Formatter(locale)
    if result is None:
        today = data.decided_at.date() if data.decided_at else data.generated_at.date()
        result = score(q, data.answers, today=today)
    findings = _findings(q, data, result, fmt)
    overall = data.score if data.score is not None else result.score
    tier = data.tier if data.tier is not None else result.tier
    explained = _explained(data, findings, fmt)
    return {
        "locale": fmt.locale,
        "draft": not data.decided,
        "assessment_id": data.assessment_id,
        "buyer": data.buyer,
        "vendor": data.vendor,
        "service": data.service,
        "status": data.status,
        "questionnaire": {
            "id": q.id, "version": q.version, "sha256": q.sha256, "title": fmt.text(q.title),
        },
        "dates": [(key, value) for key, value in (
            ("sent", fmt.datetime(data.sent_at)),
            ("submitted", fmt.datetime(data.submitted_at)),
            ("decided", fmt.datetime(data.decided_at)),
            ("due", fmt.date(data.due_date)),
            ("next_review", fmt.date(data.next_review_date)),
        ) if value],
        "generated_at": fmt.datetime(data.generated_at),
        "reviewer": data.reviewer or "",
        "decision": data.decision,
        "decision_comment": data.decision_comment or "",
        "attestation": _attestation(data.attestation, fmt),
        "summary": {
            "score": fmt.number(overall, one_decimal=True) if overall is not None else None,
            "score_value": overall,
            "tier": tier,
            "tier_label": _tier_label(q, tier, fmt),
            "computed_score": (fmt.number(result.score, one_decimal=True)
                               if result.score is not None and result.score != overall else None),
            "computed_tier": result.tier if result.tier != tier else None,
            "completeness": fmt.number(round(result.completeness * 100)),
            # the same reviewed scores as the overall score above, so the table adds up to it
            "categories": _categories(q, data.categories if data.categories is not None
                                      else result.categories, fmt),
            "severity_counts": [(sev, sum(1 for f in findings if f["severity"] == sev))
                                for sev in SEVERITIES],
            "explanation": explain_verdict(q, data.verdict or result.verdict, explained, fmt.locale),
        },
        "score_text": lambda value: fmt.number(value, one_decimal=True) if value is not None else "—",
        "findings": findings,
        "remediations": _remediations(data.remediations, fmt),
        "sections": _sections(q, data, result, fmt),
        "references": _references(q, fmt),
        "answers_sha256": answers_sha256(data.answers),
        "verify_url": base_url.rstrip("/") + "/verify",
    }


def _explained(data: ReportData, findings: Sequence[Mapping[str, Any]],
               fmt: Formatter) -> list[ExplainedFinding]:
    """Return the findings as the tier's explanation reads them: remediated ones (fix accepted,
    no longer counted) with their day, waived ones (still counted) with the waiver's expiry."""
    fixed = {str(o.get("target")): o.get("new_value") for o in data.overrides
             if o.get("kind") == "finding_remediated"}
    waivers = {str(r.get("finding_id")): r.get("waiver_expires") for r in data.remediations
               if r.get("state") == "waived"}
    return [ExplainedFinding(
        f["title"], f["severity"], tuple(f["triggers"]),
        remediated_on=fmt.date(fixed[f["id"]]) if f["id"] in fixed else "",
        accepted_risk=f["state"] == "accepted_risk",
        risk_until=fmt.date(waivers.get(f["id"]))) for f in findings]


def _tier_label(q: Questionnaire, tier: str | None, fmt: Formatter) -> str:
    """Return a tier's label from the questionnaire, else its id."""
    for rule in q.tiers:
        if rule.id == tier and rule.label is not None:
            return fmt.text(rule.label)
    return tier or ""


def _categories(q: Questionnaire, categories: Sequence[CategoryScore],
                fmt: Formatter) -> list[dict[str, Any]]:
    """Return the category scores with a bar width in percent."""
    labels = {cat.id: fmt.text(cat.label) for cat in q.categories}
    return [{
        "id": cat.id,
        "label": labels.get(cat.id, cat.id),
        "assessed": cat.assessed and cat.score is not None,
        "score": fmt.number(cat.score, one_decimal=True) if cat.score is not None else "",
        "width": max(0.0, min(100.0, float(cat.score or 0))),
    } for cat in categories]


def _attestation(att: Mapping[str, Any] | None, fmt: Formatter) -> dict[str, str] | None:
    """Return who attested the answers, and when."""
    if not att:
        return None
    return {"name": str(att.get("name") or ""), "role": str(att.get("role") or ""),
            "statement": str(att.get("statement") or ""),
            "at": fmt.datetime(att.get("attested_at"))}


def _refs(codes: Sequence[str], q: Questionnaire, fmt: Formatter) -> list[str]:
    """Return reference codes in words."""
    return [format_ref(code, q.references, fmt.locale).text for code in codes]


def _findings(q: Questionnaire, data: ReportData, result: ScoreResult,
              fmt: Formatter) -> list[dict[str, Any]]:
    """Return the findings: reviewed records when there are any, else the computed ones."""
    overrides = {str(o.get("target")): o for o in data.overrides
                 if o.get("kind") == "finding_severity"}
    rows: list[dict[str, Any]] = []
    computed = {f.id: f for f in result.findings}
    if data.findings:
        for record in data.findings:
            fid = str(record.get("finding_id") or "")
            rule = computed.get(fid)
            title = fmt.text(record.get("title")) or (fmt.text(rule.title) if rule else fid)
            remediation = fmt.text(record.get("remediation")) or (
                fmt.text(rule.remediation) if rule and rule.remediation else "")
            refs = list(record.get("refs") or (rule.refs if rule else ()))
            rows.append(_finding_row(fid, str(record.get("severity") or "info"), title, refs,
                                     remediation, record, overrides.get(fid), q, fmt))
    else:
        for finding in result.findings:
            remediation = fmt.text(finding.remediation) if finding.remediation else ""
            rows.append(_finding_row(finding.id, finding.severity, fmt.text(finding.title),
                                     list(finding.refs), remediation, {}, overrides.get(finding.id),
                                     q, fmt))
    for row in rows:
        found = computed.get(row["id"])
        row["triggers"] = _triggers(q, found.triggers if found else (), data.answers, result, fmt)
    order = {sev: index for index, sev in enumerate(SEVERITIES)}
    rows.sort(key=lambda row: (order.get(row["severity"], len(order)), row["id"]))
    return rows


def _remediations(requests: Sequence[Mapping[str, Any]], fmt: Formatter) -> list[dict[str, Any]]:
    """Return the remediation requests with their history, dates and names in words."""
    return [{
        "finding_id": str(r.get("finding_id") or ""),
        "title": fmt.text(r.get("title")) or str(r.get("finding_id") or ""),
        "severity": str(r.get("severity") or "info"),
        "state": str(r.get("state") or "requested"),
        "due_date": fmt.date(r.get("due_date")),
        "waiver_expires": fmt.date(r.get("waiver_expires")),
        "buyer_owner": str(r.get("buyer_owner") or ""),
        "vendor_owner": str(r.get("vendor_owner") or ""),
        "events": [{
            "action": str(e.get("action") or ""), "side": str(e.get("side") or ""),
            "by": str(e.get("by") or ""), "at": fmt.datetime(e.get("at")),
            "text": str(e.get("text") or ""), "file_name": str(e.get("file_name") or ""),
            "sha256": str(e.get("sha256") or ""),
        } for e in r.get("events") or ()],
    } for r in requests]


def _triggers(q: Questionnaire, triggers: Sequence[Trigger], answers: Mapping[str, Any],
              result: ScoreResult, fmt: Formatter) -> list[dict[str, Any]]:
    """Return what raised a finding in words: answers, table rows and countries."""
    values = result.visibility.values

    def text(item: Item, value: Any) -> str:
        words = answer_words(item, value, fmt)
        if words["list"]:
            return ", ".join(words["list"])
        return str(words["text"]) if words["text"] else f"@{words['code']}"  # templates say yes/no

    return [describe(q, t, values, fmt.locale, answer_text=text, country_text=fmt.country)
            for t in triggers]


def _finding_row(fid: str, severity: str, title: str, refs: list[str], remediation: str,
                 record: Mapping[str, Any], override: Mapping[str, Any] | None,
                 q: Questionnaire, fmt: Formatter) -> dict[str, Any]:
    """Return one row of the findings table."""
    return {
        "id": fid,
        "severity": severity,
        "computed_severity": str(override.get("computed_value")) if override else None,
        "override_comment": str(override.get("comment") or "") if override else "",
        "override_by": str(override.get("by") or "") if override else "",
        "title": title,
        "refs": _refs(refs, q, fmt),
        "remediation": remediation,
        "due_date": fmt.date(record.get("due_date")),
        "state": str(record.get("state") or "open"),
        "comment": str(record.get("comment") or ""),
        "manual": record.get("source") == "manual",
    }


def _sections(q: Questionnaire, data: ReportData, result: ScoreResult,
              fmt: Formatter) -> list[dict[str, Any]]:
    """Return every visible section with its visible questions."""
    visible = result.visibility.visible
    evidence = _by_item(data.evidence)
    threads = _by_item(data.clarifications)
    points = {str(o.get("target")): o for o in data.overrides if o.get("kind") == "item_points"}
    scores = {s.item_id: s for s in result.items}
    sections = []
    for s_index, section in enumerate(q.sections, start=1):
        if not visible.get("§" + section.id, True):
            continue
        questions = []
        number = 0
        for item in section.items:
            if not item.kind.is_question or not visible.get(item.id, True):
                continue
            number += 1
            questions.append(_question(f"{s_index}.{number}", item, data, fmt, {
                "evidence": evidence.get(item.id, []), "threads": threads.get(item.id, []),
                "override": points.get(item.id), "score": scores.get(item.id)}, q))
        if questions:
            sections.append({"id": section.id, "number": s_index, "title": fmt.text(section.title),
                             "questions": questions})
    return sections


def _by_item(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """Group records by their item id."""
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(str(row.get("item_id")), []).append(row)
    return grouped


def _question(number: str, item: Item, data: ReportData, fmt: Formatter,
              extra: Mapping[str, Any], q: Questionnaire) -> dict[str, Any]:
    """Return one question block."""
    override = extra["override"]
    item_score = extra["score"]
    return {
        "number": number,
        "id": item.id,
        "label": fmt.text(item.label) or item.id,
        "refs": _refs(item.refs, q, fmt),
        "answer": answer_words(item, data.answers.get(item.id), fmt),
        "justification": data.justifications.get(item.id) or "",
        "points": (fmt.number(item_score.earned) + " / " + fmt.number(item_score.maximum)
                   if item_score is not None and item_score.state == "scored" else ""),
        "override": {
            "computed": str(override.get("computed_value")),
            "new": str(override.get("new_value")),
            "comment": str(override.get("comment") or ""),
            "by": str(override.get("by") or ""),
        } if override else None,
        "evidence": [{
            "file_name": str(ev.get("file_name") or ""),
            "sha256": str(ev.get("sha256") or ""),
            "size": fmt.number(ev.get("size")),
            "review_state": str(ev.get("review_state") or ""),
        } for ev in extra["evidence"]],
        "threads": [{
            "question": str(th.get("question") or ""),
            "asked_by": str(th.get("asked_by") or ""),
            "asked_at": fmt.datetime(th.get("asked_at")),
            "answer": str(th.get("answer") or ""),
            "answered_by": str(th.get("answered_by") or ""),
            "answered_at": fmt.datetime(th.get("answered_at")),
            "state": str(th.get("state") or ""),
        } for th in extra["threads"]],
    }


def _references(q: Questionnaire, fmt: Formatter) -> list[dict[str, str]]:
    """Return every legal reference the questionnaire cites, in words with its source URL."""
    seen: dict[str, None] = {}
    for item in q.items:
        for code in item.refs:
            seen.setdefault(code, None)
        for col in item.columns:
            for code in col.refs:
                seen.setdefault(code, None)
    for rule in q.findings:
        for code in rule.refs:
            seen.setdefault(code, None)
    out = []
    for code in seen:
        ref = format_ref(code, q.references, fmt.locale)
        out.append({"code": code, "text": ref.text, "url": _safe_url(ref.url)})
    return out


def _safe_url(url: str | None) -> str:
    """Keep only http(s) URLs (they become links in the PDF)."""
    if url and url.split(":", 1)[0].lower() in ("http", "https"):
        return url
    return ""
