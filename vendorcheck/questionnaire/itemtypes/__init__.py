"""The item-type registry: every `type:` a questionnaire file may use, one class each.

Adding a type: write its class (a module here), register it below, add its widget template
(`templates/vendor/widgets/`) and, if its rule value is new, its converter in `static/js/answer.js`.
See docs/questionnaire-format.md, "Adding an item type".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vendorcheck.questionnaire.itemtypes.attestation import Attestation
from vendorcheck.questionnaire.itemtypes.choice import MultiChoice, SingleChoice, YesNo
from vendorcheck.questionnaire.itemtypes.country import Country, CountryList
from vendorcheck.questionnaire.itemtypes.date import Date
from vendorcheck.questionnaire.itemtypes.file import File
from vendorcheck.questionnaire.itemtypes.note import Note
from vendorcheck.questionnaire.itemtypes.number import Number
from vendorcheck.questionnaire.itemtypes.percentage import Percentage
from vendorcheck.questionnaire.itemtypes.table import Table
from vendorcheck.questionnaire.itemtypes.text import Email, LongText, Text, Url
from vendorcheck.questionnaire.model import (
    Formatter,
    Invalid,
    ItemType,
    Problem,
    TableWords,
    Widget,
    Words,
    clean_text,
    is_blank,
)

if TYPE_CHECKING:
    from vendorcheck.questionnaire.model import Item

REGISTRY: dict[str, ItemType] = {}


def register(kind: type[ItemType]) -> type[ItemType]:
    """Add an item type to the registry (its `name` is the `type:` of the file format)."""
    if kind.name in REGISTRY:
        raise ValueError(f"item type '{kind.name}' is already registered")
    REGISTRY[kind.name] = kind()
    return kind


for _kind in (YesNo, SingleChoice, MultiChoice, Text, LongText, Number, Date, Country,
              CountryList, Email, Url, File, Table, Attestation, Note, Percentage):
    register(_kind)


def item_type(name: str) -> ItemType:
    """Return the registered type called `name` (KeyError if there is none)."""
    return REGISTRY[name]


def column_types() -> dict[str, ItemType]:
    """Return the types a table column may have, in registry order."""
    return {name: kind for name, kind in REGISTRY.items() if kind.in_tables}


def answer_words(item: Item, value: Any, fmt: Formatter) -> Words:
    """Return an answer in words: the one function behind the review page, report, exports and DPA."""
    return item.kind.words(item, value, fmt)


__all__ = [
    "REGISTRY", "Formatter", "Invalid", "ItemType", "Problem", "TableWords", "Widget", "Words",
    "answer_words", "clean_text", "column_types", "is_blank", "item_type", "register",
]
