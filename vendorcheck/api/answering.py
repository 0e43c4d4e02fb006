"""Assessments, vendor side: read what was sent, write answers (as autosave does), submit."""

from __future__ import annotations

from typing import Any

from flask import abort
from flask.views import MethodView
from sqlalchemy import select

from vendorcheck.access import active_org, get_owned_or_404
from vendorcheck.api import paging
from vendorcheck.api.assessments import detail
from vendorcheck.api.auth import READ, WRITE, allows, current_user_of_token
from vendorcheck.api.common import api_blueprint
from vendorcheck.api.schemas import (
    AnswerInput,
    AssessmentDetail,
    AssessmentPage,
    AssessmentSchema,
    SavedSchema,
    Strict,
    SubmitInput,
)
from vendorcheck.models import Vendor
from vendorcheck.models.assessments import Assessment, AssessmentStatus
from vendorcheck.services import assessments as svc

blp = api_blueprint("answering", "/vendor/assessments",
                    "Assessments sent to a vendor organisation: answer them and submit.")

PERM = "assessments.answer"


class VendorAssessmentQuery(paging.PageArgs, Strict):
    """Assessments sent to the vendor take the common page arguments."""


def _assessment(assessment_id: int) -> Assessment:
    """Load an assessment sent to the token's vendor organisation, or 404."""
    assessment = get_owned_or_404(Assessment, assessment_id, "vendor_org_id")
    if assessment.status is AssessmentStatus.DRAFT:
        abort(404)
    return assessment


@blp.route("")
class VendorAssessmentsView(MethodView):
    @allows(PERM, READ)
    @blp.arguments(VendorAssessmentQuery, location="query", unknown="raise")
    @blp.response(200, AssessmentPage)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List the assessments buyers sent to the token's organisation."""
        query = (select(Assessment).join(Vendor, Assessment.vendor_id == Vendor.id)
                 .where(Vendor.vendor_org_id == active_org().id,
                        Assessment.status != AssessmentStatus.DRAFT))
        items, cursor = paging.page(query, Assessment, args)
        return {"items": items, "next_cursor": cursor}


@blp.route("/<int:assessment_id>")
class VendorAssessmentView(MethodView):
    @allows(PERM, READ)
    @blp.response(200, AssessmentDetail)
    def get(self, assessment_id: int) -> dict[str, Any]:
        """Read an assessment sent to the organisation, with its answers and their versions."""
        assessment = _assessment(assessment_id)
        return {**detail(assessment), "findings": []}  # the buyer's findings are the buyer's


@blp.route("/<int:assessment_id>/answers/<string(maxlength=64):item_id>")
class AnswerView(MethodView):
    @allows(PERM, WRITE)
    @blp.arguments(AnswerInput)
    @blp.response(200, SavedSchema)
    @blp.alt_response(409, description="Someone saved a newer version: nothing was overwritten.")
    def put(self, values: dict[str, Any], assessment_id: int, item_id: str) -> Any:
        """Save one item's answer: the same checks, version check and 409 as the web's autosave."""
        assessment = _assessment(assessment_id)
        return svc.save_answer(assessment, item_id, values["value"], seen_version=values["version"],
                               request_id=None, by=current_user_of_token(),
                               justification=values.get("justification"))


@blp.route("/<int:assessment_id>/submit")
class SubmitView(MethodView):
    @allows(PERM, WRITE)
    @blp.arguments(SubmitInput)
    @blp.response(200, AssessmentSchema)
    def post(self, values: dict[str, Any], assessment_id: int) -> Assessment:
        """Submit the answers with the attestation (name, role, statement)."""
        return svc.submit_assessment(_assessment(assessment_id), name=values["name"], role=values["role"],
                                     statement=values["statement"], by=current_user_of_token())
