"""`vendorcheck seed-scale`: a large buyer for measurements, inserted in bulk (SQLAlchemy core).

One buyer organisation with an admin, `vendors` vendors and `assessments` assessments spread over
them (several per vendor: the older ones decided or expired, the latest in any state), tiers mixed
and a share of the results marked stale, as autosaves leave them. No ORM object per row and one
INSERT per chunk, so 10,000 vendors and 100,000 assessments take seconds to minutes, not hours.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, insert, select
from werkzeug.security import generate_password_hash

from vendorcheck.extensions import db
from vendorcheck.models import Membership, Organisation, Role, User, Vendor, utcnow
from vendorcheck.models.assessments import Assessment, AssessmentStatus, Decision
from vendorcheck.services.errors import DomainError

S = AssessmentStatus
QUESTIONNAIRE = "art28-processor-audit"
CHUNK = 5_000  # rows per INSERT: bounded memory, few round trips
LATEST_STATUSES = (S.SENT, S.IN_PROGRESS, S.SUBMITTED, S.IN_REVIEW, S.CLARIFICATION_REQUESTED,
                   S.DECIDED, S.EXPIRED)
OLDER_STATUSES = (S.DECIDED, S.DECIDED, S.DECIDED, S.EXPIRED)  # earlier rounds are mostly closed
TIERS = ("low", "medium", "high", "unacceptable")
WORDS = ("Acme", "Blue", "Cloud", "Data", "Euro", "Nord", "Pixel", "Quanta", "Sky", "Terra",
         "Umbra", "Vega", "North", "Atlas", "Helio", "Kappa")
FORMS = ("SAS", "GmbH", "Ltd", "Inc", "BV", "SpA")


@dataclass(frozen=True)
class ScaleSeed:
    """What was inserted."""

    buyer_org_id: int
    vendors: int
    assessments: int
    stale: int


def database_is_empty() -> bool:
    """Tell whether the database holds no organisation yet."""
    return db.session.scalar(select(Organisation.id).limit(1)) is None


def seed_scale(vendors: int, assessments: int, *, stale_share: float = 0.3, email: str,
               password: str, slug: str = "scale-buyer", force: bool = False,
               seed: int = 7) -> ScaleSeed:
    """Insert one buyer (admin `email`) with its vendors and assessments; commit once."""
    if vendors < 1 or assessments < 0:
        raise DomainError("At least one vendor, and no negative number of assessments.")
    if not 0.0 <= stale_share <= 1.0:
        raise DomainError("The stale share is a fraction between 0 and 1.")
    if not force and not database_is_empty():
        raise DomainError("The database is not empty; use --force to add the data anyway.")
    if db.session.scalar(select(func.count()).where(func.lower(User.email) == email.lower())):
        raise DomainError(f"A user {email} already exists.")
    rng = random.Random(seed)  # noqa: S311 - repeatable made-up data, nothing secret
    buyer_id, admin_id = _buyer(slug, email, password)
    vendor_ids = _insert_vendors(buyer_id, vendors, rng)
    stale = 0
    for chunk in _chunks(_assessment_rows(buyer_id, admin_id, vendor_ids, assessments,
                                          stale_share, rng), CHUNK):
        stale += sum(1 for row in chunk if row["results_stale"])
        db.session.execute(insert(Assessment), chunk)
    db.session.commit()
    return ScaleSeed(buyer_id, vendors, assessments, stale)


def analyse() -> None:
    """Refresh the planner's statistics after the bulk load (PostgreSQL), as autovacuum would."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")


def _buyer(slug: str, email: str, password: str) -> tuple[int, int]:
    """Insert the buyer organisation and its admin; return their ids."""
    org = Organisation(name=slug.replace("-", " ").title(), slug=slug, country="FR", is_buyer=True)
    user = User(email=email, name=email.split("@")[0].title(), locale="en",
                password_hash=generate_password_hash(
                    password, method=current_app.config["PASSWORD_HASH_METHOD"]))
    db.session.add_all([org, user])
    db.session.flush()
    db.session.add(Membership(user_id=user.id, organisation_id=org.id, role=Role.ADMIN))
    db.session.flush()
    return org.id, user.id


