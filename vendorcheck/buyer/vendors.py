"""Buyer views: vendors, contacts, invitations."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from vendorcheck.access import active_org, get_owned_or_404, requires
from vendorcheck.buyer.blueprint import bp
from vendorcheck.buyer.forms import (
    CATEGORY_LABELS,
    CRITICALITY_LABELS,
    ConfirmForm,
    ContactForm,
    InviteContactForm,
    SearchForm,
    VendorForm,
)
from vendorcheck.errors import render_error
from vendorcheck.extensions import db
from vendorcheck.forms import options, page_arg
from vendorcheck.models import Contact, Criticality, Invitation, Vendor
from vendorcheck.services import invitations, vendors
from vendorcheck.services.errors import ValidationFailed


@bp.context_processor
def _labels() -> dict[str, Any]:
    """Give templates the display labels of categories and criticality."""
    return {"category_labels": CATEGORY_LABELS, "criticality_labels": CRITICALITY_LABELS}


def _vendor(vendor_id: int) -> Vendor:
    """Load a vendor of the active organisation, or 404."""
    return get_owned_or_404(Vendor, vendor_id, "buyer_org_id")


def invitation_of(vendor: Vendor, invitation_id: int) -> Invitation:
    """Load an invitation of this vendor, or 404."""
    invitation = get_owned_or_404(Invitation, invitation_id)
    if invitation.vendor_id != vendor.id:
        abort(404)
    return invitation


def contact_of(vendor: Vendor, contact_id: int) -> Contact:
    """Load a contact of this vendor, or 404."""
    contact = next((c for c in vendor.contacts if c.id == contact_id), None)
    if contact is None:
        abort(404)
    return contact


@bp.get("/vendors", endpoint="vendors")
@requires("vendors.view")
def vendors_list() -> str:
    """List the organisation's vendors, searchable and paginated; archived ones on request."""
    form = SearchForm(request.args, meta={"csrf": False})
    q = form.q.data if form.validate() else None
    archived = request.args.get("archived") in ("1", "on")
    query = vendors.search_query(active_org(), q, archived=None if archived else False)
    page = db.paginate(query, page=page_arg(), per_page=25, error_out=False)
    return render_template("buyer/vendors.html", form=form, page=page, q=q or "", archived=archived)


def _vendor_form(vendor: Vendor | None = None) -> VendorForm:
    """Build the vendor form with the organisation's members as owners."""
    form = VendorForm(obj=vendor)
    if vendor is not None and request.method == "GET":
        form.criticality.data = vendor.criticality.value
    form.owner_id.choices = options((str(u.id), f"{u.name} <{u.email}>")
                                    for u in vendors.owner_choices(active_org()))
    if form.owner_id.data is None:
        form.owner_id.data = vendor.owner_id if vendor else current_user.id
    return form


def _vendor_data(form: VendorForm) -> vendors.VendorData:
    """Turn a validated form into service input."""
    return vendors.VendorData(
        legal_name=form.legal_name.data, country=form.country.data or None,
        website=form.website.data or None, services=form.services.data or "",
        data_categories=list(form.data_categories.data or []),
        criticality=Criticality(form.criticality.data), owner_id=form.owner_id.data)


@bp.route("/vendors/new", methods=["GET", "POST"])
@requires("vendors.edit")
def create_vendor() -> Any:
    """Register a vendor."""
    form = _vendor_form()
    if form.validate_on_submit():
        vendor = vendors.create_vendor(active_org(), _vendor_data(form), by=current_user)
        flash(_("Vendor registered. Invite a contact to start the assessment."), "success")
        return redirect(url_for("buyer.vendor_detail", vendor_id=vendor.id))
    status = 422 if request.method == "POST" else 200
    return render_template("buyer/vendor_form.html", form=form, vendor=None), status


@bp.get("/vendors/<int:vendor_id>")
@requires("vendors.view")
def vendor_detail(vendor_id: int) -> str:
    """Show a vendor with its contacts and invitations."""
    vendor = _vendor(vendor_id)
    return render_template("buyer/vendor_detail.html", vendor=vendor,
                           invitations=invitations.vendor_invitations(vendor),
                           confirm_form=ConfirmForm())


@bp.route("/vendors/<int:vendor_id>/edit", methods=["GET", "POST"])
@requires("vendors.edit")
def edit_vendor(vendor_id: int) -> Any:
    """Edit a vendor record."""
    vendor = _vendor(vendor_id)
    form = _vendor_form(vendor)
    if form.validate_on_submit():
        vendors.update_vendor(vendor, _vendor_data(form), by=current_user)
        flash(_("Vendor saved."), "success")
        return redirect(url_for("buyer.vendor_detail", vendor_id=vendor.id))
    status = 422 if request.method == "POST" else 200
    return render_template("buyer/vendor_form.html", form=form, vendor=vendor), status


