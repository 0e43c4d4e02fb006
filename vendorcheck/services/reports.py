"""Signed audit reports: render, sign, store once decided; certificates; verification."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from datetime import date as date_type
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding
from flask import current_app, render_template
from flask_babel import force_locale, get_babel
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, select
from sqlalchemy.exc import IntegrityError

import vendorcheck.pdf.report as report_module
from vendorcheck import audit
from vendorcheck.extensions import db
from vendorcheck.i18n import plain_text
from vendorcheck.models import Organisation, User, Vendor
from vendorcheck.models.assessments import Assessment, AssessmentStatus
from vendorcheck.models.base import utcnow
from vendorcheck.models.reports import DraftReport, StoredReport
from vendorcheck.pdf import sign_pdf
from vendorcheck.pdf.report import (
    CSS_PATH,
    LOCALES,
    ReportData,
    build_report_context,
)
from vendorcheck.questionnaire import Questionnaire
from vendorcheck.services import remediation
from vendorcheck.services.assessments import ensure_fresh, reviewed_of
from vendorcheck.services.errors import DomainError
from vendorcheck.services.render_pool import render_pdf_isolated
from vendorcheck.services.signing import (
    instance_certificate,
    organisation_certificate,
    signer_for,
    timestamp_url,
)
from vendorcheck.storage import Area, FileMissing, InvalidKey, current_store

FIELD_NAME = "ReportSignature"
# Bump when the report changes in a way the digests below do not see (a new input, a code change in
# what the context shows): every cached draft is then rendered anew.
DRAFT_FORMAT = 1
# The templates a report is rendered from; their sources are part of a draft's inputs digest.
REPORT_TEMPLATES = ("reports/audit.html", "reports/base.html", "_verdict.html")
CLAIM = re.compile(r"vendorcheck-assessment:(\d{1,18})")


class QuestionnaireMissing(DomainError):
    status = 409
    default = _l("The questionnaire version of this assessment is no longer available.")


# ------------------------------------------------------------------------------------ keys


# ---------------------------------------------------------------------------- certificates


# --------------------------------------------------------------------------------- reports

def questionnaire_for(assessment: Assessment) -> Questionnaire:
    """Return the exact questionnaire version the assessment is pinned to."""
    catalogue = current_app.extensions["questionnaires"]
    try:
        q: Questionnaire = catalogue.get(assessment.questionnaire_id,
                                         assessment.questionnaire_version)
    except KeyError as exc:
        raise QuestionnaireMissing(plain_text(QuestionnaireMissing.default)) from exc
    return q


def _name(user: User | None) -> str:
    return user.name if user is not None else ""


def report_data(assessment: Assessment, *, now: datetime | None = None) -> ReportData:
    """Collect an assessment's records as plain data for the report."""
    ensure_fresh(assessment)  # a report must not miss the latest autosave's findings
    answers = {a.item_id: a.value for a in assessment.answers}
    service = assessment.vendor.services or ""
    att = assessment.attestation
    reviewed = reviewed_of(assessment)
    return ReportData(
        assessment_id=assessment.id,
        buyer=assessment.buyer_org.name,
        vendor=assessment.vendor.legal_name,
        service=service,
        answers=answers,
        generated_at=now or utcnow(),
        status=assessment.status.value,
        decided=assessment.status == AssessmentStatus.DECIDED,
        decision=assessment.decision.value if assessment.decision else None,
        decision_comment=assessment.decision_comment,
        reviewer=_name(assessment.decided_by),
        sent_at=assessment.sent_at,
        submitted_at=assessment.submitted_at,
        decided_at=assessment.decided_at,
        due_date=assessment.due_date,
        next_review_date=assessment.next_review_date,
        score=assessment.score,
        tier=assessment.tier,
        verdict=reviewed.verdict,
        categories=reviewed.categories,
        justifications={a.item_id: a.justification for a in assessment.answers if a.justification},
        findings=[{
            "finding_id": f.finding_id, "source": f.source, "severity": f.severity,
            "title": f.title, "refs": f.refs, "remediation": f.remediation,
            "state": f.state.value, "due_date": f.due_date, "comment": f.comment,
        } for f in assessment.findings],
        overrides=[{
            "kind": o.kind, "target": o.target, "computed_value": o.computed_value,
            "new_value": o.new_value, "comment": o.comment, "by": _name(o.by), "at": o.at,
        } for o in assessment.overrides],
        evidence=[{
            "item_id": e.item_id, "file_name": e.file_name, "sha256": e.sha256, "size": e.size,
            "review_state": e.review_state.value,
        } for e in assessment.evidence],
        clarifications=[{
            "item_id": c.item_id, "question": c.question, "asked_by": _name(c.asked_by),
            "asked_at": c.asked_at, "answer": c.answer, "answered_by": _name(c.answered_by),
            "answered_at": c.answered_at, "state": c.state.value,
        } for c in assessment.clarifications],
        attestation={"name": att.name, "role": att.role, "statement": att.statement,
                     "attested_at": att.attested_at} if att else None,
        remediations=_remediations(assessment),
    )


