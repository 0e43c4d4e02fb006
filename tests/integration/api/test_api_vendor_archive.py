"""The API's vendor archive (DELETE archives, restore, list filter) and contact edit and removal."""

from __future__ import annotations

from sqlalchemy import select

from tests.factories.accounts import make_invitation, make_vendor
from tests.factories.assessments import make_assessment, make_contact
from tests.factories.links import make_answer_link
from tests.integration.conftest import db_fingerprint, outbox
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry, Contact, Invitation, Organisation, Role, Vendor
from vendorcheck.models.assessments import Assessment, AssessmentStatus
from vendorcheck.models.links import AnswerLink


def _vendor(app, world, status=AssessmentStatus.DECIDED):
    """Add a vendor to buyer A with one contact who received one assessment in `status`."""
    with app.app_context():
        buyer = db.session.get(Organisation, world["a"].buyer.id)
        vendor = make_vendor(buyer, "Api Archivable SAS")
        contact = make_contact(vendor, "eve@archivable.example", "Eve")
        assessment = make_assessment(buyer, vendor, contact=contact, status=status)
        return vendor.id, contact.id, assessment.id


def _error(response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == code
    return response.get_json()["error"]


def _stored(app):
    return db_fingerprint(app, ("audit_entry", "audit_chain_head", "api_token"))


def test_delete_archives_the_vendor_and_restore_brings_it_back(app, api, world):
    vendor_id, _c, assessment_id = _vendor(app, world)

    deleted = api("a.assessor", "DELETE", f"/vendors/{vendor_id}")
    again = api("a.assessor", "DELETE", f"/vendors/{vendor_id}")

    assert deleted.status_code == 204 and deleted.get_data() == b""
    assert again.status_code == 204, "archiving an archived vendor changes nothing"
    active = api("a.legal", "GET", "/vendors?q=archivable", scope="read").get_json()["items"]
    archived = api("a.legal", "GET", "/vendors?q=archivable&archived=true", scope="read").get_json()
    assert active == [] and [v["id"] for v in archived["items"]] == [vendor_id]
    assert archived["items"][0]["archived_at"] is not None
    read = api("a.legal", "GET", f"/vendors/{vendor_id}", scope="read")
    assert read.status_code == 200 and read.get_json()["archived_at"] is not None
    with app.app_context():
        assert db.session.get(Assessment, assessment_id) is not None
        assert db.session.get(Vendor, vendor_id) is not None, "not a deletion"

    restored = api("a.admin", "POST", f"/vendors/{vendor_id}/restore")
    assert restored.status_code == 200 and restored.get_json()["archived_at"] is None
    listed = api("a.legal", "GET", "/vendors?q=archivable&archived=false", scope="read").get_json()
    assert [v["id"] for v in listed["items"]] == [vendor_id]
    with app.app_context():
        actions = list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.in_(
            ["vendor_archived", "vendor_restored"])).order_by(AuditEntry.id)))
    assert actions == ["vendor_archived", "vendor_restored"]


def test_delete_is_refused_while_an_assessment_is_open(app, api, world):
    vendor_id, _c, assessment_id = _vendor(app, world, status=AssessmentStatus.IN_REVIEW)
    before = _stored(app)

    error = _error(api("a.admin", "DELETE", f"/vendors/{vendor_id}"), 409, "conflict")

    assert f"#{assessment_id}" in error["message"]
    assert _stored(app) == before


def test_an_archived_vendor_cannot_be_sent_an_assessment_or_invite(app, api, world):
    vendor_id, contact_id, _a = _vendor(app, world)
    assert api("a.admin", "DELETE", f"/vendors/{vendor_id}").status_code == 204
    catalogue = api("a.admin", "GET", "/questionnaires", scope="read").get_json()
    questionnaire = catalogue[0] if isinstance(catalogue, list) else catalogue["items"][0]
    before = _stored(app)

    sent = api("a.admin", "POST", "/assessments", json={
        "vendor_id": vendor_id, "questionnaire_id": questionnaire["id"],
        "questionnaire_version": questionnaire["version"], "contact_ids": [contact_id]})
    invited = api("a.admin", "POST", f"/vendors/{vendor_id}/contacts",
                  json={"name": "New", "email": "new@archivable.example"})

    assert "archived" in _error(sent, 409, "conflict")["message"]
    assert "archived" in _error(invited, 409, "conflict")["message"]
    assert _stored(app) == before


