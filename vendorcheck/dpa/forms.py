"""Forms of the DPA pages (vendor side)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, RadioField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from vendorcheck.agreement.assemble import DEFAULT_KIND, OWN_WORDS, SCC_REFERENCE
from vendorcheck.forms import BaseForm, options
from vendorcheck.models.dpa import SLUG_PATTERN

# The two documents a vendor may publish (docs/dpa.md, "Two kinds of document").
KIND_CHOICES = [
    (SCC_REFERENCE, _l("The Commission's standard contractual clauses (Decision 2021/915), "
                       "incorporated by reference: the strongest footing (Art. 28(7) GDPR), the "
                       "wording cannot be changed")),
    (OWN_WORDS, _l("A DPA in our own words: an ordinary Art. 28 contract, not the standard "
                   "contractual clauses")),
]


class StartDraftForm(BaseForm):
    """Start the DPA draft: only the CSRF token."""


class PublishForm(BaseForm):
    """Publish the draft as one kind of document, after an explicit confirmation."""

    kind = RadioField(_l("Kind of document"), choices=options(KIND_CHOICES), default=DEFAULT_KIND,
                      validators=[DataRequired(_l("Choose the kind of document."))])
    legal_name = StringField(
        _l("Legal name of the processor"),
        description=_l("Your organisation's exact registered name: it is the public title of the "
                       "agreement, its pages and feeds."),
        # Left empty (or not sent), the draft's answer stays: it passed the checks already.
        validators=[Optional(), Length(max=200)],
        render_kw={"autocomplete": "organization", "maxlength": 200})
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
        NumberRange(min=1, max=365, message=_l(
            "The objection period must be a whole number of days between 1 and 365."))])
