"""Seed benchmark databases: a file SQLite database (WAL) with a buyer, a vendor and assessments."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import insert, select
from werkzeug.security import generate_password_hash

from benchmarks.servers import SECRET_KEY
from vendorcheck import create_app
from vendorcheck.extensions import db
from vendorcheck.models import Contact, Membership, Organisation, Role, User, Vendor, utcnow
from vendorcheck.models.assessments import Assessment, AssessmentStatus
from vendorcheck.services import assessments as svc

QUESTIONNAIRE = "art28-processor-audit"
PASSWORD = "bench-horse-battery-staple"
BUYER_EMAIL = "buyer@bench.example"
VENDOR_EMAIL = "vendor@bench.example"
STATUSES = [s for s in AssessmentStatus if s is not AssessmentStatus.DRAFT]
TIERS = ("low", "medium", "high", "unacceptable", None)


@dataclass(frozen=True)
class Seeded:
    """What a seeded database holds: ids the load generators need."""

    buyer_org_id: int
    assessment_id: int


def sqlite_url(path: Path) -> str:
    """Return the SQLAlchemy URL of a SQLite file."""
    return f"sqlite:///{path}"


def make_app(database_url: str, *, fresh: bool = False, **config: Any) -> Flask:
    """Create the real app on a database, with tables created.

    With `fresh`, a PostgreSQL database is emptied first (its public schema dropped): the
    benchmarks seed their own data, so name a database of your own with --pg, never a shared one.
    """
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": SECRET_KEY, **config})
    with app.app_context():
        if fresh and db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DROP SCHEMA public CASCADE")
                conn.exec_driver_sql("CREATE SCHEMA public")
        db.create_all()
    return app


def _user(email: str, org: Organisation, role: Role, password_hash: str) -> User:
    user = User(email=email, name=email.split("@")[0].title(), locale="en",
                password_hash=password_hash)
    db.session.add(user)
    db.session.add(Membership(user=user, organisation_id=org.id, role=role))
    return user


def seed_journey(app: Flask) -> Seeded:
    """Create a buyer, a vendor organisation with one user and an in-progress Art. 28 assessment."""
    with app.test_request_context():  # the invitation e-mail builds external URLs
        pw = generate_password_hash(PASSWORD, method=app.config["PASSWORD_HASH_METHOD"])
        buyer = Organisation(name="Bench Buyer", slug="bench-buyer", country="FR", is_buyer=True)
        vendor_org = Organisation(name="Bench Vendor", slug="bench-vendor", country="DE",
                                  is_buyer=False, is_vendor=True)
        db.session.add_all([buyer, vendor_org])
        db.session.flush()
        buyer_user = _user(BUYER_EMAIL, buyer, Role.ADMIN, pw)
        vendor_user = _user(VENDOR_EMAIL, vendor_org, Role.ADMIN, pw)
        vendor = Vendor(buyer_org_id=buyer.id, legal_name="Bench Vendor GmbH", country="DE",
                        services="Hosted CRM", vendor_org_id=vendor_org.id)
        db.session.add(vendor)
        db.session.flush()
        contact = Contact(vendor_id=vendor.id, email=VENDOR_EMAIL, name="Vendor Contact")
        db.session.add(contact)
        db.session.commit()
        q = app.extensions["questionnaires"].get(QUESTIONNAIRE)
        assessment = svc.send_assessment(buyer, vendor, q, due_date=date.today() + timedelta(days=30),
                                         contacts=[contact], message="Benchmark", by=buyer_user)
        svc.save_answer(assessment, "vendor_legal_name", "Bench Vendor GmbH", seen_version=None,
                        request_id=None, by=vendor_user)
        return Seeded(buyer.id, assessment.id)


def vendor_email(n: int) -> str:
    """Return the login of the n-th vendor seeded by `seed_vendors`."""
    return f"vendor{n:03d}@bench.example"


def seed_vendors(app: Flask, vendors: int, *, buyer_email: str = BUYER_EMAIL) -> list[tuple[str, int]]:
    """Create a buyer and `vendors` vendor organisations, each with one user and its own in-progress
    Art. 28 assessment; return (login e-mail, assessment id) per vendor.
    """
    with app.test_request_context():  # the invitation e-mails build external URLs
        pw = generate_password_hash(PASSWORD, method=app.config["PASSWORD_HASH_METHOD"])
        slug = "bench-buyer" if buyer_email == BUYER_EMAIL else f"bench-buyer-{buyer_email.split('@')[0]}"
        buyer = Organisation(name="Bench Buyer", slug=slug, country="FR", is_buyer=True)
        db.session.add(buyer)
        db.session.flush()
        buyer_user = _user(buyer_email, buyer, Role.ADMIN, pw)
        db.session.commit()
        q = app.extensions["questionnaires"].get(QUESTIONNAIRE)
        seeded = []
        for n in range(vendors):
            email = vendor_email(n)
            org = Organisation(name=f"Bench Vendor {n:03d}", slug=f"bench-vendor-{n:03d}", country="DE",
                               is_buyer=False, is_vendor=True)
            db.session.add(org)
            db.session.flush()
            user = _user(email, org, Role.ADMIN, pw)
            vendor = Vendor(buyer_org_id=buyer.id, legal_name=f"Bench Vendor {n:03d} GmbH", country="DE",
                            services="Hosted CRM", vendor_org_id=org.id)
            db.session.add(vendor)
            db.session.flush()
            contact = Contact(vendor_id=vendor.id, email=email, name=f"Vendor Contact {n:03d}")
            db.session.add(contact)
            db.session.commit()
            assessment = svc.send_assessment(buyer, vendor, q, due_date=date.today() + timedelta(days=30),
                                             contacts=[contact], message="Benchmark", by=buyer_user)
            svc.save_answer(assessment, "vendor_legal_name", vendor.legal_name, seen_version=None,
                            request_id=None, by=user)
            seeded.append((email, assessment.id))
        return seeded


def autosave_items(app: Flask) -> list[tuple[str, list[Any]]]:
    """Return (item id, values to alternate) for always-visible simple items of the questionnaire."""
    with app.app_context():
        q = app.extensions["questionnaires"].get(QUESTIONNAIRE)
    values: dict[str, list[Any]] = {"yes_no": ["yes", "no"], "number": [3, 12, 48],
                                    "text": ["Alpha", "Beta"], "long_text": ["Short.", "Longer text."]}
    return [(i.id, values[i.type]) for i in q.items
            if i.type in values and i.visible_if is None and not i.min and not i.max][:40]


def seed_dashboard(app: Flask, vendors: int, *, seed: int = 7, email: str = BUYER_EMAIL,
                   slug: str = "big-buyer") -> int:
    """Bulk-insert a buyer with `vendors` vendors, most with one assessment; return the org id."""
    rng = random.Random(seed)
    with app.app_context():
        q = app.extensions["questionnaires"].get(QUESTIONNAIRE)
        pw = generate_password_hash(PASSWORD, method=app.config["PASSWORD_HASH_METHOD"])
        buyer = Organisation(name=slug.replace("-", " ").title(), slug=slug, country="FR",
                             is_buyer=True)
        db.session.add(buyer)
        db.session.flush()
        user = _user(email, buyer, Role.ADMIN, pw)
        db.session.flush()
        now, today = utcnow(), date.today()
        db.session.execute(insert(Vendor), [
            {"buyer_org_id": buyer.id, "legal_name": f"{rng.choice(_WORDS)} {rng.choice(_WORDS)} "
             f"{n:05d} {rng.choice(_FORMS)}", "country": rng.choice(("FR", "DE", "US", "IE")),
             "services": "SaaS", "data_categories": [], "created_at": now, "updated_at": now}
            for n in range(vendors)])
        ids = list(db.session.scalars(select(Vendor.id).where(Vendor.buyer_org_id == buyer.id)))
        rows = []
        for vendor_id in ids:
            if rng.random() < 0.1:
                continue  # some vendors were never assessed
            status = rng.choice(STATUSES)
            tier = rng.choice(TIERS) if status is not AssessmentStatus.SENT else None
            rows.append({
                "buyer_org_id": buyer.id, "vendor_id": vendor_id, "questionnaire_id": q.id,
                "questionnaire_version": q.version, "questionnaire_sha256": q.sha256,
                "status": status, "message": "", "created_by_id": user.id, "created_at": now,
                "sent_at": now, "due_date": today + timedelta(days=rng.randint(-60, 90)),
                "progress": rng.randint(0, 100), "open_findings": rng.randint(0, 9),
                "score": round(rng.uniform(20, 100), 1) if tier else None, "tier": tier,
                "completeness": rng.random(), "is_latest": True,  # the vendor's only one
                "next_review_date": today + timedelta(days=rng.randint(30, 400)) if tier else None})
        db.session.execute(insert(Assessment), rows)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # Fresh statistics, as autovacuum gives a live database after a bulk load.
            with db.engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
        return buyer.id


SCALE = (10_000, 100_000)  # vendors, assessments of the large buyer on PostgreSQL (issue 18)


def seed_scale(app: Flask, vendors: int, assessments: int, *, email: str = BUYER_EMAIL,
               slug: str = "big-buyer", stale_share: float = 0.3) -> int:
    """Bulk-insert a buyer as `vendorcheck seed-scale` does (several assessments per vendor,
    stale and fresh mixed); return the org id."""
    from vendorcheck.services.scale_seed import analyse
    from vendorcheck.services.scale_seed import seed_scale as insert_scale

    with app.app_context():
        seeded = insert_scale(vendors, assessments, stale_share=stale_share, email=email,
                              password=PASSWORD, slug=slug, force=True)
        analyse()
        return seeded.buyer_org_id


_WORDS = ("Acme", "Blue", "Cloud", "Data", "Euro", "Nord", "Pixel", "Quanta", "Sky", "Terra",
          "Umbra", "Vega", "North", "Atlas", "Helio", "Kappa")
_FORMS = ("SAS", "GmbH", "Ltd", "Inc", "BV", "SpA")