def _remediations(assessment: Assessment) -> list[dict[str, Any]]:
    """Return the remediation requests and their history as plain data."""
    return [{
        "finding_id": r.finding.finding_id, "title": r.finding.title, "severity": r.finding.severity,
        "state": r.state.value, "due_date": r.due_date, "waiver_expires": r.waiver_expires,
        "buyer_owner": _name(r.buyer_owner), "vendor_owner": r.vendor_owner.name if r.vendor_owner else "",
        "events": [{"action": e.action.value, "side": e.side, "by": _name(e.by), "at": e.at,
                    "text": e.text, "file_name": e.file_name, "sha256": e.sha256}
                   for e in r.events],
    } for r in remediation.requests_of(assessment)]


def stored_report(assessment_id: int, locale: str) -> StoredReport | None:
    """Return the stored report of an assessment in one locale."""
    return db.session.scalar(select(StoredReport).where(
        StoredReport.assessment_id == assessment_id, StoredReport.locale == locale))


def read_stored(report: StoredReport) -> bytes | None:
    """Return a stored report's bytes if the file is there and matches its digest."""
    return current_store().read_checked(Area.REPORTS, report.storage_key, report.sha256)


def build_signed_report(assessment: Assessment, locale: str, *,
                        data: ReportData | None = None) -> bytes:
    """Render and sign the report of an assessment (not stored)."""
    q = questionnaire_for(assessment)
    # The signer first: an unreadable key should fail before a render, not after it.
    signer = signer_for(assessment.buyer_org_id)
    data = data or report_data(assessment)
    context = build_report_context(q, data, locale, base_url=current_app.config["BASE_URL"])
    static_dir = Path(current_app.static_folder or "static")
    created = assessment.decided_at if data.decided else None
    pdf = render_pdf_isolated(render_report_html(context), static_dir=static_dir,
                              stylesheets=[CSS_PATH.read_text(encoding="utf-8")], created=created)
    reason = "Vendor audit report" if data.decided else "Vendor audit report (draft, not decided)"
    return sign_pdf(pdf, signer, reason=reason, field_name=FIELD_NAME, timestamp_url=timestamp_url(),
                    font_path=static_dir / "fonts" / "NimbusSans-Regular.otf",
                    location=assessment.buyer_org.name[:100])


def signed_report(assessment: Assessment, locale: str, by: User | None) -> bytes:
    """Return the signed report without auditing: stored bytes once decided, else a (cached) draft."""
    if assessment.status != AssessmentStatus.DECIDED:
        return draft_report(assessment, locale)
    existing = stored_report(assessment.id, locale)
    pdf = read_stored(existing) if existing is not None and not _remediated_since(existing) else None
    if pdf is None:
        pdf = build_signed_report(assessment, locale)
        _store(assessment, locale, pdf, by, existing)
        prune_drafts_of(assessment.id)  # the decided report replaces every draft
    return pdf


def _remediated_since(report: StoredReport) -> bool:
    """Tell whether the remediation history changed after the report was stored (render it anew)."""
    changed = remediation.last_change(report.assessment_id)
    return changed is not None and changed > report.created_at


# ---------------------------------------------------------------------------------- drafts

def draft_report(assessment: Assessment, locale: str) -> bytes:
    """Return the signed draft report: from the store when its inputs are unchanged, else rendered.

    The new draft is kept (flushed, committed by the caller) under the digest of its inputs.
    """
    data = report_data(assessment)
    inputs = draft_inputs_sha256(assessment, data, locale)
    existing = db.session.scalar(select(DraftReport).where(
        DraftReport.assessment_id == assessment.id, DraftReport.locale == locale))
    if existing is not None and existing.inputs_sha256 == inputs:
        cached = current_store().read_checked(Area.DRAFTS, existing.storage_key, existing.sha256)
        if cached is not None:
            return cached
    pdf = build_signed_report(assessment, locale, data=data)
    _keep_draft(assessment.id, locale, inputs, pdf, existing)
    return pdf


