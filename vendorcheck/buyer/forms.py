"""Vendor record and contact invitation forms."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField, URLField
from wtforms.validators import URL, AnyOf, DataRequired, Length, Optional, ValidationError

from vendorcheck.forms import (
    BaseForm,
    ConfirmForm,  # noqa: F401 - shared confirmation form
    country_field,
    email_field,
    name_field,
    options,
)
from vendorcheck.models import Criticality

CATEGORY_LABELS = {
    "identification": _l("Identification (name, ID numbers)"),
    "contact": _l("Contact details"),
    "financial": _l("Financial and payment data"),
    "hr": _l("Employee / HR data"),
    "customer": _l("Customer records"),
    "usage": _l("Usage and connection logs"),
    "location": _l("Location data"),
    "health": _l("Health data (Art. 9)"),
    "special": _l("Other special categories (Art. 9)"),
    "children": _l("Children's data"),
    "criminal": _l("Criminal convictions (Art. 10)"),
}
CRITICALITY_LABELS = {
    Criticality.LOW: _l("Low"), Criticality.MEDIUM: _l("Medium"),
    Criticality.HIGH: _l("High"), Criticality.CRITICAL: _l("Critical"),
}


def http_only(form: Any, field: Any) -> None:
    """Accept only http(s) websites (no javascript: or file: links)."""
    if field.data and not field.data.lower().startswith(("https://", "http://")):
        raise ValidationError(_l("The website must start with https:// or http://."))


class VendorForm(BaseForm):
    legal_name = name_field(_l("Legal name"))
    country = country_field()
    website = URLField(_l("Website"), validators=[Optional(), Length(max=500), http_only,
                                                  URL(require_tld=False)])
    services = TextAreaField(_l("Services used"), validators=[Optional(), Length(max=5000)])
    data_categories = SelectMultipleField(
        _l("Personal data shared"), choices=options(CATEGORY_LABELS.items()))
    criticality = SelectField(_l("Criticality"), choices=options(
        (c.value, label) for c, label in CRITICALITY_LABELS.items()), default="medium")
    owner_id = SelectField(_l("Owner"), coerce=int, validators=[DataRequired()])


class InviteContactForm(BaseForm):
    name = name_field(_l("Contact name"))
    email = email_field(_l("Contact e-mail address"))


class ContactForm(BaseForm):
    name = name_field(_l("Contact name"))
    email = email_field(_l("Contact e-mail address"))
    # Not sent, it means "from the vendor's country" (the first choice), not an error.
    language = SelectField(_l("Language of their e-mails"), choices=options([
        ("", _l("From the vendor's country")), ("fr", "Français"), ("en", "English")]), default="",
        validate_choice=False, validators=[Optional(), AnyOf(["fr", "en"])],
        description=_l("Used when they have no account; an account's own language comes first."))
    role = StringField(_l("Role at the vendor"), validators=[Optional(), Length(max=200)],
                       description=_l("For example: data protection officer, security manager."))




class SearchForm(BaseForm):
    class Meta:
        csrf = False

    q = StringField(_l("Search vendors"), validators=[Optional(), Length(max=200)])
