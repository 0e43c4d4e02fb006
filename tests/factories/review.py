"""Factories for the review tests: contacts, and assessments in any state with real answers."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import current_app

from vendorcheck.extensions import db
from vendorcheck.models import Contact, Organisation, User, Vendor, utcnow
from vendorcheck.models.assessments import (
    Answer,
    Assessment,
    AssessmentRecipient,
    AssessmentStatus,
    Evidence,
)
from vendorcheck.questionnaire import Questionnaire, validate_answers
from vendorcheck.services.assessments import refresh_results

QID = "art28-processor-audit"


def questionnaire(qid: str = QID, version: str | None = None) -> Questionnaire:
    """Return a questionnaire of the app's catalogue."""
    return current_app.extensions["questionnaires"].get(qid, version)


def embedded_answers(test_name: str, qid: str = QID) -> dict[str, Any]:
    """Return the answers of one of the questionnaire's embedded tests (validated)."""
    q = questionnaire(qid)
    test = next(t for t in q.tests if t.name == test_name)
    checked = validate_answers(q, test.answers)
    assert checked.ok, checked.problems
    return dict(checked.answers)


GOOD = "good_vendor_eea_only_is_low"
HIGH = "two_high_findings_give_high_tier"
UNACCEPTABLE = "us_hosting_without_dpf_confirmation_is_blocked"


def make_contact(vendor: Vendor, email: str, name: str = "Vendor Contact") -> Contact:
    """Add a contact to a vendor."""
    contact = Contact(vendor_id=vendor.id, name=name, email=email)
    db.session.add(contact)
    db.session.commit()
    return contact


def make_assessment(buyer: Organisation, vendor: Vendor, *, by: User | None = None,
                    status: AssessmentStatus = AssessmentStatus.SUBMITTED,
                    answers: dict[str, Any] | str | None = GOOD, q: Questionnaire | None = None,
                    contacts: list[Contact] | None = None, due_date: date | None = None,
                    **columns: Any) -> Assessment:
    """Create an assessment with answers and fresh cached results (like the vendor's saves)."""
    q = q or questionnaire()
    values = embedded_answers(answers, q.id) if isinstance(answers, str) else (answers or {})
    assessment = Assessment(
        buyer_org_id=buyer.id, vendor_id=vendor.id, questionnaire_id=q.id,
        questionnaire_version=q.version, questionnaire_sha256=q.sha256, status=status,
        due_date=due_date or date.today() + timedelta(days=30), message="",
        created_by_id=by.id if by else None, sent_at=utcnow(),
        submitted_at=utcnow() if status not in (AssessmentStatus.SENT,
                                                AssessmentStatus.IN_PROGRESS) else None)
    db.session.add(assessment)
    for item_id, value in values.items():
        assessment.answers.append(Answer(item_id=item_id, value=value))
    for contact in contacts or []:
        assessment.recipients.append(AssessmentRecipient(contact_id=contact.id))
    db.session.flush()
    refresh_results(assessment, q)
    for key, value in columns.items():
        setattr(assessment, key, value)
    db.session.commit()
    return assessment


def make_evidence(assessment: Assessment, item_id: str, name: str = "policy.pdf") -> Evidence:
    """Attach an evidence row (no file on disk: the review only lists it)."""
    evidence = Evidence(assessment_id=assessment.id, item_id=item_id, file_name=name,
                        storage_key=f"{assessment.id:08x}{item_id}"[:64].ljust(16, "0"),
                        content_type="application/pdf", size=2048, sha256="0" * 64)
    db.session.add(evidence)
    db.session.commit()
    return evidence
