"""The questionnaires tests use: a small one written for them, and the shipped ones with their answer sets.

Call inside an app context.
"""

from __future__ import annotations

import copy
from typing import Any

from flask import Flask, current_app

from vendorcheck.questionnaire import Questionnaire, load_questionnaire_text, validate_answers

ART28 = "art28-processor-audit"
# Answer sets embedded in the Art. 28 questionnaire (its `tests:`), named by what they give.
GOOD = "good_vendor_eea_only_is_low"
HIGH = "two_high_findings_give_high_tier"
UNACCEPTABLE = "us_hosting_without_dpf_confirmation_is_blocked"
WEAK = "weak_vendor_without_knockout_is_high_risk"

# The small questionnaire written for the tests: a table, a file item, a justification, a condition.
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


def shipped_questionnaire(qid: str = ART28, version: str | None = None) -> Questionnaire:
    """Return a questionnaire of the app's catalogue: one version, or the latest published one."""
    q: Questionnaire = current_app.extensions["questionnaires"].get(qid, version)
    return q


def embedded_answers(name: str, qid: str = ART28) -> dict[str, Any]:
    """Return one of the latest version's embedded answer sets, checked and converted like a save."""
    q = shipped_questionnaire(qid)
    checked = validate_answers(q, _embedded_test(q, name).answers)
    assert checked.ok, checked.problems
    return dict(checked.answers)


def embedded_answers_as_written(name: str, qid: str = ART28) -> dict[str, Any]:
    """Return a copy of one of the latest version's embedded answer sets, as its YAML writes it."""
    return copy.deepcopy(dict(_embedded_test(shipped_questionnaire(qid), name).answers))


def _embedded_test(q: Questionnaire, name: str) -> Any:
    """Return the questionnaire's embedded test of that name."""
    return next(t for t in q.tests if t.name == name)
