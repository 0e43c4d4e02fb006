"""Organisation administration: members, colleague invitations, roles, removal."""

from __future__ import annotations

from sqlalchemy import select

from tests.integration.conftest import outbox
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry, Membership, Role, User


def test_admin_invites_a_colleague_who_joins_with_the_role(app, client, world, login_as):
    login_as(world.user("a.admin"))
    response = client.post("/org/members/invite",
                           data={"name": "Léa", "email": "lea@a.example", "role": "legal"})
    assert response.status_code == 302
    message = outbox(app)[-1]
    assert message.template == "colleague_invitation"
    path = message.body_text.split(app.config["BASE_URL"], 1)[1].split()[0]
    login_as(None)
    client.post(path, data={"name": "Léa", "password": "lea-password-12", "locale": "fr"})
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "lea@a.example"))
        [membership] = user.memberships
        assert membership.organisation_id == world["a"].buyer.id
        assert membership.role is Role.LEGAL


def test_inviting_an_existing_member_is_refused(app, client, world, login_as):
    login_as(world.user("a.admin"))
    response = client.post("/org/members/invite",
                           data={"email": "legal@a.example", "role": "admin"})
    assert response.status_code == 422
    assert "already a member" in response.get_data(as_text=True)


def test_vendor_org_roles_exclude_buyer_roles(app, client, world, login_as):
    login_as(world.user("a.vendor"))
    response = client.post("/org/members/invite", data={"email": "x@v.example", "role": "legal"})
    assert response.status_code == 422


def test_change_role_and_remove_member_with_confirmation(app, client, world, login_as):
    login_as(world.user("a.admin"))
    legal = world.extra["legal_membership_a"]
    assert client.post(f"/org/members/{legal}/role", data={"role": "assessor"}).status_code == 302
    page = client.get(f"/org/members/{legal}/remove")
    assert page.status_code == 200 and "Remove the member" in page.get_data(as_text=True)
    assert client.post(f"/org/members/{legal}/remove").status_code == 302
    with app.app_context():
        assert db.session.get(Membership, legal) is None
        actions = list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions[-2:] == ["role_changed", "member_removed"]


def test_the_last_admin_cannot_leave_or_be_demoted(app, client, world, login_as):
    login_as(world.user("a.admin"))
    with app.app_context():
        own = db.session.scalar(select(Membership.id).where(
            Membership.user_id == world.user("a.admin").id))
    response = client.post(f"/org/members/{own}/role", data={"role": "legal"})
    assert response.status_code == 409 and "at least one administrator" in response.get_data(
        as_text=True)
    assert client.post(f"/org/members/{own}/remove").status_code == 409
    with app.app_context():
        assert db.session.get(Membership, own).role is Role.ADMIN


def test_unknown_role_is_refused(app, client, world, login_as):
    login_as(world.user("a.admin"))
    legal = world.extra["legal_membership_a"]
    assert client.post(f"/org/members/{legal}/role", data={"role": "owner"}).status_code == 422


def test_switching_to_an_organisation_one_is_not_in_is_404(app, client, world, login_as):
    login_as(world.user("a.admin"))
    other = world["b"].buyer.id
    assert client.post("/org/switch", data={"org_id": other}).status_code == 404
    assert client.post("/org/switch", data={"org_id": "99999999999999999999"}).status_code == 404
