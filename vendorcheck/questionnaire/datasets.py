"""The dated country-groups dataset behind `in_group()`.

File format (`questionnaires/reference/country_groups/<date>.yaml`)::

    schema: vendorcheck/country-groups@1
    id: country_groups
    version: "2026-01-28"          # the date; also the file name
    effective_date: "2026-01-28"   # optional, defaults to version
    review_by: "2027-01-31"        # optional
    source: https://commission.europa.eu/...   # optional
    groups: {eea: {label: {en: ..., fr: ...}}, ...}   # optional labels
    entries:
      - {code: NO, group: eea, name: Norway, note: {en: ..., fr: ...}}
      - {code: US, group: adequate_partial, name: United States, decision: "(EU) 2023/1795",
         decision_date: "2023-07-10", url: "https://...", condition: {en: ..., fr: ...}}
      - {code: GB, group: adequate, ..., valid_until: "2031-12-27"}   # sunset clause
      - {code: QP, kind: international_organisation, group: adequate,
         name: {en: European Patent Organisation, fr: ...}, decision: ..., url: ...}

Countries that are not listed are `third_country`; so is an entry on a day after its
`valid_until` (the decision expired). International organisations use user-assigned codes
(see `countries.USER_ASSIGNED`) and a bilingual name; country answers of a questionnaire pinning the
dataset may name them (`model.Item.organisations`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from marshmallow import ValidationError

from vendorcheck.questionnaire.countries import ISO_3166_ALPHA2, USER_ASSIGNED
from vendorcheck.questionnaire.errors import Problem, QuestionnaireError
from vendorcheck.questionnaire.model import LocaleText
from vendorcheck.questionnaire.problems import to_problems
from vendorcheck.questionnaire.schema import DATASET
from vendorcheck.questionnaire.yamlload import YamlDoc, read_yaml

ORGANISATION = "international_organisation"
Day = date  # the entry's `date` field shadows the type inside CountryEntry


@dataclass(frozen=True)
class CountryEntry:
    """One country's group, with the legal basis."""

    code: str
    group: str
    decision: str | None = None
    date: date | None = None
    condition: LocaleText | None = None
    note: LocaleText | None = None
    name: str | None = None
    url: str | None = None
    valid_until: Day | None = None
    kind: str = "country"  # or "international_organisation" (a user-assigned code)
    label: LocaleText | None = None  # the name in each locale given (`name` is the English one)

    @property
    def is_organisation(self) -> bool:
        """Tell whether the entry is an international organisation rather than a country."""
        return self.kind == ORGANISATION

    def in_force(self, on: Day) -> bool:
        """Tell whether the decision still applies on `on` (always, without a sunset date)."""
        return self.valid_until is None or on <= self.valid_until


@dataclass(frozen=True)
class CountryGroups:
    """A dated dataset mapping country codes to their transfer group."""

    id: str
    version: str
    effective_date: date
    entries: Mapping[str, CountryEntry]
    source: str | None = None
    review_by: date | None = None
    labels: Mapping[str, LocaleText] | None = None

    @property
    def key(self) -> str:
        """Return the `reference_data` key, e.g. `country_groups@2026-01-28`."""
        return f"{self.id}@{self.version}"

    def group_of(self, code: str, on: date | None = None) -> str:
        """Return the group of a code on a day (default today).

        Unlisted codes, and entries whose decision expired before that day (`valid_until`),
        are third countries.
        """
        entry = self.entries.get(code)
        if entry is None or not entry.in_force(on or date.today()):
            return "third_country"
        return entry.group

    def entry(self, code: str) -> CountryEntry | None:
        """Return the entry of a country, if listed."""
        return self.entries.get(code)

    def members(self, group: str) -> list[str]:
        """Return the listed codes of a group, sorted."""
        return sorted(code for code, e in self.entries.items() if e.group == group)

    def organisations(self) -> list[CountryEntry]:
        """Return the international organisations a country answer may name, in file order."""
        return [e for e in self.entries.values() if e.is_organisation]


def load_dataset(path: Path, file: str | None = None) -> CountryGroups:
    """Load and check a country-groups dataset file."""
    doc = read_yaml(Path(path), file or str(path), what="dataset")
    try:
        data = DATASET.load(doc.data)
    except ValidationError as exc:
        raise QuestionnaireError(to_problems(doc, exc.messages)) from None
    return _build(doc, data)


def _build(doc: YamlDoc, data: dict[str, Any]) -> CountryGroups:
    """Build the dataset, refusing unknown and repeated codes."""
    entries: dict[str, CountryEntry] = {}
    problems: list[Problem] = []
    for index, raw in enumerate(data["entries"]):
        for key, message in _entry_problems(raw, entries):
            problems.append(Problem(doc.file, doc.line_of(("entries", index, key)),
                                    f"entries[{index}].{key}", message))
        entries[raw["code"]] = _entry(raw)
    if problems:
        raise QuestionnaireError(problems)
    version = data["version"].isoformat()
    labels = {k: LocaleText.of(v["label"]) for k, v in (data.get("groups") or {}).items()
              if isinstance(v["label"], dict)}
    return CountryGroups("country_groups", version, data.get("effective_date") or data["version"],
                         entries, data.get("source"), data.get("review_by"), labels)


def _entry_problems(raw: dict[str, Any], seen: Mapping[str, CountryEntry]
                    ) -> list[tuple[str, str]]:
    """Return (key, message) problems of one entry: its code for its kind, names, dates."""
    code, organisation = raw["code"], raw.get("kind") == ORGANISATION
    out: list[tuple[str, str]] = []
    if code in seen:
        out.append(("code", f"duplicate country '{code}'"))
    elif organisation and code not in USER_ASSIGNED:
        out.append(("code", f"'{code}' is not a user-assigned ISO 3166-1 code (AA, QM-QZ, XA-XZ, "
                            "ZZ), as an international organisation needs"))
    elif not organisation and code not in ISO_3166_ALPHA2:
        out.append(("code", f"'{code}' is not an ISO 3166-1 alpha-2 code"))
    name = raw.get("name")
    if organisation and not (isinstance(name, dict) and {"en", "fr"} <= set(name)):
        out.append(("name", "an international organisation needs its name in en and fr"))
    until, decided = raw.get("valid_until"), raw.get("decision_date")
    if until is not None and decided is not None and until < decided:
        out.append(("valid_until", "valid_until is before decision_date"))
    return out


def _text(value: Any) -> LocaleText | None:
    """Turn a locale map (or a bare English string) into a LocaleText."""
    if not value:
        return None
    return LocaleText.of({"en": value} if isinstance(value, str) else value)


def _entry(raw: dict[str, Any]) -> CountryEntry:
    """Build one entry."""
    label = _text(raw.get("name"))
    return CountryEntry(raw["code"], raw["group"], raw.get("decision"), raw.get("decision_date"),
                        _text(raw.get("condition")), _text(raw.get("note")),
                        label.get("en") if label is not None else None, raw.get("url"),
                        raw.get("valid_until"), raw.get("kind") or "country", label)