def draft_inputs_sha256(assessment: Assessment, data: ReportData, locale: str) -> str:
    """Return the SHA-256 of everything a draft report shows and how it is drawn and signed.

    The report's records (answers, results, verdict, findings, overrides, evidence, questions
    asked, attestation; not the time it was generated), the locale, the questionnaire version,
    today's date (scoring and due dates read it: a draft is rendered at least once a day), the
    signer's certificate, the timestamp server, the base URL, and the sources of the templates,
    stylesheet, translations and report code.
    """
    fields = {f.name: getattr(data, f.name) for f in dataclasses.fields(data)
              if f.name not in ("generated_at", "verdict")}
    verdict = data.verdict
    inputs = {
        "format": DRAFT_FORMAT,
        "report": fields,
        "verdict": [verdict.score, verdict.tier, verdict.uncapped_score, verdict.reason,
                    verdict.severity] if verdict is not None else None,
        "locale": locale,
        "questionnaire": [assessment.questionnaire_id, assessment.questionnaire_version],
        "today": datetime.now(UTC).date().isoformat(),
        "signer": _signer_identity(assessment.buyer_org_id),
        "timestamp_url": timestamp_url(),
        "base_url": current_app.config["BASE_URL"],
        "sources": _report_sources_sha256(locale),
    }
    text = json.dumps(inputs, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=_json_default)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _json_default(value: Any) -> Any:
    """Write dates, enums, decimals and records by stable values (a repr with an address never matches)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, datetime | date_type):
        return value.isoformat()
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not part of a draft's inputs: {type(value).__name__}")


def _signer_identity(org_id: int) -> str:
    """Return the digest of the certificate that signs an organisation's documents."""
    record = organisation_certificate(org_id)
    if record is not None:
        pem = record.cert_pem.encode("ascii")
    else:
        pem = instance_certificate().public_bytes(Encoding.PEM)
    return hashlib.sha256(pem).hexdigest()


def _report_sources_sha256(locale: str) -> str:
    """Return the digest of the report's templates, stylesheet, translations and code."""
    digest = hashlib.sha256()
    env = current_app.jinja_env
    assert env.loader is not None  # Flask always sets one
    for name in REPORT_TEMPLATES:
        digest.update(env.loader.get_source(env, name)[0].encode("utf-8"))
    digest.update(CSS_PATH.read_bytes())
    digest.update(Path(report_module.__file__ or "").read_bytes())
    for folder in get_babel().translation_directories:
        catalogue = Path(folder) / locale / "LC_MESSAGES" / "messages.mo"
        if catalogue.is_file():
            digest.update(catalogue.read_bytes())
    return digest.hexdigest()


def _keep_draft(assessment_id: int, locale: str, inputs: str, pdf: bytes,
                existing: DraftReport | None) -> None:
    """Store a new draft and point the assessment's row at it; the previous file is deleted."""
    store = current_store()
    stored = store.save(Area.DRAFTS, io.BytesIO(pdf))
    previous_key = existing.storage_key if existing is not None else None
    try:
        with db.session.begin_nested():
            record = existing or DraftReport(assessment_id=assessment_id, locale=locale)
            if existing is None:
                db.session.add(record)
            record.inputs_sha256 = inputs
            record.storage_key, record.sha256, record.size = stored
            record.created_at = utcnow()
    except IntegrityError:
        # Another download of the same draft kept its render first: serve ours, keep theirs.
        store.delete(Area.DRAFTS, stored.key)
        return
    if previous_key is not None:
        _delete_draft_file(previous_key)


def _delete_draft_file(key: str) -> None:
    """Delete a draft's file; one already gone or with a key the store rejects is no error."""
    with contextlib.suppress(FileMissing, InvalidKey):
        current_store().delete(Area.DRAFTS, key)


def prune_drafts_of(assessment_id: int) -> int:
    """Delete every draft of an assessment (rows flushed, files removed); return how many."""
    keys = db.session.scalars(select(DraftReport.storage_key).where(
        DraftReport.assessment_id == assessment_id)).all()
    if keys:
        db.session.execute(delete(DraftReport).where(DraftReport.assessment_id == assessment_id))
        for key in keys:
            _delete_draft_file(key)
    return len(keys)


