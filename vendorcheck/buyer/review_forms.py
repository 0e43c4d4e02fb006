"""Forms of the buyer's assessment pages: send, clarify, override, findings, decide."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import request
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from vendorcheck.forms import (
    BaseForm,
    ConfirmForm,  # noqa: F401 - shared confirmation form
    options,
)

SEVERITY_CHOICES = [("critical", _l("Critical")), ("high", _l("High")), ("medium", _l("Medium")),
                    ("low", _l("Low")), ("info", _l("Information"))]
FINDING_STATE_CHOICES = [("open", _l("Open")), ("vendor_responded", _l("Vendor responded")),
                         ("accepted_risk", _l("Risk accepted")), ("remediated", _l("Remediated")),
                         ("closed", _l("Closed"))]
DECISION_CHOICES = [("approved", _l("Approved")),
                    ("approved_with_conditions", _l("Approved with conditions")),
                    ("rejected", _l("Rejected"))]


def in_future(form: Any, field: Any) -> None:
    """Refuse a date in the past."""
    if field.data is not None and field.data < date.today():
        raise ValidationError(_l("Choose a date from today on."))


def comment_field(label: Any, required: bool = True) -> TextAreaField:
    """Return a comment box (required by default: overrides must say why)."""
    return TextAreaField(label, validators=[
        DataRequired(message=_l("Explain the change in a comment; it is kept in the audit trail."))
        if required else Optional(), Length(max=5000)])


class SendForm(BaseForm):
    vendor_id = SelectField(_l("Vendor"), coerce=int, validators=[DataRequired()])
    questionnaire = SelectField(_l("Questionnaire"), validators=[DataRequired()])
    due_date = DateField(_l("Due date"), validators=[Optional(), in_future])
    contacts = SelectMultipleField(_l("Send to"), coerce=int, validators=[DataRequired(
        message=_l("Choose at least one contact."))])
    message = TextAreaField(_l("Message to the vendor (optional)"),
                            validators=[Optional(), Length(max=5000)])
    by_link = BooleanField(_l("Let the contacts answer by link, without an account"))
    sensitive = BooleanField(_l("Sensitive: ask for a one-time code mailed to the contact before "
                                "the first save by link"))


class ReassessForm(BaseForm):
    due_date = DateField(_l("Due date"), validators=[Optional(), in_future])
    contacts = SelectMultipleField(_l("Send to"), coerce=int, validators=[DataRequired(
        message=_l("Choose at least one contact."))])
    message = TextAreaField(_l("Message to the vendor (optional)"),
                            validators=[Optional(), Length(max=5000)])


class ClarificationForm(BaseForm):
    item_id = StringField(validators=[DataRequired(), Length(max=64)])
    question = TextAreaField(_l("Your question to the vendor"), validators=[
        DataRequired(message=_l("Write the question the vendor should answer.")),
        Length(max=5000)])


class EvidenceReviewForm(BaseForm):
    state = SelectField(_l("Review"), choices=options([("accepted", _l("Accept")),
                                                       ("rejected", _l("Reject"))]))
    comment = comment_field(_l("Comment (required to reject)"), required=False)


class ItemOverrideForm(BaseForm):
    item_id = StringField(validators=[DataRequired(), Length(max=64)])
    points = DecimalField(_l("New points"), validators=[InputRequired(), NumberRange(min=0)])
    comment = comment_field(_l("Why (required)"))


class SeverityOverrideForm(BaseForm):
    finding_id = StringField(validators=[DataRequired(), Length(max=64)])
    severity = SelectField(_l("New severity"), choices=options(SEVERITY_CHOICES))
    comment = comment_field(_l("Why (required)"))


class ManualFindingForm(BaseForm):
    severity = SelectField(_l("Severity"), choices=options(SEVERITY_CHOICES), default="medium")
    title_en = StringField(_l("Title (English)"), validators=[Optional(), Length(max=300)])
    title_fr = StringField(_l("Title (French)"), validators=[Optional(), Length(max=300)])
    remediation_en = TextAreaField(_l("Remediation (English)"),
                                   validators=[Optional(), Length(max=5000)])
    remediation_fr = TextAreaField(_l("Remediation (French)"),
                                   validators=[Optional(), Length(max=5000)])
    due_date = DateField(_l("Due date"), validators=[Optional()])

    def validate_title_en(self, field: Any) -> None:
        if not (field.data or "").strip() and not (self.title_fr.data or "").strip():
            raise ValidationError(_l("Give the finding a title in at least one language."))


class FindingStateForm(BaseForm):
    finding_id = StringField(validators=[DataRequired(), Length(max=64)])
    state = SelectField(_l("State"), choices=options(FINDING_STATE_CHOICES))
    due_date = DateField(_l("Due date"), validators=[Optional()])
    comment = comment_field(_l("Comment"), required=False)


class DecisionForm(BaseForm):
    decision = RadioField(_l("Decision"), choices=options(DECISION_CHOICES),
                          validators=[DataRequired(message=_l("Choose a decision."))])
    comment = comment_field(_l("Decision comment (required for conditions or a rejection)"),
                            required=False)
    next_review_date = DateField(_l("Next review date"), validators=[DataRequired(), in_future])
    reason = TextAreaField(_l("Reason for approving despite the open points"),
                           validators=[Optional(), Length(max=5000)])
    # Open findings shared with the vendor as remediation requests (choices: the open findings);
    # each one's due date and note come as `due-<finding id>` and `note-<finding id>`.
    share = SelectMultipleField(_l("Findings to send to the vendor"), choices=[],
                                validate_choice=False)
    buyer_owner = SelectField(_l("Owner at your organisation"), choices=[], validate_choice=False)
    vendor_owner = SelectField(_l("Owner at the vendor"), choices=[], validate_choice=False)

    def validate_comment(self, field: Any) -> None:
        if self.decision.data != "approved" and not (field.data or "").strip():
            raise ValidationError(_l("Explain the conditions or the reasons for the rejection."))

    shared: tuple[dict[str, Any], ...] = ()  # the checked findings with their due date and note

    def validate_share(self, field: Any) -> None:
        known = {value for value, _label in field.choices}
        if any(value not in known for value in field.data or ()):
            raise ValidationError(_l("Choose findings that are still open."))
        self.shared = tuple(self._shared(fid) for fid in field.data or ())

    def _shared(self, finding_id: str) -> dict[str, Any]:
        """Read one shared finding's due date (from today on) and note."""
        raw = (request.form.get(f"due-{finding_id}") or "").strip()
        note = (request.form.get(f"note-{finding_id}") or "").strip()
        due = None
        if raw:
            try:
                due = date.fromisoformat(raw)
            except ValueError:
                raise ValidationError(_l("Give each due date as a date (YYYY-MM-DD).")) from None
            if due < date.today():
                raise ValidationError(_l("A due date cannot be in the past."))
        if len(note) > 5000:
            raise ValidationError(_l("A note to the vendor has at most 5000 characters."))
        return {"finding_id": finding_id, "due_date": due, "note": note}

    def owner_ids(self) -> tuple[int | None, int | None]:
        """Return the chosen owners' ids (None: the decider; every contact)."""
        return _int_or_none(self.buyer_owner.data), _int_or_none(self.vendor_owner.data)


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return -1  # not a choice: the service answers that the owner is not one of the choices