def _insert_vendors(buyer_id: int, count: int, rng: random.Random) -> list[int]:
    """Insert `count` vendors in chunks; return their ids in insertion order."""
    now = utcnow()
    rows = ({"buyer_org_id": buyer_id, "legal_name": f"{rng.choice(WORDS)} {rng.choice(WORDS)} "
             f"{n:05d} {rng.choice(FORMS)}", "country": rng.choice(("FR", "DE", "US", "IE")),
             "services": "SaaS", "data_categories": [], "created_at": now, "updated_at": now}
            for n in range(count))
    for chunk in _chunks(rows, CHUNK):
        db.session.execute(insert(Vendor), chunk)
    return list(db.session.scalars(select(Vendor.id).where(Vendor.buyer_org_id == buyer_id)
                                   .order_by(Vendor.id)))


def _rounds(vendor_count: int, assessments: int, rng: random.Random) -> list[int]:
    """Return how many assessments each vendor gets: `assessments` in all, several per vendor,
    uneven (about a tenth of the vendors get none when there are fewer assessments than vendors)."""
    counts = [0] * vendor_count
    for _ in range(assessments):
        counts[rng.randrange(vendor_count)] += 1
    return counts


def _assessment_rows(buyer_id: int, admin_id: int, vendor_ids: Sequence[int], total: int,
                     stale_share: float, rng: random.Random) -> Iterator[dict[str, Any]]:
    """Yield the assessment rows: per vendor, older rounds first, the latest in any state."""
    q = current_app.extensions["questionnaires"].get(QUESTIONNAIRE)
    today, now = date.today(), utcnow()
    for vendor_id, count in zip(vendor_ids, _rounds(len(vendor_ids), total, rng), strict=True):
        for index in range(count):
            latest = index == count - 1
            status = rng.choice(LATEST_STATUSES if latest else OLDER_STATUSES)
            sent = now - timedelta(days=365 * (count - 1 - index) + rng.randint(0, 300))
            row = _row(buyer_id, admin_id, vendor_id, q, status, sent, today, stale_share, rng)
            # Bulk inserts skip the model's events: flag the latest here (none is cancelled).
            yield {**row, "is_latest": latest}


def _row(buyer_id: int, admin_id: int, vendor_id: int, q: Any, status: AssessmentStatus,
         sent: datetime, today: date, stale_share: float, rng: random.Random) -> dict[str, Any]:
    """Return one assessment row with results that fit its state."""
    scored = status is not S.SENT
    tier = rng.choice(TIERS) if scored else None
    decided = status is S.DECIDED
    return {
        "buyer_org_id": buyer_id, "vendor_id": vendor_id, "questionnaire_id": q.id,
        "questionnaire_version": q.version, "questionnaire_sha256": q.sha256, "status": status,
        "message": "", "created_by_id": admin_id, "created_at": sent, "sent_at": sent,
        "submitted_at": sent + timedelta(days=10) if status not in (S.SENT, S.IN_PROGRESS) else None,
        "decided_at": sent + timedelta(days=20) if decided else None,
        "decision": rng.choice(tuple(Decision)) if decided else None,
        "due_date": (sent + timedelta(days=30)).date() if status is not S.EXPIRED
        else today - timedelta(days=rng.randint(1, 60)),
        "progress": rng.randint(0, 100) if status in (S.SENT, S.IN_PROGRESS) else 100,
        "completeness": rng.random(), "open_findings": rng.randint(0, 9) if scored else 0,
        "score": round(rng.uniform(20, 100), 1) if scored else None, "tier": tier,
        "results_stale": scored and rng.random() < stale_share,
        "next_review_date": today + timedelta(days=rng.randint(-30, 400)) if decided else None}


def _chunks(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    """Group rows into lists of at most `size`."""
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
