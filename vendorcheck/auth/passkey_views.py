"""Passkey endpoints: register and remove from the profile, second factor, and password-less sign-in.

The browser side is static/js/passkeys.js: it asks for options (POST, CSRF header), calls
navigator.credentials, and posts the answer as JSON. The challenge waits in the signed session under one
purpose and is used once; every refusal is a JSON 4xx with a message the page shows.
"""

from __future__ import annotations

from typing import Any

from flask import flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from vendorcheck.access import deny
from vendorcheck.auth.forms import ConfirmForm
from vendorcheck.auth.login_steps import complete, mark_enrolment, pending
from vendorcheck.auth.views import bp, post_limit_per_ip
from vendorcheck.extensions import limiter
from vendorcheck.services import login_flow, passkeys
from vendorcheck.services.errors import DomainError

CHALLENGE = "passkey_challenge"


def _options(purpose: str, options_and_challenge: tuple[str, str]) -> Response:
    """Keep the challenge for one purpose and answer the options as JSON."""
    options, challenge = options_and_challenge
    session[CHALLENGE] = {"purpose": purpose, "challenge": challenge}
    return Response(options, mimetype="application/json")


def _take_challenge(purpose: str) -> str | None:
    """Return (and forget) the challenge kept for this purpose; None when none is waiting."""
    kept = session.pop(CHALLENGE, None)
    if not isinstance(kept, dict) or kept.get("purpose") != purpose:
        return None
    challenge = kept.get("challenge")
    return challenge if isinstance(challenge, str) else None


def _refused(exc: DomainError) -> tuple[Response, int]:
    """Answer a refusal as JSON with its message."""
    return jsonify({"error": exc.message}), exc.status


def _body() -> dict[str, Any]:
    """Return the JSON object posted (empty when it is not one)."""
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _credential_text() -> str:
    """Return the posted credential as the JSON text the service parses."""
    credential = _body().get("credential")
    return credential if isinstance(credential, str) else ""


@bp.post("/passkeys/options")
@login_required
def passkey_register_options() -> Response:
    """Options to create a passkey for the logged-in user."""
    return _options("register", passkeys.registration_options(current_user))


@bp.post("/passkeys")
@login_required
@limiter.limit(post_limit_per_ip)
def passkey_register() -> Any:
    """Store a new passkey from the browser's answer, under the name the user gave."""
    name = _body().get("name")
    try:
        passkeys.register(_credential_text(), _take_challenge("register"),
                          name if isinstance(name, str) else "", by=current_user)
    except DomainError as exc:
        return _refused(exc)
    mark_enrolment(current_user)
    flash(_("Your passkey was added."), "success")
    return jsonify({"redirect": url_for("auth.mfa_settings")})


@bp.route("/passkeys/<int:passkey_id>/remove", methods=["GET", "POST"])
@login_required
def passkey_remove(passkey_id: int) -> Any:
    """Confirm, then remove one of one's own passkeys (anyone else's answers 404)."""
    try:
        row = passkeys.own_passkey(passkey_id, by=current_user)
    except DomainError:
        deny(404, f"mfa_passkey:{passkey_id}")
    form = ConfirmForm()
    if form.validate_on_submit():
        passkeys.remove(row, by=current_user)
        flash(_("The passkey was removed."), "success")
        return redirect(url_for("auth.mfa_settings"))
    return render_template("auth/passkey_remove.html", form=form, row=row)


@bp.post("/mfa/verify/passkey/options")
@limiter.limit(post_limit_per_ip)
def passkey_second_factor_options() -> Any:
    """Options to use one of the pending user's passkeys as the second factor."""
    found = pending()
    if found is None:
        return jsonify({"error": _("Log in again: the sign-in has expired.")}), 409
    return _options("second_factor", passkeys.authentication_options(found[0]))


@bp.post("/mfa/verify/passkey")
@limiter.limit(post_limit_per_ip)
def passkey_second_factor() -> Any:
    """Finish a login with a passkey of the user who gave the password."""
    found = pending()
    if found is None:
        return jsonify({"error": _("Log in again: the sign-in has expired.")}), 409
    user, mark = found
    try:
        passkeys.verify(_credential_text(), _take_challenge("second_factor"), user)
    except DomainError as exc:
        login_flow.second_factor_failed(user, "passkey_refused")
        return _refused(exc)
    login_flow.finish(user, "password+passkey")
    return jsonify({"redirect": complete(user, remember=bool(mark.get("remember")),
                                         target=mark.get("next"))})


@bp.post("/passkey/options")
@limiter.limit(post_limit_per_ip)
def passkey_login_options() -> Response:
    """Options for a password-less sign-in: the browser offers the passkeys it holds for this site."""
    return _options("login", passkeys.authentication_options(None))


@bp.post("/passkey/login")
@limiter.limit(post_limit_per_ip)
def passkey_login() -> Any:
    """Sign in with a passkey alone (it verified the user: PIN or biometrics)."""
    try:
        user, _row = passkeys.verify(_credential_text(), _take_challenge("login"), None)
    except DomainError as exc:
        login_flow.passkey_login_failed()
        return _refused(exc)
    login_flow.finish(user, "passkey")
    return jsonify({"redirect": complete(user, remember=False, target=request.args.get("next"))})
