"""Organisation membership: invite a colleague, change a role, remove a member."""

from __future__ import annotations

from sqlalchemy import func, select

from vendorcheck import audit, mail
from vendorcheck.extensions import db
from vendorcheck.models import Invitation, InvitationKind, Membership, Organisation, Role, User
from vendorcheck.services import invitations as _inv
from vendorcheck.services.errors import AlreadyMember, InvalidRole, LastAdmin


def allowed_roles(org: Organisation) -> list[Role]:
    """Return the roles that exist in this organisation."""
    from vendorcheck.access import roles_for

    return roles_for(org)


def list_members(org: Organisation) -> list[Membership]:
    """Return the organisation's members by name."""
    query = (select(Membership).join(Membership.user)
             .where(Membership.organisation_id == org.id).order_by(User.name, User.id))
    return list(db.session.scalars(query))


def pending_colleague_invitations(org: Organisation) -> list[Invitation]:
    """Return the colleague invitations of an organisation, newest first."""
    query = (select(Invitation).where(Invitation.organisation_id == org.id,
                                      Invitation.kind == InvitationKind.COLLEAGUE,
                                      Invitation.used_at.is_(None))
             .order_by(Invitation.id.desc()))
    return list(db.session.scalars(query))


def invite_colleague(org: Organisation, email: str, name: str, role: Role, *, by: User) -> Invitation:
    """Invite someone to join the organisation with a role; e-mail the link."""
    if role not in allowed_roles(org):
        raise InvalidRole()
    address = email.strip().lower()
    already = select(Membership.id).join(Membership.user).where(
        Membership.organisation_id == org.id, User.email == address)
    if db.session.scalar(already) is not None:
        raise AlreadyMember()
    invitation, token = _inv.new_invitation(
        kind=InvitationKind.COLLEAGUE, org=org, vendor=None, email=address, name=name, role=role,
        by=by)
    message = _inv.queue_invitation_mail(invitation, token)
    audit.record("invitation_sent", by=by, org=org, obj=invitation,
                 details={"email": address, "role": role.value, "kind": "colleague"})
    db.session.commit()
    mail.dispatch([message])
    return invitation


def _admin_count(org_id: int) -> int:
    """Count the administrators of an organisation (locking their rows on PostgreSQL)."""
    rows = db.session.scalars(
        select(Membership.id).where(Membership.organisation_id == org_id,
                                    Membership.role == Role.ADMIN).with_for_update())
    return len(list(rows))


def change_role(membership: Membership, role: Role, *, by: User) -> None:
    """Give a member another role; the last administrator cannot be demoted."""
    if role not in allowed_roles(membership.organisation):
        raise InvalidRole()
    old = membership.role
    if old is Role.ADMIN and role is not Role.ADMIN and _admin_count(membership.organisation_id) <= 1:
        raise LastAdmin()
    membership.role = role
    audit.record("role_changed", by=by, org=membership.organisation_id, obj=membership,
                 details={"user_id": membership.user_id, "email": membership.user.email,
                          "from": old.value, "to": role.value})
    db.session.commit()


def remove_member(membership: Membership, *, by: User) -> None:
    """Remove someone from the organisation; never the last administrator."""
    if membership.role is Role.ADMIN and _admin_count(membership.organisation_id) <= 1:
        raise LastAdmin()
    details = {"user_id": membership.user_id, "email": membership.user.email,
               "role": membership.role.value}
    org_id = membership.organisation_id
    audit.record("member_removed", by=by, org=org_id, obj=membership, details=details)
    db.session.delete(membership)
    db.session.commit()


def member_count(org: Organisation) -> int:
    """Return how many members an organisation has."""
    return int(db.session.scalar(
        select(func.count(Membership.id)).where(Membership.organisation_id == org.id)) or 0)
