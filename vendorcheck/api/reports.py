"""Signed reports and evidence packs: the same PDFs, access rules and audit entries as the web downloads.

A report is rendered while the request waits (as on the web); a pack is built by a worker (RQ): the
request answers 202 with the URL of its status, and the download works once the status is `done`.
"""

from __future__ import annotations

from typing import Any

from flask import Response, url_for
from flask.views import MethodView
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields, validate, validates_schema
from marshmallow.exceptions import ValidationError

from vendorcheck import downloads
from vendorcheck.access import active_org, get_owned_or_404
from vendorcheck.api.auth import READ, WRITE, allows, current_user_of_token
from vendorcheck.api.common import IDEMPOTENCY_DOC, api_blueprint, idempotent
from vendorcheck.api.schemas import Strict
from vendorcheck.models import Vendor
from vendorcheck.models.assessments import Assessment
from vendorcheck.models.packs import PackJob, PackStatus
from vendorcheck.pdf.report import LOCALES
from vendorcheck.security import MAX_ID
from vendorcheck.services import packs, reports
from vendorcheck.storage import Area

blp = api_blueprint("reports", "", "Signed audit reports and evidence packs (PDF).")

PERM = "reports.download"
PDF = {"type": "string", "format": "binary"}
PDF_DOC = "The signed PDF."


class ReportQuery(Strict):
    locale = fields.String(load_default="en", validate=validate.OneOf(LOCALES),
                           metadata={"description": "The report's language."})


class PackInput(Strict):
    """What a pack covers: one assessment, or every assessment of one vendor."""

    assessment_id = fields.Integer(strict=True, validate=validate.Range(1, MAX_ID))
    vendor_id = fields.Integer(strict=True, validate=validate.Range(1, MAX_ID))
    locale = fields.String(load_default="en", validate=validate.OneOf(LOCALES))

    @validates_schema
    def _one_subject(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if ("assessment_id" in data) == ("vendor_id" in data):
            raise ValidationError(str(_l("Give either assessment_id or vendor_id.")), "assessment_id")


class PackSchema(Schema):
    id = fields.Integer(required=True)
    assessment_id = fields.Integer(allow_none=True)
    vendor_id = fields.Integer(allow_none=True)
    locale = fields.String(required=True)
    status = fields.Enum(PackStatus, by_value=True, required=True,
                         metadata={"description": "`queued`, `running`, `done` or `failed`."})
    progress = fields.Integer(required=True, metadata={"description": "Percent done."})
    message = fields.String(required=True)
    sha256 = fields.String(allow_none=True)
    size = fields.Integer(allow_none=True)
    created_at = fields.DateTime(required=True)
    finished_at = fields.DateTime(allow_none=True)
    status_url = fields.Method("_status_url", required=True, metadata={"type": "string"})
    download_url = fields.Method("_download_url", allow_none=True, metadata={
        "type": ["string", "null"], "description": "Set once the pack is `done`."})

    def _status_url(self, job: PackJob) -> str:
        return url_for("api_reports.PackView", job_id=job.id)

    def _download_url(self, job: PackJob) -> str | None:
        if job.status is not PackStatus.DONE:
            return None
        return url_for("api_reports.PackDownloadView", job_id=job.id)


def _pack_job(job_id: int) -> PackJob:
    """Load a pack job of the token's organisation (stale ones shown as failed), or 404."""
    job = get_owned_or_404(PackJob, job_id, "buyer_org_id")
    packs.refresh_stale(job)
    return job


@blp.route("/assessments/<int:assessment_id>/report")
class ReportView(MethodView):
    @allows(PERM, READ)
    @blp.arguments(ReportQuery, location="query", unknown="raise")
    @blp.response(200, PDF, content_type="application/pdf", description=PDF_DOC)
    def get(self, args: dict[str, Any], assessment_id: int) -> Response:
        """Download the signed audit report of an assessment (rendered now, as the web's download)."""
        assessment = get_owned_or_404(Assessment, assessment_id, "buyer_org_id")
        locale = args["locale"]
        pdf = reports.render_assessment_report(assessment, locale=locale, by=current_user_of_token())
        return downloads.attachment(pdf, "application/pdf",
                                    f"vendorcheck-report-{assessment.id}-{locale}.pdf")


@blp.route("/packs")
class PacksView(MethodView):
    @allows(PERM, WRITE)
    @idempotent
    @blp.arguments(PackInput)
    @blp.response(202, PackSchema, headers={"Location": {
        "description": "The pack's status URL.", "schema": {"type": "string"}}})
    @blp.doc(parameters=[IDEMPOTENCY_DOC])
    def post(self, values: dict[str, Any]) -> tuple[PackJob, int, dict[str, str]]:
        """Start building the evidence pack of an assessment or of a vendor's assessments."""
        if "assessment_id" in values:
            target: dict[str, Any] = {
                "assessment": get_owned_or_404(Assessment, values["assessment_id"], "buyer_org_id")}
        else:
            target = {"vendor": get_owned_or_404(Vendor, values["vendor_id"], "buyer_org_id")}
        job = packs.request_pack(active_org(), by=current_user_of_token(), locale=values["locale"],
                                 **target)
        return job, 202, {"Location": url_for("api_reports.PackView", job_id=job.id)}


@blp.route("/packs/<int:job_id>")
class PackView(MethodView):
    @allows(PERM, READ)
    @blp.etag
    @blp.response(200, PackSchema)
    def get(self, job_id: int) -> PackJob:
        """Read a pack's status and progress (poll it while the worker builds the pack)."""
        return _pack_job(job_id)


@blp.route("/packs/<int:job_id>/download")
class PackDownloadView(MethodView):
    @allows(PERM, READ)
    @blp.response(200, PDF, content_type="application/pdf", description=PDF_DOC)
    @blp.alt_response(302, description="A redirect to an expiring link of the store.")
    def get(self, job_id: int) -> Response:
        """Download a finished pack (409 while it is not `done`)."""
        job = _pack_job(job_id)
        stored = packs.verified_pack(job)
        packs.record_download(job, by=current_user_of_token())
        locale = job.locale if job.locale in LOCALES else "en"
        return downloads.stored_attachment(Area.PACKS, stored.key, stored.size, "application/pdf",
                                           f"vendorcheck-evidence-pack-{job.id}-{locale}.pdf")


@blp.route("/packs/<int:job_id>/retry")
class PackRetryView(MethodView):
    @allows(PERM, WRITE)
    @blp.response(202, PackSchema)
    def post(self, job_id: int) -> tuple[PackJob, int]:
        """Start a failed (or interrupted) pack again (409 for any other)."""
        return packs.retry_pack(_pack_job(job_id), by=current_user_of_token()), 202
