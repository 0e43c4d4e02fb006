"""Forms of the buyer's report pages: evidence packs."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField

from vendorcheck.forms import (
    BaseForm,
    ConfirmForm,  # noqa: F401 - shared confirmation form
    options,
)


class PackForm(BaseForm):
    """Ask for an evidence pack in one language."""

    locale = SelectField(_l("Language of the pack"),
                         choices=options([("en", "English"), ("fr", "Français")]), default="en")
