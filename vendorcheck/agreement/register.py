"""The processor's record of processing (Art. 30(2) GDPR), assembled from the DPA answers.

Pure: no Flask, no database. `snapshot()` turns the document content the DPA answers assemble into
(`assemble.assemble`) plus the controllers the processor acts for into one plain-JSON record, the
thing a register version stores; `register_context()` puts a snapshot into words in one locale:

    (a) names and contact details: the processor (Annex I answers), each controller, their DPOs
        and EU representatives                                  -> processor, controllers
    (b) categories of processing carried out for each controller -> controllers[].categories
    (c) transfers to third countries, with the country and the transfer tool, and the safeguards
        where the second subparagraph of Art. 49(1) is relied on -> transfers
    (d) a general description of the Art. 32(1) security measures -> measures

Facts that are missing are listed in `to_complete`, never invented. Labels are lazy texts the app
translates when shown (`agreement.text`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from vendorcheck.agreement.assemble import (
    KIND_TEMPLATES,
    SCC_REFERENCE,
    SUBPROCESSOR_SLOT,
    Words,
    annex_measures,
    canonical_json,
    content_sha256,
    load_template,
    needs_transfer_tool,
)
from vendorcheck.agreement.text import LazyText, _l
from vendorcheck.pdf.report import Formatter
from vendorcheck.questionnaire import Questionnaire

SCHEMA = "vendorcheck/processor-register@1"
PROCESSOR_KEYS = ("processor_name", "processor_registration", "processor_address",
                  "processor_country", "contact_name", "contact_email", "dpo_name", "dpo_email",
                  "eu_representative")
PROCESSING_KEYS = ("subject_matter", "nature", "nature_other", "purpose", "data_subjects",
                   "data_subjects_other", "data_categories", "data_categories_other",
                   "special_categories", "criminal_data", "retention", "processing_locations",
                   "transfer_tool")
CONTROLLER_KEYS = ("ref", "name", "address", "contact_name", "contact_email", "dpo",
                   "eu_representative", "categories", "source")
TRANSFER_FIELDS = ("name", "country", "activity", "location", "transfer_tool")
# The Chapter V provision each transfer tool of the questionnaire rests on.
TOOL_BASIS: dict[str, LazyText] = {
    "adequacy": _l("adequacy decision, Art. 45 GDPR"),
    "dpf": _l("adequacy decision on the EU-US Data Privacy Framework, Implementing Decision (EU) "
              "2023/1795, Art. 45 GDPR"),
    "scc_2021": _l("standard data protection clauses, Art. 46(2)(c) GDPR"),
    "bcr": _l("binding corporate rules, Art. 46(2)(b) and 47 GDPR"),
    "art49_derogation": _l("derogation for specific situations, Art. 49(1) GDPR"),
}
ART49 = "art49_derogation"
# A snapshot's sources: the processor's own processing and every sub-processor.
OWN_PROCESSING = "processor"


def _pick(section: Mapping[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    """Return the answered keys of a content section, in a fixed set."""
    return {key: section[key] for key in keys if section.get(key) not in (None, "", [])}


def _controller(row: Mapping[str, Any]) -> dict[str, str]:
    """Return one controller with exactly the register's fields, as stripped texts."""
    return {key: " ".join(str(row.get(key) or "").split()) for key in CONTROLLER_KEYS}


def snapshot(content: Mapping[str, Any], controllers: Sequence[Mapping[str, Any]],
             *, questionnaire: tuple[str, str] | None = None) -> dict[str, Any]:
    """Return the register as stored in a version: plain JSON, the same input gives the same bytes.

    `content` is what `assemble()` builds from the current DPA answers; `controllers` are the
    controllers the processor acts for (from vendorcheck and added by hand), in any order.
    """
    subs = [{key: row.get(key) for key in TRANSFER_FIELDS}
            for row in content.get("subprocessors") or []]
    ordered = sorted((_controller(c) for c in controllers),
                     key=lambda c: (c["name"].casefold(), c["ref"]))
    return {
        "schema": SCHEMA,
        "questionnaire": list(questionnaire) if questionnaire else None,
        "processor": _pick(content.get("parties") or {}, PROCESSOR_KEYS),
        "processing": _pick(content.get("processing") or {}, PROCESSING_KEYS),
        "measures": dict(content.get("measures") or {}),
        "subprocessors": subs,
        "controllers": ordered,
    }


def snapshot_sha256(data: Mapping[str, Any]) -> str:
    """Return the SHA-256 of a snapshot's canonical JSON (what tells two versions apart)."""
    return content_sha256(data)


def _template(locale: str) -> dict[str, Any]:
    """Return the clause template whose words (none, not applicable…) the register reuses."""
    return load_template(KIND_TEMPLATES[SCC_REFERENCE], locale)


