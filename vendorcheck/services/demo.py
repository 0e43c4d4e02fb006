"""`vendorcheck demo`: seed a buyer, two vendors and their users, and print the logins."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from vendorcheck import audit
from vendorcheck.extensions import db
from vendorcheck.models import Contact, Criticality, Membership, Organisation, Role, User, Vendor

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105  (demo only, printed on purpose)


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    role: Role
    locale: str


BUYER_USERS = (
    DemoUser("admin@acme-retail.example", "Claire Martin", Role.ADMIN, "fr"),
    DemoUser("assessor@acme-retail.example", "Hugo Bernard", Role.ASSESSOR, "fr"),
    DemoUser("legal@acme-retail.example", "Inès Lefèvre", Role.LEGAL, "fr"),
)
VENDORS = (
    ("CloudCRM SAS", "cloudcrm-sas", "FR", "https://cloudcrm.example", "Hosted CRM",
     ["identification", "contact", "customer"], Criticality.HIGH,
     DemoUser("contact@cloudcrm.example", "Paul Durand", Role.ADMIN, "fr")),
    ("MailBlast Inc", "mailblast-inc", "US", "https://mailblast.example", "Newsletter sending",
     ["contact", "usage"], Criticality.MEDIUM,
     DemoUser("contact@mailblast.example", "Jane Doe", Role.ADMIN, "en")),
)


def _user(spec: DemoUser, password_hash: str) -> User:
    """Return a demo user object."""
    return User(email=spec.email, name=spec.name, password_hash=password_hash, locale=spec.locale)


def demo_logins() -> list[tuple[str, str]]:
    """Return the demo (e-mail, description) pairs, buyers first."""
    logins = [(spec.email, f"Acme Retail SAS — {spec.role.value}") for spec in BUYER_USERS]
    logins += [(contact.email, f"{name} — vendor {contact.role.value}")
               for name, *_rest, contact in VENDORS]
    return logins


def seed() -> list[tuple[str, str]]:
    """Create the demo data in one transaction; return (e-mail, description) pairs."""
    from werkzeug.security import generate_password_hash

    from vendorcheck.services.accounts import unique_slug

    pw_hash = generate_password_hash(DEMO_PASSWORD, method="scrypt:32768:8:3")
    buyer = Organisation(name="Acme Retail SAS", slug=unique_slug("acme-retail-sas"), country="FR",
                         is_buyer=True)
    db.session.add(buyer)
    logins = demo_logins()
    buyer_users = []
    for spec in BUYER_USERS:
        user = _user(spec, pw_hash)
        buyer_users.append(user)
        db.session.add(Membership(user=user, organisation=buyer, role=spec.role))
    for name, slug, country, website, services, categories, crit, contact in VENDORS:
        org = Organisation(name=name, slug=unique_slug(slug), country=country, is_vendor=True)
        user = _user(contact, pw_hash)
        db.session.add_all([org, Membership(user=user, organisation=org, role=contact.role)])
        vendor = Vendor(buyer_org=buyer, legal_name=name, country=country, website=website,
                        services=services, data_categories=categories, criticality=crit,
                        owner=buyer_users[1], vendor_org=org)
        # The vendor's user is its contact, so "Send" works on the demo right away.
        db.session.add_all([vendor, Contact(vendor=vendor, name=contact.name, email=contact.email)])
    db.session.flush()
    audit.record("demo_seeded", org=buyer, details={"users": [e for e, _d in logins]})
    db.session.commit()
    _publish_demo_dpa()
    return logins


def _publish_demo_dpa() -> None:
    """Publish a DPA for CloudCRM SAS from the DPA questionnaire's complete example answers."""
    from vendorcheck.models.assessments import Answer
    from vendorcheck.questionnaire import validate_answers
    from vendorcheck.services import dpa
    from vendorcheck.services.assessments import refresh_results

    org = db.session.scalar(select(Organisation).where(Organisation.name == VENDORS[0][0]))
    user = db.session.scalar(select(User).where(User.email == VENDORS[0][7].email))
    if org is None or user is None:
        return
    draft = dpa.start_draft(org, by=user)
    q = dpa.draft_questionnaire(draft)
    example = next(t for t in q.tests if t.name == "complete_eu_processor_is_low_risk")
    answers = {**example.answers, "processor_legal_name": "CloudCRM SAS",
               "processor_address": "12 rue du Cloud, 69002 Lyon",
               "subject_matter": "Hosted CRM for the controller's sales and support teams.",
               "contact_email": "contact@cloudcrm.example"}
    draft.answers.clear()  # a new draft starts with the legal name answered: replace it all
    db.session.flush()
    for item_id, value in validate_answers(q, answers).answers.items():
        db.session.add(Answer(assessment_id=draft.id, item_id=item_id, value=value,
                              updated_by_id=user.id))
    db.session.flush()
    db.session.expire(draft, ["answers"])
    refresh_results(draft, q)  # the answers bypass autosave, which keeps the progress shown
    db.session.commit()
    profile = dpa.profile_of(org)
    assert profile is not None
    dpa.publish(profile, by=user)
