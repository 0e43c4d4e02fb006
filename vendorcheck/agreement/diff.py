"""Differences between two published DPA versions: sub-processors, clauses and annexes.

Pure functions over the `content` JSON of `DpaVersion` (see docs/dpa.md); no database, no Flask.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

# The fields of a sub-processor row, in display order.
SUBPROCESSOR_FIELDS = ("name", "address", "country", "activity", "location", "transfer_tool")
# The document sections compared field by field (the sub-processor list is compared by name).
SECTIONS = ("parties", "processing", "measures", "clauses")


def normalise_name(name: Any) -> str:
    """Return the key a sub-processor is matched by: case-folded, accents and spacing ignored."""
    text = unicodedata.normalize("NFKD", str(name or ""))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(text.casefold().split())


@dataclass(frozen=True)
class SubprocessorChanges:
    """Sub-processors added, removed and changed between two lists (changed as (old, new) pairs)."""

    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    changed: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        """True when the two lists describe the same sub-processors."""
        return not (self.added or self.removed or self.changed)

    def changed_fields(self, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
        """Return the fields that differ between two rows of the same sub-processor."""
        return [f for f in SUBPROCESSOR_FIELDS if _clean(old.get(f)) != _clean(new.get(f))]


def _clean(value: Any) -> Any:
    """Return a value with surrounding spaces ignored, so re-saving a row is not a change."""
    return value.strip() if isinstance(value, str) else value


def _by_name(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Index rows by normalised name; the first row wins when a name repeats."""
    indexed: dict[str, dict[str, Any]] = {}
    for row in rows:
        indexed.setdefault(normalise_name(row.get("name")), row)
    return indexed


def subprocessor_changes(
    old: list[dict[str, Any]], new: list[dict[str, Any]]
) -> SubprocessorChanges:
    """Compare two sub-processor lists, matching rows by normalised name."""
    before, after = _by_name(old or []), _by_name(new or [])
    added = [row for key, row in after.items() if key not in before]
    removed = [row for key, row in before.items() if key not in after]
    changed = [
        (before[key], row) for key, row in after.items()
        if key in before and any(
            _clean(before[key].get(f)) != _clean(row.get(f)) for f in SUBPROCESSOR_FIELDS
        )
    ]
    return SubprocessorChanges(added=added, removed=removed, changed=changed)


@dataclass(frozen=True)
class FieldChange:
    """One field of a section whose value differs between two versions."""

    section: str
    key: str
    old: Any
    new: Any


@dataclass(frozen=True)
class DocumentDiff:
    """Everything that changed between two versions of a DPA document."""

    fields: list[FieldChange]
    subprocessors: SubprocessorChanges
    template_changed: bool
    old_template: str
    new_template: str

    @property
    def is_empty(self) -> bool:
        """True when nothing differs."""
        return not self.fields and self.subprocessors.is_empty and not self.template_changed

    def section(self, name: str) -> list[FieldChange]:
        """Return the changed fields of one section."""
        return [change for change in self.fields if change.section == name]

    @property
    def changed_sections(self) -> list[str]:
        """Return the names of the sections with at least one changed field."""
        return [name for name in SECTIONS if self.section(name)]


def _section_changes(name: str, old: dict[str, Any], new: dict[str, Any]) -> list[FieldChange]:
    """Return the changed keys of one section, in a stable (sorted) order."""
    keys = sorted(set(old) | set(new))
    return [
        FieldChange(name, key, old.get(key), new.get(key))
        for key in keys if old.get(key) != new.get(key)
    ]


def document_diff(old: dict[str, Any], new: dict[str, Any]) -> DocumentDiff:
    """Compare two DPA documents section by section, plus the sub-processor list."""
    fields: list[FieldChange] = []
    for name in SECTIONS:
        fields.extend(_section_changes(name, old.get(name) or {}, new.get(name) or {}))
    old_template = str(old.get("template_version", ""))
    new_template = str(new.get("template_version", ""))
    return DocumentDiff(
        fields=fields,
        subprocessors=subprocessor_changes(
            old.get("subprocessors") or [], new.get("subprocessors") or []
        ),
        template_changed=old_template != new_template,
        old_template=old_template,
        new_template=new_template,
    )


@dataclass(frozen=True)
class TextChange:
    """A clause or annex row whose rendered text differs (an empty side means added/removed)."""

    key: str
    title: str
    old: list[str]
    new: list[str]

    @property
    def kind(self) -> str:
        """Return "added", "removed" or "changed"."""
        return "added" if not self.old else "removed" if not self.new else "changed"


def _flatten(sections: list[dict[str, Any]]) -> dict[str, tuple[str, list[str]]]:
    """Return clause id → (title, paragraph texts), sub-clauses included."""
    out: dict[str, tuple[str, list[str]]] = {}

    def walk(clause: dict[str, Any]) -> None:
        out[str(clause["id"])] = (str(clause["title"]), list(clause["paragraphs"]))  # Markup kept
        for sub in clause.get("subclauses") or []:
            walk(sub)

    for section in sections:
        for clause in section["clauses"]:
            walk(clause)
    return out


def clause_changes(old_sections: list[dict[str, Any]],
                   new_sections: list[dict[str, Any]]) -> list[TextChange]:
    """Compare the rendered clauses of two documents (same locale), in the new order."""
    before, after = _flatten(old_sections), _flatten(new_sections)
    keys = list(after) + [key for key in before if key not in after]
    changes = []
    for key in keys:
        old_title, old_text = before.get(key, ("", []))
        new_title, new_text = after.get(key, ("", []))
        if old_text != new_text or old_title != new_title:
            changes.append(TextChange(key, new_title or old_title, old_text, new_text))
    return changes


def row_changes(old_rows: list[tuple[str, str]], new_rows: list[tuple[str, str]]
                ) -> list[TextChange]:
    """Compare two annexes given as (label, text) rows, keyed by label."""
    before, after = dict(old_rows), dict(new_rows)
    keys = list(after) + [key for key in before if key not in after]
    return [TextChange(key, key, [before[key]] if key in before else [],
                       [after[key]] if key in after else [])
            for key in keys if before.get(key) != after.get(key)]


__all__ = [
    "SECTIONS", "SUBPROCESSOR_FIELDS", "DocumentDiff", "FieldChange", "SubprocessorChanges",
    "TextChange", "clause_changes", "document_diff", "normalise_name", "row_changes",
    "subprocessor_changes",
]
