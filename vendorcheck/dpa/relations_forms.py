"""Forms for DPA subscriptions, acceptance, objections, attaching a DPA and prefilling answers."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from vendorcheck.forms import BaseForm, ConfirmForm, email_field, name_field, options

MAX_TEXT = 10_000

__all__ = ["AcceptForm", "AttachForm", "ConfirmForm", "ObjectionForm", "PrefillForm",
           "ResponseForm", "SubscribeForm"]


class SubscribeForm(BaseForm):
    """Anyone: an e-mail address for sub-processor change notices, and their language."""

    email = email_field()
    language = SelectField(_l("Language of the notices"),
                           choices=options([("en", "English"), ("fr", "Français")]))


class AcceptForm(BaseForm):
    """Click-to-accept a DPA version on behalf of the buyer organisation."""

    signer_name = name_field(_l("Your full name"))
    signer_role = StringField(_l("Your role or title"), validators=[DataRequired(), Length(max=200)])
    authorised = BooleanField(_l("I am authorised to accept this data processing agreement on "
                                 "behalf of my organisation."),
                              validators=[InputRequired(_l("Tick this box to accept."))])
    # Annex I (list of parties): the controller's identity completes each accepted copy.
    controller_name = StringField(_l("Legal name of your organisation (the controller)"),
                                  validators=[DataRequired(), Length(max=200)])
    controller_address = StringField(_l("Its address"), validators=[DataRequired(), Length(max=300)])
    contact_name = StringField(_l("Contact person for this agreement (name and position)"),
                               validators=[DataRequired(), Length(max=200)])
    contact_email = email_field(_l("Contact person's e-mail address"))
    controller_dpo = StringField(_l("Data protection officer (name and e-mail), if any"),
                                 validators=[Length(max=300)])
    # The fingerprint of the version the signer read: accepting anything else is refused.
    version_sha256 = HiddenField(validators=[DataRequired(), Length(min=64, max=64)])


class ObjectionForm(BaseForm):
    """A buyer's objection to a sub-processor change, with its reasons."""

    reasons = TextAreaField(_l("Reasons for the objection"), validators=[
        DataRequired(_l("Give the reasons for your objection.")), Length(max=MAX_TEXT)],
        description=_l("For example: the new sub-processor's country, its security record, or "
                       "a conflict with your own obligations."))


class ResponseForm(BaseForm):
    """The vendor's response to an objection and its outcome."""

    response = TextAreaField(_l("Your response"), validators=[
        DataRequired(_l("Write your response to the buyer.")), Length(max=MAX_TEXT)])
    outcome = SelectField(_l("Outcome"), validators=[DataRequired()])


class AttachForm(BaseForm):
    """Attach one published version of the vendor's DPA to an assessment."""

    version_id = SelectField(_l("DPA version"), coerce=int, validators=[InputRequired()])


class PrefillForm(BaseForm):
    """The vendor confirms filling answers from its published DPA."""

    overwrite = BooleanField(_l("Also replace answers I have already given"))
