"""The API's vendors: CRUD with ETag and If-Match, contacts, idempotent creates, cursor pages, audit."""

from __future__ import annotations

from sqlalchemy import func, select

from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry, Vendor


def test_create_read_and_update_a_vendor_with_if_match(app, api):
    created = api("a.assessor", "POST", "/vendors", json={
        "legal_name": "Acme Cloud", "country": "FR", "data_categories": ["contact"], "criticality": "high"})
    assert created.status_code == 201, created.get_json()
    vendor_id = created.get_json()["id"]
    read = api("a.assessor", "GET", f"/vendors/{vendor_id}", scope="read")
    assert read.status_code == 200 and read.get_json()["criticality"] == "high"
    etag = read.headers["ETag"]

    missing = api("a.assessor", "PATCH", f"/vendors/{vendor_id}", json={"services": "Hosting"})
    stale = api("a.assessor", "PATCH", f"/vendors/{vendor_id}", json={"services": "Hosting"},
                headers={"If-Match": '"0123"'})
    fresh = api("a.assessor", "PATCH", f"/vendors/{vendor_id}", json={"services": "Hosting"},
                headers={"If-Match": etag})

    assert missing.status_code == 428 and missing.get_json()["error"]["code"] == "precondition_required"
    assert stale.status_code == 412 and stale.get_json()["error"]["code"] == "precondition_failed"
    assert fresh.status_code == 200 and fresh.get_json()["services"] == "Hosting"
    assert fresh.get_json()["legal_name"] == "Acme Cloud"  # fields not sent stay
    assert fresh.headers["ETag"] != etag
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action.in_(
            ["vendor_created", "vendor_updated"])).order_by(AuditEntry.id)).all()
        assert [e.action for e in entries] == ["vendor_created", "vendor_updated"]
        assert all(isinstance(e.details.get("api_token_id"), int) for e in entries)


def test_a_repeated_idempotency_key_creates_once(app, api):
    body = {"legal_name": "Once Ltd"}
    first = api("a.admin", "POST", "/vendors", json=body, headers={"Idempotency-Key": "k-1"})
    again = api("a.admin", "POST", "/vendors", json=body, headers={"Idempotency-Key": "k-1"})
    other = api("a.admin", "POST", "/vendors", json={"legal_name": "Twice"},
                headers={"Idempotency-Key": "k-1"})

    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert other.status_code == 422 and other.get_json()["error"]["code"] == "validation_failed"
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Vendor.legal_name == "Once Ltd")) == 1


def test_contacts_are_added_with_an_invitation_and_listed(api, world):
    vendor_id = world["a"].vendor.id
    added = api("a.assessor", "POST", f"/vendors/{vendor_id}/contacts",
                json={"name": "Dana", "email": "dana@vendor-a.example"})
    listed = api("a.legal", "GET", f"/vendors/{vendor_id}/contacts", scope="read")

    assert added.status_code == 201 and added.get_json()["state"] == "pending"
    assert "dana@vendor-a.example" in [c["email"] for c in listed.get_json()]


def test_pages_follow_the_cursor_without_gaps_or_repeats(app, api):
    names = [f"Paged {n:02d}" for n in range(7)]
    for name in names:
        assert api("a.admin", "POST", "/vendors", json={"legal_name": name}).status_code == 201
    for sort in ("id", "-id", "created_at", "-created_at"):
        seen, cursor = [], None
        while True:
            query = f"/vendors?limit=3&sort={sort}&q=paged" + (f"&cursor={cursor}" if cursor else "")
            page = api("a.admin", "GET", query, scope="read").get_json()
            seen += [v["legal_name"] for v in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == names and len(seen) == len(set(seen)), sort
        if sort.startswith("-"):
            assert seen == sorted(seen, reverse=True), sort


def test_a_forged_or_foreign_cursor_answers_400(api):
    for name in ("One", "Two"):
        api("a.admin", "POST", "/vendors", json={"legal_name": name})
    cursor = api("a.admin", "GET", "/vendors?limit=1", scope="read").get_json()["next_cursor"]
    assert cursor
    forged = api("a.admin", "GET", f"/vendors?cursor={cursor[:-2]}xx", scope="read")
    foreign = api("a.admin", "GET", f"/vendors?cursor={cursor}&sort=-id", scope="read")
    for response in (forged, foreign):
        assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_request"


def test_invitations_are_listed_resent_and_revoked(app, api, world):
    vendor_id, invitation_id = world["a"].vendor.id, world["a"].vendor_invitation.id
    path = f"/vendors/{vendor_id}/invitations"
    listed = api("a.legal", "GET", path, scope="read")
    assert listed.status_code == 200 and invitation_id in [i["id"] for i in listed.get_json()["items"]]

    resent = api("a.assessor", "POST", f"{path}/{invitation_id}/resend")
    revoked = api("a.assessor", "POST", f"{path}/{invitation_id}/revoke")
    closed = api("a.assessor", "POST", f"{path}/{invitation_id}/resend")

    assert resent.status_code == 200 and resent.get_json()["state"] == "pending"
    assert revoked.status_code == 200 and revoked.get_json()["state"] == "revoked"
    assert closed.status_code == 409 and closed.get_json()["error"]["code"] == "conflict"
    assert api("a.legal", "POST", f"{path}/{invitation_id}/revoke").status_code == 403
    assert api("a.assessor", "POST", f"{path}/{invitation_id}/revoke", scope="read").status_code == 403
    b_path = f"/vendors/{world['b'].vendor.id}/invitations/{world['b'].vendor_invitation.id}"
    assert api("a.assessor", "POST", f"{b_path}/revoke").status_code == 404
    # Another vendor's invitation under this vendor's path is not found either.
    assert api("b.admin", "POST", f"/vendors/{world['b'].vendor.id}/invitations/{invitation_id}/revoke"
               ).status_code == 404
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.in_(
            ["invitation_resent", "invitation_revoked"])).order_by(AuditEntry.id)).all()
        assert actions == ["invitation_resent", "invitation_revoked"]