def _processor_rows(data: Mapping[str, Any], words: Words) -> list[tuple[LazyText, str]]:
    """Return (a) for the processor: name, registration, address, contact, DPO, representative."""
    p = data.get("processor") or {}
    country = words.value("dpa.parties.processor_country", p.get("processor_country"))
    address = ", ".join(part for part in (p.get("processor_address"), country) if part)
    rows = [
        (_l("Name"), p.get("processor_name") or ""),
        (_l("Registration number"), p.get("processor_registration") or ""),
        (_l("Address"), address),
        (_l("Contact person"), _joined(p.get("contact_name"), p.get("contact_email"))),
        (_l("Data protection officer"), _joined(p.get("dpo_name"), p.get("dpo_email"))),
        (_l("Representative in the Union (Art. 27)"), p.get("eu_representative") or ""),
    ]
    return [(label, text) for label, text in rows if text]


def _joined(*parts: Any) -> str:
    """Return the non-empty parts joined by commas."""
    return ", ".join(str(part) for part in parts if part)


def _with_other(words: Words, section: Mapping[str, Any], key: str) -> str:
    """Return a multi-choice answer in words, its "other" text in place of the word Other."""
    codes = [c for c in section.get(key) or [] if c != "other"]
    text = words.value(f"dpa.annex_i.{key}", codes) if codes else ""
    return _joined(text, section.get(f"{key}_other"))


def categories_text(data: Mapping[str, Any], words: Words) -> list[tuple[LazyText, str]]:
    """Return (b): the categories of processing carried out for the controllers, as label rows."""
    p = data.get("processing") or {}
    rows = [
        (_l("Service"), p.get("subject_matter") or ""),
        (_l("Nature of the processing"), _with_other(words, p, "nature")),
        (_l("Purpose"), p.get("purpose") or ""),
        (_l("Data subjects"), _with_other(words, p, "data_subjects")),
        (_l("Categories of personal data"), _with_other(words, p, "data_categories")),
        (_l("Special categories (Art. 9) and criminal data (Art. 10)"),
         _joined(words.value("dpa.annex_i.special_categories", p.get("special_categories")),
                 words.value("dpa.annex_i.criminal_data", p.get("criminal_data")))),
        (_l("Retention"), p.get("retention") or ""),
    ]
    return [(label, text) for label, text in rows if text]


def _group_of(q: Questionnaire | None) -> Any:
    """Return the country-group lookup of the questionnaire's dated dataset, if any."""
    return q.country_groups.group_of if q is not None and q.country_groups is not None else None


def transfers(data: Mapping[str, Any], words: Words) -> list[dict[str, str]]:
    """Return (c): one line per third country the processor or a sub-processor processes data in."""
    group_of = _group_of(words.q)
    lines: list[dict[str, str]] = []
    p, processor = data.get("processing") or {}, data.get("processor") or {}
    for code in p.get("processing_locations") or []:
        if needs_transfer_tool(code, group_of):
            lines.append(_transfer(words, recipient=processor.get("processor_name") or "",
                                   activity=str(_l("the processor's own processing")),
                                   country=code, tool=p.get("transfer_tool")))
    for row in data.get("subprocessors") or []:
        if needs_transfer_tool(row.get("location"), group_of):
            lines.append(_transfer(words, recipient=row.get("name") or "",
                                   activity=row.get("activity") or "",
                                   country=row.get("location"), tool=row.get("transfer_tool")))
    return lines


def _transfer(words: Words, *, recipient: str, activity: str, country: Any,
              tool: Any) -> dict[str, str]:
    """Return one transfer line: recipient, country, tool in words and the provision it rests on."""
    table = words.item(SUBPROCESSOR_SLOT)
    column = table.column("transfer_tool") if table is not None else None
    tool_words = words.option(column, tool) if tool else ""
    basis = TOOL_BASIS.get(str(tool)) if tool else None
    safeguards = str(_l("to be completed: the suitable safeguards documented for this transfer "
                        "(Art. 49(1), second subparagraph, and 49(6))")) if tool == ART49 else ""
    return {"recipient": recipient, "activity": activity,
            "country": words.fmt.place(words.item("dpa.annex_i.processing_locations"), country),
            "country_code": str(country or ""), "tool": tool_words, "tool_code": str(tool or ""),
            "basis": str(basis) if basis is not None else "", "safeguards": safeguards}


def transfer_line(line: Mapping[str, str]) -> str:
    """Return one transfer as a single line: "United States: Mailer Inc. (e-mail), tool (basis)"."""
    tool = line["tool"] or str(_l("to be completed: transfer tool"))
    if line["basis"]:
        tool = f"{tool} ({line['basis']})"
    head = f"{line['country']}: {line['recipient']}"
    if line["activity"]:
        head = f"{head} ({line['activity']})"
    text = f"{head}, {tool}"
    return f"{text}; {line['safeguards']}" if line["safeguards"] else text


def _controller_context(row: Mapping[str, str], default_categories: str) -> dict[str, str]:
    """Return one controller's record fields in words."""
    return {
        "ref": row["ref"], "name": row["name"], "address": row["address"],
        "contact": _joined(row["contact_name"], row["contact_email"]), "dpo": row["dpo"],
        "eu_representative": row["eu_representative"], "source": row["source"],
        "categories": row["categories"] or default_categories,
    }


