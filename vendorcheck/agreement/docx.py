"""Editable Word (DOCX) versions of the compliance kit's documents: DPA, register, charter, measures.

Pure: no Flask, no database. Each function takes the context the HTML and PDF templates already
show (values in words, in one locale) and writes it with python-docx, using Word's built-in
styles (Title, Heading 1-3, Table Grid) so a legal team edits a normal document. The signed PDF
stays the reference; a DOCX is a working copy (docs/decisions/0007-python-docx.md).
python-docx is imported when a document is written, so nothing else pays for it.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup

TABLE_STYLE = "Table Grid"


def _new(title: str, subtitle: str, locale: str) -> Any:
    """Return a new document with its title, subtitle and language set."""
    from docx import Document

    document = Document()
    document.core_properties.title = title
    document.core_properties.language = locale
    document.add_heading(title, level=0)
    if subtitle:
        document.add_paragraph(subtitle, style="Subtitle")
    return document


def _text(value: Any) -> str:
    """Return a value as plain text (clause paragraphs are trusted HTML: tags stripped)."""
    if isinstance(value, Markup):
        return value.striptags()
    return "" if value is None else str(value)


def _rows(document: Any, rows: Sequence[tuple[Any, Any]]) -> None:
    """Add a two-column table of (label, text) rows, labels in bold."""
    if not rows:
        return
    table = document.add_table(rows=0, cols=2)
    table.style = TABLE_STYLE
    for label, text in rows:
        cells = table.add_row().cells
        cells[0].paragraphs[0].add_run(_text(label)).bold = True
        cells[1].text = _text(text)


def _grid(document: Any, headers: Sequence[Any], rows: Sequence[Sequence[Any]]) -> None:
    """Add a table with a bold header row (repeated on each page)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    table = document.add_table(rows=1, cols=len(headers))
    table.style = TABLE_STYLE
    for cell, header in zip(table.rows[0].cells, headers, strict=True):
        cell.paragraphs[0].add_run(_text(header)).bold = True
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    table.rows[0]._tr.get_or_add_trPr().append(repeat)
    for values in rows:
        for cell, value in zip(table.add_row().cells, values, strict=True):
            cell.text = _text(value)


def _bytes(document: Any) -> bytes:
    """Return the document as DOCX bytes."""
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _clause(document: Any, clause: Mapping[str, Any], level: int, words: Mapping[str, Any]) -> None:
    """Add one clause, its references, paragraphs and sub-clauses."""
    document.add_heading(f"{words.get('clause', '')} {clause['id']} — {clause['title']}".strip(),
                         level=min(level, 9))
    if clause.get("refs"):
        refs = " · ".join(_text(getattr(ref, "text", ref)) for ref in clause["refs"])
        document.add_paragraph(f"{words.get('references', '')} {refs}".strip(), style="Quote")
    for paragraph in clause.get("paragraphs") or []:
        document.add_paragraph(_text(paragraph))
    for sub in clause.get("subclauses") or []:
        _clause(document, sub, level + 1, words)


def dpa_docx(doc: Mapping[str, Any], *, heading: str) -> bytes:
    """Return a DPA of either kind (`assemble.document_context`) as DOCX, annexes as tables."""
    template, words, annexes = doc["template"], doc["words"], doc["annexes"]
    document = _new(str(template["title"]), heading or str(template.get("subtitle") or ""),
                    str(doc["locale"]))
    for section in doc["sections"]:
        document.add_heading(_text(section["title"]), level=1)
        for clause in section["clauses"]:
            _clause(document, clause, 2, words)

    def annex(key: str) -> None:
        info = annexes[key]
        document.add_heading(f"{words.get('annex', '')} {info['number']} — {info['title']}",
                             level=1)

    annex("parties")
    document.add_heading(_text(annexes["parties"]["controller"]), level=2)
    if doc.get("annex_controller"):
        _rows(document, doc["annex_controller"])
    else:
        document.add_paragraph(_text(template.get("controller_placeholder")))
    document.add_heading(_text(annexes["parties"]["processor"]), level=2)
    _rows(document, doc["annex_parties"])
    annex("processing")
    _rows(document, doc["annex_processing"])
    annex("measures")
    document.add_paragraph(_text(annexes["measures"].get("intro")))
    _rows(document, doc["annex_measures"])
    annex("subprocessors")
    if doc["annex_subprocessors"]:
        columns = doc["subprocessor_columns"]
        labels = annexes["subprocessors"]["columns"]
        _grid(document, [labels[key] for key in columns],
              [[row[key] for key in columns] for row in doc["annex_subprocessors"]])
    else:
        document.add_paragraph(_text(annexes["subprocessors"].get("none")))
    return _bytes(document)


