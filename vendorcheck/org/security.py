"""The organisation's sign-in security (/org/security): "MFA required", and resetting a member's MFA."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from vendorcheck.access import active_org, get_owned_or_404, requires
from vendorcheck.models import Membership
from vendorcheck.org.blueprint import bp
from vendorcheck.org.forms import MfaRequiredForm, ResetMfaForm
from vendorcheck.services import mfa, organisations
from vendorcheck.services.errors import DomainError


@bp.route("/security", methods=["GET", "POST"])
@requires("members.manage")
def security() -> Any:
    """Show which members have a second factor, and require one from everyone (or not)."""
    org = active_org()
    form = MfaRequiredForm(obj=org)
    status = 200
    if form.validate_on_submit():
        try:
            mfa.set_required(org, bool(form.mfa_required.data), by=current_user)
        except DomainError as exc:
            form.mfa_required.errors = [*form.mfa_required.errors, exc.message]
            status = exc.status
        else:
            flash(_("The security settings were saved."), "success")
            return redirect(url_for("org.security"))
    elif request.method == "POST":
        status = 422
    members = [(m, mfa.has_mfa(m.user)) for m in organisations.list_members(org)]
    return render_template("org/security.html", form=form, org=org, members=members), status


@bp.route("/members/<int:membership_id>/reset-mfa", methods=["GET", "POST"])
@requires("members.manage")
def reset_member_mfa(membership_id: int) -> Any:
    """Confirm with a reason, then remove every second factor of a member (another tenant's: 404)."""
    membership = get_owned_or_404(Membership, membership_id)
    form = ResetMfaForm()
    if form.validate_on_submit():
        try:
            mfa.reset_member(membership, form.reason.data, by=current_user)
        except DomainError as exc:
            form.reason.errors = [*form.reason.errors, exc.message]
        else:
            flash(_("The second factors of %(name)s were removed; they were e-mailed.",
                    name=membership.user.name), "success")
            return redirect(url_for("org.security"))
    status = 422 if request.method == "POST" else 200
    return render_template("org/reset_mfa.html", form=form, membership=membership), status
