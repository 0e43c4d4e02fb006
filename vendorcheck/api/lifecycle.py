"""An assessment's life after sending, buyer side: reminders, cancelling, the decision,
clarifications and remediation requests.

Each write calls the service the web calls, with the same rules and messages.
"""

from __future__ import annotations

from typing import Any

from flask import abort
from flask.views import MethodView
from sqlalchemy import select

from vendorcheck.access import get_owned_or_404
from vendorcheck.api import paging
from vendorcheck.api.auth import READ, WRITE, allows, current_user_of_token
from vendorcheck.api.common import IDEMPOTENCY_DOC, api_blueprint, idempotent
from vendorcheck.api.lifecycle_schemas import (
    CancelInput,
    ClarificationInput,
    ClarificationPage,
    ClarificationSchema,
    DecisionInput,
    DecisionSchema,
    IdPageArgs,
    RemediationInput,
    RemediationPage,
    RemediationReviewInput,
    RemediationSchema,
    ReminderSchema,
    RemindInput,
)
from vendorcheck.api.schemas import AssessmentSchema
from vendorcheck.models.assessments import Assessment, Clarification
from vendorcheck.models.remediation import RemediationRequest
from vendorcheck.services import remediation, reminders, review
from vendorcheck.services.assessments import ensure_fresh

blp = api_blueprint("lifecycle", "/assessments", "An assessment after sending: reminders, cancelling, "
                    "decision, clarifications, remediation requests.")


def _assessment(assessment_id: int) -> Assessment:
    """Load an assessment of the token's organisation (fresh results), or 404."""
    assessment = get_owned_or_404(Assessment, assessment_id, "buyer_org_id")
    ensure_fresh(assessment)
    return assessment


def _request(assessment: Assessment, request_id: int) -> RemediationRequest:
    found = remediation.request_of(assessment, request_id)
    if found is None:
        abort(404)
    return found


@blp.route("/<int:assessment_id>/remind")
class RemindView(MethodView):
    @allows("assessments.manage", WRITE)
    @idempotent
    @blp.arguments(RemindInput)
    @blp.response(200, ReminderSchema)
    @blp.alt_response(409, description="Not with the vendor any more, no contact, or reminded less than "
                                       "a day ago.")
    @blp.doc(parameters=[IDEMPOTENCY_DOC])
    def post(self, _values: dict[str, Any], assessment_id: int) -> dict[str, Any]:
        """E-mail the vendor's contacts a reminder now (at most once a day; a link holder gets a new link)."""
        assessment = _assessment(assessment_id)
        count = reminders.remind_now(assessment, by=current_user_of_token())
        return {"assessment_id": assessment.id, "recipients": count}


@blp.route("/<int:assessment_id>/cancel")
class CancelView(MethodView):
    @allows("assessments.manage", WRITE)
    @idempotent
    @blp.arguments(CancelInput)
    @blp.response(200, AssessmentSchema)
    @blp.alt_response(409, description="The assessment is decided, expired or cancelled already.")
    @blp.doc(parameters=[IDEMPOTENCY_DOC])
    def post(self, values: dict[str, Any], assessment_id: int) -> Assessment:
        """Withdraw an undecided assessment with a reason; the vendor's contacts are told."""
        return review.cancel_assessment(_assessment(assessment_id), values["reason"],
                                        by=current_user_of_token())


def decision_of(assessment: Assessment) -> dict[str, Any]:
    """Return the decision as the API shows it, with what approving now would need."""
    concerns = review.decision_concerns(assessment)
    return {"assessment_id": assessment.id, "status": assessment.status,
            "decision": assessment.decision, "comment": assessment.decision_comment,
            "next_review_date": assessment.next_review_date, "decided_at": assessment.decided_at,
            "decided_by_id": assessment.decided_by_id,
            "open_serious_findings": [f.finding_id for f in concerns.findings],
            "open_clarifications": [c.id for c in concerns.clarifications],
            "reason_required": bool(concerns),
            "default_next_review_date": review.default_next_review(assessment.tier)}


