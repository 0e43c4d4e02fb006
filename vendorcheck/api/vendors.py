"""Vendor records of the token's (buyer) organisation, and their contacts."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import fields
from sqlalchemy import select

from vendorcheck.access import active_org, get_owned_or_404
from vendorcheck.api import paging
from vendorcheck.api.auth import READ, WRITE, allows, current_user_of_token
from vendorcheck.api.common import IDEMPOTENCY_DOC, api_blueprint, idempotent
from vendorcheck.api.schemas import (
    ContactChanges,
    ContactInput,
    ContactSchema,
    InvitationSchema,
    Strict,
    VendorChanges,
    VendorInput,
    VendorPage,
    VendorQuery,
    VendorSchema,
)
from vendorcheck.buyer.vendors import contact_of, invitation_of
from vendorcheck.models import Contact, Invitation, Vendor
from vendorcheck.services import invitations
from vendorcheck.services import vendors as svc
from vendorcheck.services.invitations import invite_vendor_contact

blp = api_blueprint("vendors", "/vendors", "Vendor records of a buyer organisation, and their contacts.")


class InvitationPage(paging.PageSchema):
    items = fields.List(fields.Nested(InvitationSchema), required=True)


class InvitationQuery(paging.PageArgs, Strict):
    """Invitations take the common page arguments."""


def _vendor(vendor_id: int) -> Vendor:
    return get_owned_or_404(Vendor, vendor_id, "buyer_org_id")


def _data(values: dict[str, Any], base: Vendor | None = None) -> svc.VendorData:
    """Build a vendor's fields from what was sent, keeping the stored ones that were not."""
    current = {} if base is None else {
        "legal_name": base.legal_name, "country": base.country, "website": base.website,
        "services": base.services, "data_categories": list(base.data_categories or []),
        "criticality": base.criticality, "owner_id": base.owner_id}
    return svc.VendorData(**{**current, **values})


@blp.route("")
class VendorsView(MethodView):
    @allows("vendors.view", READ)
    @blp.arguments(VendorQuery, location="query", unknown="raise")
    @blp.response(200, VendorPage)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List vendors (search with `q`); archived vendors only with `archived=true`."""
        query = svc.search_query(active_org(), args.get("q"), archived=args["archived"]).order_by(None)
        return paging.page_body(query, Vendor, args)

    @allows("vendors.edit", WRITE)
    @idempotent
    @blp.arguments(VendorInput)
    @blp.response(201, VendorSchema)
    @blp.doc(parameters=[IDEMPOTENCY_DOC])
    def post(self, values: dict[str, Any]) -> Vendor:
        """Register a vendor."""
        return svc.create_vendor(active_org(), _data(values), by=current_user_of_token())


@blp.route("/<int:vendor_id>")
class VendorView(MethodView):
    @allows("vendors.view", READ)
    @blp.etag
    @blp.response(200, VendorSchema)
    def get(self, vendor_id: int) -> Vendor:
        """Read a vendor record."""
        return _vendor(vendor_id)

    @allows("vendors.edit", WRITE)
    @blp.etag
    @blp.arguments(VendorChanges(partial=True))
    @blp.response(200, VendorSchema)
    def patch(self, values: dict[str, Any], vendor_id: int) -> Vendor:
        """Change some fields of a vendor record (send If-Match with the ETag you read)."""
        vendor = _vendor(vendor_id)
        blp.check_etag(vendor, VendorSchema)
        return svc.update_vendor(vendor, _data(values, vendor), by=current_user_of_token())

    @allows("vendors.edit", WRITE)
    @blp.response(204)
    def delete(self, vendor_id: int) -> None:
        """Archive a vendor (not a deletion: its assessments, evidence, reports and audit trail
        stay). 409 while it has open assessments; archiving an archived vendor changes nothing."""
        svc.archive_vendor(_vendor(vendor_id), by=current_user_of_token())


@blp.route("/<int:vendor_id>/restore")
class RestoreVendorView(MethodView):
    @allows("vendors.edit", WRITE)
    @blp.response(200, VendorSchema)
    def post(self, vendor_id: int) -> Vendor:
        """Restore an archived vendor to the lists (an active vendor is returned unchanged)."""
        return svc.restore_vendor(_vendor(vendor_id), by=current_user_of_token())


@blp.route("/<int:vendor_id>/contacts")
class ContactsView(MethodView):
    @allows("vendors.view", READ)
    @blp.response(200, ContactSchema(many=True))
    def get(self, vendor_id: int) -> list[Contact]:
        """List a vendor's contacts."""
        return list(_vendor(vendor_id).contacts)

    @allows("vendors.edit", WRITE)
    @idempotent
    @blp.arguments(ContactInput)
    @blp.response(201, InvitationSchema)
    @blp.doc(parameters=[IDEMPOTENCY_DOC])
    def post(self, values: dict[str, Any], vendor_id: int) -> Invitation:
        """Add a contact and e-mail them an invitation (as the web's "Invite a contact")."""
        return invite_vendor_contact(_vendor(vendor_id), values["name"], values["email"],
                                     by=current_user_of_token())


