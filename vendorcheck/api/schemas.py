"""The API's marshmallow schemas: what goes in (unknown fields refused) and what comes out.

The OpenAPI document is generated from these same schemas.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate

from vendorcheck.api.paging import PageArgs, PageSchema
from vendorcheck.config import Config
from vendorcheck.models import Criticality, Role
from vendorcheck.models.assessments import AssessmentStatus, FindingState
from vendorcheck.security import MAX_ID, has_control_chars
from vendorcheck.services.vendors import DATA_CATEGORIES


class Strict(Schema):
    """An input schema: a field it does not know is an error, never silently ignored."""

    class Meta:
        unknown = RAISE

    @pre_load
    def _refuse_control_characters(self, data: Any, **kwargs: Any) -> Any:
        """Refuse a text with NUL or another control character, as the web's forms do (422, not a
        500 from PostgreSQL, which rejects NUL even in a query's filter)."""
        if isinstance(data, Mapping):
            bad = {key: ["Contains invalid characters."] for key in data if _holds_control(data[key])}
            if bad:
                raise ValidationError(bad)
        return data


def _holds_control(value: Any) -> bool:
    """Tell whether a given text, or a text in a given list, holds a control character."""
    if isinstance(value, str):
        return has_control_chars(value)
    return isinstance(value, list) and any(isinstance(v, str) and has_control_chars(v) for v in value)


# --- error body ------------------------------------------------------------------------------------


class ErrorDetail(Schema):
    code = fields.String(required=True, metadata={"example": "validation_failed"})
    message = fields.String(required=True)
    details = fields.Raw(required=True, metadata={"description": "Field problems, or {}."})


class ErrorSchema(Schema):
    """Every API error: {"error": {"code", "message", "details"}}."""

    error = fields.Nested(ErrorDetail, required=True)


# --- organisation and members ----------------------------------------------------------------------


class OrganisationSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    slug = fields.String(required=True)
    country = fields.String(allow_none=True)
    is_buyer = fields.Boolean(required=True)
    is_vendor = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)


class MemberSchema(Schema):
    id = fields.Integer(required=True, metadata={"description": "The membership's id."})
    user_id = fields.Integer(required=True)
    name = fields.String(required=True, attribute="user.name")
    email = fields.String(required=True, attribute="user.email")
    role = fields.Enum(Role, by_value=True, required=True)
    created_at = fields.DateTime(required=True)


class MemberPage(PageSchema):
    items = fields.List(fields.Nested(MemberSchema), required=True)


# --- vendors ---------------------------------------------------------------------------------------


class ContactSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True)
    language = fields.String(allow_none=True, metadata={
        "description": "The language e-mails are written in when they have no account (null: from "
                       "the vendor's country)."})
    role = fields.String(required=True, metadata={"description": "Their role at the vendor, in words."})
    created_at = fields.DateTime(required=True)


class VendorSchema(Schema):
    id = fields.Integer(required=True)
    legal_name = fields.String(required=True)
    country = fields.String(allow_none=True)
    website = fields.String(allow_none=True)
    services = fields.String(required=True)
    data_categories = fields.List(fields.String(), required=True)
    criticality = fields.Enum(Criticality, by_value=True, required=True)
    owner_id = fields.Integer(allow_none=True)
    vendor_org_id = fields.Integer(allow_none=True)
    archived_at = fields.DateTime(allow_none=True, metadata={
        "description": "When the vendor was archived (null: active). Archived vendors keep their "
                       "records and are sent nothing new."})
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class VendorPage(PageSchema):
    items = fields.List(fields.Nested(VendorSchema), required=True)


class VendorInput(Strict):
    """A vendor record as created."""

    legal_name = fields.String(required=True, validate=validate.Length(1, 200))
    country = fields.String(allow_none=True, validate=validate.Regexp(r"^[A-Z]{2}$"))
    website = fields.Url(allow_none=True, schemes={"http", "https"}, require_tld=False,
                         validate=validate.Length(max=500))
    services = fields.String(validate=validate.Length(max=5000))
    data_categories = fields.List(fields.String(validate=validate.OneOf(DATA_CATEGORIES)),
                                  validate=validate.Length(max=len(DATA_CATEGORIES)))
    criticality = fields.Enum(Criticality, by_value=True)
    owner_id = fields.Integer(allow_none=True, strict=True, validate=validate.Range(1, MAX_ID))


class VendorChanges(VendorInput):
    """The fields of a vendor record to change (used partial: the others stay)."""


class VendorQuery(PageArgs, Strict):
    q = fields.String(validate=validate.Length(max=200),
                      metadata={"description": "Search in the legal name and website."})
    archived = fields.Boolean(load_default=False, metadata={
        "description": "`true` lists the archived vendors instead of the active ones."})


class ContactInput(Strict):
    name = fields.String(required=True, validate=validate.Length(1, 200))
    email = fields.Email(required=True, validate=validate.Length(max=254))


class ContactChanges(Strict):
    """The fields of a contact to change (the others stay); a new e-mail revokes the old links."""

    name = fields.String(validate=validate.Length(1, 200))
    email = fields.Email(validate=validate.Length(max=254))
    language = fields.String(allow_none=True, validate=validate.OneOf(Config.LANGUAGES))
    role = fields.String(validate=validate.Length(max=200))


