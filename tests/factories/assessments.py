"""Assessments in the states tests need, all built by `new_assessment`; contacts and clarifications.

Call inside an app context. The assessment a report is made from (findings, overrides, a decision) is
`tests.factories.reports.make_reviewed_assessment`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from tests.factories.questionnaires import (
    ART28,
    GOOD,
    embedded_answers,
    install_questionnaire,
    shipped_questionnaire,
)
from vendorcheck.extensions import db
from vendorcheck.models import Contact, Organisation, User, Vendor, utcnow
from vendorcheck.models.assessments import (
    Answer,
    Assessment,
    AssessmentRecipient,
    AssessmentStatus,
    Clarification,
)
from vendorcheck.questionnaire import Questionnaire
from vendorcheck.services.assessments import refresh_results

# Statuses in which the vendor has not submitted yet (no submitted_at).
NOT_SUBMITTED = (AssessmentStatus.SENT, AssessmentStatus.IN_PROGRESS)


def new_assessment(buyer: Organisation, vendor: Vendor, q: Questionnaire, *,
                   status: AssessmentStatus, by: User | None = None,
                   answers: dict[str, Any] | None = None,
                   justifications: dict[str, str] | None = None,
                   contacts: Iterable[Contact] = (), **columns: Any) -> Assessment:
    """Add an assessment of `q` with its answers and recipients to the session: flushed, not committed.

    `columns` are further Assessment columns (dates, message, cached results, the decision).
    """
    assessment = Assessment(
        buyer_org_id=buyer.id, vendor_id=vendor.id, questionnaire_id=q.id,
        questionnaire_version=q.version, questionnaire_sha256=q.sha256, status=status,
        created_by_id=by.id if by else None, **columns)
    db.session.add(assessment)
    for item_id, value in (answers or {}).items():
        assessment.answers.append(Answer(item_id=item_id, value=value,
                                         justification=(justifications or {}).get(item_id)))
    for contact in contacts:
        assessment.recipients.append(AssessmentRecipient(contact_id=contact.id))
    db.session.flush()
    return assessment


def make_assessment(buyer: Organisation, vendor: Vendor, *, status: AssessmentStatus =
                    AssessmentStatus.SENT, by: User | None = None, due_date: date | None = None,
                    answers: dict[str, Any] | None = None, contact: Contact | None = None,
                    submitted: bool = False) -> Assessment:
    """Create an assessment of the small test questionnaire, optionally with answers."""
    assessment = new_assessment(
        buyer, vendor, install_questionnaire(), status=status, by=by, answers=answers,
        contacts=[contact] if contact is not None else [], due_date=due_date,
        message="Please answer", sent_at=utcnow(), submitted_at=utcnow() if submitted else None)
    db.session.commit()
    db.session.refresh(assessment)
    return assessment


def make_scored_assessment(buyer: Organisation, vendor: Vendor, *, by: User | None = None,
                           status: AssessmentStatus = AssessmentStatus.SUBMITTED,
                           answers: dict[str, Any] | str | None = GOOD, q: Questionnaire | None = None,
                           contacts: list[Contact] | None = None, due_date: date | None = None,
                           **columns: Any) -> Assessment:
    """Create an assessment with answers and fresh cached results (like the vendor's saves).

    `answers` is an answer set or the name of one embedded in the shipped questionnaire; `q` defaults
    to the latest Art. 28 questionnaire; `columns` are set after scoring.
    """
    q = q or shipped_questionnaire()
    values = embedded_answers(answers, q.id) if isinstance(answers, str) else (answers or {})
    assessment = new_assessment(
        buyer, vendor, q, status=status, by=by, answers=values, contacts=contacts or [],
        due_date=due_date or date.today() + timedelta(days=30), message="", sent_at=utcnow(),
        submitted_at=utcnow() if status not in NOT_SUBMITTED else None)
    refresh_results(assessment, q)
    for key, value in columns.items():
        setattr(assessment, key, value)
    db.session.commit()
    return assessment


def make_art28_assessment(buyer: Organisation, vendor: Vendor, *,
                          answers: dict[str, Any] | None = None,
                          status: AssessmentStatus | None = None,
                          questionnaire_id: str = ART28) -> Assessment:
    """Create an assessment of a shipped questionnaire (Art. 28 unless told), sent and open for answers."""
    assessment = new_assessment(
        buyer, vendor, shipped_questionnaire(questionnaire_id),
        status=status or AssessmentStatus.IN_PROGRESS, answers=answers, sent_at=utcnow())
    db.session.commit()
    return assessment


def make_contact(vendor: Vendor, email: str, name: str = "Vendor Contact") -> Contact:
    """Add a contact to a vendor."""
    contact = Contact(vendor_id=vendor.id, email=email, name=name)
    db.session.add(contact)
    db.session.commit()
    db.session.refresh(contact)
    return contact


def make_clarification(assessment: Assessment, item_id: str, question: str = "Which one?"
                       ) -> Clarification:
    """Open a clarification on an item."""
    clarification = Clarification(assessment_id=assessment.id, item_id=item_id, question=question)
    db.session.add(clarification)
    db.session.commit()
    db.session.refresh(clarification)
    return clarification
