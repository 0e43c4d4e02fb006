"""Views: signed report download, spreadsheet exports, /verify, the organisation certificate."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from vendorcheck import exports
from vendorcheck.access import current_membership, get_owned_or_404, requires
from vendorcheck.errors import abort_with
from vendorcheck.extensions import db, limiter
from vendorcheck.models import Organisation, Vendor
from vendorcheck.models.assessments import Assessment
from vendorcheck.reports.report import LOCALES, build_report_context
from vendorcheck.reportsweb.forms import CertificateForm, ConfirmForm, VerifyForm
from vendorcheck.services import reports
from vendorcheck.services.errors import DomainError

bp = Blueprint("reportsweb", __name__)

VERIFY_MAX_BYTES = 10 * 1024 * 1024
VERIFY_LIMIT = "20/minute"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _org() -> Organisation:
    """Return the active organisation (the decorators guarantee there is one)."""
    membership = current_membership()
    assert membership is not None
    return membership.organisation


def _assessment(assessment_id: int) -> Assessment:
    """Load an assessment of the active buyer organisation, or 404."""
    return get_owned_or_404(Assessment, assessment_id, "buyer_org_id")


def _download(data: bytes, mimetype: str, filename: str) -> Response:
    """Return bytes as an attachment that browsers neither sniff nor cache."""
    response = Response(data, mimetype=mimetype)
    # The name is built from ids and fixed words only, so it needs no quoting rules.
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _locale_arg() -> str:
    """Return the report language asked for (?locale=fr), else the page's language."""
    asked = request.args.get("locale", "")
    if asked in LOCALES:
        return asked
    from vendorcheck.i18n import current_locale

    return current_locale() if current_locale() in LOCALES else "en"


@bp.get("/buyer/assessments/<int:assessment_id>/report.pdf")
@requires("reports.download")
def assessment_report(assessment_id: int) -> Any:
    """Download the signed audit report of an assessment."""
    assessment = _assessment(assessment_id)
    locale = _locale_arg()
    try:
        pdf = reports.render_assessment_report(assessment, locale=locale, by=current_user)
    except DomainError as exc:
        abort_with(exc.status, exc.message)
    return _download(pdf, "application/pdf", f"vendorcheck-report-{assessment.id}-{locale}.pdf")


def _labels() -> dict[str, str]:
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
        "decided_at": _("Decided"), "next_review": _("Next review"),
        "yes": _("Yes"), "no": _("No"), "na": _("Not applicable"), "unknown": _("Unknown"),
        "unanswered": _("Not answered"), "attested": _("Attested"),
        "not_attested": _("Not attested"), "critical": _("Critical"), "high": _("High"),
        "medium": _("Medium"), "low": _("Low"), "info": _("Info"), "open": _("Open"),
        "vendor_responded": _("Vendor responded"), "accepted_risk": _("Risk accepted"),
        "remediated": _("Remediated"), "closed": _("Closed"),
    }


def _sheet_response(sheets: list[exports.Sheet], fmt: str, stem: str) -> Response:
    """Return the sheets as XLSX, or the first one as CSV."""
    if fmt == "xlsx":
        return _download(exports.to_xlsx(sheets), XLSX, f"{stem}.xlsx")
    return _download(exports.to_csv(sheets[0]), "text/csv", f"{stem}.csv")


@bp.get("/buyer/assessments/<int:assessment_id>/export.<any(xlsx, csv):fmt>")
@requires("reports.download")
def assessment_export(assessment_id: int, fmt: str) -> Any:
    """Export an assessment's answers and findings (CSV: answers; ?sheet=findings for findings)."""
    assessment = _assessment(assessment_id)
    try:
        q = reports.questionnaire_for(assessment)
    except DomainError as exc:
        abort_with(exc.status, exc.message)
    locale = _locale_arg()
    with force_locale(locale):
        context = build_report_context(q, reports.report_data(assessment), locale,
                                       base_url=current_app.config["BASE_URL"])
        sheets = exports.assessment_sheets(context, _labels())
    if fmt == "csv" and request.args.get("sheet") == "findings":
        sheets = sheets[1:]
        return _sheet_response(sheets, fmt, f"assessment-{assessment.id}-findings")
    return _sheet_response(sheets, fmt, f"assessment-{assessment.id}")


def register_rows(org: Organisation) -> list[dict[str, Any]]:
    """Return the vendor register of a buyer: each vendor with its latest assessment."""
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


@bp.get("/buyer/vendors/export.<any(xlsx, csv):fmt>")
@requires("reports.download")
def vendor_register_export(fmt: str) -> Any:
    """Export the buyer's vendor register."""
    sheet = exports.register_sheet(register_rows(_org()), _labels())
    return _sheet_response([sheet], fmt, "vendor-register")


@bp.route("/verify", methods=["GET", "POST"])
@limiter.limit(VERIFY_LIMIT, methods=["POST"])
def verify() -> Any:
    """Public page: upload a signed report and see whether it is intact and ours."""
    if request.method == "POST" and (request.content_length or 0) > VERIFY_MAX_BYTES + 64 * 1024:
        abort_with(413, _("The file is too large: a report is at most 10 MB."))
    form = VerifyForm()
    check = None
    status = 200
    if form.validate_on_submit():
        data = form.file.data.read(VERIFY_MAX_BYTES + 1)
        if len(data) > VERIFY_MAX_BYTES:
            abort_with(413, _("The file is too large: a report is at most 10 MB."))
        check = reports.check_report(data)
        db.session.rollback()
        status = 200 if check.ok else 422
    elif request.method == "POST":
        status = 422
    return render_template("reportsweb/verify.html", form=form, check=check), status


@bp.route("/org/certificate", methods=["GET", "POST"])
@requires("certificate.manage")
def certificate() -> Any:
    """Show, upload or replace the organisation's signing certificate."""
    org = _org()
    form = CertificateForm()
    status = 200
    if form.validate_on_submit():
        data = form.file.data.read(reports.MAX_P12_BYTES + 1)
        try:
            reports.upload_certificate(org, data, form.passphrase.data or "", by=current_user)
        except DomainError as exc:
            db.session.rollback()
            form.file.errors = [*form.file.errors, exc.message]
            status = exc.status
        else:
            flash(_("The signing certificate was saved. New reports are signed with it."), "success")
            return redirect(url_for("reportsweb.certificate"))
    elif request.method == "POST":
        status = 422
    return render_template("reportsweb/certificate.html", form=form,
                           record=reports.organisation_certificate(org.id)), status


@bp.route("/org/certificate/remove", methods=["GET", "POST"])
@requires("certificate.manage")
def remove_certificate() -> Any:
    """Remove the organisation's certificate, after confirmation."""
    org = _org()
    form = ConfirmForm()
    record = reports.organisation_certificate(org.id)
    if record is None:
        return redirect(url_for("reportsweb.certificate"))
    if form.validate_on_submit():
        reports.remove_certificate(org, by=current_user)
        flash(_("The certificate was removed. Reports are now signed with the instance key."),
              "success")
        return redirect(url_for("reportsweb.certificate"))
    return render_template("reportsweb/remove_certificate.html", form=form, record=record)
