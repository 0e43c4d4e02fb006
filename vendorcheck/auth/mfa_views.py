"""Second-factor pages: the login's second step, the MFA settings, the authenticator app, recovery codes."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, user_loaded_from_cookie
from werkzeug.wrappers import Response

from vendorcheck.auth.forms import ConfirmForm, RecoveryCodeForm, RemoveTotpForm, TotpCodeForm
from vendorcheck.auth.login_steps import ENROL_REQUIRED, complete, mark_enrolment, pending
from vendorcheck.auth.views import bp, post_limit_per_ip
from vendorcheck.extensions import limiter
from vendorcheck.services import login_flow, mfa
from vendorcheck.services.errors import DomainError, InvalidCredentials

# What a member who must still set up a second factor may open (everything else sends them to enrol).
ENROLMENT_ENDPOINTS = frozenset({
    "static", "auth.logout", "auth.login", "auth.mfa_settings", "auth.totp_start", "auth.totp_enrol",
    "auth.recovery_codes", "auth.passkey_register_options", "auth.passkey_register",
    "public.healthz", "public.readyz",
})


def _second_factor_key() -> str:
    """Rate-limit key for the second step: the pending account (else the address)."""
    mark = session.get("mfa_pending")
    return f"mfa:{mark.get('uid')}" if isinstance(mark, dict) else f"ip:{request.remote_addr}"


def _restored_login(app: Any, user: Any) -> None:
    """A login restored from the remember cookie is a new login: check the enrolment again."""
    mark_enrolment(user)


user_loaded_from_cookie.connect(_restored_login)


@bp.before_app_request
def enforce_enrolment() -> Response | None:
    """Send a member whose organisation requires a second factor to set one up before anything else.

    Whether it is needed is decided once per login (login_steps.mark_enrolment), not on every request.
    """
    # is_authenticated loads the user first (as check_session does), so a login restored from the
    # remember cookie has been checked by _restored_login before the flag is read.
    if request.endpoint in ENROLMENT_ENDPOINTS or not current_user.is_authenticated:
        return None
    if not session.get(ENROL_REQUIRED):
        return None
    flash(_("Your organisation requires a second factor. Set up an authenticator app or a passkey "
            "to continue."), "info")
    return redirect(url_for("auth.mfa_settings"))


@bp.route("/mfa/verify", methods=["GET", "POST"])
@limiter.limit("10/minute", key_func=_second_factor_key, methods=["POST"])
@limiter.limit(post_limit_per_ip, methods=["POST"])
def mfa_verify() -> Any:
    """The login's second step: an authenticator code, a recovery code, or a passkey."""
    found = pending()
    if found is None:
        flash(_("Log in again: the sign-in waiting for a second factor has expired."), "info")
        return redirect(url_for("auth.login"))
    user, mark = found
    code_form = TotpCodeForm(prefix="totp")
    recovery_form = RecoveryCodeForm(prefix="recovery")
    use_recovery = request.form.get("kind") == "recovery"
    form = recovery_form if use_recovery else code_form
    if request.method == "POST" and form.validate_on_submit():
        code = recovery_form.recovery_code.data if use_recovery else code_form.code.data
        try:
            login_flow.second_factor(user, code, recovery=use_recovery)
        except InvalidCredentials as exc:
            form.form_errors.append(exc.message)
        else:
            if use_recovery:
                flash(_("You used a recovery code; %(n)s left. Create new ones from your profile when few "
                        "are left.", n=mfa.recovery_codes_left(user)), "info")
            return redirect(complete(user, remember=bool(mark.get("remember")), target=mark.get("next")))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/mfa_verify.html", code_form=code_form, recovery_form=recovery_form,
                           has_totp=mfa.has_totp(user), has_passkeys=bool(mfa.passkeys_of(user)),
                           use_recovery=use_recovery), status


@bp.get("/mfa")
@login_required
def mfa_settings() -> str:
    """Show the user's second factors: the authenticator app, passkeys, recovery codes."""
    return render_template("auth/mfa_settings.html", totp=mfa.totp_of(current_user),
                           passkeys=mfa.passkeys_of(current_user),
                           codes_left=mfa.recovery_codes_left(current_user),
                           required=mfa.mfa_required_for(current_user), form=ConfirmForm())


@bp.post("/mfa/totp/start")
@login_required
def totp_start() -> Response:
    """Begin setting up an authenticator app (a new secret, waiting for its first code)."""
    if not ConfirmForm().validate_on_submit():
        flash(_("Your form expired. Reload the page and try again."), "error")
        return redirect(url_for("auth.mfa_settings"))
    mfa.start_totp(by=current_user)
    return redirect(url_for("auth.totp_enrol"))


@bp.route("/mfa/totp", methods=["GET", "POST"])
@login_required
@limiter.limit(post_limit_per_ip, methods=["POST"])
def totp_enrol() -> Any:
    """Scan the QR code, then confirm with the first code; the recovery codes are shown once."""
    row = mfa.totp_of(current_user)
    if row is None or row.confirmed_at is not None:
        return redirect(url_for("auth.mfa_settings"))
    form = TotpCodeForm()
    if form.validate_on_submit():
        try:
            codes = mfa.confirm_totp(form.code.data, by=current_user)
        except DomainError as exc:
            form.code.errors.append(exc.message)
        else:
            mark_enrolment(current_user)
            flash(_("Your authenticator app is set up."), "success")
            return render_template("auth/recovery_codes.html", codes=codes)
    status = 422 if request.method == "POST" else 200
    return render_template("auth/totp_enrol.html", form=form,
                           enrolment=mfa.enrolment_view(row, current_user)), status


@bp.route("/mfa/totp/remove", methods=["GET", "POST"])
@login_required
@limiter.limit(post_limit_per_ip, methods=["POST"])
def totp_remove() -> Any:
    """Remove the authenticator app, proven by a current code or the password."""
    if mfa.totp_of(current_user) is None:
        return redirect(url_for("auth.mfa_settings"))
    form = RemoveTotpForm()
    if form.validate_on_submit():
        try:
            mfa.remove_totp(form.proof.data, by=current_user)
        except DomainError as exc:
            form.proof.errors.append(exc.message)
        else:
            flash(_("The authenticator app was removed."), "success")
            return redirect(url_for("auth.mfa_settings"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/totp_remove.html", form=form,
                           required=mfa.mfa_required_for(current_user)), status


@bp.route("/mfa/recovery-codes", methods=["GET", "POST"])
@login_required
def recovery_codes() -> Any:
    """Confirm, then replace the recovery codes with ten new ones (shown once)."""
    if not mfa.has_mfa(current_user):
        return redirect(url_for("auth.mfa_settings"))
    form = ConfirmForm()
    if form.validate_on_submit():
        return render_template("auth/recovery_codes.html",
                               codes=mfa.regenerate_recovery_codes(by=current_user))
    return render_template("auth/recovery_codes_confirm.html", form=form)
