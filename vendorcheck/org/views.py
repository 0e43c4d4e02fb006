"""Organisation administration views."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from vendorcheck import audit
from vendorcheck.access import (
    active_org,
    get_owned_or_404,
    is_dev_environment,
    memberships_of,
    requires,
)
from vendorcheck.errors import render_error
from vendorcheck.extensions import db
from vendorcheck.forms import options, page_arg
from vendorcheck.models import Invitation, InvitationKind, Membership, OutboxMessage, Role
from vendorcheck.org.blueprint import bp
from vendorcheck.org.forms import (
    AuditFilterForm,
    ConfirmForm,
    InviteColleagueForm,
    RoleForm,
    SwitchOrgForm,
)
from vendorcheck.services import invitations, organisations
from vendorcheck.services.errors import DomainError


def _role_choices() -> list[SelectChoice]:
    """Return the role choices of the active organisation, labelled."""
    labels = {Role.ADMIN: _("Administrator"), Role.ASSESSOR: _("Assessor"),
              Role.LEGAL: _("Legal (read and download)"), Role.CONTRIBUTOR: _("Contributor")}
    return options((r.value, labels[r]) for r in organisations.allowed_roles(active_org()))


@bp.get("/members")
@requires("members.view")
def members() -> str:
    """List the organisation's members and pending colleague invitations."""
    org = active_org()
    role_form = RoleForm()
    role_form.role.choices = _role_choices()
    return render_template("org/members.html", org=org, members=organisations.list_members(org),
                           invitations=organisations.pending_colleague_invitations(org),
                           role_form=role_form, invite_form=_invite_form())


def _invite_form() -> InviteColleagueForm:
    """Build the colleague invitation form for the active organisation."""
    form = InviteColleagueForm()
    form.role.choices = _role_choices()
    return form


@bp.route("/members/invite", methods=["GET", "POST"])
@requires("members.manage")
def invite() -> Any:
    """Invite a colleague by e-mail with a role."""
    form = _invite_form()
    if form.validate_on_submit():
        try:
            organisations.invite_colleague(active_org(), form.email.data, form.name.data or "",
                                           Role(form.role.data), by=current_user)
        except DomainError as exc:
            form.email.errors.append(exc.message)
        else:
            flash(_("Invitation sent to %(email)s.", email=form.email.data), "success")
            return redirect(url_for("org.members"))
    status = 422 if request.method == "POST" else 200
    return render_template("org/invite.html", form=form), status


@bp.post("/members/<int:membership_id>/role")
@requires("members.manage")
def change_role(membership_id: int) -> Any:
    """Give a member another role (never demote the last administrator)."""
    membership = get_owned_or_404(Membership, membership_id)
    form = RoleForm()
    form.role.choices = _role_choices()
    if not form.validate_on_submit():
        return render_error(422, _("Choose one of the roles offered."))
    organisations.change_role(membership, Role(form.role.data), by=current_user)
    flash(_("Role updated."), "success")
    return redirect(url_for("org.members"))


@bp.route("/members/<int:membership_id>/remove", methods=["GET", "POST"])
@requires("members.manage")
def remove_member(membership_id: int) -> Any:
    """Confirm, then remove a member (never the last administrator)."""
    membership = get_owned_or_404(Membership, membership_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        organisations.remove_member(membership, by=current_user)
        flash(_("Member removed."), "success")
        return redirect(url_for("org.members"))
    return render_template("org/remove_member.html", membership=membership, form=form)


@bp.route("/invitations/<int:invitation_id>/revoke", methods=["GET", "POST"])
@requires("members.manage")
def revoke_invitation(invitation_id: int) -> Any:
    """Confirm, then withdraw a colleague invitation."""
    invitation = get_owned_or_404(Invitation, invitation_id)
    if invitation.kind is not InvitationKind.COLLEAGUE:
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        invitations.revoke_invitation(invitation, by=current_user)
        flash(_("Invitation withdrawn."), "success")
        return redirect(url_for("org.members"))
    return render_template("org/revoke_invitation.html", invitation=invitation, form=form)


@bp.post("/invitations/<int:invitation_id>/resend")
@requires("members.manage")
def resend_invitation(invitation_id: int) -> Any:
    """Send a colleague invitation again with a new link."""
    invitation = get_owned_or_404(Invitation, invitation_id)
    if invitation.kind is not InvitationKind.COLLEAGUE or not ConfirmForm().validate_on_submit():
        abort(404)
    invitations.resend_invitation(invitation, by=current_user)
    flash(_("Invitation sent again; the previous link no longer works."), "success")
    return redirect(url_for("org.members"))


@bp.get("/audit")
@requires("audit.view")
def audit_log() -> str:
    """Show the organisation's audit log, filtered and paginated."""
    org = active_org()
    form = AuditFilterForm(request.args, meta={"csrf": False})
    form.action.choices = options([("", _("All actions"))]
                                  + [(a, a) for a in audit.org_actions(org.id)])
    flt = audit.AuditFilter()
    if form.validate():
        flt = audit.AuditFilter(action=form.action.data or None, user_email=form.user.data or None,
                                since=_day_start(form.since.data),
                                until=_day_start(form.until.data, plus_days=1))
    page = db.paginate(audit.org_entries_query(org.id, flt), page=page_arg(), per_page=50,
                       error_out=False)
    return render_template("org/audit.html", form=form, page=page, args=request.args.to_dict())


def _day_start(day: Any, plus_days: int = 0) -> datetime | None:
    """Return the UTC start of a day given in a filter (None stays None)."""
    if day is None:
        return None
    return datetime.combine(day, time.min, tzinfo=UTC) + timedelta(days=plus_days)


@bp.get("/outbox")
@requires("outbox.view")
def outbox() -> str:
    """Development only: read the e-mails the organisation sent (the demo works offline)."""
    if not is_dev_environment():
        abort(404)
    query = (select(OutboxMessage).where(OutboxMessage.organisation_id == active_org().id)
             .order_by(OutboxMessage.id.desc()))
    page = db.paginate(query, page=page_arg(), per_page=20, error_out=False)
    return render_template("org/outbox.html", page=page)


@bp.post("/switch")
@login_required
def switch() -> Response:
    """Act for another of the user's organisations."""
    form = SwitchOrgForm()
    ids = {m.organisation_id for m in memberships_of(current_user)}
    if not form.validate_on_submit() or form.org_id.data not in ids:
        abort(404)
    session["org_id"] = form.org_id.data
    return redirect(url_for("org.members"))
