"""Assessments, buyer side: list, send, read with answers and results, findings."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app
from flask.views import MethodView
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from vendorcheck.access import active_org, get_owned_or_404
from vendorcheck.api import paging
from vendorcheck.api.auth import READ, WRITE, allows, current_user_of_token
from vendorcheck.api.common import IDEMPOTENCY_DOC, api_blueprint, idempotent
from vendorcheck.api.schemas import (
    AssessmentDetail,
    AssessmentPage,
    AssessmentQuery,
    AssessmentSchema,
    FindingInput,
    FindingList,
    FindingSchema,
    SendInput,
)
from vendorcheck.models import Vendor
from vendorcheck.models.assessments import Assessment, FindingRecord
from vendorcheck.services import assessments as svc
from vendorcheck.services import review
from vendorcheck.services.errors import ValidationFailed

blp = api_blueprint("assessments", "/assessments",
                    "Assessments a buyer sent: status, score, tier, answers, findings.")


def _assessment(assessment_id: int) -> Assessment:
    assessment = get_owned_or_404(Assessment, assessment_id, "buyer_org_id")
    svc.ensure_fresh(assessment)  # results an autosave left stale are re-scored before they are read
    return assessment


def detail(assessment: Assessment) -> dict[str, Any]:
    """Return an assessment with its answers and findings, as the API shows it."""
    rows = svc.answer_rows(assessment)
    fields = {name: getattr(assessment, name) for name in AssessmentSchema().fields}
    return {**fields, "answers": sorted(rows.values(), key=lambda a: a.item_id),
            "findings": list(assessment.findings)}


@blp.route("")
class AssessmentsView(MethodView):
    @allows("assessments.view", READ)
    @blp.arguments(AssessmentQuery, location="query", unknown="raise")
    @blp.response(200, AssessmentPage)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List assessments with their status, score, tier and due date (filter by status, vendor, tier,
        latest per vendor).

        Score, tier and open findings are the last computed; `results_stale` says a re-score is on its way
        (within seconds). Reading one assessment re-scores it first."""
        org = active_org()
        query = select(Assessment).where(Assessment.buyer_org_id == org.id)
        if args.get("status"):
            query = query.where(Assessment.status == args["status"])
        if args.get("vendor_id"):
            query = query.where(Assessment.vendor_id == args["vendor_id"])
        if args.get("tier"):
            query = query.where(Assessment.tier == args["tier"])
        if args.get("latest"):
            query = query.where(Assessment.is_latest)
        return paging.page_body(query, Assessment, args)

    @allows("assessments.manage", WRITE)
    @idempotent
    @blp.arguments(SendInput)
    @blp.response(201, AssessmentSchema)
    @blp.doc(parameters=[IDEMPOTENCY_DOC])
    def post(self, values: dict[str, Any]) -> Assessment:
        """Create an assessment and send it to the vendor's contacts (e-mail or invitation)."""
        org = active_org()
        vendor = get_owned_or_404(Vendor, values["vendor_id"], "buyer_org_id")
        try:
            q = current_app.extensions["questionnaires"].get(values["questionnaire_id"],
                                                            values["questionnaire_version"])
        except KeyError:
            raise ValidationFailed(_l("Unknown questionnaire version.")) from None
        contacts = [c for c in vendor.contacts if c.id in set(values["contact_ids"])]
        if len(contacts) != len(set(values["contact_ids"])):
            raise ValidationFailed(_l("Choose contacts of this vendor."))
        return svc.send_assessment(org, vendor, q, due_date=values.get("due_date"), contacts=contacts,
                                   message=values["message"], by=current_user_of_token())


@blp.route("/<int:assessment_id>")
class AssessmentView(MethodView):
    @allows("assessments.view", READ)
    @blp.etag
    @blp.response(200, AssessmentDetail)
    def get(self, assessment_id: int) -> dict[str, Any]:
        """Read an assessment with its answers, results and findings."""
        return detail(_assessment(assessment_id))


@blp.route("/<int:assessment_id>/findings")
class FindingsView(MethodView):
    @allows("assessments.view", READ)
    @blp.response(200, FindingList)
    def get(self, assessment_id: int) -> dict[str, Any]:
        """List an assessment's findings with their state and due date."""
        return {"items": list(_assessment(assessment_id).findings)}


@blp.route("/<int:assessment_id>/findings/<int:finding_id>")
class FindingView(MethodView):
    @allows("assessments.view", READ)
    @blp.etag
    @blp.response(200, FindingSchema)
    def get(self, assessment_id: int, finding_id: int) -> FindingRecord:
        """Read one finding."""
        return _finding(_assessment(assessment_id), finding_id)

    @allows("assessments.manage", WRITE)
    @blp.etag
    @blp.arguments(FindingInput)
    @blp.response(200, FindingSchema)
    def patch(self, values: dict[str, Any], assessment_id: int, finding_id: int) -> FindingRecord:
        """Change a finding's state, due date and comment (send If-Match with the ETag you read)."""
        assessment = _assessment(assessment_id)
        finding = _finding(assessment, finding_id)
        blp.check_etag(finding, FindingSchema)
        return review.set_finding_state(assessment, finding.finding_id, values["state"],
                                        due_date=values.get("due_date"), comment=values.get("comment"),
                                        by=current_user_of_token())


def _finding(assessment: Assessment, finding_id: int) -> FindingRecord:
    found = next((f for f in assessment.findings if f.id == finding_id), None)
    if found is None:
        abort(404)
    return found

