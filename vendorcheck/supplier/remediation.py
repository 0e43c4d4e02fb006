"""Vendor views of the remediation loop: answer a request (a fix with evidence, or a waiver request)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from vendorcheck import downloads
from vendorcheck.access import requires
from vendorcheck.models.assessments import Assessment
from vendorcheck.models.remediation import RemediationRequest
from vendorcheck.services import remediation
from vendorcheck.services.errors import DomainError
from vendorcheck.supplier import forms as vf
from vendorcheck.supplier.answering import PERM, overview_context, sent_assessment
from vendorcheck.supplier.blueprint import bp


def _request(assessment: Assessment, request_id: int) -> RemediationRequest:
    found = remediation.request_of(assessment, request_id)
    if found is None:
        abort(404)
    return found


@bp.post("/assessments/<int:assessment_id>/remediation/<int:request_id>",
         endpoint="respond_remediation")
@requires(PERM)
def respond_remediation(assessment_id: int, request_id: int) -> Any:
    """Answer a remediation request: what was fixed (with an optional file), or a waiver request."""
    assessment = sent_assessment(assessment_id)
    found = _request(assessment, request_id)
    form = vf.RemediationResponseForm()
    if not form.validate_on_submit():
        return _again(assessment, found, _("Choose whether you fixed it or ask for a waiver."), 422)
    try:
        remediation.respond(found, waiver=form.kind.data == "waiver", text=form.text.data,
                            upload=request.files.get("file"), by=current_user)
    except DomainError as exc:
        return _again(assessment, found, exc.message, exc.status)
    flash(_("Your answer was sent to the buyer."), "success")
    return redirect(url_for("supplier.assessment", assessment_id=assessment.id,
                            _anchor=f"remediation-{found.id}"), 303)


def _again(assessment: Assessment, found: RemediationRequest, message: str, status: int) -> Any:
    """Show the assessment page again with the refusal beside the request (nothing stored)."""
    return render_template("supplier/assessment.html", failed=(found.id, message),
                           **overview_context(assessment)), status


@bp.get("/assessments/<int:assessment_id>/remediation/<int:request_id>/files/<int:event_id>",
        endpoint="remediation_file")
@requires(PERM)
def remediation_file(assessment_id: int, request_id: int, event_id: int) -> Any:
    """Download an evidence file my organisation sent with a fix."""
    event = remediation.event_of(_request(sent_assessment(assessment_id), request_id), event_id)
    if event is None:
        abort(404)
    return downloads.evidence_file(event)