@bp.route("/vendors/<int:vendor_id>/invite", methods=["GET", "POST"])
@requires("vendors.edit")
def invite_contact(vendor_id: int) -> Any:
    """Invite a contact at the vendor by e-mail."""
    vendor = _vendor(vendor_id)
    form = InviteContactForm()
    if form.validate_on_submit():
        invitations.invite_vendor_contact(vendor, form.name.data, form.email.data, by=current_user)
        flash(_("Invitation sent to %(email)s.", email=form.email.data), "success")
        return redirect(url_for("buyer.vendor_detail", vendor_id=vendor.id))
    status = 422 if request.method == "POST" else 200
    return render_template("buyer/invite_contact.html", form=form, vendor=vendor), status


@bp.post("/vendors/<int:vendor_id>/invitations/<int:invitation_id>/resend")
@requires("vendors.edit")
def resend_invitation(vendor_id: int, invitation_id: int) -> Any:
    """Send an invitation again with a new link (the old one stops working)."""
    invitation = invitation_of(_vendor(vendor_id), invitation_id)
    if not ConfirmForm().validate_on_submit():
        return render_error(400)
    invitations.resend_invitation(invitation, by=current_user)
    flash(_("Invitation sent again; the previous link no longer works."), "success")
    return redirect(url_for("buyer.vendor_detail", vendor_id=vendor_id))


@bp.route("/vendors/<int:vendor_id>/invitations/<int:invitation_id>/revoke",
          methods=["GET", "POST"])
@requires("vendors.edit")
def revoke_invitation(vendor_id: int, invitation_id: int) -> Any:
    """Confirm, then withdraw an invitation."""
    vendor = _vendor(vendor_id)
    invitation = invitation_of(vendor, invitation_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        invitations.revoke_invitation(invitation, by=current_user)
        flash(_("Invitation withdrawn."), "success")
        return redirect(url_for("buyer.vendor_detail", vendor_id=vendor.id))
    return render_template("buyer/revoke_invitation.html", vendor=vendor, invitation=invitation,
                           form=form)


@bp.route("/vendors/<int:vendor_id>/archive", methods=["GET", "POST"])
@requires("vendors.edit")
def archive_vendor(vendor_id: int) -> Any:
    """Confirm, then archive a vendor (refused while it has open assessments)."""
    vendor = _vendor(vendor_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        vendors.archive_vendor(vendor, by=current_user)
        flash(_("%(vendor)s is archived. Its records are kept; restore it to send it assessments "
                "again.", vendor=vendor.legal_name), "success")
        return redirect(url_for("buyer.vendors"))
    return render_template("buyer/archive_vendor.html", vendor=vendor, form=form,
                           still_open=vendors.open_assessments(vendor))


@bp.post("/vendors/<int:vendor_id>/restore")
@requires("vendors.edit")
def restore_vendor(vendor_id: int) -> Any:
    """Bring an archived vendor back to the lists."""
    vendor = _vendor(vendor_id)
    if not ConfirmForm().validate_on_submit():
        return render_error(400)
    vendors.restore_vendor(vendor, by=current_user)
    flash(_("%(vendor)s is restored.", vendor=vendor.legal_name), "success")
    return redirect(url_for("buyer.vendor_detail", vendor_id=vendor.id))


@bp.route("/vendors/<int:vendor_id>/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
@requires("vendors.edit")
def edit_contact(vendor_id: int, contact_id: int) -> Any:
    """Edit a contact; a new e-mail address revokes what was sent to the old one."""
    vendor = _vendor(vendor_id)
    contact = contact_of(vendor, contact_id)
    form = ContactForm(obj=contact)
    if request.method == "GET":
        form.language.data = contact.language or ""
    if form.validate_on_submit():
        data = vendors.ContactData(name=form.name.data, email=form.email.data,
                                   language=form.language.data or None, role=form.role.data or "")
        try:
            vendors.update_contact(contact, data, by=current_user)
        except ValidationFailed as exc:
            db.session.rollback()
            form.form_errors.append(exc.message)
        else:
            flash(_("Contact saved."), "success")
            return redirect(url_for("buyer.vendor_detail", vendor_id=vendor.id))
    status = 422 if request.method == "POST" else 200
    return render_template("buyer/contact_form.html", form=form, vendor=vendor,
                           contact=contact), status


@bp.route("/vendors/<int:vendor_id>/contacts/<int:contact_id>/remove", methods=["GET", "POST"])
@requires("vendors.edit")
def remove_contact(vendor_id: int, contact_id: int) -> Any:
    """Confirm, then remove a contact (refused while they receive an open assessment)."""
    vendor = _vendor(vendor_id)
    contact = contact_of(vendor, contact_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        name = contact.name
        vendors.remove_contact(contact, by=current_user)
        flash(_("%(name)s is no longer a contact of %(vendor)s.", name=name,
                vendor=vendor.legal_name), "success")
        return redirect(url_for("buyer.vendor_detail", vendor_id=vendor.id))
    return render_template("buyer/remove_contact.html", vendor=vendor, contact=contact, form=form,
                           still_open=vendors.contact_open_assessments(contact))
