"""Forms of the DPA pages (vendor side)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Regexp

from vendorcheck.forms import BaseForm
from vendorcheck.models.dpa import SLUG_PATTERN


class StartDraftForm(BaseForm):
    """Start the DPA draft: only the CSRF token."""


class PublishForm(BaseForm):
    """Publish the draft, after an explicit confirmation."""

    confirm = BooleanField(
        _l("I confirm that this version may be published: it will be public and can never be "
           "changed or withdrawn."),
        validators=[DataRequired(_l("Tick the confirmation box to publish."))])


class SettingsForm(BaseForm):
    """The public address and the objection period."""

    slug = StringField(_l("Public address"), validators=[
        DataRequired(), Length(min=3, max=80),
        Regexp(f"^{SLUG_PATTERN}$", message=_l(
            "The address must be 3 to 80 lower-case letters, digits or hyphens."))])
    objection_days = IntegerField(_l("Objection period (days)"), validators=[
        InputRequired(_l("Give the objection period in days.")),
        NumberRange(min=0, max=365, message=_l(
            "The objection period must be a whole number of days between 0 and 365."))])