def to_complete(data: Mapping[str, Any], lines: Sequence[Mapping[str, str]]) -> list[LazyText]:
    """Return the facts the register lacks: each one is a "to be completed" entry, never a guess."""
    p, missing = data.get("processor") or {}, []
    if not p.get("processor_name") or not p.get("processor_address"):
        missing.append(_l("The processor's legal name and address (Art. 30(2)(a))."))
    if not p.get("contact_email"):
        missing.append(_l("The processor's contact details (Art. 30(2)(a))."))
    if not data.get("controllers"):
        missing.append(_l("At least one controller on whose behalf you process (Art. 30(2)(a))."))
    for c in data.get("controllers") or []:
        if not (c.get("address") and (c.get("contact_email") or c.get("contact_name"))):
            missing.append(_l("The address and contact details of %(name)s (Art. 30(2)(a)).",
                              name=c.get("name") or "?"))
    processing = data.get("processing") or {}
    if not processing.get("nature") and not processing.get("purpose"):
        missing.append(_l("The categories of processing carried out (Art. 30(2)(b))."))
    for line in lines:
        if not line["tool"]:
            missing.append(_l("The transfer tool for %(recipient)s in %(country)s (Art. 30(2)(c)).",
                              recipient=line["recipient"], country=line["country"]))
        if line["safeguards"]:
            missing.append(_l("The safeguards for the Art. 49(1) transfer to %(country)s "
                              "(Art. 30(2)(c)).", country=line["country"]))
    if not [key for key in data.get("measures") or {} if key != "certifications_held"]:
        missing.append(_l("A general description of the security measures (Art. 30(2)(d))."))
    return missing


def register_context(data: Mapping[str, Any], *, locale: str,
                     q: Questionnaire | None) -> dict[str, Any]:
    """Return everything a register page, PDF or spreadsheet shows, in one locale."""
    fmt = Formatter(locale)
    template = _template(fmt.locale)
    words = Words(q, template, fmt)
    categories = categories_text(data, words)
    default = "; ".join(f"{label}: {text}" for label, text in categories)
    lines = transfers(data, words)
    content = {"measures": data.get("measures") or {}}
    return {
        "locale": fmt.locale,
        "processor": _processor_rows(data, words),
        "categories": categories,
        "controllers": [_controller_context(c, default) for c in data.get("controllers") or []],
        "transfers": lines,
        "transfer_lines": [transfer_line(line) for line in lines],
        "measures": annex_measures(content, template, words),
        "to_complete": to_complete(data, lines),
    }


# The spreadsheet columns, one row per controller; the headings follow Art. 30(2) (a)-(d) in the
# order of the CNIL's register model for processors (see docs/compliance-kit.md).
SHEET_COLUMNS: tuple[tuple[str, LazyText], ...] = (
    ("controller", _l("Controller (client): name")),
    ("controller_address", _l("Controller: address")),
    ("controller_contact", _l("Controller: contact person")),
    ("controller_dpo", _l("Controller: data protection officer")),
    ("controller_representative", _l("Controller: representative in the Union")),
    ("processor", _l("Processor: name and address")),
    ("processor_contact", _l("Processor: contact person")),
    ("processor_dpo", _l("Processor: data protection officer")),
    ("processor_representative", _l("Processor: representative in the Union")),
    ("categories", _l("Categories of processing carried out for the controller")),
    ("transfers", _l("Transfers to third countries: country, recipient and transfer tool")),
    ("safeguards", _l("Art. 49(1) second subparagraph: suitable safeguards")),
    ("measures", _l("General description of the security measures (Art. 32(1))")),
)


def sheet_rows(context: Mapping[str, Any], data: Mapping[str, Any]) -> list[dict[str, str]]:
    """Return one spreadsheet row per controller (the columns of SHEET_COLUMNS)."""
    p = data.get("processor") or {}
    lines = context["transfers"]
    common = {
        "processor": _joined(p.get("processor_name"), p.get("processor_address")),
        "processor_contact": _joined(p.get("contact_name"), p.get("contact_email")),
        "processor_dpo": _joined(p.get("dpo_name"), p.get("dpo_email")),
        "processor_representative": p.get("eu_representative") or "",
        "transfers": "\n".join(context["transfer_lines"]),
        "safeguards": "\n".join(line["safeguards"] for line in lines if line["safeguards"]),
        "measures": "\n".join(f"{label}: {text}" for label, text in context["measures"]),
    }
    return [{"controller": c["name"], "controller_address": c["address"],
             "controller_contact": c["contact"], "controller_dpo": c["dpo"],
             "controller_representative": c["eu_representative"],
             "categories": c["categories"], **common}
            for c in context["controllers"]]


__all__ = ["SCHEMA", "SHEET_COLUMNS", "TOOL_BASIS", "canonical_json", "categories_text",
           "register_context", "sheet_rows", "snapshot", "snapshot_sha256", "to_complete",
           "transfer_line", "transfers"]
