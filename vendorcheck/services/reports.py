"""Signed audit reports: render, sign, store once decided; certificates; verification."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from vendorcheck import audit
from vendorcheck.extensions import db
from vendorcheck.i18n import plain_text
from vendorcheck.models import Organisation, User, Vendor
from vendorcheck.models.assessments import Assessment, AssessmentStatus
from vendorcheck.models.base import utcnow
from vendorcheck.models.reports import StoredReport
from vendorcheck.pdf import sign_pdf
from vendorcheck.pdf.report import (
    CSS_PATH,
    LOCALES,
    ReportData,
    build_report_context,
)
from vendorcheck.questionnaire import Questionnaire
from vendorcheck.services.assessments import ensure_fresh, refresh_stale, reviewed_of
from vendorcheck.services.errors import DomainError
from vendorcheck.services.render_pool import render_pdf_isolated
from vendorcheck.services.signing import signer_for, timestamp_url
from vendorcheck.storage import Area, current_store

FIELD_NAME = "ReportSignature"
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
        verdict=reviewed_of(assessment).verdict,
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
    )


def stored_report(assessment_id: int, locale: str) -> StoredReport | None:
    """Return the stored report of an assessment in one locale."""
    return db.session.scalar(select(StoredReport).where(
        StoredReport.assessment_id == assessment_id, StoredReport.locale == locale))


def read_stored(report: StoredReport) -> bytes | None:
    """Return a stored report's bytes if the file is there and matches its digest."""
    return current_store().read_checked(Area.REPORTS, report.storage_key, report.sha256)


def build_signed_report(assessment: Assessment, locale: str) -> bytes:
    """Render and sign the report of an assessment (not stored)."""
    q = questionnaire_for(assessment)
    # The signer first: an unreadable key should fail before a render, not after it.
    signer = signer_for(assessment.buyer_org_id)
    data = report_data(assessment)
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
    """Return the signed report without auditing: stored bytes once decided, else a draft."""
    if assessment.status != AssessmentStatus.DECIDED:
        return build_signed_report(assessment, locale)
    existing = stored_report(assessment.id, locale)
    pdf = read_stored(existing) if existing is not None else None
    if pdf is None:
        pdf = build_signed_report(assessment, locale)
        _store(assessment, locale, pdf, by, existing)
    return pdf


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


def register_rows(org: Organisation) -> list[dict[str, Any]]:
    """Return the vendor register of a buyer: each vendor with its latest assessment's results."""
    refresh_stale(org.id)
    vendors = list(db.session.scalars(select(Vendor).where(Vendor.buyer_org_id == org.id)
                                      .order_by(Vendor.legal_name, Vendor.id)))
    latest: dict[int, Assessment] = {}
    for assessment in db.session.scalars(select(Assessment).where(
            Assessment.buyer_org_id == org.id).order_by(Assessment.created_at, Assessment.id)):
        latest[assessment.vendor_id] = assessment
    rows = []
    for vendor in vendors:
        a = latest.get(vendor.id)
        rows.append({
            "vendor": vendor.legal_name, "country": vendor.country or "",
            "criticality": vendor.criticality.value, "services": vendor.services or "",
            "status": a.status.value if a else "", "tier": (a.tier or "") if a else "",
            "score": a.score if a else None,
            "decision": a.decision.value if a and a.decision else "",
            "decided_at": a.decided_at.date().isoformat() if a and a.decided_at else "",
            "next_review": a.next_review_date.isoformat() if a and a.next_review_date else "",
        })
    return rows