@blp.route("/<int:assessment_id>/decision")
class DecisionView(MethodView):
    @allows("assessments.view", READ)
    @blp.etag
    @blp.response(200, DecisionSchema)
    def get(self, assessment_id: int) -> dict[str, Any]:
        """Read the decision (null until decided) and the open points approving would need a reason for."""
        return decision_of(_assessment(assessment_id))

    @allows("assessments.manage", WRITE)
    @idempotent
    @blp.arguments(DecisionInput)
    @blp.response(201, DecisionSchema)
    @blp.alt_response(409, description="The assessment is not submitted or in review, or "
                                       "clarifications are still open.")
    @blp.doc(parameters=[IDEMPOTENCY_DOC])
    def post(self, values: dict[str, Any], assessment_id: int) -> dict[str, Any]:
        """Record the decision, as the web's decision form: a comment for conditions or a rejection, a
        reason to approve while serious findings or clarifications are open."""
        assessment = _assessment(assessment_id)
        next_review = values.get("next_review_date") or review.default_next_review(assessment.tier)
        review.decide_assessment(assessment, values["decision"], values.get("comment"),
                                 next_review_date=next_review, reason=values.get("reason"),
                                 by=current_user_of_token())
        return decision_of(assessment)


@blp.route("/<int:assessment_id>/clarifications")
class ClarificationsView(MethodView):
    @allows("assessments.view", READ)
    @blp.arguments(IdPageArgs, location="query", unknown="raise")
    @blp.response(200, ClarificationPage)
    def get(self, args: dict[str, Any], assessment_id: int) -> dict[str, Any]:
        """List the questions asked to the vendor, with their answers."""
        assessment = _assessment(assessment_id)
        query = select(Clarification).where(Clarification.assessment_id == assessment.id)
        return paging.page_body(query, Clarification, args)

    @allows("assessments.manage", WRITE)
    @idempotent
    @blp.arguments(ClarificationInput)
    @blp.response(201, ClarificationSchema)
    @blp.doc(parameters=[IDEMPOTENCY_DOC])
    def post(self, values: dict[str, Any], assessment_id: int) -> Clarification:
        """Ask the vendor about one answer (the vendor may change it until it answers)."""
        return review.request_clarification(_assessment(assessment_id), values["item_id"],
                                            values["question"], by=current_user_of_token())


@blp.route("/<int:assessment_id>/remediation")
class RemediationsView(MethodView):
    @allows("assessments.view", READ)
    @blp.arguments(IdPageArgs, location="query", unknown="raise")
    @blp.response(200, RemediationPage)
    def get(self, args: dict[str, Any], assessment_id: int) -> dict[str, Any]:
        """List the assessment's remediation requests with their history."""
        assessment = _assessment(assessment_id)
        query = select(RemediationRequest).where(RemediationRequest.assessment_id == assessment.id)
        return paging.page_body(query, RemediationRequest, args)

    @allows("assessments.manage", WRITE)
    @idempotent
    @blp.arguments(RemediationInput)
    @blp.response(201, RemediationSchema)
    @blp.doc(parameters=[IDEMPOTENCY_DOC])
    def post(self, values: dict[str, Any], assessment_id: int) -> RemediationRequest:
        """Share an open finding of a decided assessment with the vendor as a request to fix it."""
        return remediation.request_remediation(
            _assessment(assessment_id), values["finding_id"], due_date=values.get("due_date"),
            note=values.get("note"), by=current_user_of_token())


@blp.route("/<int:assessment_id>/remediation/<int:request_id>")
class RemediationView(MethodView):
    @allows("assessments.view", READ)
    @blp.etag
    @blp.response(200, RemediationSchema)
    def get(self, assessment_id: int, request_id: int) -> RemediationRequest:
        """Read one remediation request with its history."""
        return _request(_assessment(assessment_id), request_id)


@blp.route("/<int:assessment_id>/remediation/<int:request_id>/review")
class RemediationReviewView(MethodView):
    @allows("assessments.manage", WRITE)
    @idempotent
    @blp.arguments(RemediationReviewInput)
    @blp.response(200, RemediationSchema)
    @blp.doc(parameters=[IDEMPOTENCY_DOC])
    def post(self, values: dict[str, Any], assessment_id: int, request_id: int) -> RemediationRequest:
        """Accept the vendor's fix, send it back, or accept the risk (a waiver), with a reason."""
        found = _request(_assessment(assessment_id), request_id)
        remediation.review_response(found, values["outcome"], reason=values["reason"],
                                    waiver_expires=values.get("waiver_expires"),
                                    by=current_user_of_token())
        return found
