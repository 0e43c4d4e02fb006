"""The description of the technical and organisational measures, as a stand-alone document.

Pure: no Flask, no database. The Annex III answers of the DPA (one text per heading of the
standard clauses' measures annex) are regrouped under the headings buyers' security teams expect;
incident handling and sub-processor management are stated from the DPA's commitments (Clause 9,
Art. 33(2); Clause 7.7, Art. 28(2) and (4)). Each heading carries the evidence files the vendor
uploaded for the matching Art. 28 questions. A heading that is not answered, or answered with
boilerplate (`checks.is_generic_measure`), is listed as "to be completed": nothing is invented.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vendorcheck.agreement.assemble import (
    KIND_TEMPLATES,
    SCC_REFERENCE,
    Words,
    load_template,
)
from vendorcheck.agreement.checks import is_generic_measure
from vendorcheck.agreement.text import LazyText, _l
from vendorcheck.pdf.report import Formatter
from vendorcheck.questionnaire import Questionnaire

MEASURE_SLOT = "dpa.annex_ii."


@dataclass(frozen=True)
class Heading:
    """One heading: the Annex III answers it gathers and the Art. 28 items whose evidence it cites."""

    id: str
    title: LazyText
    measures: tuple[str, ...]
    evidence_items: tuple[str, ...] = ()


HEADINGS: tuple[Heading, ...] = (
    Heading("access_control", _l("Access control"),
            ("identification_authorisation", "configuration")),
    Heading("encryption", _l("Encryption"), ("encryption", "transmission", "storage")),
    Heading("logging", _l("Logging and monitoring"), ("logging",)),
    Heading("backups", _l("Backups and resilience"), ("cia_resilience", "restoration"),
            ("backups_tested",)),
    Heading("testing", _l("Testing and evaluation of the measures"), ("testing",),
            ("security_testing",)),
    Heading("incidents", _l("Incident handling"), ()),
    Heading("subprocessors", _l("Sub-processor management"), (), ("tia_done",)),
    Heading("physical", _l("Physical security"), ("physical_security",)),
    Heading("certifications", _l("Certifications"), ("certification",), ("certifications",)),
    Heading("other", _l("Other organisational measures"),
            ("it_governance", "minimisation", "data_quality", "retention", "accountability",
             "portability_erasure", "assistance"), ("staff_confidentiality",)),
)


def _label(words: Words, key: str) -> str:
    """Return the questionnaire's label of an Annex III heading (the key when unknown)."""
    item = words.item(MEASURE_SLOT + key)
    return words.fmt.text(item.label) if item is not None and item.label else key


def has_breach_commitment(clauses: Mapping[str, Any]) -> bool:
    """Tell whether the DPA commits to notify breaches: "without undue delay", or an outer limit
    in hours (the documents then still say "without undue delay", see docs/dpa.md)."""
    if clauses.get("breach_undue_delay") == "no":
        return False
    return clauses.get("breach_undue_delay") == "yes" or clauses.get("breach_hours") is not None


def incident_text(clauses: Mapping[str, Any]) -> list[str]:
    """Return the breach commitment of the DPA in sentences, or nothing when it was not given."""
    if not has_breach_commitment(clauses):
        return []
    out = [str(_l("Personal data breaches are notified to the controller without undue delay "
                  "after the processor becomes aware of them (Art. 33(2) GDPR)."))]
    if clauses.get("breach_hours") is not None:
        out.append(str(_l("Outer limit: %(hours)s hours.", hours=clauses["breach_hours"])))
    if clauses.get("breach_contact"):
        out.append(str(_l("Contact for notifications: %(contact)s.",
                          contact=clauses["breach_contact"])))
    return out


def subprocessor_text(content: Mapping[str, Any]) -> list[str]:
    """Return how sub-processors are engaged and bound, from the DPA's answers."""
    clauses, subs = content.get("clauses") or {}, content.get("subprocessors") or []
    out = [str(_l("%(count)s sub-processors are listed in Annex IV of the DPA, each with its "
                  "activity, location and transfer tool.", count=len(subs)))] if subs else []
    model = clauses.get("subprocessor_authorisation")
    if subs and model == "general" and clauses.get("notice_days") is not None:
        out.append(str(_l("General written authorisation: each intended change is announced "
                          "%(days)s days in advance and the controller may object (Art. 28(2) "
                          "GDPR).", days=clauses["notice_days"])))
    elif model == "specific" or clauses.get("request_days") is not None:
        out.append(str(_l("Prior specific written authorisation of the controller for each "
                          "sub-processor (Art. 28(2) GDPR).")))
    if clauses.get("flow_down") == "yes":
        out.append(str(_l("The same data protection obligations are imposed on each "
                          "sub-processor by contract (Art. 28(4) GDPR).")))
    return out


def _heading(heading: Heading, content: Mapping[str, Any], words: Words,
             evidence: Mapping[str, Sequence[Mapping[str, str]]]) -> dict[str, Any]:
    """Return one heading: its measures, its evidence and what is to be completed."""
    measures = content.get("measures") or {}
    entries: list[tuple[str, str]] = []
    missing: list[str] = []
    for key in heading.measures:
        label, text = _label(words, key), measures.get(key)
        if not text or is_generic_measure(str(text), label):
            missing.append(label)
        else:
            entries.append((label, str(text)))
    if heading.id == "incidents":
        said = incident_text(content.get("clauses") or {})
        entries += [(str(heading.title), " ".join(said))] if said else []
        missing += [] if said else [str(_l("Breach notification commitment"))]
    if heading.id == "subprocessors":
        said = subprocessor_text(content)
        entries += [(str(heading.title), " ".join(said))] if said else []
        missing += [] if said else [str(_l("How sub-processors are authorised and bound"))]
    if heading.id == "certifications" and measures.get("certifications_held"):
        held = words.value(MEASURE_SLOT + "certifications_held", measures["certifications_held"])
        entries.append((str(_l("Certifications held")), held))
    files = [dict(ref) for item in heading.evidence_items for ref in evidence.get(item) or []]
    return {"id": heading.id, "title": heading.title, "entries": entries, "evidence": files,
            "to_complete": missing}


def security_document(content: Mapping[str, Any], *, locale: str, q: Questionnaire | None,
                      evidence: Mapping[str, Sequence[Mapping[str, str]]] | None = None
                      ) -> dict[str, Any]:
    """Return the measures document in one locale: headings in order, and every gap listed.

    `evidence` maps an Art. 28 item id to the files uploaded for it (name, date, SHA-256).
    """
    fmt = Formatter(locale)
    words = Words(q, load_template(KIND_TEMPLATES[SCC_REFERENCE], fmt.locale), fmt)
    headings = [_heading(h, content, words, evidence or {}) for h in HEADINGS]
    return {
        "locale": fmt.locale,
        "processor": (content.get("parties") or {}).get("processor_name") or "",
        "headings": headings,
        "to_complete": [(h["title"], label) for h in headings for label in h["to_complete"]],
    }


__all__ = ["HEADINGS", "Heading", "has_breach_commitment", "incident_text", "security_document",
           "subprocessor_text"]
