"""Views: proposed sub-processor changes (vendor side) and their written authorisation (buyers).

Vendor pages act for the active vendor organisation; buyer pages for the active buyer
organisation. Another organisation's version, proposal or acceptance answers 404. Every page
first brings into force the changes whose effective date has come (the daily job may not have
run yet).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from vendorcheck.access import active_org, can, current_membership, deny, get_owned_or_404, requires
from vendorcheck.dpa import changes_forms as cf
from vendorcheck.extensions import db
from vendorcheck.models.dpa import DpaProfile, DpaVersion
from vendorcheck.models.dpa_changes import APPLIED, DpaChangeProposal
from vendorcheck.models.dpa_relations import DpaAcceptance
from vendorcheck.services import dpa as dpa_svc
from vendorcheck.services import dpa_changes as changes_svc
from vendorcheck.services import dpa_notify
from vendorcheck.services.dpa_acceptance import find_version
from vendorcheck.services.errors import DomainError

bp = Blueprint("dpa_changes", __name__)

MANAGE, PUBLISH, AUTHORISE = "dpa.manage", "dpa.publish", "dpa.authorise"


@bp.app_template_filter("utc")
def _utc(moment: datetime | None) -> str:
    """Show a moment in UTC with the zone named, in the page's language."""
    return dpa_notify.utc_text(moment) if moment is not None else ""


@bp.app_context_processor
def _change_helpers() -> dict[str, Any]:
    """Give templates (public DPA pages included) the proposals they show."""
    return {"dpa_proposals_by_version": changes_svc.proposals_by_version,
            "dpa_pending_change": changes_svc.pending_proposal,
            "dpa_changes_of": changes_svc.changes_of,
            "dpa_pending_for_buyer": changes_svc.pending_for_buyer,
            "dpa_in_force_version": changes_svc.in_force_version,
            "dpa_version_in_force": _version_in_force}


def _version_in_force(version: DpaVersion) -> bool:
    """Tell whether a version came into force (not a pending or withdrawn proposal)."""
    proposal = changes_svc.proposal_of_version(version.id)
    return proposal is None or proposal.status == APPLIED


def _profile_or_none() -> DpaProfile | None:
    """Return the active vendor organisation's DPA profile, with due changes applied."""
    profile = dpa_svc.profile_of(active_org())
    if profile is not None:
        changes_svc.apply_due(profile_id=profile.id)
    return profile


def _plan_or_reason(profile: DpaProfile | None) -> tuple[Any, str | None]:
    """Return the plan of the change the draft would propose, or why nothing can be proposed."""
    if profile is None:
        return None, str(changes_svc.NoVersionInForce.default)
    try:
        return changes_svc.plan(profile), None
    except dpa_svc.PublishBlocked as exc:
        return None, exc.message + " " + "; ".join(p.text for p in exc.check.problems)
    except DomainError as exc:
        return None, exc.message


def _proposals_page(profile: DpaProfile | None, form: cf.ProposeForm, status: int = 200) -> Any:
    plan, reason = _plan_or_reason(profile)
    return render_template(
        "dpa_changes/proposals.html", profile=profile, plan=plan, reason=reason, form=form,
        proposals=changes_svc.proposals_of(profile.id) if profile is not None else [],
        in_force=dpa_svc.latest_version(profile) if profile is not None else None,
        may_propose=can(current_membership(), PUBLISH)), status


# ------------------------------------------------------------------------------ vendor side

@bp.get("/vendor/dpa/changes")
@requires(MANAGE)
def proposals() -> Any:
    """Show the sub-processor change the draft would propose, and every proposal so far."""
    return _proposals_page(_profile_or_none(), cf.ProposeForm(formdata=None))


