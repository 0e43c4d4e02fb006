"""Archiving a vendor (records kept, hidden, restorable) and editing or removing its contacts, on the web."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories.accounts import make_invitation
from tests.factories.assessments import make_assessment, make_contact
from tests.factories.links import make_answer_link
from tests.factories.questionnaires import install_questionnaire
from tests.integration.conftest import outbox
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry, Contact, Invitation, Organisation, Role, User, Vendor
from vendorcheck.models.assessments import Assessment, AssessmentStatus
from vendorcheck.models.links import AnswerLink
from vendorcheck.services import invitations
from vendorcheck.services.assessments import send_assessment
from vendorcheck.services.errors import VendorArchived


def _vendor(app, world, *, open_assessment: bool = False, status=AssessmentStatus.DECIDED):
    """Add a vendor to buyer A with one contact and one assessment (open or closed)."""
    from tests.factories.accounts import make_vendor

    with app.app_context():
        buyer = db.session.get(Organisation, world["a"].buyer.id)
        vendor = make_vendor(buyer, "Archivable SAS")
        contact = make_contact(vendor, "dana@archivable.example", "Dana")
        assessment = make_assessment(buyer, vendor, contact=contact,
                                     status=AssessmentStatus.SENT if open_assessment else status)
        return vendor.id, contact.id, assessment.id


def _actions(app, action):
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_archiving_asks_first_hides_the_vendor_keeps_its_records_and_restores(app, client, login_as,
                                                                             world):
    vendor_id, _contact, assessment_id = _vendor(app, world)
    with app.app_context():
        make_invitation(db.session.get(Organisation, world["a"].buyer.id), "late@archivable.example",
                        vendor=db.session.get(Vendor, vendor_id), role=Role.CONTRIBUTOR)
    login_as(world.user("a.assessor"))

    confirm = client.get(f"/buyer/vendors/{vendor_id}/archive")
    assert confirm.status_code == 200
    assert "Nothing is deleted" in confirm.get_data(as_text=True)
    assert client.post(f"/buyer/vendors/{vendor_id}/archive").status_code == 302

    row = f'href="/buyer/vendors/{vendor_id}"'
    assert row not in client.get("/buyer/vendors").get_data(as_text=True)
    assert row in client.get("/buyer/vendors?archived=1").get_data(as_text=True)
    assert "Archivable SAS" not in client.get("/buyer/assessments").get_data(as_text=True)
    assert "Archivable SAS" in client.get("/buyer/assessments?archived=1").get_data(as_text=True)
    detail = client.get(f"/buyer/vendors/{vendor_id}").get_data(as_text=True)
    assert "Restore the vendor" in detail
    assert client.get(f"/buyer/assessments/{assessment_id}").status_code == 200, "records stay readable"
    with app.app_context():
        vendor = db.session.get(Vendor, vendor_id)
        assert vendor.archived_at is not None and vendor.archived_by_id == world.user("a.assessor").id
        assert db.session.get(Assessment, assessment_id) is not None
        invitation = db.session.scalar(select(Invitation).where(
            Invitation.email == "late@archivable.example"))
        assert invitation.revoked_at is not None, "an archived vendor's invitations stop working"
    [entry] = _actions(app, "vendor_archived")
    assert entry.details["invitations_revoked"] == 1

    assert client.post(f"/buyer/vendors/{vendor_id}/restore").status_code == 302
    client.get(f"/buyer/vendors/{vendor_id}")  # shows the flash
    assert row in client.get("/buyer/vendors").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Vendor, vendor_id).archived_at is None
    assert len(_actions(app, "vendor_restored")) == 1


def test_a_vendor_with_an_open_assessment_is_not_archived(app, client, login_as, world):
    vendor_id, _contact, assessment_id = _vendor(app, world, open_assessment=True)
    login_as(world.user("a.admin"))

    page = client.get(f"/buyer/vendors/{vendor_id}/archive").get_data(as_text=True)
    assert "cannot be archived yet" in page and f"#{assessment_id}" in page
    refused = client.post(f"/buyer/vendors/{vendor_id}/archive")

    assert refused.status_code == 409
    assert f"#{assessment_id}" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Vendor, vendor_id).archived_at is None
    assert _actions(app, "vendor_archived") == []


def test_an_archived_vendor_is_sent_nothing_new(app, client, login_as, world):
    vendor_id, contact_id, _a = _vendor(app, world)
    login_as(world.user("a.admin"))
    assert client.post(f"/buyer/vendors/{vendor_id}/archive").status_code == 302

    form = client.get("/buyer/assessments/new").get_data(as_text=True)
    assert f'value="{vendor_id}"' not in form, "not offered in the send form"
    invite = client.post(f"/buyer/vendors/{vendor_id}/invite",
                         data={"name": "New", "email": "new@archivable.example"})
    assert invite.status_code == 409 and "archived" in invite.get_data(as_text=True)
    with app.test_request_context():
        vendor = db.session.get(Vendor, vendor_id)
        with pytest.raises(VendorArchived, match="restore") as refused:
            send_assessment(vendor.buyer_org, vendor, install_questionnaire(), due_date=None,
                            contacts=[db.session.get(Contact, contact_id)], message="",
                            by=db.session.get(User, world.user("a.admin").id))
        assert refused.value.status == 409


def test_a_legal_member_cannot_archive_and_another_tenant_gets_404(app, client, login_as, world):
    vendor_id, contact_id, _a = _vendor(app, world)
    login_as(world.user("a.legal"))
    assert client.post(f"/buyer/vendors/{vendor_id}/archive").status_code == 403
    assert client.post(f"/buyer/vendors/{vendor_id}/contacts/{contact_id}/remove").status_code == 403
    login_as(world.user("b.admin"))
    assert client.post(f"/buyer/vendors/{vendor_id}/archive").status_code == 404
    assert client.get(f"/buyer/vendors/{vendor_id}/contacts/{contact_id}/edit").status_code == 404
    other_vendor = world["a"].vendor.id
    login_as(world.user("a.admin"))
    assert client.get(f"/buyer/vendors/{other_vendor}/contacts/{contact_id}/edit").status_code == 404, \
        "a contact is reached through its own vendor only"


def test_editing_a_contact_saves_its_language_and_role_and_mails_in_that_language(app, client,
                                                                                 login_as, world):
    vendor_id, contact_id, _a = _vendor(app, world)
    login_as(world.user("a.assessor"))
    page = client.get(f"/buyer/vendors/{vendor_id}/contacts/{contact_id}/edit")
    assert page.status_code == 200

    saved = client.post(f"/buyer/vendors/{vendor_id}/contacts/{contact_id}/edit", data={
        "name": "Dana Martin", "email": "dana@archivable.example", "language": "fr",
        "role": "Déléguée à la protection des données"})

    assert saved.status_code == 302
    with app.app_context():
        contact = db.session.get(Contact, contact_id)
        assert (contact.name, contact.language, contact.role) == (
            "Dana Martin", "fr", "Déléguée à la protection des données")
        assert invitations.recipient_locale("dana@archivable.example", contact.vendor) == "fr"
    [entry] = _actions(app, "contact_updated")
    assert entry.details["fields"] == ["language", "name", "role"]
    assert "Déléguée" in client.get(f"/buyer/vendors/{vendor_id}").get_data(as_text=True)


def test_bad_contact_input_is_shown_beside_the_form_and_nothing_changes(app, client, login_as, world):
    vendor_id, contact_id, _a = _vendor(app, world)
    with app.app_context():
        make_contact(db.session.get(Vendor, vendor_id), "taken@archivable.example", "Taken")
    login_as(world.user("a.assessor"))
    url = f"/buyer/vendors/{vendor_id}/contacts/{contact_id}/edit"

    taken = client.post(url, data={"name": "Dana", "email": "Taken@archivable.example"})
    invalid = client.post(url, data={"name": "", "email": "not-an-address", "language": "de"})

    assert taken.status_code == 422 and "already has this e-mail" in taken.get_data(as_text=True)
    assert invalid.status_code == 422
    with app.app_context():
        assert db.session.get(Contact, contact_id).email == "dana@archivable.example"


def test_a_new_email_revokes_the_old_invitation_and_link_and_mails_a_new_link(app, client, login_as,
                                                                              world):
    vendor_id, contact_id, assessment_id = _vendor(app, world, open_assessment=True)
    with app.app_context():
        buyer = db.session.get(Organisation, world["a"].buyer.id)
        vendor = db.session.get(Vendor, vendor_id)
        _inv, invitation_token = make_invitation(buyer, "dana@archivable.example", vendor=vendor,
                                                 role=Role.CONTRIBUTOR)
        old_link = make_answer_link(db.session.get(Assessment, assessment_id),
                                    db.session.get(Contact, contact_id))
    assert client.get(f"/vendor/link/{old_link}").status_code in (200, 302, 303)
    login_as(world.user("a.assessor"))
    before = len(outbox(app))

    saved = client.post(f"/buyer/vendors/{vendor_id}/contacts/{contact_id}/edit",
                        data={"name": "Dana", "email": "dana@new-address.example"})

    assert saved.status_code == 302
    login_as(None)
    assert client.get(f"/vendor/link/{old_link}").status_code == 404, "the old address's link is dead"
    assert client.get(f"/auth/invitations/{invitation_token}").status_code == 410
    new_mail = outbox(app)[before:]
    assert [m.to_email for m in new_mail] == ["dana@new-address.example"]
    assert "/vendor/link/" in new_mail[0].body_text
    with app.app_context():
        links = list(db.session.scalars(select(AnswerLink).where(
            AnswerLink.assessment_id == assessment_id).order_by(AnswerLink.id)))
        assert {link.email for link in links if link.revoked_at is None} == {"dana@new-address.example"}
        assert {link.email for link in links if link.revoked_at is not None} == {"dana@archivable.example"}
    [entry] = _actions(app, "contact_updated")
    assert entry.details["old_email"] == "dana@archivable.example"
    assert entry.details["invitations_revoked"] == 1 and entry.details["links_revoked"] == 1


def test_a_contact_of_an_open_assessment_is_not_removed(app, client, login_as, world):
    vendor_id, contact_id, assessment_id = _vendor(app, world, open_assessment=True)
    login_as(world.user("a.assessor"))

    page = client.get(f"/buyer/vendors/{vendor_id}/contacts/{contact_id}/remove").get_data(as_text=True)
    refused = client.post(f"/buyer/vendors/{vendor_id}/contacts/{contact_id}/remove")

    assert "cannot be removed yet" in page and f"#{assessment_id}" in page
    assert refused.status_code == 409 and f"#{assessment_id}" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Contact, contact_id) is not None


def test_removing_a_contact_revokes_their_invitation_and_is_audited(app, client, login_as, world):
    vendor_id, contact_id, assessment_id = _vendor(app, world)
    with app.app_context():
        _inv, token = make_invitation(db.session.get(Organisation, world["a"].buyer.id),
                                      "dana@archivable.example",
                                      vendor=db.session.get(Vendor, vendor_id), role=Role.CONTRIBUTOR)
    login_as(world.user("a.assessor"))

    assert client.post(f"/buyer/vendors/{vendor_id}/contacts/{contact_id}/remove").status_code == 302

    with app.app_context():
        assert db.session.get(Contact, contact_id) is None
        assert db.session.get(Assessment, assessment_id) is not None, "the decided assessment stays"
    login_as(None)
    assert client.get(f"/auth/invitations/{token}").status_code == 410
    [entry] = _actions(app, "contact_removed")
    assert entry.details["email"] == "dana@archivable.example" and entry.details["invitations_revoked"] == 1
