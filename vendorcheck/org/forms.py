"""Organisation administration forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from vendorcheck.forms import (
    BaseForm,
    ConfirmForm,  # noqa: F401 - shared confirmation form
    email_field,
    name_field,
    options,
)


class InviteColleagueForm(BaseForm):
    name = name_field(_l("Name"), required=False)
    email = email_field()
    role = SelectField(_l("Role"), validators=[DataRequired()])


class RoleForm(BaseForm):
    role = SelectField(_l("Role"), validators=[DataRequired()])




class SwitchOrgForm(BaseForm):
    org_id = IntegerField(_l("Organisation"), validators=[DataRequired()])


class AuditFilterForm(BaseForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    action = SelectField(_l("Action"), validators=[Optional()])
    user = StringField(_l("User e-mail"), validators=[Optional(), Length(max=254)])
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("To (inclusive)"), validators=[Optional()])


class CertificateForm(BaseForm):
    """Upload an organisation's PKCS#12 signing certificate."""

    file = FileField(_l("PKCS#12 file (.p12 or .pfx)"),
                     validators=[FileRequired(_l("Choose a PKCS#12 file."))])
    passphrase = PasswordField(_l("Passphrase"), validators=[Length(max=256)],
                               render_kw={"autocomplete": "off"})


class WebhookEndpointForm(BaseForm):
    """Register or change a webhook endpoint (the URL is checked by services/webhook_targets.py)."""

    url = StringField(_l("Endpoint URL"), validators=[DataRequired(), Length(max=2000)],
                      render_kw={"inputmode": "url", "autocomplete": "off",
                                 "placeholder": "https://"},
                      description=_l("An https:// address of your system that accepts POST requests. "
                                     "Private and local addresses are refused."))
    description = StringField(_l("Description (optional)"), validators=[Optional(), Length(max=300)])
    events = SelectMultipleField(_l("Events to send"), validators=[
        DataRequired(_l("Choose at least one event."))])
    enabled = BooleanField(_l("Enabled (deliveries are sent)"), default=True)


class SecretForm(BaseForm):
    """Reveal or rotate an endpoint's signing secret."""

    action = SelectField(_l("Action"), validators=[DataRequired()],
                         choices=options([("reveal", _l("Reveal")), ("rotate", _l("Rotate"))]))


class DeliveryFilterForm(BaseForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    status = SelectField(_l("Status"), validators=[Optional()])


class MfaRequiredForm(BaseForm):
    """The organisation's security setting: every member needs a second factor."""

    mfa_required = BooleanField(
        _l("Require a second factor (authenticator app or passkey) from every member"))


class ResetMfaForm(BaseForm):
    """An administrator removes a member's second factors; the reason goes to the audit log and the member."""

    reason = TextAreaField(_l("Reason (sent to the member and kept in the audit log)"),
                           validators=[DataRequired(), Length(max=500)])


class SsoForm(BaseForm):
    """The organisation's single sign-on: its identity provider and who signs in how."""

    protocol = SelectField(_l("Protocol"))
    enabled = BooleanField(_l("Single sign-on is on"))
    allowed_domains = TextAreaField(
        _l("E-mail domains"), validators=[Length(max=2000)],
        description=_l("One per line or separated by commas, e.g. example.com. Addresses of these "
                       "domains sign in with your identity provider."))
    issuer = StringField(_l("Issuer URL"), validators=[Optional(), Length(max=500)],
                         description=_l("OpenID Connect: the provider's issuer, e.g. "
                                        "https://login.example.com/realms/staff."))
    client_id = StringField(_l("Client id"), validators=[Optional(), Length(max=300)])
    client_secret = PasswordField(
        _l("Client secret"), validators=[Optional(), Length(max=1000)],
        render_kw={"autocomplete": "off"},
        description=_l("Stored encrypted. Leave empty to keep the current secret."))
    idp_metadata = FileField(_l("Identity provider metadata (XML file)"))
    idp_metadata_url = StringField(_l("Identity provider metadata URL"),
                                   validators=[Optional(), Length(max=500)])
    role_claim = StringField(
        _l("Role claim or attribute"), validators=[Optional(), Length(max=200)],
        description=_l("The claim (OpenID Connect) or attribute (SAML) that holds groups or roles, "
                       "e.g. groups."))
    role_map = TextAreaField(
        _l("Role mapping"), validators=[Length(max=4000)],
        description=_l("One line per value: value = role (admin, assessor, legal or contributor)."))
    default_role = SelectField(_l("Role of a new member when no value maps"))
    jit_provisioning = BooleanField(_l("Create the account at first sign-in (just-in-time provisioning)"))
    sso_required = BooleanField(_l("Single sign-on required: members cannot log in with a password"))
    break_glass = SelectField(_l("Break-glass administrator (may still use a password)"), coerce=int)


class TokenForm(BaseForm):
    name = name_field(_l("Token name"))
    scope = SelectField(_l("Scope"), validators=[DataRequired()])
    kind = SelectField(_l("Kind"), validators=[DataRequired()])
    expires = SelectField(_l("Expires"), validators=[DataRequired()])
