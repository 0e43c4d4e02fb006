"""Forms of the reports blueprint."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import PasswordField, SelectField
from wtforms.validators import Length

from vendorcheck.forms import (
    BaseForm,
    ConfirmForm,  # noqa: F401 - shared confirmation form
    options,
)


class VerifyForm(BaseForm):
    """Upload a signed report to check it."""

    file = FileField(_l("Signed PDF report"), validators=[FileRequired(_l("Choose a PDF file."))])


class CertificateForm(BaseForm):
    """Upload an organisation's PKCS#12 signing certificate."""

    file = FileField(_l("PKCS#12 file (.p12 or .pfx)"),
                     validators=[FileRequired(_l("Choose a PKCS#12 file."))])
    passphrase = PasswordField(_l("Passphrase"), validators=[Length(max=256)],
                               render_kw={"autocomplete": "off"})


class PackForm(BaseForm):
    """Ask for an evidence pack in one language."""

    locale = SelectField(_l("Language of the pack"),
                         choices=options([("en", "English"), ("fr", "Français")]), default="en")
