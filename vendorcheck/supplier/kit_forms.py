"""Forms of the compliance kit pages (vendor side)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from vendorcheck.forms import BaseForm


class ControllerForm(BaseForm):
    """A controller of the processor register: identity, contacts, and what is done for it."""

    name = StringField(_l("Controller's legal name"), validators=[
        DataRequired(_l("Give the controller's name.")), Length(max=200)],
        render_kw={"autocomplete": "organization", "maxlength": 200})
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)],
                          render_kw={"maxlength": 300})
    contact_name = StringField(_l("Contact person (name and position)"),
                               validators=[Optional(), Length(max=200)],
                               render_kw={"maxlength": 200})
    contact_email = StringField(_l("Contact e-mail address"),
                                validators=[Optional(), Length(max=254)],
                                render_kw={"maxlength": 254, "type": "email"})
    dpo = StringField(_l("Controller's data protection officer, if any (name and contact)"),
                      validators=[Optional(), Length(max=300)], render_kw={"maxlength": 300})
    eu_representative = StringField(
        _l("Controller's representative in the Union, if any (Art. 27)"),
        validators=[Optional(), Length(max=300)], render_kw={"maxlength": 300})
    categories = TextAreaField(
        _l("Categories of processing carried out for this controller"),
        description=_l("Leave empty to use the description of your DPA answers (nature, "
                       "purpose, data subjects and data)."),
        validators=[Optional(), Length(max=4000)], render_kw={"maxlength": 4000, "rows": 4})


class ConfirmForm(BaseForm):
    """A confirmation: only the CSRF token."""


class CharterPublishForm(BaseForm):
    """Publish the charter, after an explicit confirmation."""

    confirm = BooleanField(
        _l("I confirm that this charter may be published: it will be public, and each "
           "publication stays available as a version."),
        validators=[DataRequired(_l("Tick the confirmation box to publish."))])
