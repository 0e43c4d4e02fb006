"""Issue 16: one invitation per send, in the recipient's language, naming what is asked."""

from __future__ import annotations

import re
from datetime import date

import pytest

from tests.factories.accounts import make_org, make_user, make_vendor
from tests.factories.assessments import make_contact
from tests.factories.questionnaires import install_questionnaire
from tests.integration.conftest import outbox
from vendorcheck.extensions import db
from vendorcheck.models import Contact, Organisation, Role, User, Vendor
from vendorcheck.services import invitations
from vendorcheck.services.assessments import send_assessment

DUE = date(2031, 3, 14)


@pytest.fixture
def setup(app):
    """A buyer whose admin writes in English, and a vendor with a contact who has no account."""
    with app.app_context():
        buyer = make_org("Acme Buyer SA", slug="acme")
        admin = make_user("admin@acme.example", org=buyer, role=Role.ADMIN, name="Ada Admin")
        admin.locale = "en"
        vendor = make_vendor(buyer, "Nuage SARL", country="FR")
        make_contact(vendor, "claire@nuage.example", "Claire")
        db.session.commit()
        install_questionnaire()
        return {"buyer": buyer.id, "admin": admin.id, "vendor": vendor.id}


def _send(app, setup, message="Merci de répondre avant la fin du trimestre."):
    with app.test_request_context():
        vendor = db.session.get(Vendor, setup["vendor"])
        contacts = list(db.session.query(Contact).filter_by(vendor_id=vendor.id))
        send_assessment(db.session.get(Organisation, setup["buyer"]), vendor, install_questionnaire(),
                        due_date=DUE, contacts=contacts, message=message,
                        by=db.session.get(User, setup["admin"]))


def _link(body: str) -> str:
    return re.search(r"https?://\S+/auth/invitations/(\S+)", body).group(1)


def test_sending_mails_one_invitation_in_the_contacts_language_naming_everything(app, setup):
    _send(app, setup)
    mails = outbox(app)
    assert len(mails) == 1
    mail = mails[0]
    assert (mail.template, mail.to_email, mail.locale) == ("vendor_invitation", "claire@nuage.example",
                                                           "fr")
    assert "Acme Buyer SA" in mail.subject
    for text in ("Acme Buyer SA", "Questionnaire de test", "14 mars 2031",
                 "Merci de répondre avant la fin du trimestre.", "/auth/invitations/"):
        assert text in mail.body_text
        assert text in mail.body_html


def test_a_contact_with_an_account_reads_the_mail_in_their_language(app, setup):
    with app.app_context():
        vendor_org = make_org("Nuage SARL", buyer=False, vendor=True, slug="nuage", country="DE")
        user = make_user("claire@nuage.example", org=vendor_org, name="Claire")
        user.locale = "en"
        vendor = db.session.get(Vendor, setup["vendor"])
        vendor.vendor_org_id = vendor_org.id
        db.session.commit()
    _send(app, setup, message="")
    [mail] = outbox(app)
    assert (mail.template, mail.locale) == ("assessment_sent", "en")
    assert "Test questionnaire" in mail.body_text and "March 14, 2031" in mail.body_text


def test_a_new_send_revokes_the_older_invitation_link(app, client, setup):
    with app.test_request_context():
        invitations.invite_vendor_contact(db.session.get(Vendor, setup["vendor"]), "Claire",
                                          "claire@nuage.example",
                                          by=db.session.get(User, setup["admin"]))
    first = _link(outbox(app)[0].body_text)
    _send(app, setup)
    second = _link(outbox(app)[-1].body_text)
    assert first != second
    old = client.get(f"/auth/invitations/{first}")
    assert old.status_code == 410
    assert client.get(f"/auth/invitations/{second}").status_code == 200
