"""Account forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from vendorcheck.forms import (
    BaseForm,
    country_field,
    email_field,
    locale_field,
    name_field,
    new_password_field,
    timezone_field,
)


class LoginForm(BaseForm):
    email = email_field()
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField(_l("Keep me logged in on this device"))


class SignupForm(BaseForm):
    org_name = name_field(_l("Organisation name"))
    country = country_field()
    name = name_field(_l("Your name"))
    email = email_field(_l("Work e-mail address"))
    password = new_password_field(_l("Password"))
    locale = locale_field()


class ResetRequestForm(BaseForm):
    email = email_field()


class ResetForm(BaseForm):
    password = new_password_field()


class ChangePasswordForm(BaseForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=256)],
                            render_kw={"autocomplete": "current-password"})
    password = new_password_field()


class ProfileForm(BaseForm):
    name = name_field(_l("Your name"))
    locale = locale_field()
    timezone = timezone_field()


class AcceptForm(BaseForm):
    """Accepting as a logged-in user: only the CSRF token."""


class AcceptSignupForm(BaseForm):
    name = name_field(_l("Your name"))
    password = new_password_field(_l("Choose a password"))
    locale = locale_field()


class LogoutForm(BaseForm):
    """Logging out: only the CSRF token."""


class ConfirmForm(BaseForm):
    """Confirming an action on its own page (ending sessions): only the CSRF token."""


def _code_field(label: object, autocomplete: str = "one-time-code") -> StringField:
    """Return a short code field (authenticator or recovery code)."""
    return StringField(label, validators=[DataRequired(), Length(max=32)],
                       render_kw={"autocomplete": autocomplete, "inputmode": "numeric",
                                  "spellcheck": "false"})


class TotpCodeForm(BaseForm):
    """Second factor at login, or confirming an authenticator app: the current six-digit code."""

    code = _code_field(_l("Six-digit code from your authenticator app"))


class RecoveryCodeForm(BaseForm):
    """Second factor at login with one of the recovery codes."""

    recovery_code = StringField(_l("Recovery code"), validators=[DataRequired(), Length(max=32)],
                                render_kw={"autocomplete": "off", "spellcheck": "false"})


class RemoveTotpForm(BaseForm):
    """Removing the authenticator app: a current code or the password proves it is the owner."""

    proof = PasswordField(_l("A current code from your authenticator app, or your password"),
                          validators=[DataRequired(), Length(max=256)],
                          render_kw={"autocomplete": "current-password"})


class SsoStartForm(BaseForm):
    """The login page's e-mail-first single sign-on: the address's domain names the provider."""

    email = email_field(_l("Work e-mail address"), field_id="sso-email")  # the login form has "email"