@blp.route("/<int:vendor_id>/contacts/<int:contact_id>")
class ContactView(MethodView):
    @allows("vendors.view", READ)
    @blp.etag
    @blp.response(200, ContactSchema)
    def get(self, vendor_id: int, contact_id: int) -> Contact:
        """Read a contact."""
        return contact_of(_vendor(vendor_id), contact_id)

    @allows("vendors.edit", WRITE)
    @blp.etag
    @blp.arguments(ContactChanges)
    @blp.response(200, ContactSchema)
    def patch(self, values: dict[str, Any], vendor_id: int, contact_id: int) -> Contact:
        """Change a contact's name, e-mail, language or role (send If-Match with the ETag you read).
        A new e-mail revokes the invitations and answer links sent to the old one; an open
        assessment answered by link gets a new link at the new address."""
        contact = contact_of(_vendor(vendor_id), contact_id)
        blp.check_etag(contact, ContactSchema)
        current = {"name": contact.name, "email": contact.email, "language": contact.language,
                   "role": contact.role}
        return svc.update_contact(contact, svc.ContactData(**{**current, **values}),
                                  by=current_user_of_token())

    @allows("vendors.edit", WRITE)
    @blp.response(204)
    def delete(self, vendor_id: int, contact_id: int) -> None:
        """Remove a contact (409 naming the assessments while they receive an open one)."""
        svc.remove_contact(contact_of(_vendor(vendor_id), contact_id), by=current_user_of_token())


@blp.route("/<int:vendor_id>/invitations")
class InvitationsView(MethodView):
    @allows("vendors.view", READ)
    @blp.arguments(InvitationQuery, location="query", unknown="raise")
    @blp.response(200, InvitationPage)
    def get(self, args: dict[str, Any], vendor_id: int) -> dict[str, Any]:
        """List the invitations sent to a vendor's contacts, with their state."""
        query = select(Invitation).where(Invitation.vendor_id == _vendor(vendor_id).id)
        return paging.page_body(query, Invitation, args)


@blp.route("/<int:vendor_id>/invitations/<int:invitation_id>/resend")
class ResendInvitationView(MethodView):
    @allows("vendors.edit", WRITE)
    @blp.response(200, InvitationSchema)
    def post(self, vendor_id: int, invitation_id: int) -> Invitation:
        """Send an invitation again with a new link (the old one stops working; 409 once closed)."""
        invitation = invitation_of(_vendor(vendor_id), invitation_id)
        return invitations.resend_invitation(invitation, by=current_user_of_token())


@blp.route("/<int:vendor_id>/invitations/<int:invitation_id>/revoke")
class RevokeInvitationView(MethodView):
    @allows("vendors.edit", WRITE)
    @blp.response(200, InvitationSchema)
    def post(self, vendor_id: int, invitation_id: int) -> Invitation:
        """Withdraw an invitation: its link stops working (409 once closed)."""
        invitation = invitation_of(_vendor(vendor_id), invitation_id)
        invitations.revoke_invitation(invitation, by=current_user_of_token())
        return invitation
