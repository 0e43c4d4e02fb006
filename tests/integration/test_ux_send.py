"""The buyer's send form offers only questionnaires meant for vendors to answer."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.factories.assessments import make_contact
from vendorcheck.extensions import db
from vendorcheck.models.assessments import Assessment
from vendorcheck.services.assessments import send_assessment
from vendorcheck.services.errors import ValidationFailed


@pytest.fixture
def contact_a(app, world):
    with app.app_context():
        return make_contact(world["a"].vendor, "contact@vendor-a.example", "Contact A").id


def test_send_form_does_not_offer_the_vendor_side_dpa_questionnaire(client, world, login_as,
                                                                     contact_a):
    login_as(world.user("a.assessor"))
    for lang in ("en", "fr"):
        body = client.get(f"/buyer/assessments/new?vendor_id={world['a'].vendor.id}&lang={lang}"
                          ).get_data(as_text=True)
        assert 'value="art28-processor-audit"' in body
        assert 'value="dpa-questionnaire"' not in body


def test_posting_the_dpa_questionnaire_is_refused(app, client, world, login_as, contact_a):
    login_as(world.user("a.assessor"))
    response = client.post("/buyer/assessments/new", data={
        "vendor_id": world["a"].vendor.id, "questionnaire": "dpa-questionnaire",
        "due_date": (date.today() + timedelta(days=20)).isoformat(), "contacts": [contact_a]})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalars(select(Assessment)).first() is None


def test_the_send_service_refuses_a_vendor_side_questionnaire(app, world, contact_a):
    with app.test_request_context():
        from vendorcheck.models import Contact, Organisation, Vendor

        q = app.extensions["questionnaires"].get("dpa-questionnaire")
        buyer = db.session.get(Organisation, world["a"].buyer.id)
        vendor = db.session.get(Vendor, world["a"].vendor.id)
        with pytest.raises(ValidationFailed, match="filled in by vendors"):
            send_assessment(buyer, vendor, q, due_date=None,
                            contacts=[db.session.get(Contact, contact_a)], message="",
                            by=world.user("a.assessor"))
        assert db.session.scalars(select(Assessment)).first() is None
