"""Factories for assessments: a small test questionnaire, assessments, answers, evidence."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from flask import Flask, current_app

from vendorcheck.extensions import db
from vendorcheck.models import Contact, Organisation, User, Vendor, utcnow
from vendorcheck.models.assessments import (
    Answer,
    Assessment,
    AssessmentRecipient,
    AssessmentStatus,
    Clarification,
    Evidence,
)
from vendorcheck.questionnaire import Questionnaire, load_questionnaire_text

QID, QVERSION = "vc-test", "1.0.0"

TEST_YAML = """\
schema: vendorcheck/questionnaire@1
id: vc-test
version: 1.0.0
status: published
default_locale: en
locales: [en, fr]
title: {en: Test questionnaire, fr: Questionnaire de test}
reference_data: [country_groups@2026-01-28]
references:
  gdpr: {title: {en: GDPR, fr: RGPD}, url: "https://eur-lex.europa.eu/eli/reg/2016/679/oj"}
categories:
  - {id: contract, weight: 2, label: {en: Contract, fr: Contrat}}
sections:
  - id: main
    title: {en: Main, fr: Principal}
    items:
      - {id: has_dpa, type: yes_no, category: contract, points: 2, required: true,
         refs: ["gdpr:28.3"], help: {en: Signed DPA, fr: Contrat signé},
         evidence: {accept: [pdf, docx], max_mb: 0.2},
         label: {en: DPA signed?, fr: Contrat signé ?}}
      - {id: audits, type: yes_no, category: contract, na_allowed: true, required: true,
         justification: {when: "audits == 'no'", label: {en: Why not?, fr: Pourquoi ?}},
         label: {en: Audits allowed?, fr: Audits ?}}
      - {id: hours, type: number, min: 0, label: {en: Breach notice hours, fr: Heures}}
      - {id: notes, type: long_text, max_length: 10000, label: {en: Notes, fr: Notes}}
  - id: subs_section
    title: {en: Sub-processors, fr: Sous-traitants}
    items:
      - {id: uses_sub, type: yes_no, required: true, label: {en: Subs?, fr: Sous-traitants ?}}
      - {id: sub_note, type: text, visible_if: "uses_sub == 'yes'", label: {en: Comment, fr: Note}}
      - id: subs
        type: table
        visible_if: "uses_sub == 'yes'"
        required: true
        max_rows: 5
        unique: [name]
        label: {en: Sub-processors, fr: Sous-traitants}
        columns:
          - {id: name, type: text, required: true, label: {en: Name, fr: Nom}}
          - {id: country, type: country, required: true, label: {en: Country, fr: Pays}}
      - {id: docs, type: file, max_files: 5, accept: [pdf, png, jpeg, docx, xlsx, txt, csv],
         label: {en: Documents, fr: Documents}}
findings:
  - {id: no_dpa, severity: high, when: "has_dpa == 'no'", title: {en: No DPA, fr: Pas de contrat}}
tiers:
  - {id: high, when: "findings('high') > 0", label: {en: H, fr: H}}
  - {id: low, when: "true", label: {en: L, fr: L}}
"""

COMPLETE = {"has_dpa": "yes", "audits": "yes", "uses_sub": "no"}


def install_questionnaire(app: Flask | None = None) -> Questionnaire:
    """Add the test questionnaire to the app's catalogue (once) and return it."""
    catalogue = (app or current_app).extensions["questionnaires"]
    for q in catalogue.questionnaires:
        if q.id == QID and q.version == QVERSION:
            return q
    q = load_questionnaire_text(TEST_YAML, datasets=catalogue.datasets, file="vc-test.yaml")
    catalogue.questionnaires.append(q)
    return q


def make_assessment(buyer: Organisation, vendor: Vendor, *, status: AssessmentStatus =
                    AssessmentStatus.SENT, by: User | None = None, due_date: date | None = None,
                    answers: dict[str, Any] | None = None, contact: Contact | None = None,
                    submitted: bool = False) -> Assessment:
    """Create an assessment of the test questionnaire, optionally with answers."""
    q = install_questionnaire()
    assessment = Assessment(
        buyer_org_id=buyer.id, vendor_id=vendor.id, questionnaire_id=q.id,
        questionnaire_version=q.version, questionnaire_sha256=q.sha256, status=status,
        due_date=due_date, message="Please answer", created_by_id=by.id if by else None,
        sent_at=utcnow(), submitted_at=utcnow() if submitted else None)
    db.session.add(assessment)
    db.session.flush()
    for item_id, value in (answers or {}).items():
        db.session.add(Answer(assessment_id=assessment.id, item_id=item_id, value=value))
    if contact is not None:
        db.session.add(AssessmentRecipient(assessment_id=assessment.id, contact_id=contact.id))
    db.session.commit()
    db.session.refresh(assessment)
    return assessment


def make_contact(vendor: Vendor, email: str, name: str = "Contact") -> Contact:
    """Create a vendor contact."""
    contact = Contact(vendor_id=vendor.id, email=email, name=name)
    db.session.add(contact)
    db.session.commit()
    db.session.refresh(contact)
    return contact


def make_evidence(assessment: Assessment, item_id: str = "docs", *,
                  content: bytes = b"hello evidence\n", name: str = "note.txt") -> Evidence:
    """Store a small text evidence file for an item."""
    from vendorcheck.storage import Area, current_store

    key, sha256, size = current_store().save(Area.EVIDENCE, io.BytesIO(content))
    evidence = Evidence(assessment_id=assessment.id, item_id=item_id, file_name=name,
                        storage_key=key, content_type="text/plain; charset=utf-8", size=size,
                        sha256=sha256)
    db.session.add(evidence)
    db.session.commit()
    db.session.refresh(evidence)
    return evidence


def make_clarification(assessment: Assessment, item_id: str, question: str = "Which one?"
                       ) -> Clarification:
    """Open a clarification on an item."""
    clarification = Clarification(assessment_id=assessment.id, item_id=item_id, question=question)
    db.session.add(clarification)
    db.session.commit()
    db.session.refresh(clarification)
    return clarification


def add_assessment_world(world: Any) -> None:
    """Give each tenant of the authz world an assessment, an evidence file and a clarification."""
    for key, tenant in world.tenants.items():
        buyer = db.session.get(Organisation, tenant.buyer.id)
        vendor = db.session.get(Vendor, tenant.vendor.id)
        assessment = make_assessment(buyer, vendor, by=db.session.get(User, tenant.users["admin"].id))
        evidence = make_evidence(assessment, name=f"evidence-{key}.txt")
        clarification = make_clarification(assessment, "has_dpa")
        world.extra[f"assessment_{key}"] = assessment.id
        world.extra[f"evidence_{key}"] = evidence.id
        world.extra[f"clarification_{key}"] = clarification.id
