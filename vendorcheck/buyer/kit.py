"""The buyer attaches the vendor's published GDPR charter to an assessment, or detaches it."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from vendorcheck.access import get_owned_or_404, requires
from vendorcheck.buyer.blueprint import bp
from vendorcheck.dpa import relations_forms as rf
from vendorcheck.errors import abort_with
from vendorcheck.forms import ConfirmForm, form_page
from vendorcheck.models.assessments import Assessment
from vendorcheck.services import kit_charter_attach as svc
from vendorcheck.services.errors import DomainError

ATTACH = "dpa.attach"  # the same right as attaching the vendor's DPA


@bp.route("/kit/assessments/<int:assessment_id>/charter/attach", methods=["GET", "POST"],
          endpoint="kit_charter_attach")
@requires(ATTACH)
def kit_charter_attach(assessment_id: int) -> Any:
    """Attach a published version of the vendor's GDPR charter to an assessment, as evidence."""
    assessment = get_owned_or_404(Assessment, assessment_id, "buyer_org_id")
    versions = svc.published_versions(assessment)
    form = rf.AttachForm()
    form.version_id.label.text = _("GDPR charter version")
    form.version_id.choices = [(v.id, _("Version %(number)s", number=v.number)) for v in versions]
    link = svc.link_of(assessment.id)
    if request.method == "GET" and link is not None:
        form.version_id.data = link.charter_version_id
    page: dict[str, Any] = {"form": form, "assessment": assessment, "versions": versions,
                            "link": link}
    if not versions:
        flash(str(svc.NoPublishedCharter.default), "error")
        return render_template("buyer/kit/charter_attach.html", **page), (
            409 if request.method == "POST" else 200)
    chosen = form.version_id.data
    if request.method == "POST" and isinstance(chosen, int) and all(v.id != chosen for v in versions):
        abort_with(404, str(svc.NotThisVendorsCharter.default))  # another vendor's charter
    if not form.validate_on_submit():
        return form_page("buyer/kit/charter_attach.html", **page)
    try:
        svc.attach(assessment, form.version_id.data, by=current_user)
    except DomainError as exc:
        abort_with(exc.status, exc.message)
    flash(_("The GDPR charter is now attached to the assessment."), "success")
    return redirect(url_for("buyer.assessment", assessment_id=assessment.id), 303)


@bp.route("/kit/assessments/<int:assessment_id>/charter/detach", methods=["GET", "POST"],
          endpoint="kit_charter_detach")
@requires(ATTACH)
def kit_charter_detach(assessment_id: int) -> Any:
    """Confirm, then detach the GDPR charter from an assessment."""
    assessment = get_owned_or_404(Assessment, assessment_id, "buyer_org_id")
    link = svc.link_of(assessment.id)
    back = url_for("buyer.assessment", assessment_id=assessment.id)
    if link is None:
        flash(str(svc.NothingAttached.default), "info")
        return redirect(back, 303)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return form_page("buyer/kit/charter_detach.html", form=form, assessment=assessment,
                         link=link)
    svc.detach(assessment, by=current_user)
    flash(_("The GDPR charter was detached from the assessment."), "success")
    return redirect(back, 303)
