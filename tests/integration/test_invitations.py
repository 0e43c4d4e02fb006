"""Vendor contact and colleague invitations: single use, expiring, bound to one address."""

from __future__ import annotations

from sqlalchemy import func, select, text

from tests.factories.accounts import PASSWORD, make_invitation, make_user
from tests.integration.conftest import outbox
from vendorcheck.extensions import db
from vendorcheck.models import Invitation, Membership, Organisation, Role, User, Vendor
from vendorcheck.services import invitations
from vendorcheck.services.errors import TokenUsed

NEW_ACCOUNT = {"name": "Nina Vendor", "password": "vendor-password-1", "locale": "en"}


def _link_path(app, message):
    link = next(line for line in message.body_text.splitlines() if "/auth/invitations/" in line)
    assert link.startswith(app.config["BASE_URL"])
    return link[len(app.config["BASE_URL"]):]


def test_buyer_invites_a_contact_who_creates_the_vendor_org(app, client, login_as):
    from tests.factories.accounts import make_org, make_vendor

    with app.app_context():
        buyer = make_org("Acme")
        vendor_id = make_vendor(buyer, "CloudCRM SAS").id
        assessor = make_user("assessor@acme.example", org=buyer, role=Role.ASSESSOR)
    login_as(assessor)
    response = client.post(f"/buyer/vendors/{vendor_id}/invite",
                           data={"name": "Nina", "email": "Nina@CloudCRM.example"})
    assert response.status_code == 302
    [message] = outbox(app)
    assert message.to_email == "nina@cloudcrm.example" and message.ref_type == "invitation"
    path = _link_path(app, message)
    token = path.rsplit("/", 1)[1]
    with app.app_context():
        stored = db.session.execute(text("SELECT * FROM invitation")).all()
    assert token not in repr(stored), "only the token's hash is stored"

    login_as(None)
    assert client.get(path).status_code == 200
    response = client.post(path, data=NEW_ACCOUNT)
    assert response.status_code == 302 and token not in response.headers["Location"]
    assert response.headers["Location"] == "/vendor/assessments", "a vendor lands on its questionnaires"
    with app.app_context():
        linked = db.session.get(Vendor, vendor_id)
        assert linked.vendor_org is not None and linked.vendor_org.is_vendor
        user = db.session.scalar(select(User).where(User.email == "nina@cloudcrm.example"))
        membership = db.session.scalar(select(Membership).where(Membership.user_id == user.id))
        assert membership.organisation_id == linked.vendor_org_id
        assert membership.role is Role.ADMIN
    assert client.get("/org/members").status_code == 200, "logged in as the vendor admin"
    client.post("/auth/logout")
    assert client.get(path).status_code == 410, "used twice"


def test_forged_expired_revoked_tokens_get_clear_pages(app, client, world):
    with app.app_context():
        org = db.session.get(Organisation, world["a"].buyer.id)
        _inv, expired = make_invitation(org, "late@x.example", days=-1)
        _inv, revoked = make_invitation(org, "gone@x.example", revoked=True)
        _inv, used = make_invitation(org, "done@x.example", used=True)
    forged = client.get("/auth/invitations/not-a-real-token")
    assert forged.status_code == 404 and "not valid" in forged.get_data(as_text=True)
    assert client.get(f"/auth/invitations/{'x' * 5000}").status_code == 404
    assert client.get(f"/auth/invitations/{expired}").status_code == 410
    assert "expired" in client.get(f"/auth/invitations/{expired}").get_data(as_text=True)
    assert client.get(f"/auth/invitations/{revoked}").status_code == 410
    assert client.get(f"/auth/invitations/{used}").status_code == 410
    assert client.post(f"/auth/invitations/{expired}", data=NEW_ACCOUNT).status_code == 410


def test_another_logged_in_address_gets_403(app, client, world, login_as):
    login_as(world.user("b.admin"))
    response = client.get(f"/auth/invitations/{world['a'].vendor_token}")
    assert response.status_code == 403
    assert "another e-mail address" in response.get_data(as_text=True)
    assert client.post(f"/auth/invitations/{world['a'].vendor_token}").status_code == 403


def test_existing_account_logs_in_then_accepts(app, client, world, login):
    with app.app_context():
        make_user("new-contact@vendor-a.example")
    path = f"/auth/invitations/{world['a'].vendor_token}"
    page = client.get(path)
    assert "Log in to accept" in page.get_data(as_text=True)
    response = login("new-contact@vendor-a.example", PASSWORD, query_string={"next": path})
    assert response.headers["Location"] == path
    assert client.post(path).status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "new-contact@vendor-a.example"))
        membership = db.session.scalar(select(Membership).where(Membership.user_id == user.id))
        assert membership.organisation_id == world["a"].vendor_org.id
        assert membership.role is Role.CONTRIBUTOR


def test_the_second_acceptance_of_one_token_fails(app, world):
    with app.test_request_context():
        user = db.session.get(User, world.user("a.admin").id)
        _inv, token = make_invitation(db.session.get(Organisation, world["b"].buyer.id),
                                      "admin@a.example", role=Role.LEGAL)
        invitations.accept_invitation(token, by=user)
        try:
            invitations.accept_invitation(token, by=user)
        except TokenUsed:
            pass
        else:
            raise AssertionError("a token must work once")
        count = db.session.scalar(select(func.count(Membership.id)).where(
            Membership.user_id == user.id))
    assert count == 2


def test_resend_replaces_the_link_and_revoke_closes_it(app, client, world, login_as):
    a = world["a"]
    login_as(world.user("a.assessor"))
    base = f"/buyer/vendors/{a.vendor.id}/invitations/{a.vendor_invitation.id}"
    assert client.post(f"{base}/resend").status_code == 302
    assert client.get(f"/auth/invitations/{a.vendor_token}").status_code == 404, "old link dead"
    new_path = _link_path(app, outbox(app)[-1])
    login_as(None)
    assert client.get(new_path).status_code == 200
    login_as(world.user("a.assessor"))
    assert "Withdraw the invitation" in client.get(f"{base}/revoke").get_data(as_text=True)
    assert client.post(f"{base}/revoke").status_code == 302
    login_as(None)
    assert client.get(new_path).status_code == 410
    login_as(world.user("a.assessor"))
    assert client.post(f"{base}/resend").status_code == 409


def test_invitation_expiry_follows_the_setting(app, client, world, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "INVITATION_DAYS", 3)
    login_as(world.user("a.admin"))
    client.post(f"/buyer/vendors/{world['a'].vendor.id}/invite",
                data={"name": "Sam", "email": "sam@x.example"})
    with app.app_context():
        inv = db.session.scalar(select(Invitation).where(Invitation.email == "sam@x.example"))
        days = (inv.expires_at - inv.created_at).days
    assert days in (2, 3)