class CancelForm(BaseForm):
    reason = TextAreaField(
        _l("Reason (sent to the vendor's contacts and kept in the audit log)"),
        validators=[DataRequired(message=_l("Give the reason for cancelling; the vendor's contacts "
                                            "receive it.")), Length(max=5000)])


class RemediationRequestForm(BaseForm):
    finding_id = SelectField(_l("Finding to fix"), validators=[DataRequired(
        message=_l("Choose the finding the vendor should fix."))])
    due_date = DateField(_l("To fix by (optional)"), validators=[Optional(), in_future])
    note = TextAreaField(_l("Note to the vendor (optional)"), validators=[Optional(), Length(max=5000)])
    buyer_owner_id = StringField(_l("Owner at your organisation"))
    vendor_owner_id = StringField(_l("Owner at the vendor"))

    def owner_ids(self) -> tuple[int | None, int | None]:
        """Return the chosen owners' ids (None: the one asking; every contact)."""
        return _int_or_none(self.buyer_owner_id.data), _int_or_none(self.vendor_owner_id.data)


class RemediationReviewForm(BaseForm):
    outcome = StringField(validators=[DataRequired(
        message=_l("Choose accept, send back or accept the risk."))])
    reason = TextAreaField(_l("Reason"), validators=[Length(max=5000)])
    waiver_expires = DateField(_l("Waiver expires on"), validators=[Optional(), in_future])
