"""The vendor's compliance kit (/vendor/kit): the processor register (Art. 30(2) GDPR), its
controllers, its dated versions and their exports (CSV, XLSX, signed PDF)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from vendorcheck import downloads, exports
from vendorcheck.access import (
    active_org,
    can,
    current_membership,
    deny,
    get_owned_or_404,
    requires,
)
from vendorcheck.agreement.assemble import DEFAULT_KIND
from vendorcheck.errors import abort_with
from vendorcheck.forms import form_page
from vendorcheck.i18n import current_locale
from vendorcheck.models import utcnow
from vendorcheck.models.kit import KitController, RegisterVersion
from vendorcheck.services import dpa as dpa_svc
from vendorcheck.services import kit_charter as charter
from vendorcheck.services import kit_docx as kit_docx_svc
from vendorcheck.services import kit_register as svc
from vendorcheck.services import kit_security as security
from vendorcheck.services.errors import DomainError
from vendorcheck.supplier.blueprint import bp
from vendorcheck.supplier.kit_forms import CharterPublishForm, ConfirmForm, ControllerForm

VIEW, MANAGE = "kit.view", "kit.manage"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LOCALES = ("en", "fr")


def _locale() -> str:
    """Return the document locale asked for (`?locale=`), else the interface's."""
    asked = request.args.get("locale")
    return asked if asked in LOCALES else current_locale()


def _version(version_id: int) -> RegisterVersion:
    """Load a register version of my organisation, or 404."""
    return get_owned_or_404(RegisterVersion, version_id, "vendor_org_id")


@bp.get("/kit", endpoint="kit_register")
@requires(VIEW)
def kit_register() -> Any:
    """Show the register as it stands now (a new version is stored if anything changed)."""
    org = active_org()
    try:
        version = svc.refresh(org, by=current_user)
    except svc.NoAnswers as exc:
        return render_template("supplier/kit/register.html", version=None, reg=None,
                               message=exc.message, controllers=[], removed=[])
    context = svc.context_of(version, current_locale())
    return render_template("supplier/kit/register.html", version=version, reg=context,
                           controllers=svc.controllers_of(org),
                           removed=[r for r in svc.hand_rows(org) if r.removed_at is not None])


@bp.get("/kit/register/history", endpoint="kit_history")
@requires(VIEW)
def kit_history() -> str:
    """List the register's dated versions."""
    return render_template("supplier/kit/history.html", versions=svc.versions_of(active_org()))


@bp.get("/kit/register/versions/<int:version_id>", endpoint="kit_version")
@requires(VIEW)
def kit_version(version_id: int) -> str:
    """Show one register version as a document."""
    version = _version(version_id)
    return render_template("supplier/kit/version.html", version=version,
                           document=Markup(svc.render_html(version, _locale(), standalone=False)))  # noqa: S704 (our template)


@bp.get("/kit/register/versions/<int:version_id>.<any(csv, xlsx):fmt>", endpoint="kit_export")
@requires(VIEW)
def kit_export(version_id: int, fmt: str) -> Any:
    """Export a register version as CSV or XLSX (one row per controller)."""
    version = _version(version_id)
    sheet = svc.sheet(version, _locale())
    svc.record_export(version, fmt, by=current_user)
    stem = f"processor-register-v{version.number}"
    if fmt == "xlsx":
        return downloads.attachment(exports.to_xlsx([sheet]), XLSX, f"{stem}.xlsx")
    return downloads.attachment(exports.to_csv(sheet), "text/csv", f"{stem}.csv")


@bp.get("/kit/register/versions/<int:version_id>.pdf", endpoint="kit_pdf")
@requires(VIEW)
def kit_pdf(version_id: int) -> Any:
    """Download a register version as a signed PDF."""
    version = _version(version_id)
    locale = _locale()
    data = svc.signed_pdf(version, locale, by=current_user)
    return downloads.attachment(data, "application/pdf",
                                f"processor-register-v{version.number}-{locale}.pdf")


def _buyer(buyer_org_id: int) -> dict[str, str]:
    """Return a controller found among my buyers, or 404 (another buyer is none of mine)."""
    found = svc.buyer_controller(active_org(), buyer_org_id)
    if found is None:
        deny(404, f"kit_buyer:{buyer_org_id}")
    return found


def _save(form: ControllerForm, row: KitController | None, buyer_org_id: int | None) -> Any:
    """Validate and store a controller form; on refusal, the message beside the form."""
    try:
        if row is not None:
            svc.edit_controller(row, form.data, by=current_user)
        else:
            svc.add_controller(active_org(), form.data, by=current_user, buyer_org_id=buyer_org_id)
    except DomainError as exc:
        form.form_errors.append(exc.message)
        return None
    flash(_("The register was updated."), "success")
    return redirect(url_for("supplier.kit_register"), 303)


@bp.route("/kit/controllers/new", methods=["GET", "POST"], endpoint="kit_controller_new")
@requires(MANAGE)
def kit_controller_new() -> Any:
    """Add a controller by hand."""
    form = ControllerForm()
    if form.validate_on_submit() and (done := _save(form, None, None)) is not None:
        return done
    return form_page("supplier/kit/controller.html", form=form, row=None)


@bp.route("/kit/controllers/<int:controller_id>/edit", methods=["GET", "POST"],
          endpoint="kit_controller_edit")
@requires(MANAGE)
def kit_controller_edit(controller_id: int) -> Any:
    """Edit a controller kept by hand."""
    row = get_owned_or_404(KitController, controller_id, "vendor_org_id")
    if row.removed_at is not None:
        abort_with(409, _("This controller was removed from the register."))
    form = ControllerForm(obj=row)
    if form.validate_on_submit() and (done := _save(form, row, None)) is not None:
        return done
    return form_page("supplier/kit/controller.html", form=form, row=row)


