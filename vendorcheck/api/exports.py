"""Spreadsheet exports: the vendor register and an assessment's answers and findings, as on the web."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_babel import force_locale
from marshmallow import fields, validate

from vendorcheck import exports
from vendorcheck.access import active_org, get_owned_or_404
from vendorcheck.api.auth import READ, allows
from vendorcheck.api.common import api_blueprint
from vendorcheck.api.schemas import Strict
from vendorcheck.buyer.reports import (
    XLSX,
    assessment_sheets,
    export_labels,
    sheet_response,
    streamed_sheet_response,
)
from vendorcheck.models.assessments import Assessment
from vendorcheck.pdf.report import LOCALES
from vendorcheck.services import reports

blp = api_blueprint("exports", "/exports", "The vendor register and assessments as CSV or XLSX.")

PERM = "reports.download"
FILE = {"type": "string", "format": "binary"}
FORMATS = ("csv", "xlsx")


class RegisterQuery(Strict):
    format = fields.String(load_default="csv", validate=validate.OneOf(FORMATS),
                           metadata={"description": "`csv` or `xlsx`."})
    locale = fields.String(load_default="en", validate=validate.OneOf(LOCALES),
                           metadata={"description": "The language of the headers and labels."})


class AssessmentExportQuery(RegisterQuery):
    sheet = fields.String(load_default="answers", validate=validate.OneOf(("answers", "findings")),
                          metadata={"description": "CSV only: which table (XLSX has both)."})


def _spreadsheet_doc(blp_response: Any) -> Any:
    """Document a view's 200 as CSV or XLSX."""
    return blp.doc(responses={"200": {"description": "The spreadsheet (CSV or XLSX, as `format` asks).",
                                      "content": {"text/csv": {"schema": FILE},
                                                  XLSX: {"schema": FILE}}}})(blp_response)


@blp.route("/vendors")
class RegisterExportView(MethodView):
    @allows(PERM, READ)
    @blp.arguments(RegisterQuery, location="query", unknown="raise")
    @_spreadsheet_doc
    def get(self, args: dict[str, Any]) -> Response:
        """Export the vendor register (the web's "Export the register")."""
        with force_locale(args["locale"]):
            sheet = exports.register_sheet(reports.register_rows(active_org()), export_labels())
        return streamed_sheet_response(sheet, args["format"], "vendor-register")


@blp.route("/assessments/<int:assessment_id>")
class AssessmentExportView(MethodView):
    @allows(PERM, READ)
    @blp.arguments(AssessmentExportQuery, location="query", unknown="raise")
    @_spreadsheet_doc
    def get(self, args: dict[str, Any], assessment_id: int) -> Response:
        """Export an assessment's answers and findings (CSV: one table, chosen with `sheet`)."""
        assessment = get_owned_or_404(Assessment, assessment_id, "buyer_org_id")
        sheets = assessment_sheets(assessment, args["locale"])
        if args["format"] == "csv" and args["sheet"] == "findings":
            return sheet_response(sheets[1:], "csv", f"assessment-{assessment.id}-findings")
        return sheet_response(sheets, args["format"], f"assessment-{assessment.id}")