@bp.post("/vendor/dpa/versions/<int:version_id>/propose")
@requires(PUBLISH)
def propose(version_id: int) -> Any:
    """Announce the draft's sub-processor change against the version in force."""
    base = get_owned_or_404(DpaVersion, version_id, "vendor_org_id")
    profile = _profile_or_none()
    assert profile is not None  # the organisation owns a version, hence a profile
    form = cf.ProposeForm()
    if not form.validate_on_submit():
        return _proposals_page(profile, form, 422)
    try:
        proposal = changes_svc.propose(profile, base_version_id=base.id,
                                       effective_on=form.effective_date.data, by=current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _proposals_page(profile, form, exc.status)
    flash(_("The change is announced. Version %(number)s takes effect on %(date)s unless you "
            "withdraw it.", number=proposal.version.number,
            date=dpa_notify.utc_text(proposal.effective_at)), "success")
    return redirect(url_for("dpa_changes.proposal", proposal_id=proposal.id), 303)


def _proposal_page(proposal: DpaChangeProposal, status: int = 200,
                   form: cf.WithdrawForm | None = None) -> Any:
    return render_template(
        "dpa_changes/proposal.html", proposal=proposal, changes=changes_svc.changes_of(proposal),
        states=changes_svc.buyer_states(proposal),
        form=form or cf.WithdrawForm(formdata=None),
        may_withdraw=can(current_membership(), PUBLISH) and proposal.is_pending), status


@bp.get("/vendor/dpa/changes/<int:proposal_id>")
@requires(MANAGE)
def proposal(proposal_id: int) -> Any:
    """Show one proposed change and where each buyer stands on it."""
    item = get_owned_or_404(DpaChangeProposal, proposal_id, "vendor_org_id")
    changes_svc.apply_due(profile_id=item.profile_id)
    return _proposal_page(item)


@bp.post("/vendor/dpa/changes/<int:proposal_id>/withdraw")
@requires(PUBLISH)
def withdraw(proposal_id: int) -> Any:
    """Withdraw an announced change before its effective date."""
    item = get_owned_or_404(DpaChangeProposal, proposal_id, "vendor_org_id")
    form = cf.WithdrawForm()
    if not form.validate_on_submit():
        return _proposal_page(item, 422, form)
    try:
        changes_svc.withdraw(item, by=current_user, reason=form.reason.data or "")
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _proposal_page(item, exc.status, form)
    flash(_("The proposed change is withdrawn; subscribers and customers are told."), "success")
    return redirect(url_for("dpa_changes.proposal", proposal_id=item.id), 303)


# ------------------------------------------------------------------------------ buyer side

@bp.route("/buyer/dpa/acceptances/<int:acceptance_id>/authorisations/v<int:number>",
          methods=["GET", "POST"])
@requires(AUTHORISE)
def authorise(acceptance_id: int, number: int) -> Any:
    """Authorise or refuse in writing a proposed change (specific authorisation)."""
    acceptance = get_owned_or_404(DpaAcceptance, acceptance_id, "buyer_org_id")
    try:
        version = find_version(acceptance.version.profile.slug, number)
    except DomainError:
        deny(404, f"dpa_version:{acceptance.version.profile.slug}:{number}")
    changes_svc.apply_due(profile_id=version.profile_id)
    proposal = changes_svc.proposal_of_version(version.id)
    if proposal is None:
        deny(404, f"dpa_change_proposal:version:{version.id}")
    form = cf.DecisionForm()
    page: dict[str, Any] = {
        "form": form, "acceptance": acceptance, "proposal": proposal,
        "changes": changes_svc.changes_of(proposal), "refusal": None,
        "consent": changes_svc.consent_of(proposal.id, acceptance.buyer_org_id),
        "in_force": changes_svc.in_force_version(acceptance.buyer_org_id, proposal.profile_id)}
    try:
        changes_svc.check_can_decide(acceptance, proposal)
    except DomainError as exc:
        page["refusal"] = exc.message  # the page still shows the change and the decision so far
        return render_template("dpa_changes/authorise.html", **page), (
            exc.status if request.method == "POST" else 200)
    if not form.validate_on_submit():
        return render_template("dpa_changes/authorise.html", **page), (
            422 if request.method == "POST" else 200)
    try:
        consent = changes_svc.decide(acceptance, proposal, form.decision.data or "",
                                     by=current_user, reason=form.reason.data or "")
    except DomainError as exc:
        db.session.rollback()
        page["refusal"] = exc.message
        return render_template("dpa_changes/authorise.html", **page), exc.status
    flash(_("Your decision is recorded: %(decision)s.", decision=decision_labels()[
        consent.decision]), "success")
    return redirect(url_for("dpa_changes.authorise", acceptance_id=acceptance.id,
                            number=number), 303)


def decision_labels() -> dict[str, str]:
    """Return the words for a recorded decision."""
    return {"authorised": _("authorised"), "refused": _("refused")}
