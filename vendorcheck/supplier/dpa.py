"""The supplier's DPA pages (/vendor/dpa): the draft, checks and publishing, proposed sub-processor
changes, buyers' objections, and prefilling an assessment from the published DPA.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from vendorcheck import mail
from vendorcheck.access import active_org, can, current_membership, deny, get_owned_or_404, requires
from vendorcheck.agreement.assemble import (
    DEFAULT_KIND,
    KINDS,
    LOCALES,
    document_context,
)
from vendorcheck.dpa import changes_forms as cf
from vendorcheck.dpa import relations_forms as rf
from vendorcheck.dpa.forms import PublishForm, SettingsForm, StartDraftForm
from vendorcheck.errors import abort_with, render_error
from vendorcheck.extensions import db
from vendorcheck.forms import form_page
from vendorcheck.i18n import current_locale
from vendorcheck.models.assessments import Assessment, AssessmentStatus
from vendorcheck.models.dpa import DpaProfile, DpaVersion
from vendorcheck.models.dpa_changes import DpaChangeProposal
from vendorcheck.models.dpa_relations import OBJECTION_OUTCOMES, DpaObjection
from vendorcheck.services import dpa as dpa_svc
from vendorcheck.services import dpa as svc
from vendorcheck.services import dpa_acceptance as acceptance_svc
from vendorcheck.services import dpa_changes, dpa_notify, dpa_prefill, dpa_proposals
from vendorcheck.services import dpa_changes as changes_svc
from vendorcheck.services.errors import DomainError
from vendorcheck.supplier.blueprint import bp

MANAGE = "dpa.manage"
PUBLISH = "dpa.publish"


@bp.get("/dpa", endpoint="dpa_manage")
@requires(MANAGE)
def dpa_manage() -> str:
    """Show the draft's progress and checks, the publish form, versions and settings."""
    org = active_org()
    profile = svc.profile_of(org)
    if profile is not None:
        dpa_changes.apply_due(profile_id=profile.id)
    draft = svc.current_draft(profile) if profile is not None else None
    check = None
    if profile is not None and draft is not None:
        try:
            check = svc.check_profile(profile)
        except DomainError as exc:  # the draft's questionnaire version is gone from the catalogue
            flash(exc.message, "error")
            draft = None
    settings = SettingsForm(data={"slug": profile.slug, "objection_days": profile.objection_days}) \
        if profile is not None else None
    return render_template(
        "supplier/dpa/manage.html", profile=profile, draft=draft, check=check,
        versions=svc.versions_of(profile) if profile is not None else [],
        publish_form=PublishForm(data={"legal_name": svc.draft_legal_name(profile)})
        if profile is not None else PublishForm(), settings_form=settings, start_form=StartDraftForm(),
        questionnaire=svc.draft_questionnaire(draft) if check is not None and draft else None)


@bp.route("/dpa/draft", methods=["GET", "POST"], endpoint="dpa_draft")
@requires(MANAGE)
def dpa_draft() -> Any:
    """Continue the draft in the answering pages; POST starts it."""
    org = active_org()
    profile = svc.profile_of(org)
    existing = svc.draft_of(profile) if profile is not None else None
    if request.method == "GET" and existing is None:
        return redirect(url_for("supplier.dpa_manage"))
    if request.method == "POST" and not StartDraftForm().validate_on_submit():
        abort_with(400, _("The form expired; reload the page and try again."))
    try:
        started = svc.start_draft(org, by=current_user)
    except DomainError as exc:
        abort_with(exc.status, exc.message)
    return redirect(url_for("supplier.assessment", assessment_id=started.id))


def _draft_profile() -> tuple[DpaProfile, Assessment] | None:
    """Return my organisation's DPA profile and its draft, or None when there is no draft yet."""
    profile = svc.profile_of(active_org())
    draft_assessment = svc.draft_of(profile) if profile is not None else None
    return (profile, draft_assessment) if profile is not None and draft_assessment is not None else None


def _requested_kind() -> str:
    """Return the kind of document asked for (`?kind=`, default the standard one); 400 if unknown."""
    kind = request.args.get("kind") or DEFAULT_KIND
    if kind not in KINDS:
        abort_with(400, _("Unknown kind of document."))
    return kind


@bp.get("/dpa/preview", endpoint="dpa_preview")
@requires(MANAGE)
def dpa_preview() -> Any:
    """Show the document of one kind (`?kind=`) the draft would publish now (vendor only)."""
    found = _draft_profile()
    if found is None:
        return redirect(url_for("supplier.dpa_manage"))
    profile, draft_assessment = found
    kind = _requested_kind()
    content = svc.draft_content(profile, kind)  # a refusal is answered by the app-wide handler
    doc = document_context(content, locale=current_locale(), q=svc.draft_questionnaire(draft_assessment))
    return render_template("supplier/dpa/preview.html", profile=profile, doc=doc, kind=kind, kinds=KINDS)