def register_docx(reg: Mapping[str, Any], *, title: str, subtitle: str,
                  labels: Mapping[str, Any]) -> bytes:
    """Return a processor register (`register.register_context`) as DOCX.

    `labels` holds the headings and column titles in the register's locale (from the app).
    """
    document = _new(title, subtitle, str(reg["locale"]))
    if reg["to_complete"]:
        document.add_heading(_text(labels["to_complete"]), level=1)
        for text in reg["to_complete"]:
            document.add_paragraph(_text(text), style="List Bullet")
    document.add_heading(_text(labels["processor"]), level=1)
    _rows(document, reg["processor"])
    document.add_heading(_text(labels["controllers"]), level=1)
    _grid(document, labels["controller_columns"],
          [[c["name"], c["address"], c["contact"], c["dpo"], c["eu_representative"],
            c["categories"]] for c in reg["controllers"]])
    document.add_heading(_text(labels["categories"]), level=2)
    _rows(document, reg["categories"])
    document.add_heading(_text(labels["transfers"]), level=1)
    if reg["transfers"]:
        _grid(document, labels["transfer_columns"],
              [[t["country"], t["recipient"] + (f" ({t['activity']})" if t["activity"] else ""),
                f"{t['tool']} ({t['basis']})" if t["basis"] else t["tool"], t["safeguards"]]
               for t in reg["transfers"]])
    else:
        document.add_paragraph(_text(labels["no_transfer"]))
    document.add_heading(_text(labels["measures"]), level=1)
    _rows(document, reg["measures"])
    return _bytes(document)


def sections_docx(sections: Sequence[tuple[Any, Sequence[Any]]], *, title: str, subtitle: str,
                  locale: str, missing: Sequence[Any] = (), missing_title: str = "",
                  closing: Sequence[str] = ()) -> bytes:
    """Return a document made of headed sections of paragraphs (the charter) as DOCX."""
    document = _new(title, subtitle, locale)
    if missing:
        document.add_heading(missing_title, level=1)
        for text in missing:
            document.add_paragraph(_text(text), style="List Bullet")
    for heading, paragraphs in sections:
        document.add_heading(_text(heading), level=1)
        for text in paragraphs:
            document.add_paragraph(_text(text))
    for text in closing:
        document.add_paragraph(text)
    return _bytes(document)


def security_docx(doc: Mapping[str, Any], *, title: str, subtitle: str,
                  todo: str, evidence: str) -> bytes:
    """Return the measures document (`measures.security_document`) as DOCX, one heading each."""
    document = _new(title, subtitle, str(doc["locale"]))
    for number, heading in enumerate(doc["headings"], start=1):
        document.add_heading(f"{number}. {_text(heading['title'])}", level=1)
        _rows(document, heading["entries"])
        for label in heading["to_complete"]:
            document.add_paragraph(f"{todo} {label}", style="List Bullet")
        if heading["evidence"]:
            files = "; ".join(f"{e['name']} ({e['date']}, SHA-256 {e['sha256'][:12]}…)"
                              for e in heading["evidence"])
            document.add_paragraph(f"{evidence} {files}")
    return _bytes(document)


__all__ = ["dpa_docx", "register_docx", "sections_docx", "security_docx"]
