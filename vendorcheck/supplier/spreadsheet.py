"""Vendor views: answering offline with a spreadsheet (download, upload, preview, apply)."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from vendorcheck import downloads, link_access
from vendorcheck.access import requires
from vendorcheck.link_access import answering
from vendorcheck.services import assessments as svc
from vendorcheck.services.assessments import spreadsheet as sheets
from vendorcheck.services.errors import ValidationFailed
from vendorcheck.supplier import forms as vf
from vendorcheck.supplier.answering import PERM, sent_assessment
from vendorcheck.supplier.blueprint import bp

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("/assessments/<int:assessment_id>/spreadsheet", endpoint="spreadsheet")
@answering(requires(PERM))
def spreadsheet_page(assessment_id: int) -> str:
    """Explain answering offline: download the file, upload it back."""
    assessment = sent_assessment(assessment_id)
    return render_template("supplier/spreadsheet.html", assessment=assessment,
                           editable=svc.is_editable(assessment), form=vf.SheetUploadForm(),
                           preview=None, limit=sheets.MAX_SHEET_BYTES // (1024 * 1024))


@bp.get("/assessments/<int:assessment_id>/spreadsheet.xlsx", endpoint="spreadsheet_download")
@answering(requires(PERM))
def spreadsheet_download(assessment_id: int) -> Response:
    """Download the assessment as a workbook with the current answers filled."""
    name, data = sheets.workbook_for(sent_assessment(assessment_id), choices=vf.choices_of,
                                     by=link_access.actor())
    return downloads.attachment(data, XLSX, name)


@bp.post("/assessments/<int:assessment_id>/spreadsheet", endpoint="spreadsheet_upload")
@answering(requires(PERM))
def spreadsheet_upload(assessment_id: int) -> Any:
    """Read an uploaded workbook and show what would change, with every problem, saving nothing."""
    assessment = sent_assessment(assessment_id)
    form = vf.SheetUploadForm()
    page = {"assessment": assessment, "editable": svc.is_editable(assessment), "form": form,
            "limit": sheets.MAX_SHEET_BYTES // (1024 * 1024)}
    if not form.validate_on_submit():
        return render_template("supplier/spreadsheet.html", preview=None, **page), 422
    upload = form.file.data
    try:
        data = upload.read(sheets.MAX_SHEET_BYTES + 1)
    finally:
        upload.close()  # a large upload is spooled to a temporary file
    try:
        preview = sheets.preview_workbook(assessment, data, choices=vf.choices_of, by=link_access.actor())
    except sheets.SheetUnreadable as exc:
        form.file.errors = [str(exc.message)]
        return render_template("supplier/spreadsheet.html", preview=None, **page), 422
    return render_template("supplier/spreadsheet.html", preview=preview,
                           apply_form=vf.SheetApplyForm(token=preview.token), **page)


@bp.post("/assessments/<int:assessment_id>/spreadsheet/apply", endpoint="spreadsheet_apply")
@answering(requires(PERM))
def spreadsheet_apply(assessment_id: int) -> Any:
    """Save the previewed changes (each one an autosave) and say what was refused."""
    assessment = sent_assessment(assessment_id)
    form = vf.SheetApplyForm()
    if not form.validate_on_submit():
        raise ValidationFailed(_("This preview has expired or was altered; upload the file again."))
    applied = sheets.apply_preview(assessment, form.token.data, by=link_access.actor())
    flash(_("%(n)d answers saved from the spreadsheet.", n=applied.count), "success")
    for item_id, why in applied.refused:
        flash(_("Not saved: %(item)s — %(why)s", item=item_id, why=why), "error")
    return redirect(url_for("supplier.assessment", assessment_id=assessment.id), 303)
