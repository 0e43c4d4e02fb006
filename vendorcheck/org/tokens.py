"""API tokens of the active organisation: create (the secret is shown once), list, revoke (/org/tokens)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from vendorcheck.access import active_org, can, current_membership, deny, requires
from vendorcheck.forms import options
from vendorcheck.models import utcnow
from vendorcheck.models.api_tokens import TokenKind, TokenScope
from vendorcheck.org.blueprint import bp
from vendorcheck.org.forms import ConfirmForm, TokenForm
from vendorcheck.services import api_tokens
from vendorcheck.services.errors import DomainError

EXPIRY_DAYS = ("30", "90", "365", "never")


def _token_form() -> TokenForm:
    """Build the creation form; only an administrator is offered organisation tokens."""
    form = TokenForm()
    form.scope.choices = options([
        (TokenScope.READ.value, _("Read: list and download")),
        (TokenScope.WRITE.value, _("Write: also create and change, as your role allows")),
        (TokenScope.ADMIN.value, _("Admin: everything your role allows"))])
    kinds = [(TokenKind.PERSONAL.value, _("Personal: yours, stops when you leave"))]
    if can(current_membership(), "members.manage"):
        kinds.append((TokenKind.ORGANISATION.value,
                      _("Organisation: every administrator can see and revoke it")))
    form.kind.choices = options(kinds)
    form.expires.choices = options([("30", _("In 30 days")), ("90", _("In 90 days")),
                                    ("365", _("In a year")), ("never", _("Never"))])
    if not form.is_submitted():
        form.expires.data = "90"
    return form


@bp.route("/tokens", methods=["GET", "POST"])
@requires("tokens.use")
def tokens() -> Any:
    """List the tokens one may manage here and create a new one (its secret is shown once)."""
    org = active_org()
    form, secret, status = _token_form(), None, 200
    if form.validate_on_submit():
        days = None if form.expires.data == "never" else int(form.expires.data)
        try:
            issued = api_tokens.create_token(
                current_user, org, name=form.name.data, scope=TokenScope(form.scope.data),
                kind=TokenKind(form.kind.data), expires_in_days=days, by=current_user)
        except DomainError as exc:
            form.form_errors.append(exc.message)
            status = 422
        else:
            secret = issued.secret
            form = _token_form()
            form.name.data = ""
    elif form.is_submitted():
        status = 422
    return render_template("org/tokens.html", form=form, secret=secret, now=utcnow(),
                           tokens=api_tokens.visible_tokens(current_user, org)), status


@bp.route("/tokens/<int:token_id>/revoke", methods=["GET", "POST"])
@requires("tokens.use")
def revoke_token(token_id: int) -> Any:
    """Confirm, then revoke a token (another's or another organisation's answers 404)."""
    try:
        token = api_tokens.find_visible(token_id, current_user, active_org())
    except DomainError:
        deny(404, f"api_token:{token_id}")
    form = ConfirmForm()
    if form.validate_on_submit():
        api_tokens.revoke_token(token, by=current_user)
        flash(_("The token was revoked: it stops working at once."), "success")
        return redirect(url_for("org.tokens"))
    return render_template("org/revoke_token.html", form=form, token=token)
