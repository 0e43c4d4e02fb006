"""Buyer views of the remediation loop: share a finding with the vendor, review its answer, its files."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from vendorcheck import downloads
from vendorcheck.access import get_owned_or_404, requires
from vendorcheck.buyer import pages
from vendorcheck.buyer.blueprint import bp
from vendorcheck.buyer.review_forms import RemediationRequestForm, RemediationReviewForm
from vendorcheck.forms import options
from vendorcheck.models.assessments import Assessment
from vendorcheck.models.remediation import RemediationRequest
from vendorcheck.services import remediation
from vendorcheck.services.errors import DomainError


def _assessment(assessment_id: int) -> Assessment:
    return get_owned_or_404(Assessment, assessment_id, "buyer_org_id")


def _request(assessment: Assessment, request_id: int) -> RemediationRequest:
    found = remediation.request_of(assessment, request_id)
    if found is None:
        abort(404)
    return found


def _refused(assessment: Assessment, message: str, status: int, key: str = "remediation") -> Any:
    """Show the review page again with the refusal beside the remediation section."""
    flash(message, "error")
    return pages.render_review(assessment, status=status, failed=(key, None))


def _first_error(form: Any) -> str:
    return next(iter(e for errs in form.errors.values() for e in errs), _("Check the form."))


@bp.post("/assessments/<int:assessment_id>/remediation", endpoint="request_remediation")
@requires("assessments.manage")
def request_remediation(assessment_id: int) -> Any:
    """Share an open finding with the vendor as a remediation request (due date, note)."""
    assessment = _assessment(assessment_id)
    form = RemediationRequestForm()
    form.finding_id.choices = options((f.finding_id, f.finding_id) for f in assessment.findings)
    if not form.validate_on_submit():
        return _refused(assessment, _first_error(form), 422)
    buyer_owner, vendor_owner = form.owner_ids()
    try:
        created = remediation.request_remediation(
            assessment, form.finding_id.data, due_date=form.due_date.data, note=form.note.data,
            by=current_user, buyer_owner_id=buyer_owner, vendor_owner_id=vendor_owner)
    except DomainError as exc:
        return _refused(assessment, exc.message, exc.status)
    flash(_("Remediation requested; the vendor has been notified."), "success")
    return redirect(url_for("buyer.assessment", assessment_id=assessment.id,
                            _anchor=f"remediation-{created.id}"))


@bp.post("/assessments/<int:assessment_id>/remediation/<int:request_id>",
         endpoint="review_remediation")
@requires("assessments.manage")
def review_remediation(assessment_id: int, request_id: int) -> Any:
    """Accept the vendor's fix, send it back, or accept the risk (a waiver), with a reason."""
    assessment = _assessment(assessment_id)
    found = _request(assessment, request_id)
    form = RemediationReviewForm()
    if not form.validate_on_submit():
        return _refused(assessment, _first_error(form), 422)
    try:
        remediation.review_response(found, form.outcome.data, reason=form.reason.data,
                                    waiver_expires=form.waiver_expires.data, by=current_user)
    except DomainError as exc:
        return _refused(assessment, exc.message, exc.status)
    flash(_("Outcome recorded; the vendor has been notified."), "success")
    return redirect(url_for("buyer.assessment", assessment_id=assessment.id,
                            _anchor=f"remediation-{found.id}"))


@bp.get("/assessments/<int:assessment_id>/remediation/<int:request_id>/files/<int:event_id>",
        endpoint="remediation_file")
@requires("assessments.view")
def remediation_file(assessment_id: int, request_id: int, event_id: int) -> Any:
    """Download an evidence file the vendor sent with a fix."""
    event = remediation.event_of(_request(_assessment(assessment_id), request_id), event_id)
    if event is None:
        abort(404)
    return downloads.evidence_file(event)
