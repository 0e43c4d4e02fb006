"""Views: subscribe to a vendor's sub-processor changes, accept a DPA, object, attach, prefill.

Subscription pages are public (no login); buyer pages act for the active buyer organisation,
vendor pages for the active vendor organisation. Another organisation's object answers 404.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from vendorcheck import mail
from vendorcheck.access import active_org, can, current_membership, deny, get_owned_or_404, requires
from vendorcheck.dpa import relations_forms as rf
from vendorcheck.errors import abort_with, render_error
from vendorcheck.extensions import csrf, db, limiter
from vendorcheck.i18n import current_locale
from vendorcheck.models.assessments import Assessment, AssessmentStatus
from vendorcheck.models.dpa import DpaProfile, DpaVersion
from vendorcheck.models.dpa_relations import OBJECTION_OUTCOMES, DpaAcceptance, DpaObjection
from vendorcheck.services import dpa_acceptance as acceptance_svc
from vendorcheck.services import dpa_changes, dpa_notify, dpa_prefill
from vendorcheck.services.errors import DomainError

bp = Blueprint("dpa_relations", __name__)

SUBSCRIBE_LIMIT = "5/minute;30/hour"
# Per address too, so nobody can flood someone's inbox with confirmation e-mails from many IPs.
SUBSCRIBE_LIMIT_PER_EMAIL = "3/hour"
LINK_LIMIT = "30/minute"


@bp.app_context_processor
def _dpa_relation_helpers() -> dict[str, Any]:
    """Give every template (dpa-core's public pages included) what the includes need."""
    return {"dpa_subscribe_form": _subscribe_form_for, "dpa_can_accept": _can_accept,
            "dpa_outcome_labels": dpa_notify.outcome_labels,
            "dpa_review_link": dpa_prefill.link_of, "dpa_prefill_offered": _prefill_offered}


def _prefill_offered(assessment: Assessment) -> bool:
    """Tell whether the vendor could prefill this assessment from a published DPA."""
    return (assessment.questionnaire_id == dpa_prefill.PREFILL_QUESTIONNAIRE
            and dpa_prefill.latest_version_of(assessment.vendor_org_id) is not None)


def _subscribe_form_for() -> rf.SubscribeForm:
    """Return an empty subscription form (the public sub-processor page includes it)."""
    form = rf.SubscribeForm(formdata=None)
    form.language.data = current_locale()
    return form


def _can_accept() -> bool:
    """Tell whether the visitor may accept a DPA for the active buyer organisation."""
    return bool(current_user.is_authenticated and can(current_membership(), "dpa.accept"))


def _form_page(template: str, status_on_post: int = 422, **context: Any) -> tuple[str, int]:
    """Render a form page: the refusal status after a POST, 200 otherwise."""
    status = status_on_post if request.method == "POST" else 200
    return render_template(template, **context), status


def _published_profile(slug: str) -> DpaProfile:
    """Return the profile behind a public slug if it published something, else 404."""
    if len(slug) > 80:
        abort(404)
    profile: DpaProfile | None = db.session.scalar(select(DpaProfile).where(
        DpaProfile.slug == slug))
    if profile is None or acceptance_svc.latest_version(profile.id) is None:
        abort(404)
    return profile


def _version(slug: str, number: int) -> DpaVersion:
    """Return a published version by slug and number, or 404."""
    try:
        return acceptance_svc.find_version(slug, number)
    except DomainError as exc:
        abort_with(exc.status, exc.message)
        raise


def _download(data: bytes, filename: str) -> Response:
    """Return a PDF as an attachment that browsers neither sniff nor cache."""
    response = Response(data, mimetype="application/pdf")
    # The name is built from ids and fixed words only, so it needs no quoting rules.
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# ------------------------------------------------------------------------------ subscriptions

def _email_key() -> str:
    """Rate-limit key for subscribing: the address asked for."""
    return "dpa-subscribe:" + (request.form.get("email") or "").strip().lower()[:254]


@bp.route("/dpa/<slug>/subscribe", methods=["GET", "POST"])
@limiter.limit(SUBSCRIBE_LIMIT_PER_EMAIL, key_func=_email_key, methods=["POST"])
@limiter.limit(SUBSCRIBE_LIMIT, methods=["POST"])
def subscribe(slug: str) -> Any:
    """Ask for sub-processor change notices; the answer never tells whether already subscribed."""
    profile = _published_profile(slug)
    form = rf.SubscribeForm()
    if request.method == "GET":
        form.language.data = current_locale()
    if not form.validate_on_submit():
        return _form_page("dpa_relations/subscribe.html", form=form, profile=profile)
    message = dpa_notify.subscribe(profile, form.email.data or "", form.language.data or "en")
    mail.dispatch([message])
    return render_template("dpa_relations/subscribe_sent.html", profile=profile)


@bp.route("/dpa/subscriptions/<token>/confirm", methods=["GET", "POST"])
@limiter.limit(LINK_LIMIT, methods=["POST"])
def confirm_subscription(token: str) -> Any:
    """Show the confirmation button (link scanners only GET), then confirm on POST."""
    try:
        subscription, _locale = dpa_notify.subscription_for_confirm(token)
    except DomainError as exc:
        return render_error(exc.status, exc.message)
    form = rf.ConfirmForm()
    if not form.validate_on_submit():
        return _form_page("dpa_relations/confirm.html", status_on_post=400, form=form,
                          subscription=subscription)
    try:
        subscription = dpa_notify.confirm(token)
    except DomainError as exc:
        return render_error(exc.status, exc.message)
    return render_template("dpa_relations/confirmed.html", subscription=subscription,
                           profile=_profile_of(subscription.vendor_org_id))


def _profile_of(vendor_org_id: int) -> DpaProfile | None:
    return db.session.scalar(select(DpaProfile).where(DpaProfile.vendor_org_id == vendor_org_id))


@bp.route("/dpa/subscriptions/<token>/unsubscribe", methods=["GET", "POST"])
@limiter.limit(LINK_LIMIT, methods=["POST"])
def unsubscribe(token: str) -> Any:
    """GET: ask to confirm (so link scanners do not unsubscribe); POST: unsubscribe at once."""
    try:
        subscription = dpa_notify.subscription_for_unsubscribe(token)
    except DomainError as exc:
        return render_error(exc.status, exc.message)
    if request.method == "POST":
        dpa_notify.unsubscribe(subscription)
        return render_template("dpa_relations/unsubscribed.html", subscription=subscription,
                               profile=_profile_of(subscription.vendor_org_id))
    return render_template("dpa_relations/unsubscribe.html", subscription=subscription,
                           token=token)


# RFC 8058 one-click unsubscribe: mail clients POST "List-Unsubscribe=One-Click" to this URL with
# no session and no CSRF token. The signed token in the URL is the credential, so CSRF adds nothing.
csrf.exempt(unsubscribe)


# ------------------------------------------------------------------------------ buyer: accept

@bp.get("/buyer/dpa")
@requires("dpa.accepted.view")
def accepted() -> str:
    """List the DPAs my organisation accepted, with newer versions and pending objections."""
    dpa_changes.apply_due()  # changes whose effective date came decide the versions in force
    org = active_org()
    return render_template("dpa_relations/accepted.html",
                           rows=acceptance_svc.accepted_dpas(org.id),
                           objections=acceptance_svc.objections_of_buyer(org.id))


@bp.route("/buyer/dpa/<slug>/v<int:number>/accept", methods=["GET", "POST"])
@requires("dpa.accept")
def accept(slug: str, number: int) -> Any:
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
        return _form_page("dpa_relations/accept.html",
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
        return render_template("dpa_relations/accept.html", **page), exc.status
    flash(_("Accepted on behalf of %(org)s. Your signed acceptance certificate is ready.",
            org=org.name), "success")
    return redirect(url_for("dpa_relations.accepted", _anchor=f"acceptance-{acceptance.id}"))


@bp.get("/buyer/dpa/acceptances/<int:acceptance_id>/certificate.pdf")
@requires("dpa.accepted.view")
def certificate(acceptance_id: int) -> Any:
    """Download the signed acceptance certificate (the same bytes every time)."""
    acceptance = get_owned_or_404(DpaAcceptance, acceptance_id, "buyer_org_id")
    try:
        data = acceptance_svc.certificate_bytes(acceptance, by=current_user)
    except DomainError as exc:
        abort_with(exc.status, exc.message)
    return _download(data, f"vendorcheck-dpa-acceptance-{acceptance.id}.pdf")


# ------------------------------------------------------------------------------ objections

@bp.route("/buyer/dpa/acceptances/<int:acceptance_id>/objections/v<int:number>",
          methods=["GET", "POST"])
@requires("dpa.object")
def raise_objection(acceptance_id: int, number: int) -> Any:
    """Object to a newer version's sub-processor change within the objection period."""
    acceptance = get_owned_or_404(DpaAcceptance, acceptance_id, "buyer_org_id")
    version = _version(acceptance.version.profile.slug, number)
    existing = acceptance_svc.existing_objection(acceptance.buyer_org_id, version.id)
    if existing is not None:
        return redirect(url_for("dpa_relations.objection", objection_id=existing.id))
    form = rf.ObjectionForm()
    page: dict[str, Any] = {
        "form": form, "acceptance": acceptance, "version": version,
        "changes": acceptance_svc.changes_of(version),
        "deadline": dpa_notify.objection_deadline(version), "refusal": None}
    try:
        acceptance_svc.check_can_object(acceptance, version)
    except DomainError as exc:
        page["refusal"] = exc.message
        return render_template("dpa_relations/object.html", **page), exc.status
    if not form.validate_on_submit():
        return _form_page("dpa_relations/object.html", **page)
    try:
        objection, messages = acceptance_svc.raise_objection(
            acceptance, version, form.reasons.data or "", by=current_user)
    except DomainError as exc:
        page["refusal"] = exc.message
        return render_template("dpa_relations/object.html", **page), exc.status
    mail.dispatch(messages)
    flash(_("Your objection was recorded and sent to %(vendor)s.",
            vendor=version.vendor_org.name), "success")
    return redirect(url_for("dpa_relations.objection", objection_id=objection.id))


@bp.get("/buyer/dpa/objections/<int:objection_id>")
@requires("dpa.accepted.view")
def objection(objection_id: int) -> str:
    """Show one of my organisation's objections and the vendor's answer."""
    item = get_owned_or_404(DpaObjection, objection_id, "buyer_org_id")
    return render_template("dpa_relations/objection.html", objection=item, side="buyer",
                           form=None)


@bp.get("/vendor/dpa/objections")
@requires("dpa.objections.view")
def vendor_objections() -> str:
    """List the objections buyers raised against my DPA versions, unanswered first."""
    return render_template("dpa_relations/vendor_objections.html",
                           objections=acceptance_svc.objections_of_vendor(active_org().id))


@bp.route("/vendor/dpa/objections/<int:objection_id>", methods=["GET", "POST"])
@requires("dpa.objections.view")
def vendor_objection(objection_id: int) -> Any:
    """Show an objection; administrators record the response and the outcome."""
    item = get_owned_or_404(DpaObjection, objection_id, "vendor_org_id")
    may_respond = can(current_membership(), "dpa.objections.respond")
    form = rf.ResponseForm()
    form.outcome.choices = [(o, str(dpa_notify.outcome_labels()[o])) for o in OBJECTION_OUTCOMES]
    page: dict[str, Any] = {
        "objection": item, "side": "vendor",
        "form": form if may_respond and item.responded_at is None else None}
    if request.method == "GET":
        return render_template("dpa_relations/objection.html", **page)
    if not may_respond:
        deny(403, "dpa.objections.respond")
    if item.responded_at is not None:
        flash(str(acceptance_svc.AlreadyAnswered.default), "error")
        return render_template("dpa_relations/objection.html", **page), 409
    if not form.validate_on_submit():
        return render_template("dpa_relations/objection.html", **page), 422
    try:
        messages = acceptance_svc.respond(item, form.response.data or "", form.outcome.data or "",
                                          by=current_user)
    except DomainError as exc:
        flash(exc.message, "error")
        return render_template("dpa_relations/objection.html", **page), exc.status
    mail.dispatch(messages)
    flash(_("Your response was recorded and sent to %(buyer)s.", buyer=item.buyer_org.name),
          "success")
    return redirect(url_for("dpa_relations.vendor_objection", objection_id=item.id))


# ------------------------------------------------------------------------------ attach, prefill

@bp.route("/buyer/dpa/assessments/<int:assessment_id>/attach", methods=["GET", "POST"])
@requires("dpa.attach")
def attach(assessment_id: int) -> Any:
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
        return render_template("dpa_relations/attach.html", **page), (
            409 if request.method == "POST" else 200)
    if not form.validate_on_submit():
        return _form_page("dpa_relations/attach.html", **page)
    try:
        dpa_prefill.attach(assessment, form.version_id.data, by=current_user)
    except DomainError as exc:
        flash(exc.message, "error")
        return render_template("dpa_relations/attach.html", **page), exc.status
    flash(_("The DPA is now shown beside the answers."), "success")
    return redirect(url_for("buyer.assessment", assessment_id=assessment.id))


@bp.route("/vendor/dpa/assessments/<int:assessment_id>/prefill", methods=["GET", "POST"])
@requires("assessments.answer")
def prefill(assessment_id: int) -> Any:
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
        return _form_page("dpa_relations/prefill.html", status_on_post=400, **page)
    try:
        written = dpa_prefill.prefill(assessment, overwrite=overwrite, by=current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return render_template("dpa_relations/prefill.html", **page), exc.status
    flash(ngettext("%(num)d answer filled from your DPA version %(number)s.",
                   "%(num)d answers filled from your DPA version %(number)s.", len(written),
                   number=version.number), "success")
    return redirect(url_for("supplier.assessment", assessment_id=assessment.id))
