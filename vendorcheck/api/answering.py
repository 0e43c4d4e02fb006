"""Assessments, vendor side: read what was sent, write answers (as autosave does), submit, answer
the buyer's clarifications and remediation requests."""

from __future__ import annotations

from typing import Any

from flask import abort, request
from flask.views import MethodView
from marshmallow import ValidationError
from sqlalchemy import select
from webargs.flaskparser import abort as abort_with_problems
from werkzeug.datastructures import FileStorage

from vendorcheck.access import active_org, get_owned_or_404
from vendorcheck.api import paging
from vendorcheck.api.assessments import detail
from vendorcheck.api.auth import READ, WRITE, allows, current_user_of_token
from vendorcheck.api.common import IDEMPOTENCY_DOC, api_blueprint, idempotent
from vendorcheck.api.lifecycle_schemas import (
    RESPONSE_FORM,
    ClarificationAnswerInput,
    ClarificationPage,
    ClarificationSchema,
    IdPageArgs,
    RemediationPage,
    RemediationResponseInput,
    RemediationSchema,
)
from vendorcheck.api.schemas import (
    AnswerInput,
    AssessmentDetail,
    AssessmentPage,
    AssessmentSchema,
    SavedSchema,
    Strict,
    SubmitInput,
)
from vendorcheck.extensions import db
from vendorcheck.models import Vendor
from vendorcheck.models.assessments import Assessment, AssessmentStatus, Clarification
from vendorcheck.models.remediation import RemediationRequest
from vendorcheck.services import assessments as svc
from vendorcheck.services import remediation

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
        return paging.page_body(query, Assessment, args)


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


@blp.route("/<int:assessment_id>/clarifications")
class VendorClarificationsView(MethodView):
    @allows(PERM, READ)
    @blp.arguments(IdPageArgs, location="query", unknown="raise")
    @blp.response(200, ClarificationPage)
    def get(self, args: dict[str, Any], assessment_id: int) -> dict[str, Any]:
        """List the buyer's questions about the answers, and the answers given."""
        query = select(Clarification).where(Clarification.assessment_id == _assessment(assessment_id).id)
        return paging.page_body(query, Clarification, args)


@blp.route("/<int:assessment_id>/clarifications/<int:clarification_id>/answer")
class ClarificationAnswerView(MethodView):
    @allows(PERM, WRITE)
    @idempotent
    @blp.arguments(ClarificationAnswerInput)
    @blp.response(200, ClarificationSchema)
    @blp.alt_response(409, description="The clarification is already answered.")
    @blp.doc(parameters=[IDEMPOTENCY_DOC])
    def post(self, values: dict[str, Any], assessment_id: int, clarification_id: int) -> Clarification:
        """Answer the buyer's question; the last answer puts the assessment back in review."""
        assessment = _assessment(assessment_id)
        clarification = db.session.get(Clarification, clarification_id)
        if clarification is None or clarification.assessment_id != assessment.id:
            abort(404)
        return svc.answer_clarification(clarification, values["answer"], by=current_user_of_token())


@blp.route("/<int:assessment_id>/remediation")
class VendorRemediationsView(MethodView):
    @allows(PERM, READ)
    @blp.arguments(IdPageArgs, location="query", unknown="raise")
    @blp.response(200, RemediationPage)
    def get(self, args: dict[str, Any], assessment_id: int) -> dict[str, Any]:
        """List the findings the buyer asked to fix, with their history."""
        query = select(RemediationRequest).where(
            RemediationRequest.assessment_id == _assessment(assessment_id).id)
        return paging.page_body(query, RemediationRequest, args)


def _response_input() -> tuple[dict[str, Any], FileStorage | None]:
    """Read a remediation answer sent as JSON, or as multipart/form-data with an evidence `file`."""
    if request.mimetype == "multipart/form-data":
        location, data = "form", request.form.to_dict()
        extra = set(request.files) - {"file"}
        upload = request.files.get("file")
    else:  # JSON (a malformed body answers 400); no JSON body is an empty one, as for the other writes
        location, data, extra, upload = "json", request.get_json() if request.is_json else {}, set(), None
    try:
        values = RemediationResponseInput().load(data)  # not an object: "Invalid input type."
        if extra:
            raise ValidationError({name: ["Unknown field."] for name in sorted(extra)})
    except ValidationError as err:
        abort_with_problems(422, messages={location: err.messages})
    return values, upload


@blp.route("/<int:assessment_id>/remediation/<int:request_id>/respond")
class RemediationResponseView(MethodView):
    @allows(PERM, WRITE)
    @idempotent
    @blp.response(200, RemediationSchema)
    @blp.alt_response(409, description="The request is not waiting for the vendor.")
    @blp.doc(parameters=[IDEMPOTENCY_DOC], requestBody={"required": True, "content": {
        "application/json": {"schema": RemediationResponseInput},
        "multipart/form-data": {"schema": RESPONSE_FORM}}})
    def post(self, assessment_id: int, request_id: int) -> RemediationRequest:
        """Answer a remediation request: what was fixed (`fix`, with an optional evidence file when sent as
        multipart/form-data), or why to accept the risk (`waiver`)."""
        found = remediation.request_of(_assessment(assessment_id), request_id)
        if found is None:
            abort(404)
        values, upload = _response_input()
        remediation.respond(found, waiver=values["kind"] == "waiver", text=values["text"], upload=upload,
                            by=current_user_of_token())
        return found