def test_patch_a_contact_with_if_match_and_a_new_email_revokes_the_old_links(app, api, client, world):
    vendor_id, contact_id, assessment_id = _vendor(app, world, status=AssessmentStatus.SENT)
    with app.app_context():
        vendor = db.session.get(Vendor, vendor_id)
        _inv, invitation_token = make_invitation(vendor.buyer_org, "eve@archivable.example", vendor=vendor,
                                                 role=Role.CONTRIBUTOR)
        old_link = make_answer_link(db.session.get(Assessment, assessment_id),
                                    db.session.get(Contact, contact_id))
    url = f"/vendors/{vendor_id}/contacts/{contact_id}"
    read = api("a.assessor", "GET", url, scope="read")
    assert read.status_code == 200 and read.get_json()["role"] == ""

    missing = api("a.assessor", "PATCH", url, json={"role": "DPO"})
    stale = api("a.assessor", "PATCH", url, json={"role": "DPO"}, headers={"If-Match": '"0123"'})
    fresh = api("a.assessor", "PATCH", url, json={"email": "Eve@New.example", "language": "fr",
                                                  "role": "DPO"}, headers={"If-Match": read.headers["ETag"]})

    assert missing.status_code == 428 and stale.status_code == 412
    assert fresh.status_code == 200, fresh.get_json()
    assert {k: fresh.get_json()[k] for k in ("name", "email", "language", "role")} == {
        "name": "Eve", "email": "eve@new.example", "language": "fr", "role": "DPO"}
    assert client.get(f"/vendor/link/{old_link}").status_code == 404
    assert client.get(f"/auth/invitations/{invitation_token}").status_code == 410
    assert outbox(app)[-1].to_email == "eve@new.example"
    with app.app_context():
        live = db.session.scalars(select(AnswerLink.email).where(
            AnswerLink.assessment_id == assessment_id, AnswerLink.revoked_at.is_(None))).all()
        assert live == ["eve@new.example"]
        assert db.session.scalar(select(Invitation.revoked_at).where(
            Invitation.email == "eve@archivable.example")) is not None


def test_delete_a_contact_refused_while_they_receive_an_open_assessment(app, api, world):
    vendor_id, contact_id, assessment_id = _vendor(app, world, status=AssessmentStatus.SENT)
    before = _stored(app)

    error = _error(api("a.admin", "DELETE", f"/vendors/{vendor_id}/contacts/{contact_id}"), 409, "conflict")

    assert f"#{assessment_id}" in error["message"] and "Eve" in error["message"]
    assert _stored(app) == before


def test_delete_a_contact_of_closed_assessments_only(app, api, world):
    vendor_id, contact_id, assessment_id = _vendor(app, world, status=AssessmentStatus.CANCELLED)

    deleted = api("a.admin", "DELETE", f"/vendors/{vendor_id}/contacts/{contact_id}")

    assert deleted.status_code == 204
    assert api("a.admin", "GET", f"/vendors/{vendor_id}/contacts/{contact_id}",
               scope="read").status_code == 404
    with app.app_context():
        assert db.session.get(Contact, contact_id) is None
        assert db.session.get(Assessment, assessment_id) is not None


def test_bad_input_wrong_role_scope_and_tenant(app, api, world):
    vendor_id, contact_id, _a = _vendor(app, world)
    url = f"/vendors/{vendor_id}/contacts/{contact_id}"
    etag = api("a.admin", "GET", url, scope="read").headers["ETag"]
    with app.app_context():
        taken = make_contact(db.session.get(Vendor, vendor_id), "taken@archivable.example", "Taken")
        assert taken.id
    before = _stored(app)

    unknown = _error(api("a.admin", "PATCH", url, json={"phone": "1"}, headers={"If-Match": etag}),
                     422, "validation_failed")
    bad_language = _error(api("a.admin", "PATCH", url, json={"language": "de"}, headers={"If-Match": etag}),
                          422, "validation_failed")
    bad_email = _error(api("a.admin", "PATCH", url, json={"email": "nope"}, headers={"If-Match": etag}),
                       422, "validation_failed")
    duplicate = _error(api("a.admin", "PATCH", url, json={"email": "taken@archivable.example"},
                           headers={"If-Match": etag}), 422, "validation_failed")
    bad_filter = _error(api("a.admin", "GET", "/vendors?archived=maybe", scope="read"), 422,
                        "validation_failed")

    assert "phone" in unknown["details"]["json"] and "language" in bad_language["details"]["json"]
    assert "email" in bad_email["details"]["json"] and "already has" in duplicate["message"]
    assert "archived" in bad_filter["details"]["query"]
    _error(api("a.legal", "DELETE", f"/vendors/{vendor_id}"), 403, "forbidden")
    _error(api("a.legal", "DELETE", url), 403, "forbidden")
    _error(api("a.admin", "DELETE", f"/vendors/{vendor_id}", scope="read"), 403, "forbidden")
    _error(api("a.admin", "POST", f"/vendors/{vendor_id}/restore", scope="read"), 403, "forbidden")
    _error(api("a.admin", "DELETE", url, scope="read"), 403, "forbidden")
    _error(api("b.admin", "DELETE", f"/vendors/{vendor_id}"), 404, "not_found")
    _error(api("b.admin", "POST", f"/vendors/{vendor_id}/restore"), 404, "not_found")
    _error(api("b.admin", "PATCH", url, json={"role": "x"}, headers={"If-Match": etag}), 404, "not_found")
    _error(api("a.admin", "DELETE", f"/vendors/{world['a'].vendor.id}/contacts/{contact_id}"), 404,
           "not_found")
    assert _stored(app) == before
