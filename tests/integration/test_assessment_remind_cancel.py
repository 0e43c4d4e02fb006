"""The buyer reminds the vendor's contacts at once, or cancels an undecided assessment with a reason."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from tests.factories.assessments import make_assessment, make_contact
from tests.integration.conftest import outbox
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry, Organisation, Vendor
from vendorcheck.models.assessments import Assessment, AssessmentStatus

S = AssessmentStatus


def _sent(app, world, status: AssessmentStatus = S.SENT) -> int:
    with app.app_context():
        vendor = db.session.get_one(Vendor, world["a"].vendor.id)
        contact = make_contact(vendor, "dana@vendor-a.example", "Dana")
        return make_assessment(db.session.get_one(Organisation, world["a"].buyer.id), vendor, status=status,
                               contact=contact, due_date=date.today() + timedelta(days=10)).id


def test_the_buyer_sends_a_reminder_from_the_review_page(app, client, world, login_as):
    assessment_id = _sent(app, world)
    login_as(world.user("a.assessor"))
    page = client.get(f"/buyer/assessments/{assessment_id}").get_data(as_text=True)
    assert "Send a reminder now" in page and "Cancel the assessment" in page
    sent = client.post(f"/buyer/assessments/{assessment_id}/remind", follow_redirects=True)
    assert sent.status_code == 200 and "Reminder sent to 1 contact." in sent.get_data(as_text=True)
    again = client.post(f"/buyer/assessments/{assessment_id}/remind")
    assert again.status_code == 409 and "at most one a day" in again.get_data(as_text=True)
    reminders = [m for m in outbox(app) if m.template == "assessment_reminder_manual"]
    assert [m.to_email for m in reminders] == ["dana@vendor-a.example"]


def test_a_reminder_is_written_in_the_contacts_language(app, client, world, login_as):
    assessment_id = _sent(app, world)
    with app.app_context():  # the contact has an account in French
        from vendorcheck.models import User

        user = db.session.get_one(User, world.user("a.vendor").id)
        user.locale = "fr"
        contact = db.session.get_one(Assessment, assessment_id).recipients[0].contact
        contact.email = user.email
        db.session.commit()
    login_as(world.user("a.assessor"))
    assert client.post(f"/buyer/assessments/{assessment_id}/remind").status_code == 302
    [message] = [m for m in outbox(app) if m.template == "assessment_reminder_manual"]
    assert message.locale == "fr" and "vous rappelle" in message.subject
    assert "attend vos réponses" in message.body_text and "Il est à rendre le" in message.body_text


def test_the_buyer_cancels_with_a_reason_and_the_vendor_sees_it(app, client, world, login_as):
    assessment_id = _sent(app, world, S.IN_PROGRESS)
    login_as(world.user("a.assessor"))
    form = client.get(f"/buyer/assessments/{assessment_id}/cancel")
    assert form.status_code == 200 and "Reason (sent to the vendor" in form.get_data(as_text=True)
    empty = client.post(f"/buyer/assessments/{assessment_id}/cancel", data={"reason": " "})
    assert empty.status_code == 422 and "Give the reason for cancelling" in empty.get_data(as_text=True)
    with app.app_context():
        assert db.session.get_one(Assessment, assessment_id).status is S.IN_PROGRESS

    done = client.post(f"/buyer/assessments/{assessment_id}/cancel", data={"reason": "Vendor replaced."},
                       follow_redirects=True)
    page = done.get_data(as_text=True)
    assert done.status_code == 200 and "Assessment cancelled" in page
    assert "Reason given: Vendor replaced." in page
    assert "Send a reminder now" not in page and "Cancel the assessment…" not in page
    again = client.post(f"/buyer/assessments/{assessment_id}/cancel", data={"reason": "Again"})
    assert again.status_code == 409
    [message] = [m for m in outbox(app) if m.template == "assessment_cancelled"]
    assert message.to_email == "dana@vendor-a.example" and "Vendor replaced." in message.body_text
    with app.app_context():
        stored = db.session.get_one(Assessment, assessment_id)
        assert stored.status is S.CANCELLED and stored.cancel_reason == "Vendor replaced."
        actions = list(db.session.scalars(select(AuditEntry.action)))
        assert "assessment_cancelled" in actions

    login_as(world.user("a.vendor"))
    vendor_page = client.get(f"/vendor/assessments/{assessment_id}").get_data(as_text=True)
    assert "Cancelled by the buyer" in vendor_page and "you no longer need to answer it" in vendor_page
    saved = client.post(f"/vendor/assessments/{assessment_id}/autosave", json={"item_id": "has_dpa",
                                                                           "value": "yes"})
    assert saved.status_code == 409
    login_as(world.user("a.legal"))
    listed = client.get("/buyer/assessments?status=cancelled").get_data(as_text=True)
    assert "Cancelled" in listed
