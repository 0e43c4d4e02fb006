"""The buyer's DPA pages (/buyer/dpa): accepted DPAs, accepting, objecting, authorising changes, attaching."""

from __future__ import annotations

from typing import Any

from flask import (
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from vendorcheck import downloads, mail
from vendorcheck.access import active_org, deny, get_owned_or_404, requires
from vendorcheck.agreement.assemble import (
    document_context,
)
from vendorcheck.buyer.blueprint import bp
from vendorcheck.dpa import changes_forms as cf
from vendorcheck.dpa import relations_forms as rf
from vendorcheck.errors import abort_with
from vendorcheck.extensions import db
from vendorcheck.forms import form_page
from vendorcheck.i18n import current_locale
from vendorcheck.models.assessments import Assessment
from vendorcheck.models.dpa import DpaVersion
from vendorcheck.models.dpa_relations import DpaAcceptance, DpaObjection
from vendorcheck.services import dpa as svc
from vendorcheck.services import dpa_acceptance as acceptance_svc
from vendorcheck.services import dpa_changes, dpa_notify, dpa_prefill, dpa_proposals
from vendorcheck.services import dpa_changes as changes_svc
from vendorcheck.services.dpa_acceptance import find_version
from vendorcheck.services.errors import DomainError

AUTHORISE = "dpa.authorise"


@bp.get("/dpa/acceptances/<int:acceptance_id>/copy", endpoint="dpa_accepted_copy")
@requires("dpa.accepted.view")
def dpa_accepted_copy(acceptance_id: int) -> str:
    """Show the version a buyer accepted, with Annex I completed by the controller's details."""
    acceptance = get_owned_or_404(DpaAcceptance, acceptance_id, "buyer_org_id")
    version = acceptance.version
    controller = acceptance_svc.annex_i_controller(acceptance, current_locale())
    doc = document_context(version.content, locale=current_locale(),
                           q=svc.questionnaire_of_version(version), controller=controller)
    return render_template("buyer/dpa/accepted_copy.html", acceptance=acceptance, version=version,
                           profile=version.profile, doc=doc, controller=controller)


def _version(slug: str, number: int) -> DpaVersion:
    """Return a published version by slug and number, or 404."""
    try:
        return acceptance_svc.find_version(slug, number)
    except DomainError as exc:
        abort_with(exc.status, exc.message)
        raise


@bp.get("/dpa")
@requires("dpa.accepted.view")
def dpa_accepted() -> str:
    """List the DPAs my organisation accepted, with newer versions and pending objections."""
    dpa_changes.apply_due()  # changes whose effective date came decide the versions in force
    org = active_org()
    return render_template("buyer/dpa/accepted.html",
                           rows=acceptance_svc.accepted_dpas(org.id),
                           objections=acceptance_svc.objections_of_buyer(org.id))


@bp.route("/dpa/<slug>/v<int:number>/accept", methods=["GET", "POST"])
@requires("dpa.accept")
def dpa_accept(slug: str, number: int) -> Any:
    """Accept a published version on behalf of my organisation (name, role, authority)."""
    version = _version(slug, number)
    org = active_org()
    existing = acceptance_svc.acceptance_of(org.id, version.id)
    form = rf.AcceptForm()
    if request.method == "GET":
        form.signer_name.data = current_user.name
        form.version_sha256.data = version.sha256
        form.controller_name.data = org.name
        form.contact_name.data, form.contact_email.data = current_user.name, current_user.email
    page: dict[str, Any] = {"form": form, "version": version, "org": org, "existing": existing}
    if existing is not None or not form.validate_on_submit():
        return form_page("buyer/dpa/accept.html",
                          status_on_post=409 if existing else 422, **page)
    try:
        acceptance = acceptance_svc.accept(
            version, org, by=current_user, signer_name=form.signer_name.data or "",
            signer_role=form.signer_role.data or "", authorised=bool(form.authorised.data),
            seen_sha256=form.version_sha256.data or "", locale=current_locale(),
            controller={"legal_name": form.controller_name.data,
                        "address": form.controller_address.data,
                        "contact_name": form.contact_name.data,
                        "contact_email": form.contact_email.data,
                        "dpo": form.controller_dpo.data})
    except DomainError as exc:
        flash(exc.message, "error")
        return render_template("buyer/dpa/accept.html", **page), exc.status
    flash(_("Accepted on behalf of %(org)s. Your signed acceptance certificate is ready.",
            org=org.name), "success")
    return redirect(url_for("buyer.dpa_accepted", _anchor=f"acceptance-{acceptance.id}"))


@bp.get("/dpa/acceptances/<int:acceptance_id>/certificate.pdf")
@requires("dpa.accepted.view")
def dpa_certificate(acceptance_id: int) -> Any:
    """Download the signed acceptance certificate (the same bytes every time)."""
    acceptance = get_owned_or_404(DpaAcceptance, acceptance_id, "buyer_org_id")
    try:
        data = acceptance_svc.certificate_bytes(acceptance, by=current_user)
    except DomainError as exc:
        abort_with(exc.status, exc.message)
    return _pdf_attachment(data, f"vendorcheck-dpa-acceptance-{acceptance.id}.pdf")


@bp.route("/dpa/acceptances/<int:acceptance_id>/objections/v<int:number>",
          methods=["GET", "POST"])
@requires("dpa.object")
def dpa_raise_objection(acceptance_id: int, number: int) -> Any:
    """Object to a newer version's sub-processor change within the objection period."""
    acceptance = get_owned_or_404(DpaAcceptance, acceptance_id, "buyer_org_id")
    version = _version(acceptance.version.profile.slug, number)
    existing = acceptance_svc.existing_objection(acceptance.buyer_org_id, version.id)
    if existing is not None:
        return redirect(url_for("buyer.dpa_objection", objection_id=existing.id))
    form = rf.ObjectionForm()
    page: dict[str, Any] = {
        "form": form, "acceptance": acceptance, "version": version,
        "changes": acceptance_svc.changes_of(version),
        "deadline": dpa_notify.objection_deadline(version), "refusal": None}
    try:
        acceptance_svc.check_can_object(acceptance, version)
    except DomainError as exc:
        page["refusal"] = exc.message
        return render_template("buyer/dpa/object.html", **page), exc.status
    if not form.validate_on_submit():
        return form_page("buyer/dpa/object.html", **page)
    try:
        objection, messages = acceptance_svc.raise_objection(
            acceptance, version, form.reasons.data or "", by=current_user)
    except DomainError as exc:
        page["refusal"] = exc.message
        return render_template("buyer/dpa/object.html", **page), exc.status
    mail.dispatch(messages)
    flash(_("Your objection was recorded and sent to %(vendor)s.",
            vendor=version.vendor_org.name), "success")
    return redirect(url_for("buyer.dpa_objection", objection_id=objection.id))


@bp.get("/dpa/objections/<int:objection_id>")
@requires("dpa.accepted.view")
def dpa_objection(objection_id: int) -> str:
    """Show one of my organisation's objections and the vendor's answer."""
    item = get_owned_or_404(DpaObjection, objection_id, "buyer_org_id")
    return render_template("dpa/objection.html", objection=item, side="buyer",
                           form=None)


@bp.route("/dpa/assessments/<int:assessment_id>/attach", methods=["GET", "POST"])
@requires("dpa.attach")
def dpa_attach(assessment_id: int) -> Any:
    """Attach a published version of the vendor's DPA to an assessment, for the reviewers."""
    assessment = get_owned_or_404(Assessment, assessment_id, "buyer_org_id")
    versions = dpa_prefill.published_versions(assessment)
    accepted_ids = {a.dpa_version_id for a in db.session.scalars(select(DpaAcceptance).where(
        DpaAcceptance.buyer_org_id == assessment.buyer_org_id))}
    form = rf.AttachForm()
    form.version_id.choices = [
        (v.id, _("Version %(number)s", number=v.number)
         + (" — " + _("accepted") if v.id in accepted_ids else "")) for v in versions]
    link = dpa_prefill.link_of(assessment.id)
    if request.method == "GET" and link is not None:
        form.version_id.data = link.dpa_version_id
    page: dict[str, Any] = {"form": form, "assessment": assessment, "versions": versions,
                            "link": link}
    if not versions:
        flash(str(dpa_prefill.NoPublishedDpa.default), "error")
        return render_template("buyer/dpa/attach.html", **page), (
            409 if request.method == "POST" else 200)
    if not form.validate_on_submit():
        return form_page("buyer/dpa/attach.html", **page)
    try:
        dpa_prefill.attach(assessment, form.version_id.data, by=current_user)
    except DomainError as exc:
        flash(exc.message, "error")
        return render_template("buyer/dpa/attach.html", **page), exc.status
    flash(_("The DPA is now shown beside the answers."), "success")
    return redirect(url_for("buyer.assessment", assessment_id=assessment.id))


@bp.route("/dpa/acceptances/<int:acceptance_id>/authorisations/v<int:number>",
          methods=["GET", "POST"])
@requires(AUTHORISE)
def dpa_authorise(acceptance_id: int, number: int) -> Any:
    """Authorise or refuse in writing a proposed change (specific authorisation)."""
    acceptance = get_owned_or_404(DpaAcceptance, acceptance_id, "buyer_org_id")
    try:
        version = find_version(acceptance.version.profile.slug, number)
    except DomainError:
        deny(404, f"dpa_version:{acceptance.version.profile.slug}:{number}")
    changes_svc.apply_due(profile_id=version.profile_id)
    proposal = dpa_proposals.proposal_of_version(version.id)
    if proposal is None:
        deny(404, f"dpa_change_proposal:version:{version.id}")
    form = cf.DecisionForm()
    page: dict[str, Any] = {
        "form": form, "acceptance": acceptance, "proposal": proposal,
        "changes": dpa_proposals.changes_of(proposal), "refusal": None,
        "consent": dpa_proposals.consent_of(proposal.id, acceptance.buyer_org_id),
        "in_force": dpa_proposals.in_force_version(acceptance.buyer_org_id, proposal.profile_id)}
    try:
        changes_svc.check_can_decide(acceptance, proposal)
    except DomainError as exc:
        page["refusal"] = exc.message  # the page still shows the change and the decision so far
        return render_template("buyer/dpa/authorise.html", **page), (
            exc.status if request.method == "POST" else 200)
    if not form.validate_on_submit():
        return render_template("buyer/dpa/authorise.html", **page), (
            422 if request.method == "POST" else 200)
    try:
        consent = changes_svc.decide(acceptance, proposal, form.decision.data or "",
                                     by=current_user, reason=form.reason.data or "")
    except DomainError as exc:
        db.session.rollback()
        page["refusal"] = exc.message
        return render_template("buyer/dpa/authorise.html", **page), exc.status
    flash(_("Your decision is recorded: %(decision)s.", decision=decision_labels()[
        consent.decision]), "success")
    return redirect(url_for("buyer.dpa_authorise", acceptance_id=acceptance.id,
                            number=number), 303)


def decision_labels() -> dict[str, str]:
    """Return the words for a recorded decision."""
    return {"authorised": _("authorised"), "refused": _("refused")}


def _pdf_attachment(data: bytes, filename: str) -> Any:
    """Return a PDF as an attachment that browsers neither sniff nor cache."""
    return downloads.attachment(data, "application/pdf", filename)
