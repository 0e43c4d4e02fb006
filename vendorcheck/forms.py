"""Form base class, shared fields and query-string helpers."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from vendorcheck.errors import abort_with
from vendorcheck.i18n import listed_timezones
from vendorcheck.security import has_control_chars

MIN_PASSWORD = 10


def no_control_chars(form: Any, field: Any) -> None:
    """Refuse NUL and other control characters (PostgreSQL rejects NUL; nobody types them)."""
    value = field.data or ""
    if isinstance(value, str) and has_control_chars(value):
        raise ValidationError(_l("This field contains invalid characters."))


class BaseForm(FlaskForm):
    """Every form: CSRF from Flask-WTF, and surrounding spaces trimmed from text fields."""

    class Meta:
        def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Any:
            filters = list(unbound_field.kwargs.get("filters", []))
            if unbound_field.field_class in (StringField, EmailField):
                filters.append(lambda value: value.strip() if isinstance(value, str) else value)
            validators = list(unbound_field.kwargs.get("validators") or [])
            if unbound_field.field_class is not PasswordField:
                validators.append(no_control_chars)
            return unbound_field.bind(form=form, filters=filters, validators=validators, **options)


class ConfirmForm(BaseForm):
    """A destructive or decisive action confirmed on its own page: only the CSRF token."""


def options(pairs: Any) -> list[SelectChoice]:
    """Turn (value, label) pairs into WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


def email_field(label: Any = None, *, field_id: str | None = None) -> EmailField:
    """Return a required e-mail field (`field_id` when another form on the page also has one)."""
    return EmailField(label or _l("E-mail address"), validators=[
        DataRequired(), Length(max=254), Email(check_deliverability=False)],
        render_kw={"autocomplete": "email"}, id=field_id)


def new_password_field(label: Any = None) -> PasswordField:
    """Return a new-password field of at least 10 characters."""
    return PasswordField(label or _l("New password"), validators=[
        DataRequired(), Length(min=MIN_PASSWORD, max=256, message=_l(
            "The password must be at least %(min)d characters long.", min=MIN_PASSWORD))],
        render_kw={"autocomplete": "new-password", "minlength": MIN_PASSWORD},
        description=_l("At least %(min)d characters. A sentence you can remember works well.",
                       min=MIN_PASSWORD))


def name_field(label: Any = None, required: bool = True) -> StringField:
    """Return a person's or company's name field."""
    validators = [DataRequired() if required else Optional(), Length(max=200)]
    return StringField(label or _l("Name"), validators=validators)


def locale_field() -> SelectField:
    """Return the preferred-language selector."""
    return SelectField(_l("Preferred language"), choices=options([("fr", "Français"), ("en", "English")]))


def timezone_field() -> SelectField:
    """Return the time-zone selector: "Automatic" (the browser's zone), then every IANA region zone."""
    zones = [("", _l("Automatic (from my browser)"))]
    zones += [(zone, zone.replace("_", " ")) for zone in listed_timezones()]
    return SelectField(
        _l("Time zone"), choices=options(zones), default="",
        description=_l("Times are shown in this zone, with its name. Automatic uses the zone of the "
                       "browser you are using."),
        render_kw={"data-searchable": "zones",
                   "data-search-label": _l("Search time zones (a city or region)"),
                   "data-search-count": _l("{n} matching time zones"),
                   "data-search-count-one": _l("{n} matching time zone")})


def country_field(label: Any = None) -> StringField:
    """Return an ISO 3166 two-letter country code field."""
    return StringField(label or _l("Country (ISO code, e.g. FR)"), validators=[
        Optional(), Length(min=2, max=2, message=_l("Use the two-letter country code, e.g. FR."))],
        filters=[lambda v: v.strip().upper() if isinstance(v, str) else v])


def page_arg(max_page: int = 1_000_000) -> int:
    """Return ?page= as a positive int, or answer 400 with a clear message."""
    raw = request.args.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= max_page:
        abort_with(400, str(_l("The page number must be a whole number of at least 1.")))
    return int(raw)


def form_page(template: str, status_on_post: int = 422, **context: Any) -> tuple[str, int]:
    """Render a form page: the refusal status after a POST, 200 otherwise."""
    status = status_on_post if request.method == "POST" else 200
    return render_template(template, **context), status
