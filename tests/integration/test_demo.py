"""`vendorcheck demo` seeds a usable demo and prints the logins."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from vendorcheck import audit
from vendorcheck.extensions import db
from vendorcheck.models import Organisation, User, Vendor
from vendorcheck.models.assessments import Assessment
from vendorcheck.models.dpa import DpaVersion
from vendorcheck.services.demo import DEMO_PASSWORD


def test_demo_seeds_and_prints_logins(app, runner, client):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert DEMO_PASSWORD in result.output and "admin@acme-retail.example" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == 5
        names = set(db.session.scalars(select(Organisation.name)))
        assert {"Acme Retail SAS", "CloudCRM SAS", "MailBlast Inc"} <= names
        acme = db.session.scalar(select(Organisation.id).where(Organisation.name == "Acme Retail SAS"))
        vendors = list(db.session.scalars(select(Vendor).where(Vendor.buyer_org_id == acme)))
        assert len(vendors) == 2 and all(v.vendor_org_id for v in vendors)
        assert db.session.scalar(select(func.count(DpaVersion.id))) == 1  # CloudCRM's DPA
        assert audit.verify() == []
    response = client.post("/auth/login", data={"email": "legal@acme-retail.example",
                                                "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert "CloudCRM SAS" in client.get("/buyer/vendors").get_data(as_text=True)


def test_demo_if_empty_does_not_duplicate(app, runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["demo", "--if-empty"])
    assert result.exit_code == 0 and "not added" in result.output
    # `make run` runs this on every start: the logins are printed again, not only the first time.
    assert DEMO_PASSWORD in result.output and "contact@mailblast.example" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == 5


def test_demo_if_empty_prints_no_logins_for_a_database_without_the_demo(app, runner):
    with app.app_context():
        db.session.add(Organisation(name="Real Buyer SA", slug="real-buyer-sa", country="FR", is_buyer=True))
        db.session.commit()
    result = runner.invoke(args=["demo", "--if-empty"])
    assert result.exit_code == 0 and "not added" in result.output
    assert DEMO_PASSWORD not in result.output


def test_demo_vendors_have_their_user_as_contact_and_can_be_sent_an_assessment(app, runner, client):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        # CloudCRM SAS is also the vendor of its own DPA drafts (under a "drafts" organisation):
        # pick Acme's record, which the database would otherwise return in any order.
        vendor = db.session.scalar(select(Vendor).join(Organisation, Vendor.buyer_org_id == Organisation.id)
                                   .where(Vendor.legal_name == "CloudCRM SAS",
                                          Organisation.name == "Acme Retail SAS"))
        assert [(c.name, c.email) for c in vendor.contacts] == [("Paul Durand", "contact@cloudcrm.example")]
        vendor_id, contact_id = vendor.id, vendor.contacts[0].id
    client.post("/auth/login", data={"email": "assessor@acme-retail.example", "password": DEMO_PASSWORD})
    page = client.get(f"/buyer/assessments/new?vendor_id={vendor_id}").get_data(as_text=True)
    assert "contact@cloudcrm.example" in page
    response = client.post("/buyer/assessments/new", data={
        "vendor_id": vendor_id, "questionnaire": "art28-processor-audit",
        "due_date": (date.today() + timedelta(days=30)).isoformat(), "contacts": [contact_id]})
    assert response.status_code == 302
    with app.app_context():
        sent = db.session.scalars(select(Assessment).where(Assessment.vendor_id == vendor_id)).one()
        assert sent.vendor_id == vendor_id and [r.contact_id for r in sent.recipients] == [contact_id]
        sent_id = sent.id
    # the contact is the vendor organisation's user: the assessment is on its page at once
    vendor_client = app.test_client()
    vendor_client.post("/auth/login", data={"email": "contact@cloudcrm.example", "password": DEMO_PASSWORD})
    assert vendor_client.get(f"/vendor/assessments/{sent_id}").status_code == 200


def test_demo_dpa_draft_shows_the_progress_of_its_answers(app, runner, client):
    """The demo writes the DPA draft's answers directly: its progress is stored as autosave would."""
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        draft = db.session.scalar(select(Assessment).join(Vendor).where(
            Vendor.legal_name == "CloudCRM SAS", Assessment.questionnaire_id == "dpa-questionnaire"))
        assert draft is not None and draft.progress == 100 and not draft.results_stale
    client.post("/auth/login", data={"email": "contact@cloudcrm.example", "password": DEMO_PASSWORD})
    page = client.get("/vendor/dpa?lang=en").get_data(as_text=True)
    assert "Progress: 100%" in page and "No problem found: the draft can be published." in page
