"""Forms of the public pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired

from vendorcheck.forms import BaseForm


class VerifyForm(BaseForm):
    """Upload a signed report to check it."""

    file = FileField(_l("Signed PDF report"), validators=[FileRequired(_l("Choose a PDF file."))])
