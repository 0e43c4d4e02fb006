"""Schemas of an assessment's review through the API: decision, clarifications, remediation requests.

Inputs refuse unknown fields (`Strict`); the outputs generate the OpenAPI document like `schemas.py`.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from vendorcheck.api.paging import MAX_LIMIT, PageSchema
from vendorcheck.api.schemas import Strict
from vendorcheck.models.assessments import AssessmentStatus, ClarificationState, Decision
from vendorcheck.models.remediation import RemediationAction, RemediationState
from vendorcheck.services.remediation import MAX_TEXT, OUTCOMES
from vendorcheck.services.review import MAX_COMMENT

KINDS = ("fix", "waiver")


class IdPageArgs(Strict):
    """The query parameters of a list ordered by id (oldest first by default)."""

    limit = fields.Integer(load_default=50, validate=validate.Range(1, MAX_LIMIT),
                           metadata={"description": f"Items per page (1–{MAX_LIMIT})."})
    cursor = fields.String(validate=validate.Length(max=500),
                           metadata={"description": "The `next_cursor` of the previous page."})
    sort = fields.String(load_default="id", validate=validate.OneOf(("id", "-id")),
                         metadata={"description": "Order: `id`, or `-id` for the newest first."})


# --- reminders and cancelling --------------------------------------------------------------------


class RemindInput(Strict):
    """A reminder takes no fields: an empty body or `{}` (anything else is refused)."""


class ReminderSchema(Schema):
    assessment_id = fields.Integer(required=True)
    recipients = fields.Integer(required=True, metadata={"description": "Contacts e-mailed."})


class CancelInput(Strict):
    reason = fields.String(required=True, validate=validate.Length(1, MAX_COMMENT), metadata={
        "description": "Why; e-mailed to the vendor's contacts and kept in the audit log."})


# --- decision ------------------------------------------------------------------------------------


class DecisionSchema(Schema):
    """An assessment's decision (null until decided) and what approving now would need."""

    assessment_id = fields.Integer(required=True)
    status = fields.Enum(AssessmentStatus, by_value=True, required=True)
    decision = fields.Enum(Decision, by_value=True, allow_none=True, required=True)
    comment = fields.String(allow_none=True, required=True)
    next_review_date = fields.Date(allow_none=True, required=True)
    decided_at = fields.DateTime(allow_none=True, required=True)
    decided_by_id = fields.Integer(allow_none=True, required=True)
    open_serious_findings = fields.List(fields.String(), required=True, metadata={
        "description": "Critical or high findings still open: approving needs a `reason`."})
    open_clarifications = fields.List(fields.Integer(), required=True, metadata={
        "description": "Ids of clarifications the vendor has not answered: deciding waits for them."})
    reason_required = fields.Boolean(required=True, metadata={
        "description": "Whether approving (with or without conditions) now needs a `reason`."})
    default_next_review_date = fields.Date(required=True, metadata={
        "description": "The next review date used when none is sent (from the tier)."})


class DecisionInput(Strict):
    decision = fields.Enum(Decision, by_value=True, required=True)
    comment = fields.String(allow_none=True, validate=validate.Length(max=MAX_COMMENT), metadata={
        "description": "Required for `approved_with_conditions` and `rejected`."})
    reason = fields.String(allow_none=True, validate=validate.Length(max=MAX_COMMENT), metadata={
        "description": "Why approve although serious findings or clarifications are open (required "
                       "then; kept in the audit log)."})
    next_review_date = fields.Date(allow_none=True, metadata={
        "description": "Default: one year, six months for tier high, three for unacceptable."})


# --- clarifications ------------------------------------------------------------------------------


class ClarificationSchema(Schema):
    id = fields.Integer(required=True)
    assessment_id = fields.Integer(required=True)
    item_id = fields.String(required=True)
    question = fields.String(required=True)
    state = fields.Enum(ClarificationState, by_value=True, required=True)
    asked_at = fields.DateTime(required=True)
    answer = fields.String(allow_none=True, required=True)
    answered_at = fields.DateTime(allow_none=True, required=True)


class ClarificationPage(PageSchema):
    items = fields.List(fields.Nested(ClarificationSchema), required=True)


class ClarificationInput(Strict):
    item_id = fields.String(required=True, validate=validate.Length(1, 64))
    question = fields.String(required=True, validate=validate.Length(1, MAX_COMMENT))


class ClarificationAnswerInput(Strict):
    answer = fields.String(required=True, validate=validate.Length(1, MAX_COMMENT))


# --- remediation requests ------------------------------------------------------------------------


class RemediationEventSchema(Schema):
    id = fields.Integer(required=True)
    action = fields.Enum(RemediationAction, by_value=True, required=True)
    side = fields.String(required=True, metadata={"description": "`buyer` or `vendor`."})
    text = fields.String(required=True)
    at = fields.DateTime(required=True)
    file_name = fields.String(allow_none=True, required=True)
    size = fields.Integer(allow_none=True, required=True)
    sha256 = fields.String(allow_none=True, required=True)


class RemediationSchema(Schema):
    id = fields.Integer(required=True)
    assessment_id = fields.Integer(required=True)
    finding_id = fields.String(required=True, attribute="finding.finding_id")
    state = fields.Enum(RemediationState, by_value=True, required=True)
    due_date = fields.Date(allow_none=True, required=True)
    note = fields.String(required=True)
    waiver_expires = fields.Date(allow_none=True, required=True)
    requested_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    events = fields.List(fields.Nested(RemediationEventSchema), required=True)


class RemediationPage(PageSchema):
    items = fields.List(fields.Nested(RemediationSchema), required=True)


class RemediationInput(Strict):
    finding_id = fields.String(required=True, validate=validate.Length(1, 64), metadata={
        "description": "The finding's `finding_id` (e.g. `no_dpa`); it must be open."})
    due_date = fields.Date(allow_none=True)
    note = fields.String(allow_none=True, validate=validate.Length(max=MAX_TEXT))


class RemediationResponseInput(Strict):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS), metadata={
        "description": "`fix` (what was fixed) or `waiver` (ask the buyer to accept the risk)."})
    text = fields.String(required=True, validate=validate.Length(max=MAX_TEXT))


# The same answer sent as multipart/form-data, with an optional evidence file (`file`).
RESPONSE_FORM = {
    "type": "object", "required": ["kind", "text"], "additionalProperties": False,
    "properties": {
        "kind": {"type": "string", "enum": list(KINDS)},
        "text": {"type": "string", "maxLength": MAX_TEXT},
        "file": {"type": "string", "format": "binary", "description":
                 "Evidence of the fix (PDF, image, DOCX, XLSX, TXT or CSV; not with `waiver`)."},
    },
}


class RemediationReviewInput(Strict):
    outcome = fields.String(required=True, validate=validate.OneOf(tuple(OUTCOMES)))
    reason = fields.String(required=True, validate=validate.Length(max=MAX_TEXT))
    waiver_expires = fields.Date(allow_none=True, metadata={"description": "With `waive` only."})