@bp.get("/dpa/preview/public", endpoint="dpa_public_preview")
@requires(MANAGE)
def dpa_public_preview() -> Any:
    """Show the exact public page the draft would publish now (`?kind=`), marked as a preview."""
    found = _draft_profile()
    if found is None:
        return redirect(url_for("supplier.dpa_manage"))
    profile, _draft = found
    kind = _requested_kind()
    page = svc.draft_public_page(profile, kind)  # a refusal is answered by the app-wide handler
    return render_template("dpa/version.html", profile=profile, preview=True, kind=kind,
                           kinds=KINDS, doc=document_context(page.version.content,
                                                             locale=current_locale(), q=page.q),
                           version=page.version, latest=page.version, versions=[])


@bp.get("/dpa/preview.pdf", endpoint="dpa_preview_pdf")
@requires(MANAGE)
def dpa_preview_pdf() -> Any:
    """Download the PDF the draft would publish now (`?kind=`, `?locale=`), marked as a preview."""
    found = _draft_profile()
    if found is None:
        return redirect(url_for("supplier.dpa_manage"))
    profile, _draft = found
    kind = _requested_kind()
    locale = request.args.get("locale") or current_locale()
    if locale not in LOCALES:
        abort_with(400, _("Unknown language: choose fr or en."))
    data = svc.draft_preview_pdf(profile, kind, locale)  # a refusal is answered by the app-wide handler
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="dpa-{profile.slug}-preview-{locale}.pdf"'
    response.headers["Cache-Control"] = "no-store"  # the draft changes; never keep a stale preview
    return response


@bp.post("/dpa/publish", endpoint="dpa_publish")
@requires(PUBLISH)
def dpa_publish() -> Any:
    """Publish the draft as a new version (after the confirmation box)."""
    org = active_org()
    form = PublishForm()
    profile = svc.profile_of(org)
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors)
              or _("Tick the confirmation box to publish."), "error")
        return redirect(url_for("supplier.dpa_manage")), 303
    if profile is None:
        flash(str(svc.NoDraft.default), "error")
        return redirect(url_for("supplier.dpa_manage")), 303
    dpa_changes.apply_due(profile_id=profile.id)
    try:
        version = svc.publish(profile, by=current_user, kind=form.kind.data,
                              legal_name=(form.legal_name.data or "").strip() or None)
    except svc.PublishBlocked as exc:
        flash(exc.message, "error")
        return redirect(url_for("supplier.dpa_manage")), 303
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("supplier.dpa_manage")), 303
    flash(_("Version %(n)d is published.", n=version.number), "success")
    return redirect(url_for("supplier.dpa_manage")), 303


@bp.post("/dpa/settings", endpoint="dpa_settings")
@requires(PUBLISH)
def dpa_settings() -> Any:
    """Change the public address (slug) and the objection period."""
    org = active_org()
    form = SettingsForm()
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "error")
        return redirect(url_for("supplier.dpa_manage")), 303
    profile = svc.ensure_profile(org, by=current_user)
    try:
        svc.update_settings(profile, slug=form.slug.data, objection_days=form.objection_days.data,
                            by=current_user)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("supplier.dpa_manage")), 303
    flash(_("Settings saved."), "success")
    return redirect(url_for("supplier.dpa_manage")), 303


@bp.get("/dpa/objections")
@requires("dpa.objections.view")
def dpa_objections() -> str:
    """List the objections buyers raised against my DPA versions, unanswered first."""
    return render_template("supplier/dpa/objections.html",
                           objections=acceptance_svc.objections_of_vendor(active_org().id))


@bp.route("/dpa/objections/<int:objection_id>", methods=["GET", "POST"])
@requires("dpa.objections.view")
def dpa_objection(objection_id: int) -> Any:
    """Show an objection; administrators record the response and the outcome."""
    item = get_owned_or_404(DpaObjection, objection_id, "vendor_org_id")
    may_respond = can(current_membership(), "dpa.objections.respond")
    form = rf.ResponseForm()
    form.outcome.choices = [(o, str(dpa_notify.outcome_labels()[o])) for o in OBJECTION_OUTCOMES]
    page: dict[str, Any] = {
        "objection": item, "side": "vendor",
        "form": form if may_respond and item.responded_at is None else None}
    if request.method == "GET":
        return render_template("dpa/objection.html", **page)
    if not may_respond:
        deny(403, "dpa.objections.respond")
    if item.responded_at is not None:
        flash(str(acceptance_svc.AlreadyAnswered.default), "error")
        return render_template("dpa/objection.html", **page), 409
    if not form.validate_on_submit():
        return render_template("dpa/objection.html", **page), 422
    try:
        messages = acceptance_svc.respond(item, form.response.data or "", form.outcome.data or "",
                                          by=current_user)
    except DomainError as exc:
        flash(exc.message, "error")
        return render_template("dpa/objection.html", **page), exc.status
    mail.dispatch(messages)
    flash(_("Your response was recorded and sent to %(buyer)s.", buyer=item.buyer_org.name),
          "success")
    return redirect(url_for("supplier.dpa_objection", objection_id=item.id))


