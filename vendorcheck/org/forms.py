"""Organisation administration forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from vendorcheck.forms import (
    BaseForm,
    ConfirmForm,  # noqa: F401 - shared confirmation form
    email_field,
    name_field,
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


class TokenForm(BaseForm):
    name = name_field(_l("Token name"))
    scope = SelectField(_l("Scope"), validators=[DataRequired()])
    kind = SelectField(_l("Kind"), validators=[DataRequired()])
    expires = SelectField(_l("Expires"), validators=[DataRequired()])
