"""Buyer pages: signed report downloads, spreadsheet exports and evidence packs."""

from __future__ import annotations

from typing import Any

from flask import (
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from vendorcheck import downloads, exports
from vendorcheck.access import active_org, get_owned_or_404, requires
from vendorcheck.buyer.blueprint import bp
from vendorcheck.buyer.report_forms import ConfirmForm, PackForm
from vendorcheck.errors import abort_with
from vendorcheck.extensions import db
from vendorcheck.models import Vendor
from vendorcheck.models.assessments import Assessment
from vendorcheck.models.packs import PackJob, PackStatus
from vendorcheck.pdf.report import LOCALES, build_report_context
from vendorcheck.services import packs, reports
from vendorcheck.storage import Area

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _assessment(assessment_id: int) -> Assessment:
    """Load an assessment of the active buyer organisation, or 404."""
    return get_owned_or_404(Assessment, assessment_id, "buyer_org_id")


def _locale_arg() -> str:
    """Return the report language asked for (?locale=fr), else the page's language."""
    asked = request.args.get("locale", "")
    if asked in LOCALES:
        return asked
    from vendorcheck.i18n import current_locale

    return current_locale() if current_locale() in LOCALES else "en"


@bp.get("/assessments/<int:assessment_id>/report.pdf")
@requires("reports.download")
def assessment_report(assessment_id: int) -> Any:
    """Download the signed audit report of an assessment."""
    assessment = _assessment(assessment_id)
    locale = _locale_arg()
    pdf = reports.render_assessment_report(assessment, locale=locale, by=current_user)
    return downloads.attachment(pdf, "application/pdf", f"vendorcheck-report-{assessment.id}-{locale}.pdf")


def export_labels() -> dict[str, str]:
    """Return export headers and code labels in the page's language."""
    return {
        "Answers": _("Answers"), "Findings": _("Findings"), "Vendor register": _("Vendor register"),
        "section": _("Section"), "number": _("No."), "item_id": _("Item id"),
        "question": _("Question"), "answer": _("Answer"), "justification": _("Justification"),
        "evidence": _("Evidence"), "references": _("References"), "id": _("Id"),
        "severity": _("Severity"), "computed_severity": _("Computed severity"),
        "title": _("Finding"), "remediation": _("Remediation"), "due_date": _("Due date"),
        "state": _("State"), "comment": _("Reviewer comments"), "vendor": _("Vendor"),
        "country": _("Country"), "criticality": _("Criticality"), "services": _("Services"),
        "status": _("Status"), "tier": _("Tier"), "score": _("Score"), "decision": _("Decision"),
        "decided_at": _("Decided"), "next_review": _("Next review"), "archived": _("Archived on"),
        "yes": _("Yes"), "no": _("No"), "na": _("Not applicable"), "unknown": _("Unknown"),
        "unanswered": _("Not answered"), "attested": _("Attested"),
        "not_attested": _("Not attested"), "critical": _("Critical"), "high": _("High"),
        "medium": _("Medium"), "low": _("Low"), "info": _("Info"), "open": _("Open"),
        "vendor_responded": _("Vendor responded"), "accepted_risk": _("Risk accepted"),
        "remediated": _("Remediated"), "closed": _("Closed"),
    }


def sheet_response(sheets: list[exports.Sheet], fmt: str, stem: str) -> Response:
    """Return the sheets as XLSX, or the first one as CSV."""
    if fmt == "xlsx":
        return downloads.attachment(exports.to_xlsx(sheets), XLSX, f"{stem}.xlsx")
    return downloads.attachment(exports.to_csv(sheets[0]), "text/csv", f"{stem}.csv")


def streamed_sheet_response(sheet: exports.Sheet, fmt: str, stem: str) -> Response:
    """Return one sheet whose rows come from a query, streamed: CSV as it is written, XLSX in
    openpyxl's write-only mode (the headers are worded before; the rows are read once)."""
    if fmt == "xlsx":
        body = exports.to_xlsx_streamed(sheet.title, sheet.columns, sheet.rows)
        return downloads.attachment(body, XLSX, f"{stem}.xlsx")
    return downloads.attachment(stream_with_context(exports.iter_csv(sheet.columns, sheet.rows)),
                                "text/csv", f"{stem}.csv")


def assessment_sheets(assessment: Assessment, locale: str) -> list[exports.Sheet]:
    """Return an assessment's export sheets (answers, then findings) in a language."""
    q = reports.questionnaire_for(assessment)
    with force_locale(locale):
        context = build_report_context(q, reports.report_data(assessment), locale,
                                       base_url=current_app.config["BASE_URL"])
        return exports.assessment_sheets(context, export_labels())


@bp.get("/assessments/<int:assessment_id>/export.<any(xlsx, csv):fmt>")
@requires("reports.download")
def assessment_export(assessment_id: int, fmt: str) -> Any:
    """Export an assessment's answers and findings (CSV: answers; ?sheet=findings for findings)."""
    assessment = _assessment(assessment_id)
    sheets = assessment_sheets(assessment, _locale_arg())
    if fmt == "csv" and request.args.get("sheet") == "findings":
        sheets = sheets[1:]
        return sheet_response(sheets, fmt, f"assessment-{assessment.id}-findings")
    return sheet_response(sheets, fmt, f"assessment-{assessment.id}")


@bp.get("/vendors/export.<any(xlsx, csv):fmt>")
@requires("reports.download")
def vendor_register_export(fmt: str) -> Any:
    """Export the buyer's vendor register."""
    sheet = exports.register_sheet(reports.register_rows(active_org()), export_labels())
    return streamed_sheet_response(sheet, fmt, "vendor-register")


# ------------------------------------------------------------------ evidence packs (issue 7)

def _pack_job(job_id: int) -> PackJob:
    """Load a pack job of the active buyer organisation, or 404."""
    return get_owned_or_404(PackJob, job_id, "buyer_org_id")


def _request_pack(**target: Any) -> Any:
    """Create a pack job from the form and show its progress page."""
    form = PackForm()
    if not form.validate_on_submit():
        abort_with(400, _("Choose the language of the pack and try again."))
    job = packs.request_pack(active_org(), by=current_user, locale=form.locale.data, **target)
    return redirect(url_for("buyer.pack_status", job_id=job.id), code=303)


@bp.post("/packs/assessments/<int:assessment_id>")
@requires("reports.download")
def pack_assessment(assessment_id: int) -> Any:
    """Start building the evidence pack of one assessment."""
    return _request_pack(assessment=_assessment(assessment_id))


@bp.post("/packs/vendors/<int:vendor_id>")
@requires("reports.download")
def pack_vendor(vendor_id: int) -> Any:
    """Start building the evidence pack of every assessment of a vendor."""
    return _request_pack(vendor=get_owned_or_404(Vendor, vendor_id, "buyer_org_id"))


def _pack_subject(job: PackJob) -> tuple[str, str]:
    """Return what the pack is about (vendor name) and where to go back to."""
    if job.assessment_id is not None:
        assessment = db.session.get(Assessment, job.assessment_id)
        if assessment is not None:
            return assessment.vendor.legal_name, url_for("buyer.assessment",
                                                         assessment_id=assessment.id)
    vendor = db.session.get(Vendor, job.vendor_id) if job.vendor_id else None
    name = vendor.legal_name if vendor is not None else ""
    return name, url_for("buyer.vendor_detail", vendor_id=job.vendor_id) if vendor else "/"


@bp.get("/packs/<int:job_id>")
@requires("reports.download")
def pack_status(job_id: int) -> Any:
    """Show a pack's progress (polled by a small script, refreshed without it), then the link."""
    job = _pack_job(job_id)
    packs.refresh_stale(job)
    subject, back = _pack_subject(job)
    return render_template("buyer/pack_status.html", job=job, subject=subject, back=back,
                           form=ConfirmForm(), running=job.status in (PackStatus.QUEUED,
                                                                      PackStatus.RUNNING))


@bp.get("/packs/<int:job_id>/status.json")
@requires("reports.download")
def pack_progress(job_id: int) -> Any:
    """Return a pack's status for the progress script."""
    job = _pack_job(job_id)
    packs.refresh_stale(job)
    response = jsonify({"status": job.status.value, "progress": job.progress,
                        "message": job.message})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/packs/<int:job_id>/download")
@requires("reports.download")
def pack_download(job_id: int) -> Any:
    """Download a finished pack (streamed from the store, as an attachment)."""
    job = _pack_job(job_id)
    stored = packs.verified_pack(job)
    packs.record_download(job, by=current_user)
    locale = job.locale if job.locale in LOCALES else "en"
    # Streamed in chunks: a pack can be hundreds of megabytes.
    return downloads.stored_attachment(Area.PACKS, stored.key, stored.size, "application/pdf",
                                       f"vendorcheck-evidence-pack-{job.id}-{locale}.pdf")


@bp.post("/packs/<int:job_id>/retry")
@requires("reports.download")
def pack_retry(job_id: int) -> Any:
    """Start a failed pack again."""
    job = _pack_job(job_id)
    if not ConfirmForm().validate_on_submit():
        abort_with(400, _("Your form expired. Reload the page and try again."))
    packs.retry_pack(job, by=current_user)
    return redirect(url_for("buyer.pack_status", job_id=job.id), code=303)