@bp.route("/kit/buyers/<int:buyer_org_id>/edit", methods=["GET", "POST"],
          endpoint="kit_buyer_edit")
@requires(MANAGE)
def kit_buyer_edit(buyer_org_id: int) -> Any:
    """Complete a controller vendorcheck found among my buyers (its details become hand-kept)."""
    found = _buyer(buyer_org_id)
    form = ControllerForm(data=found)
    if form.validate_on_submit() and (done := _save(form, None, buyer_org_id)) is not None:
        return done
    return form_page("supplier/kit/controller.html", form=form, row=None)


@bp.route("/kit/controllers/<int:controller_id>/remove", methods=["GET", "POST"],
          endpoint="kit_controller_remove")
@requires(MANAGE)
def kit_controller_remove(controller_id: int) -> Any:
    """Confirm, then remove a hand-kept controller (its history stays)."""
    row = get_owned_or_404(KitController, controller_id, "vendor_org_id")
    return _remove(row.name, row=row)


@bp.route("/kit/buyers/<int:buyer_org_id>/remove", methods=["GET", "POST"],
          endpoint="kit_buyer_remove")
@requires(MANAGE)
def kit_buyer_remove(buyer_org_id: int) -> Any:
    """Confirm, then remove a controller vendorcheck found among my buyers."""
    found = _buyer(buyer_org_id)
    return _remove(found["name"], buyer_org_id=buyer_org_id)


def _remove(name: str, *, row: KitController | None = None, buyer_org_id: int | None = None) -> Any:
    """Show the confirmation, or remove on a confirmed POST."""
    form = ConfirmForm()
    if form.validate_on_submit():
        svc.remove_controller(active_org(), by=current_user, row=row, buyer_org_id=buyer_org_id)
        flash(_("%(name)s was removed from the register; earlier versions still list it.",
                name=name), "success")
        return redirect(url_for("supplier.kit_register"), 303)
    return form_page("supplier/kit/remove.html", form=form, name=name)


@bp.get("/kit/security", endpoint="kit_security")
@requires(VIEW)
def kit_security() -> Any:
    """Show the description of the security measures, by heading, with its gaps."""
    org = active_org()
    try:
        doc = security.document(org, _locale())
    except svc.NoAnswers as exc:
        return render_template("supplier/kit/security.html", doc=None, message=exc.message)
    return render_template("supplier/kit/security.html", doc=doc, org=org, made_at=utcnow())


@bp.get("/kit/security.pdf", endpoint="kit_security_pdf")
@requires(VIEW)
def kit_security_pdf() -> Any:
    """Download the description of the security measures as a signed PDF."""
    locale = _locale()
    data = security.signed_pdf(active_org(), locale, by=current_user)
    return downloads.attachment(data, "application/pdf", f"security-measures-{locale}.pdf")


def _charter_page(form: CharterPublishForm, status: int = 200) -> Any:
    """Render the charter page: preview, what is missing, the publish form and the published one."""
    org = active_org()
    published = charter.latest(org.id)
    try:
        facts = charter.draft_facts(org)
    except svc.NoAnswers as exc:
        return render_template("supplier/kit/charter.html", charter=None, message=exc.message,
                               published=published), status
    locale = _locale()
    return render_template(
        "supplier/kit/charter.html", charter=charter.context_of(facts, locale), form=form,
        published=published, profile=dpa_svc.profile_of(org),
        may_publish=can(current_membership(), MANAGE),
        preview=Markup(charter.render_html(  # noqa: S704 (our own template, values escaped)
            facts, locale, org=org, version=None, standalone=False)),
    ), status


@bp.get("/kit/charter", endpoint="kit_charter")
@requires(VIEW)
def kit_charter() -> Any:
    """Show the charter as it would be published now, with its gaps."""
    return _charter_page(CharterPublishForm())


@bp.post("/kit/charter/publish", endpoint="kit_charter_publish")
@requires(MANAGE)
def kit_charter_publish() -> Any:
    """Publish the charter as a new version (refused while facts are missing)."""
    form = CharterPublishForm()
    if not form.validate_on_submit():
        return _charter_page(form, 422)
    try:
        version = charter.publish(active_org(), by=current_user, confirmed=True)
    except DomainError as exc:
        form.form_errors.append(exc.message)
        return _charter_page(form, exc.status)
    flash(_("Charter version %(number)s published.", number=version.number), "success")
    return redirect(url_for("supplier.kit_charter"), 303)


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@bp.get("/kit/register/versions/<int:version_id>.docx", endpoint="kit_register_docx")
@requires(VIEW)
def kit_register_docx(version_id: int) -> Any:
    """Download a register version as an editable DOCX."""
    version = _version(version_id)
    locale = _locale()
    return downloads.attachment(svc.register_docx(version, locale, by=current_user), DOCX,
                                f"processor-register-v{version.number}-{locale}.docx")


@bp.get("/kit/<any(dpa, charter, security):document>.docx", endpoint="kit_docx")
@requires(VIEW)
def kit_docx(document: str) -> Any:
    """Download the DPA (`?kind=`), the charter or the security measures as an editable DOCX."""
    org, locale = active_org(), _locale()
    if document == "dpa":
        kind = request.args.get("kind") or DEFAULT_KIND
        data = kit_docx_svc.dpa(org, kind, locale, by=current_user)
        name = f"dpa-{kind}-{locale}.docx"
    elif document == "charter":
        data, name = kit_docx_svc.charter(org, locale, by=current_user), f"gdpr-charter-{locale}.docx"
    else:
        data = kit_docx_svc.security(org, locale, by=current_user)
        name = f"security-measures-{locale}.docx"
    return downloads.attachment(data, DOCX, name)
