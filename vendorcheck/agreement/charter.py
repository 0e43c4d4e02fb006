"""The vendor's GDPR charter ("charte RGPD"): a short public document built from the DPA answers.

Pure: no Flask, no database. `charter_facts()` gathers, from the current DPA document content and
the published DPA it links to, what the charter states: who the processor is and how to reach it
and its DPO, the processing it carries out for its clients, where the data are processed and which
transfer tools apply, its sub-processors (by link to the public list), a summary of its security
measures, and its breach, audit and deletion commitments. `missing()` lists the facts that are
absent; publishing is refused while the list is not empty. `charter_context()` puts the stored
facts into words in one locale, so a published charter renders the same for ever.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vendorcheck.agreement import measures as tom
from vendorcheck.agreement.assemble import (
    KIND_TEMPLATES,
    SCC_REFERENCE,
    Words,
    load_template,
)
from vendorcheck.agreement.register import transfer_line, transfers
from vendorcheck.agreement.text import LazyText, _l
from vendorcheck.pdf.report import Formatter
from vendorcheck.questionnaire import Questionnaire

SCHEMA = "vendorcheck/gdpr-charter@1"
FACT_SECTIONS = ("parties", "processing", "measures", "subprocessors", "clauses")


def charter_facts(content: Mapping[str, Any], *, dpa: Mapping[str, Any] | None,
                  questionnaire: tuple[str, str] | None) -> dict[str, Any]:
    """Return the facts a charter states: the DPA document's sections and the published DPA.

    `dpa` is the published DPA version the charter links to ({"slug", "number", "sha256"}), or
    None when nothing is published yet.
    """
    facts: dict[str, Any] = {"schema": SCHEMA, "dpa": dict(dpa) if dpa else None,
                             "questionnaire": list(questionnaire) if questionnaire else None}
    for key in FACT_SECTIONS:
        value = content.get(key)
        facts[key] = list(value) if isinstance(value, list) else dict(value or {})
    return facts


def missing(facts: Mapping[str, Any]) -> list[LazyText]:
    """Return what the charter lacks; while the list is not empty it cannot be published."""
    parties, p = facts.get("parties") or {}, facts.get("processing") or {}
    clauses = facts.get("clauses") or {}
    out: list[LazyText] = []
    if not parties.get("processor_name") or not parties.get("processor_address"):
        out.append(_l("Who you are: the processor's legal name and address."))
    if not parties.get("contact_email") and not parties.get("dpo_email"):
        out.append(_l("A contact address for data protection questions (or your DPO's)."))
    if not p.get("purpose") or not (p.get("nature") or p.get("nature_other")):
        out.append(_l("The processing you carry out for your clients (nature and purpose)."))
    if not p.get("processing_locations"):
        out.append(_l("Where the data are processed (countries)."))
    if not tom.has_breach_commitment(clauses):
        out.append(_l("Your breach notification commitment (without undue delay)."))
    if not clauses.get("audit_model"):
        out.append(_l("Your audit commitment."))
    if not clauses.get("end_of_contract"):
        out.append(_l("Your deletion or return commitment at the end of the contract."))
    if not [k for k, v in (facts.get("measures") or {}).items() if v and k != "certifications_held"]:
        out.append(_l("A description of your security measures."))
    if not facts.get("dpa"):
        out.append(_l("A published DPA: the charter links to it."))
    return out


def _security_summary(facts: Mapping[str, Any], words: Words) -> list[str]:
    """Return the headings of the measures that are described, and the certifications held."""
    doc = tom.security_document(facts, locale=words.fmt.locale, q=words.q)
    described = [str(h["title"]) for h in doc["headings"]
                 if h["entries"] and h["id"] not in ("incidents", "subprocessors")]
    out = [str(_l("Measures described in Annex III of our DPA: %(headings)s.",
                  headings=", ".join(described)))] if described else []
    held = (facts.get("measures") or {}).get("certifications_held")
    if held:
        out.append(str(_l("Certifications: %(names)s.",
                          names=words.value("dpa.annex_ii.certifications_held", held))))
    return out


def _audit_text(clauses: Mapping[str, Any]) -> str:
    """Return the audit commitment in one sentence."""
    if clauses.get("audit_model") == "onsite_audit":
        return str(_l("You may audit us, yourself or through an auditor you mandate, including "
                      "inspections (Art. 28(3)(h) GDPR)."))
    if clauses.get("audit_model") == "reports_then_audit":
        return str(_l("We make available the information needed to demonstrate compliance, "
                      "including audit reports, and allow audits and inspections by you or an "
                      "auditor you mandate (Art. 28(3)(h) GDPR)."))
    return ""


def _deletion_text(clauses: Mapping[str, Any], fmt: Formatter) -> str:
    """Return the end-of-contract commitment in one sentence."""
    choice = clauses.get("end_of_contract")
    days = clauses.get("end_of_contract_days")
    if not choice:
        return ""
    text = str(_l("At the end of the services we delete or return the personal data, at your "
                  "choice, and delete existing copies (Art. 28(3)(g) GDPR).")) \
        if choice == "controller_choice" else str(_l(
            "At the end of the services we delete the personal data and existing copies, after "
            "returning them where agreed (Art. 28(3)(g) GDPR)."))
    if days is not None:
        text += " " + str(_l("Deadline: %(days)s days.", days=fmt.number(days)))
    if clauses.get("deletion_certificate") == "yes":
        text += " " + str(_l("Deletion is certified in writing."))
    return text


def charter_context(facts: Mapping[str, Any], *, locale: str,
                    q: Questionnaire | None) -> dict[str, Any]:
    """Return the charter's sections in one locale: (title, paragraphs) in a fixed order."""
    fmt = Formatter(locale)
    words = Words(q, load_template(KIND_TEMPLATES[SCC_REFERENCE], fmt.locale), fmt)
    parties, p = facts.get("parties") or {}, facts.get("processing") or {}
    clauses = facts.get("clauses") or {}
    lines = transfers({"processor": parties, "processing": p,
                       "subprocessors": facts.get("subprocessors") or []}, words)
    country = words.value("dpa.parties.processor_country", parties.get("processor_country"))
    sections: list[tuple[LazyText, list[str]]] = [
        (_l("Who we are"), [_join(parties.get("processor_name"), parties.get("processor_address"),
                                  country),
                            _join(parties.get("processor_registration"))]),
        (_l("Contact and data protection officer"), [
            _join(parties.get("contact_name"), parties.get("contact_email")),
            str(_l("Data protection officer: %(dpo)s", dpo=_join(parties.get("dpo_name"),
                                                              parties.get("dpo_email"))))
            if parties.get("dpo_name") else "",
            str(_l("Representative in the Union: %(rep)s", rep=parties["eu_representative"]))
            if parties.get("eu_representative") else ""]),
        (_l("The processing we carry out for our clients"), [
            _join(p.get("subject_matter")),
            str(_l("Nature: %(nature)s.", nature=_other(words, p, "nature")))
            if p.get("nature") or p.get("nature_other") else "",
            str(_l("Purpose: %(purpose)s", purpose=p["purpose"])) if p.get("purpose") else "",
            str(_l("Data subjects: %(subjects)s.", subjects=_other(words, p, "data_subjects")))
            if p.get("data_subjects") or p.get("data_subjects_other") else "",
            str(_l("Categories of data: %(data)s.", data=_other(words, p, "data_categories")))
            if p.get("data_categories") or p.get("data_categories_other") else ""]),
        (_l("Where the data are processed"), [
            str(_l("Countries: %(countries)s.", countries=words.value(
                "dpa.annex_i.processing_locations", p.get("processing_locations"))))
            if p.get("processing_locations") else "",
            *([str(_l("Transfers outside the EEA and their tools:"))] if lines else
              [str(_l("No transfer outside the EEA without an adequacy decision."))]),
            *[transfer_line(line) for line in lines]]),
        (_l("Sub-processors"), [str(_l(
            "%(count)s sub-processors; the list in force, with each one's activity, location and "
            "transfer tool, is public (link below).", count=len(facts.get("subprocessors") or [])))
            if facts.get("subprocessors") else str(_l("We use no sub-processor."))]),
        (_l("Security"), _security_summary(facts, words)),
        (_l("Personal data breaches"), tom.incident_text(clauses)),
        (_l("Audits"), [_audit_text(clauses)]),
        (_l("End of the services"), [_deletion_text(clauses, fmt)]),
    ]
    return {"locale": fmt.locale, "processor": parties.get("processor_name") or "",
            "dpa": facts.get("dpa"),
            "sections": [(title, [text for text in texts if text]) for title, texts in sections],
            "missing": missing(facts)}


def _join(*parts: Any) -> str:
    """Return the non-empty parts joined by commas."""
    return ", ".join(str(part) for part in parts if part)


def _other(words: Words, section: Mapping[str, Any], key: str) -> str:
    """Return a multi-choice answer in words with its "other" text."""
    codes = [c for c in section.get(key) or [] if c != "other"]
    return _join(words.value(f"dpa.annex_i.{key}", codes) if codes else "",
                 section.get(f"{key}_other"))


__all__ = ["SCHEMA", "charter_context", "charter_facts", "missing"]
