"""Assemble a DPA document from the processor's answers and a versioned clause template.

Pure: no Flask, no database. `assemble()` turns answers (keyed by the questionnaire's `export`
slots) into the immutable document content stored in `DpaVersion.content`; `document_context()`
turns that content into what the HTML and PDF templates show, in one locale.

The questionnaire's slots use an older annex numbering; the document follows Implementing
Decision (EU) 2021/915 (see docs/dpa.md):

    dpa.parties.*                 -> content["parties"]       -> Annex I   (list of parties)
    dpa.annex_i.*                 -> content["processing"]    -> Annex II  (description of processing)
    dpa.annex_ii.*                -> content["measures"]      -> Annex III (technical and org. measures)
    dpa.annex_iii.subprocessors   -> content["subprocessors"] -> Annex IV  (list of sub-processors)
    dpa.clauses.*                 -> content["clauses"]       -> placeholders and variants of the clauses

Two kinds of document, never mixed (`content["kind"]`): "scc_reference", a short agreement that
incorporates the Commission's clauses by reference and records the options chosen, and
"own_words", an ordinary Article 28 contract that claims no standard-clause status. Versions
published before kinds existed have no "kind" and keep rendering with their stored template.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml
from markupsafe import Markup, escape

from vendorcheck.pdf.report import Formatter
from vendorcheck.questionnaire import Item, Questionnaire, evaluate_visibility
from vendorcheck.questionnaire.itemtypes import answer_words
from vendorcheck.questionnaire.legal_refs import format_ref

TEMPLATES_DIR = Path(__file__).parent / "clauses"
# The template of versions published before document kinds existed (content without "kind").
TEMPLATE_VERSION = "2021-915/v1"
LEGACY_KIND = "legacy"
SCC_REFERENCE, OWN_WORDS = "scc_reference", "own_words"
KINDS = (SCC_REFERENCE, OWN_WORDS)
DEFAULT_KIND = SCC_REFERENCE
# Each kind's current template; a new wording is a new folder, so stored versions never change.
KIND_TEMPLATES = {SCC_REFERENCE: "scc-reference/v1", OWN_WORDS: "own-words/v1"}
LOCALES = ("en", "fr")
SUBPROCESSOR_SLOT = "dpa.annex_iii.subprocessors"
# The fields of the public sub-processor feeds (schema @1) and of legacy versions' Annex IV.
SUBPROCESSOR_FIELDS = ("name", "address", "country", "activity", "location", "transfer_tool")
# Annex IV of both kinds also names the contact person and delimits responsibilities
# (Annex IV of 2021/915; EDPB Opinion 22/2024).
ANNEX_IV_FIELDS = ("name", "address", "country", "contact", "activity", "responsibilities",
                   "location", "transfer_tool")
# Slot prefix → section of the document content.
SLOT_SECTIONS = {
    "dpa.parties": "parties",
    "dpa.annex_i": "processing",
    "dpa.annex_ii": "measures",
    "dpa.clauses": "clauses",
}
# Country groups whose recipients need a Chapter V transfer tool (same rule as the questionnaire).
TRANSFER_GROUPS = frozenset({"third_country", "adequate_partial"})
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
MISSING = "[…]"
# Flags computed at assembly and stored with the clauses, so a version renders the same for ever.
COMPUTED_FLAGS = ("transfers_outside_eea",)


class TemplateError(ValueError):
    """A clause template file is missing or malformed."""


class UnknownKind(ValueError):
    """A document kind other than those of KINDS was asked for."""


def document_kind(content: Mapping[str, Any]) -> str:
    """Return a stored document's kind; versions from before kinds existed are "legacy"."""
    kind = content.get("kind")
    return str(kind) if kind in KINDS else LEGACY_KIND


# --------------------------------------------------------------------------------- templates

@functools.cache
def load_template(version: str, locale: str) -> dict[str, Any]:
    """Load one clause template (e.g. "2021-915/v1", "fr"); cached, read-only by convention."""
    if locale not in LOCALES or not re.fullmatch(r"[0-9a-z-]+/v[0-9]+", version):
        raise TemplateError(f"unknown template {version!r} in {locale!r}")
    path = TEMPLATES_DIR / version / f"{locale}.yaml"
    if not path.is_file():
        raise TemplateError(f"unknown template {version!r} in {locale!r}")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or f"{data.get('template')}/{data.get('version')}" != version:
        raise TemplateError(f"{path.name}: template/version do not match {version!r}")
    return data


