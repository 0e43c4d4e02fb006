"""What every item type is: its file keys, answer check, rule value, points, words and widget.

One subclass per `type:` of the file format (the shape of Indico's survey `fields/`). The loader, the
answer checks, the rules, the scorer, the answering form and every page that shows an answer in
words ask the item's type (`item.kind`) instead of comparing type names.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from vendorcheck.questionnaire.expr.checker import Type
from vendorcheck.questionnaire.schemakeys import ItemBase

if TYPE_CHECKING:
    from vendorcheck.questionnaire.evaluate import Visibility
    from vendorcheck.questionnaire.model import Item, LocaleText, Number

ALLOWED_CONTROLS = frozenset("\n\r\t")
NA_WORDS = ("na", "n/a")  # a written "not applicable"

# Records a problem found inside an answer (a table cell): (where, message).
Problem = Callable[[str, str], None]


class Invalid(Exception):
    """An answer is not acceptable; the message says why."""


def is_blank(value: object) -> bool:
    """Return whether a value means "no answer"."""
    if isinstance(value, str):
        return value.strip() == ""
    return value is None or (isinstance(value, (list, tuple, dict)) and len(value) == 0)


def clean_text(value: object, max_length: int) -> str:
    """Check a text: a string, no control characters or lone surrogates, not too long."""
    if not isinstance(value, str):
        raise Invalid("must be a text")
    for char in value:
        if "\ud800" <= char <= "\udfff":
            raise Invalid("invalid Unicode")
        if unicodedata.category(char) == "Cc" and char not in ALLOWED_CONTROLS:
            raise Invalid("invalid control character")
    if len(value) > max_length:
        raise Invalid(f"max {max_length:,} characters")
    return value


def as_list(value: Any) -> list[Any]:
    """Return a list answer as a list (a lone value becomes a one-element list)."""
    return list(value) if isinstance(value, list | tuple) else [value]


# ---------------------------------------------------------------------------- words


class Formatter(Protocol):
    """How one reader writes values in its locale (Babel in the report, Flask-Babel on pages)."""

    locale: str

    def text(self, value: LocaleText | None) -> str:
        """Return a questionnaire text in the reader's locale ("" for None)."""

    def number(self, value: Any) -> str:
        """Return a number with the locale's separators."""

    def date(self, value: date | str) -> str:
        """Return a date (an ISO text that is not a date is returned as given)."""

    def place(self, item: Item | None, code: Any) -> str:
        """Return a country's name, or that of an international organisation the item lists."""


@dataclass(frozen=True)
class TableWords:
    """A table answer in words: column headers, then each row's cells."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Words, ...], ...]


@dataclass(frozen=True)
class Words:
    """An answer as a reader sees it; each page (review, report, DPA) says it in its own style.

    `code` is a meaning every page words its own way: `unanswered`, `na`, `yes`, `no`, `unknown`,
    `attested`, `not_attested`; `text` is the answer as written or labelled (what a page shows for
    a code it has no word for).
    """

    code: str | None = None
    text: str = ""
    values: tuple[str, ...] | None = None   # a list answer, each value in words
    table: TableWords | None = None
    files: int | None = None                # how many files were uploaded
    signer: tuple[object, object] | None = None  # who attested: (name, role)


# ---------------------------------------------------------------------------- widget


@dataclass(frozen=True)
class Widget:
    """How the answering page shows an item and reads its answer back."""

    partial: str                 # the template drawing the input (templates/vendor/widgets/...)
    converter: str = "text"      # the converter of static/js/answer.js (same result as `convert`)
    reader: str = "value"        # how the page's scripts read it: value, list, rows, agreement, none
    field: str | None = "input"  # the form field: input, textarea, radio, select, checkboxes (None: read raw)
    choices: str | None = None   # where choices come from: words (yes / no), options, countries
    attrs: tuple[tuple[str, str], ...] = ()  # extra attributes of the input


# ---------------------------------------------------------------------------- the type


class ItemType:
    """One item type; subclasses override what differs from a plain text answer."""

    name: ClassVar[str]
    label: ClassVar[LocaleText]          # the type in words (the public preview)
    schema: ClassVar[type[ItemBase]] = ItemBase  # the keys an item of this type may have
    widget: ClassVar[Widget]
    in_tables: ClassVar[bool] = True     # may be a table column
    scorable: ClassVar[bool] = False     # may have a category and earn points
    is_question: ClassVar[bool] = True   # numbered, labelled and answered (a note is not)
    carried_over: ClassVar[bool] = True  # copied into a reassessment and a copy of answers
    is_upload: ClassVar[bool] = False    # the answer is the files uploaded to it
    has_rows: ClassVar[bool] = False     # the answer is rows of `columns`
    countries: ClassVar[bool] = False    # the answer is country codes (or listed organisations)
    many: ClassVar[bool] = False         # the answer is a list of values
    names_rows: ClassVar[bool] = False   # a cell of this type names its table row in explanations
    reads_na: ClassVar[bool] = True      # a written "na" or "n/a" means "not applicable"

    @property
    def typed(self) -> bool:
        """Whether the page has an input for the answer (files are uploaded, notes take none)."""
        return self.widget.reader != "none"

    def __repr__(self) -> str:
        return f"<item type {self.name}>"

    # --- loading

    def bounds(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Return the item fields `min` and `max` of the file go to."""
        return {key: raw[key] for key in ("min", "max") if key in raw}

    def with_defaults(self, built: Item) -> Item:
        """Return the item with the defaults of this type applied."""
        return built

    def value_type(self, item: Item) -> Type | None:
        """Return the expression type of the item's value (None: rules cannot read it)."""
        return Type("string", source=item.id)

    # --- answers

    def check(self, item: Item, value: object, problem: Problem) -> object:
        """Return the answer normalised, or raise Invalid (cell problems go to `problem`)."""
        raise NotImplementedError(self.name)

    def convert(self, value: Any) -> Any:
        """Return the value rules read from a stored answer (None: no value)."""
        return value if isinstance(value, str) and value != "" else None

    def is_answered(self, item: Item, value: Any, visibility: Visibility) -> bool:
        """Return whether a shown item's rule value counts as an answer."""
        return not (value is None or (isinstance(value, (str, tuple, list)) and len(value) == 0))

    # --- scoring

    def max_points(self, item: Item) -> Number:
        """Return the highest points the item can earn."""
        return 0

    def earned(self, item: Item, value: Any) -> Number:
        """Return the points a (non-N/A) answer earns."""
        return 0

    # --- words

    def words(self, item: Item, value: Any, fmt: Formatter) -> Words:
        """Return an answer in words: blanks and written N/A first, then the type's own words."""
        if value is None or value == "" or value == []:
            return Words(code="unanswered")
        if self.reads_na and isinstance(value, str) and value in NA_WORDS:
            return Words(code="na", text=value)
        return self.describe(item, value, fmt)

    def describe(self, item: Item, value: Any, fmt: Formatter) -> Words:
        """Return a given answer in words."""
        return Words(text=str(value))


def option_label(item: Item, value: Any, fmt: Formatter) -> str:
    """Return an option's label, or the raw value when the option is unknown."""
    option = item.option(str(value))
    return fmt.text(option.label) if option is not None else str(value)