class InvitationSchema(Schema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    state = fields.String(required=True)
    expires_at = fields.DateTime(required=True)


# --- questionnaires --------------------------------------------------------------------------------


class QuestionnaireSchema(Schema):
    id = fields.String(required=True)
    version = fields.String(required=True)
    title = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    sha256 = fields.String(required=True)
    for_buyers = fields.Boolean(required=True)


class QuestionnaireList(Schema):
    items = fields.List(fields.Nested(QuestionnaireSchema), required=True)


class ItemSchema(Schema):
    id = fields.String(required=True)
    type = fields.String(required=True)
    label = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    required = fields.Boolean(required=True)
    options = fields.List(fields.String(), required=True)


class SectionSchema(Schema):
    id = fields.String(required=True)
    title = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    items = fields.List(fields.Nested(ItemSchema), required=True)


class QuestionnaireDetail(QuestionnaireSchema):
    sections = fields.List(fields.Nested(SectionSchema), required=True)


# --- assessments -----------------------------------------------------------------------------------


class AssessmentSchema(Schema):
    id = fields.Integer(required=True)
    vendor_id = fields.Integer(required=True)
    questionnaire_id = fields.String(required=True)
    questionnaire_version = fields.String(required=True)
    status = fields.Enum(AssessmentStatus, by_value=True, required=True)
    due_date = fields.Date(allow_none=True)
    score = fields.Float(allow_none=True)
    tier = fields.String(allow_none=True)
    progress = fields.Integer(required=True)
    open_findings = fields.Integer(required=True)
    results_stale = fields.Boolean(required=True, metadata={
        "description": "True while a re-score after the vendor's latest answers is on its way: score, "
                       "tier and open findings are the last computed."})
    results_computed_at = fields.DateTime(allow_none=True, metadata={
        "description": "When the score, tier and open findings were last computed (null: not recorded)."})
    decision = fields.String(allow_none=True, attribute="decision.value")
    created_at = fields.DateTime(required=True)
    sent_at = fields.DateTime(allow_none=True)
    submitted_at = fields.DateTime(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    cancelled_at = fields.DateTime(allow_none=True)
    cancel_reason = fields.String(allow_none=True)


class AssessmentPage(PageSchema):
    items = fields.List(fields.Nested(AssessmentSchema), required=True)


class AssessmentQuery(PageArgs, Strict):
    status = fields.Enum(AssessmentStatus, by_value=True)
    vendor_id = fields.Integer(validate=validate.Range(1, MAX_ID))
    tier = fields.String(validate=validate.Length(max=40))
    latest = fields.Boolean(metadata={"description": "true: only each vendor's latest assessment (its "
                                                     "newest not cancelled, else its newest), as the "
                                                     "dashboard lists them by default."})


class AnswerSchema(Schema):
    item_id = fields.String(required=True)
    value = fields.Raw(allow_none=True, required=True)
    justification = fields.String(allow_none=True)
    version = fields.Integer(required=True)
    updated_at = fields.DateTime(required=True)


class FindingSchema(Schema):
    id = fields.Integer(required=True)
    finding_id = fields.String(required=True)
    source = fields.String(required=True)
    severity = fields.String(required=True)
    title = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    refs = fields.List(fields.String(), required=True)
    state = fields.Enum(FindingState, by_value=True, required=True)
    due_date = fields.Date(allow_none=True)
    comment = fields.String(allow_none=True)


class FindingList(Schema):
    items = fields.List(fields.Nested(FindingSchema), required=True)


class AssessmentDetail(AssessmentSchema):
    answers = fields.List(fields.Nested(AnswerSchema), required=True)
    findings = fields.List(fields.Nested(FindingSchema), required=True)


class SendInput(Strict):
    vendor_id = fields.Integer(required=True, strict=True, validate=validate.Range(1, MAX_ID))
    questionnaire_id = fields.String(required=True, validate=validate.Length(1, 80))
    questionnaire_version = fields.String(required=True, validate=validate.Length(1, 20))
    contact_ids = fields.List(fields.Integer(strict=True, validate=validate.Range(1, MAX_ID)),
                              required=True, validate=validate.Length(1, 50))
    due_date = fields.Date(allow_none=True)
    message = fields.String(load_default="", validate=validate.Length(max=5000))


class AnswerInput(Strict):
    value = fields.Raw(required=True, allow_none=True,
                       metadata={"description": "The answer, as the item type takes it."})
    version = fields.Integer(required=True, strict=True, validate=validate.Range(0, 10**18 - 1),
                             metadata={"description": "The version you read (0: no answer yet)."})
    justification = fields.String(allow_none=True, validate=validate.Length(max=20000))


class SavedSchema(Schema):
    item_id = fields.String(required=True)
    version = fields.Integer(required=True)
    progress = fields.Integer(required=True)
    replayed = fields.Boolean(required=True)


class SubmitInput(Strict):
    name = fields.String(required=True, validate=validate.Length(1, 200))
    role = fields.String(required=True, validate=validate.Length(1, 200))
    statement = fields.String(required=True, validate=validate.Length(1, 5000))


class FindingInput(Strict):
    state = fields.Enum(FindingState, by_value=True, required=True)
    comment = fields.String(allow_none=True, validate=validate.Length(max=5000))
    due_date = fields.Date(allow_none=True)