def iter_clauses(template: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return every clause and sub-clause of a template, in document order."""
    out: list[dict[str, Any]] = []
    for section in template["sections"]:
        for clause in section["clauses"]:
            out.append(clause)
            out.extend(clause.get("subclauses") or [])
    return out


# ---------------------------------------------------------------------------------- assembly

def export_items(q: Questionnaire) -> dict[str, Item]:
    """Return the questionnaire's items by export slot."""
    return {item.export: item for item in q.items if item.export}


def _number(value: Any) -> int | float | None:
    """Return a number as int when integral (JSON stays stable), float otherwise."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else number


def _text(value: Any) -> str | None:
    """Return stripped text, or None when blank."""
    if not isinstance(value, str):
        return None
    return value.strip() or None


def _value(item: Item, value: Any, raw: Any) -> Any:
    """Return an answer as stored in the document (plain JSON types)."""
    if item.type == "number":
        return _number(value)
    if item.type in ("multi_choice", "country_list"):
        return [str(v) for v in value] if value else None
    if item.type == "attestation":
        if value is not True or not isinstance(raw, Mapping):
            return None
        return {"name": _text(raw.get("name")) or "", "role": _text(raw.get("role")) or ""}
    return _text(value)


def _subprocessor(row: Mapping[str, Any]) -> dict[str, Any]:
    """Return one sub-processor row with exactly the published fields (None when not applicable)."""
    return {key: _text(row.get(key)) for key in ANNEX_IV_FIELDS}


def needs_transfer_tool(code: Any, group_of: Callable[[str], str] | None) -> bool:
    """Tell whether data going to this country need a Chapter V transfer tool."""
    return bool(code) and group_of is not None and group_of(str(code)) in TRANSFER_GROUPS


def assemble(q: Questionnaire, answers: Mapping[str, Any], *, kind: str = DEFAULT_KIND,
             objection_days: int | None = None) -> dict[str, Any]:
    """Build the document content of one kind: only shown, exported, answered items.

    `objection_days` (the profile's objection period) is written into the clauses, so the
    document states the period the controller has to object to a sub-processor change.
    """
    if kind not in KINDS:
        raise UnknownKind(kind)
    visibility = evaluate_visibility(q, answers)
    content: dict[str, Any] = {"kind": kind, "parties": {}, "processing": {}, "measures": {},
                               "subprocessors": [], "clauses": {},
                               "template_version": KIND_TEMPLATES[kind]}
    for slot, item in export_items(q).items():
        if not visibility.is_visible(item.id):
            continue
        value = visibility.values.get(item.id)
        if slot == SUBPROCESSOR_SLOT:
            content["subprocessors"] = [_subprocessor(row) for row in value or []]
            continue
        prefix, _, key = slot.rpartition(".")
        stored = _value(item, value, answers.get(item.id))
        if prefix in SLOT_SECTIONS and stored is not None:
            content[SLOT_SECTIONS[prefix]][key] = stored
    content["clauses"]["transfers_outside_eea"] = _has_transfers(q, content)
    if objection_days is not None:
        content["clauses"]["objection_days"] = int(objection_days)
    return content


def _has_transfers(q: Questionnaire, content: Mapping[str, Any]) -> bool:
    """Tell whether the processor or a sub-processor stores or accesses data outside the EEA."""
    group_of = q.country_groups.group_of if q.country_groups is not None else None
    places = list(content["processing"].get("processing_locations") or [])
    places += [row.get("location") for row in content["subprocessors"]]
    return any(needs_transfer_tool(code, group_of) for code in places)


def canonical_json(content: Mapping[str, Any]) -> str:
    """Return the canonical JSON of a document (sorted keys, no spaces, UTF-8 kept)."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_sha256(content: Mapping[str, Any]) -> str:
    """Return the SHA-256 of a document's canonical JSON."""
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------------- rendering

def conditions(content: Mapping[str, Any]) -> frozenset[str]:
    """Return the names of the conditions that select clause variants (`when:` in templates)."""
    processing, clauses = content.get("processing", {}), content.get("clauses", {})
    subs = bool(content.get("subprocessors"))
    model = clauses.get("subprocessor_authorisation")
    flags = {
        "sensitive_data": bool(processing.get("special_categories"))
        or processing.get("criminal_data") == "yes",
        "general_authorisation": subs and model == "general",
        "specific_authorisation": subs and model != "general",
        "no_subprocessors": not subs,
        "transfers": bool(clauses.get("transfers_outside_eea")),
        "audit_onsite": clauses.get("audit_model") == "onsite_audit",
        "audit_reports_first": clauses.get("audit_model") == "reports_then_audit",
        "audit_documents_only": clauses.get("audit_model") not in ("onsite_audit",
                                                                   "reports_then_audit"),
        "end_controller_choice": clauses.get("end_of_contract") == "controller_choice",
        "end_return_then_delete": clauses.get("end_of_contract") == "return_then_delete",
        "end_delete_only": clauses.get("end_of_contract") == "delete_only",
        "deletion_certificate": clauses.get("deletion_certificate") == "yes",
        "governing_law": bool(clauses.get("governing_law")),
        "docking_clause": clauses.get("docking_clause") == "yes",
        "breach_hours": clauses.get("breach_hours") is not None,
    }
    flags["no_sensitive_data"] = not flags["sensitive_data"]
    flags["no_transfers"] = not flags["transfers"]
    flags["no_docking_clause"] = not flags["docking_clause"]
    flags["no_breach_hours"] = not flags["breach_hours"]
    # Without a general authorisation (specific, or no sub-processor yet) each new sub-processor
    # needs the controller's prior specific written authorisation: Option 1 of Clause 7.7.
    flags["specific_regime"] = not flags["general_authorisation"]
    return frozenset(name for name, on in flags.items() if on)


def placeholders(content: Mapping[str, Any], fmt: Formatter) -> dict[str, str]:
    """Return the values the clause texts may insert, formatted for the locale (plain text)."""
    parties, clauses = content.get("parties", {}), content.get("clauses", {})

    def number(key: str) -> str:
        return fmt.number(clauses[key]) if clauses.get(key) is not None else MISSING

    law = clauses.get("governing_law")
    return {
        "processor_name": parties.get("processor_name") or MISSING,
        "breach_hours": number("breach_hours"),
        "breach_contact": clauses.get("breach_contact") or MISSING,
        "notice_days": number("notice_days"),
        "dsr_days": number("dsr_assistance_days"),
        "deletion_days": number("end_of_contract_days"),
        "request_days": number("request_days"),
        "objection_days": number("objection_days"),
        "audit_terms": clauses.get("audit") or MISSING,
        "governing_law": fmt.country(law) if law else MISSING,
    }


def fill(text: str, values: Mapping[str, str]) -> Markup:
    """Return a trusted template text as HTML with each {placeholder} replaced by escaped text."""
    def replace(match: re.Match[str]) -> str:
        return str(escape(values.get(match.group(1), MISSING)))

    # Safe: the template text is escaped first and every inserted value is escaped too.
    return Markup(PLACEHOLDER.sub(replace, str(escape(text))))  # noqa: S704


def _clause(clause: Mapping[str, Any], on: frozenset[str], values: Mapping[str, str],
            refs: Any, locale: str) -> dict[str, Any]:
    """Return one clause ready to render: number, title, references, chosen paragraphs."""
    return {
        "id": str(clause["id"]),
        "title": clause["title"],
        "refs": [format_ref(code, refs, locale) for code in clause.get("refs") or []],
        "paragraphs": [fill(p["text"], values) for p in clause.get("paragraphs") or []
                       if p.get("when") is None or p["when"] in on],
        "subclauses": [_clause(sub, on, values, refs, locale)
                       for sub in clause.get("subclauses") or []
                       if sub.get("when") is None or sub["when"] in on],
    }


def render_clauses(content: Mapping[str, Any], template: Mapping[str, Any], *, fmt: Formatter,
                   refs: Any = None) -> list[dict[str, Any]]:
    """Return the template's sections with their clauses filled from the document."""
    on, values = conditions(content), placeholders(content, fmt)
    return [{"id": section["id"], "title": section["title"],
             "clauses": [_clause(c, on, values, refs or {}, fmt.locale) for c in section["clauses"]
                         if c.get("when") is None or c["when"] in on]}
            for section in template["sections"]]


# ------------------------------------------------------------------------------------ annexes

class Words:
    """Turn stored codes into words of one locale, through the pinned questionnaire."""

    def __init__(self, q: Questionnaire | None, template: Mapping[str, Any], fmt: Formatter) -> None:
        self.q, self.fmt, self.words = q, fmt, template.get("words", {})
        self.items = export_items(q) if q is not None else {}

    def item(self, slot: str) -> Item | None:
        """Return the questionnaire item behind a slot, if known."""
        return self.items.get(slot)

    def option(self, item: Item | None, code: Any) -> str:
        """Return an option's label in the locale, or the code itself."""
        found = item.option(str(code)) if item is not None else None
        return self.fmt.text(found.label) if found is not None else str(code)

    def value(self, slot: str, value: Any) -> str:
        """Return any stored value in words (lists joined, yes/no translated, countries named)."""
        item = self.item(slot)
        if value is None or value == "" or value == []:
            return ""
        if item is None:  # no questionnaire item behind the slot: plain text
            signer = (value.get("name"), value.get("role")) if isinstance(value, Mapping) else None
            return ", ".join(str(v) for v in signer if v) if signer else str(value)
        words = answer_words(item, value, self.fmt)  # the item type's words, as on every page
        if words.values is not None:
            return ", ".join(words.values)
        if words.signer is not None:  # an attestation: "name, role"
            return ", ".join(str(v) for v in words.signer if v)
        if words.code is not None:  # yes / no in the template's words
            return str(self.words.get(words.code, words.text))
        return words.text

    def _column(self, key: str) -> Item | None:
        """Return a column of the sub-processor table, if the questionnaire has it."""
        table = self.item(SUBPROCESSOR_SLOT)
        if table is None or not any(c.id == key for c in table.columns):
            return None
        return table.column(key)

    def column(self, key: str, value: Any) -> str:
        """Return a sub-processor cell in words."""
        if key in ("country", "location"):
            return self.fmt.place(self._column(key), value) if value else ""
        if key == "transfer_tool":
            if not value:
                return str(self.words.get("not_applicable", ""))
            table = self.item(SUBPROCESSOR_SLOT)
            return self.option(table.column("transfer_tool") if table is not None else None, value)
        return "" if value is None else str(value)


def _with_other(words: Words, section: Mapping[str, Any], key: str) -> str:
    """Return a multi-choice answer in words, with its "other" text instead of the word Other."""
    codes = [c for c in section.get(key) or [] if c != "other"]
    text = words.value(f"dpa.annex_i.{key}", codes) if codes else ""
    other = section.get(f"{key}_other")
    return ", ".join(part for part in (text, other) if part)


def annex_parties(content: Mapping[str, Any], template: Mapping[str, Any],
                  words: Words) -> list[tuple[str, str]]:
    """Return Annex I (the processor's details) as (label, text) rows."""
    labels, parties = template["annexes"]["parties"]["fields"], content.get("parties", {})
    return [(label, words.value(f"dpa.parties.{key}", parties.get(key)))
            for key, label in labels.items() if parties.get(key)]


def annex_processing(content: Mapping[str, Any], template: Mapping[str, Any],
                     words: Words) -> list[tuple[str, str]]:
    """Return Annex II (description of the processing) as (label, text) rows."""
    labels, p = template["annexes"]["processing"]["fields"], content.get("processing", {})
    none = str(template.get("words", {}).get("none", ""))
    duration = words.value("dpa.annex_i.duration", p.get("duration"))
    if p.get("duration_details"):
        duration = f"{duration} ({p['duration_details']})" if duration else p["duration_details"]
    rows = {
        "subject_matter": p.get("subject_matter", ""),
        "duration": duration,
        "nature": _with_other(words, p, "nature"),
        "purpose": p.get("purpose", ""),
        "data_subjects": _with_other(words, p, "data_subjects"),
        "data_categories": _with_other(words, p, "data_categories"),
        "special_categories": words.value("dpa.annex_i.special_categories",
                                          p.get("special_categories")) or none,
        "criminal_data": words.value("dpa.annex_i.criminal_data", p.get("criminal_data")),
        "special_safeguards": p.get("special_safeguards", ""),
        "retention": p.get("retention", ""),
        "processing_locations": words.value("dpa.annex_i.processing_locations",
                                            p.get("processing_locations")),
        "transfer_tool": words.value("dpa.annex_i.transfer_tool", p.get("transfer_tool")),
    }
    return [(labels[key], text) for key, text in rows.items() if text]


def annex_measures(content: Mapping[str, Any], template: Mapping[str, Any],
                   words: Words) -> list[tuple[str, str]]:
    """Return Annex III (the measures, one row per heading in questionnaire order)."""
    measures = content.get("measures", {})
    rows: list[tuple[str, str]] = []
    for slot, item in words.items.items():
        key = slot.removeprefix("dpa.annex_ii.")
        if key == slot or key == "certifications_held" or not measures.get(key):
            continue
        rows.append((words.fmt.text(item.label) or key, str(measures[key])))
    if words.q is None:  # no questionnaire to order by: keep the stored keys, sorted
        rows = [(key, str(value)) for key, value in sorted(measures.items())
                if key != "certifications_held"]
    held = measures.get("certifications_held")
    if held:
        rows.append((template["annexes"]["measures"]["certifications"],
                     words.value("dpa.annex_ii.certifications_held", held)))
    return rows


def subprocessor_columns(content: Mapping[str, Any]) -> tuple[str, ...]:
    """Return the Annex IV columns of a document: legacy versions keep their six."""
    return SUBPROCESSOR_FIELDS if document_kind(content) == LEGACY_KIND else ANNEX_IV_FIELDS


def annex_subprocessors(content: Mapping[str, Any], words: Words) -> list[dict[str, str]]:
    """Return Annex IV (sub-processors) with each cell in words."""
    return [{key: words.column(key, row.get(key)) for key in subprocessor_columns(content)}
            for row in content.get("subprocessors") or []]


def annex_controller(controller: Mapping[str, Any] | None,
                     template: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Return the controller's rows of Annex I, as recorded when it accepted the document."""
    labels = template["annexes"]["parties"].get("controller_fields") or {}
    if not controller:
        return []
    return [(label, str(controller[key])) for key, label in labels.items()
            if controller.get(key)]


def document_context(content: Mapping[str, Any], *, locale: str, q: Questionnaire | None,
                     controller: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return everything the document template shows, in one locale.

    `controller` (plain texts keyed like the template's `controller_fields`) fills the
    controller's part of Annex I in an accepted copy; without it the document says who the
    controller is: the party that accepts it.
    """
    fmt = Formatter(locale)
    template = load_template(str(content.get("template_version") or TEMPLATE_VERSION), fmt.locale)
    words = Words(q, template, fmt)
    return {
        "locale": fmt.locale,
        "fmt": fmt,
        "kind": document_kind(content),
        "words": template.get("words", {}),
        "template": template,
        "sections": render_clauses(content, template, fmt=fmt,
                                   refs=q.references if q is not None else {}),
        "annex_parties": annex_parties(content, template, words),
        "annex_controller": annex_controller(controller, template),
        "annex_processing": annex_processing(content, template, words),
        "annex_measures": annex_measures(content, template, words),
        "annex_subprocessors": annex_subprocessors(content, words),
        "subprocessor_columns": subprocessor_columns(content),
        "annexes": template["annexes"],
    }


__all__ = [
    "ANNEX_IV_FIELDS", "DEFAULT_KIND", "KINDS", "KIND_TEMPLATES", "LEGACY_KIND", "LOCALES",
    "OWN_WORDS", "SCC_REFERENCE", "SUBPROCESSOR_FIELDS", "TEMPLATE_VERSION", "TemplateError",
    "UnknownKind", "Words", "annex_controller", "assemble", "canonical_json", "conditions",
    "content_sha256", "document_context", "document_kind", "export_items", "fill", "iter_clauses",
    "load_template", "needs_transfer_tool", "placeholders", "render_clauses",
    "subprocessor_columns",
]