@bp.route("/dpa/assessments/<int:assessment_id>/prefill", methods=["GET", "POST"],
          endpoint="dpa_prefill")
@requires("assessments.answer")
def prefill_answers(assessment_id: int) -> Any:
    """Show what the published DPA would fill; fill it once the vendor confirms."""
    assessment = get_owned_or_404(Assessment, assessment_id, "vendor_org_id")
    if assessment.status is AssessmentStatus.DRAFT:
        abort(404)
    form = rf.PrefillForm()
    overwrite = bool(form.overwrite.data) if request.method == "POST" else \
        request.args.get("overwrite") == "1"
    if request.method == "GET":
        form.overwrite.data = overwrite
    try:
        version, planned = dpa_prefill.plan(assessment, overwrite=overwrite)
    except DomainError as exc:
        return render_error(exc.status, exc.message)
    page: dict[str, Any] = {
        "form": form, "assessment": assessment, "version": version, "planned": planned,
        "labels": dpa_prefill.item_labels(assessment, planned)}
    if not form.validate_on_submit():
        return form_page("supplier/dpa/prefill.html", status_on_post=400, **page)
    try:
        written = dpa_prefill.prefill(assessment, overwrite=overwrite, by=current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return render_template("supplier/dpa/prefill.html", **page), exc.status
    flash(ngettext("%(num)d answer filled from your DPA version %(number)s.",
                   "%(num)d answers filled from your DPA version %(number)s.", len(written),
                   number=version.number), "success")
    return redirect(url_for("supplier.assessment", assessment_id=assessment.id))


def _profile_or_none() -> DpaProfile | None:
    """Return the active vendor organisation's DPA profile, with due changes applied."""
    profile = dpa_svc.profile_of(active_org())
    if profile is not None:
        changes_svc.apply_due(profile_id=profile.id)
    return profile


def _plan_or_reason(profile: DpaProfile | None) -> tuple[Any, str | None]:
    """Return the plan of the change the draft would propose, or why nothing can be proposed."""
    if profile is None:
        return None, str(dpa_proposals.NoVersionInForce.default)
    try:
        return changes_svc.plan(profile), None
    except dpa_svc.PublishBlocked as exc:
        return None, exc.message + " " + "; ".join(p.text for p in exc.check.problems)
    except DomainError as exc:
        return None, exc.message


def _proposals_page(profile: DpaProfile | None, form: cf.ProposeForm, status: int = 200) -> Any:
    plan, reason = _plan_or_reason(profile)
    return render_template(
        "supplier/dpa/proposals.html", profile=profile, plan=plan, reason=reason, form=form,
        proposals=dpa_proposals.proposals_of(profile.id) if profile is not None else [],
        in_force=dpa_svc.latest_version(profile) if profile is not None else None,
        may_propose=can(current_membership(), PUBLISH)), status


@bp.get("/dpa/changes", endpoint="dpa_proposals")
@requires(MANAGE)
def proposals_page() -> Any:
    """Show the sub-processor change the draft would propose, and every proposal so far."""
    return _proposals_page(_profile_or_none(), cf.ProposeForm(formdata=None))


@bp.post("/dpa/versions/<int:version_id>/propose")
@requires(PUBLISH)
def dpa_propose(version_id: int) -> Any:
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
    return redirect(url_for("supplier.dpa_proposal", proposal_id=proposal.id), 303)


def _proposal_page(proposal: DpaChangeProposal, status: int = 200,
                   form: cf.WithdrawForm | None = None) -> Any:
    return render_template(
        "supplier/dpa/proposal.html", proposal=proposal, changes=dpa_proposals.changes_of(proposal),
        states=dpa_proposals.buyer_states(proposal),
        form=form or cf.WithdrawForm(formdata=None),
        may_withdraw=can(current_membership(), PUBLISH) and proposal.is_pending), status


@bp.get("/dpa/changes/<int:proposal_id>")
@requires(MANAGE)
def dpa_proposal(proposal_id: int) -> Any:
    """Show one proposed change and where each buyer stands on it."""
    item = get_owned_or_404(DpaChangeProposal, proposal_id, "vendor_org_id")
    changes_svc.apply_due(profile_id=item.profile_id)
    return _proposal_page(item)


@bp.post("/dpa/changes/<int:proposal_id>/withdraw")
@requires(PUBLISH)
def dpa_withdraw(proposal_id: int) -> Any:
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
    return redirect(url_for("supplier.dpa_proposal", proposal_id=item.id), 303)