def prune_drafts(older_than_days: int, *, now: datetime | None = None) -> int:
    """Delete drafts rendered more than `older_than_days` ago, and drafts of decided assessments; commit.

    A draft's inputs include the day it was rendered, so an old draft is never served again.
    """
    cutoff = (now or utcnow()) - timedelta(days=older_than_days)
    decided = select(Assessment.id).where(Assessment.status == AssessmentStatus.DECIDED)
    old = db.session.execute(select(DraftReport.id, DraftReport.storage_key).where(
        (DraftReport.created_at < cutoff) | DraftReport.assessment_id.in_(decided))).all()
    if old:
        db.session.execute(delete(DraftReport).where(DraftReport.id.in_([row.id for row in old])))
    db.session.commit()
    for row in old:  # files after the commit: a failed commit must not leave rows without files
        _delete_draft_file(row.storage_key)
    return len(old)


def render_assessment_report(assessment: Assessment, *, locale: str, by: User | None) -> bytes:
    """Return the signed report; a decided assessment's report is rendered once and kept."""
    if locale not in LOCALES:
        locale = "en"
    decided = assessment.status == AssessmentStatus.DECIDED
    pdf = signed_report(assessment, locale, by)
    audit.record("report.downloaded", by=by, org=assessment.buyer_org_id, obj=assessment,
                 details={"locale": locale, "draft": not decided,
                          "sha256": hashlib.sha256(pdf).hexdigest()})
    db.session.commit()
    return pdf


def _store(assessment: Assessment, locale: str, pdf: bytes, by: User | None,
           existing: StoredReport | None) -> None:
    """Store the report under a new key and record its digest."""
    stored = current_store().save(Area.REPORTS, io.BytesIO(pdf))
    record = existing or StoredReport(assessment_id=assessment.id, locale=locale)
    if existing is None:
        db.session.add(record)
    record.storage_key, record.sha256, record.size = stored
    record.created_at = utcnow()
    record.created_by_id = by.id if by is not None else None
    db.session.flush()


# ------------------------------------------------------------------------------ verification


# ------------------------------------------------------------------------------------- render

def render_report_html(context: Mapping[str, Any]) -> str:
    """Render the report template in the context's locale."""
    with force_locale(str(context["locale"])):
        return render_template("reports/audit.html", **context)


def render_report_pdf(context: Mapping[str, Any], *, static_dir: Path,
                      created: datetime | None = None) -> bytes:
    """Render the report to unsigned PDF bytes, in this process (benchmarks and tools)."""
    from vendorcheck.pdf.render import render_pdf  # lazy: WeasyPrint takes about a second to import

    html = render_report_html(context)
    css = CSS_PATH.read_text(encoding="utf-8")
    return render_pdf(html, static_dir=static_dir, stylesheets=[css], created=created)


def register_rows(org: Organisation) -> Iterator[dict[str, Any]]:
    """Yield the vendor register of a buyer: each vendor with its latest assessment's results.

    The latest assessment is the dashboard's (`Assessment.is_latest`: the newest not cancelled), so
    both say the same. One query, read in batches, with no ORM object per row, so 10,000 vendors with
    100,000 assessments stream in constant memory. Archived vendors stay in the register, with the
    date they were archived. Results are the last computed: re-scores run in the background.
    """
    stmt = (select(Vendor.legal_name, Vendor.country, Vendor.criticality, Vendor.services,
                   Vendor.archived_at, Assessment.status, Assessment.tier, Assessment.score,
                   Assessment.decision, Assessment.decided_at, Assessment.next_review_date)
            .outerjoin(Assessment, and_(Assessment.vendor_id == Vendor.id, Assessment.is_latest))
            .where(Vendor.buyer_org_id == org.id).order_by(Vendor.legal_name, Vendor.id))
    result = db.session.execute(stmt.execution_options(yield_per=1000))
    try:
        yield from (_register_row(r) for r in result)
    finally:
        result.close()  # a download cut short leaves no server-side cursor open on PostgreSQL


def _register_row(r: Any) -> dict[str, Any]:
    """Write one row of the register query as the export's cells."""
    return {
        "vendor": r.legal_name, "country": r.country or "", "criticality": r.criticality.value,
        "services": r.services or "", "status": r.status.value if r.status else "",
        "tier": r.tier or "", "score": r.score,
        "decision": r.decision.value if r.decision else "",
        "decided_at": r.decided_at.date().isoformat() if r.decided_at else "",
        "next_review": r.next_review_date.isoformat() if r.next_review_date else "",
        "archived": r.archived_at.date().isoformat() if r.archived_at else "",
    }
