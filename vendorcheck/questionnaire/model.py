"""The questionnaire model: frozen dataclasses built once at load and shared by every request."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from vendorcheck.questionnaire.expr.checker import Type
from vendorcheck.questionnaire.schemakeys import ItemBase

if TYPE_CHECKING:
    from vendorcheck.questionnaire.expr.checker import Compiled

Number = int | float

SEVERITIES = ("critical", "high", "medium", "low", "info")


@dataclass(frozen=True)
class LocaleText:
    """A text in several locales; `get(locale)` falls back to the default locale."""

    values: tuple[tuple[str, str], ...]
    default: str = "en"
    _map: dict[str, str] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_map", dict(self.values))

    @classmethod
    def of(cls, values: Mapping[str, str], default: str = "en") -> LocaleText:
        """Build from a plain mapping."""
        return cls(tuple(values.items()), default)

    def get(self, locale: str | None = None, default: str | None = None) -> str:
        """Return the text in `locale`, else in the default locale, else any text."""
        if locale is not None and locale in self._map:
            return self._map[locale]
        if self.default in self._map:
            return self._map[self.default]
        return next(iter(self._map.values()), default or "")

    def __getitem__(self, locale: str) -> str:
        return self._map[locale]

    def __contains__(self, locale: object) -> bool:
        return locale in self._map

    def __iter__(self) -> Iterator[str]:
        return iter(self._map)

    def __len__(self) -> int:
        return len(self._map)

    def keys(self) -> list[str]:
        """Return the locales present."""
        return list(self._map)

    def items(self) -> list[tuple[str, str]]:
        """Return (locale, text) pairs."""
        return list(self.values)

    def as_dict(self) -> dict[str, str]:
        """Return a plain dict copy."""
        return dict(self._map)

    def __str__(self) -> str:
        return self.get()


@dataclass(frozen=True)
class Reference:
    """A legal or guidance source behind a `refs` prefix."""

    id: str
    title: LocaleText
    url: str | None


@dataclass(frozen=True)
class Option:
    """One choice of a single- or multi-choice item."""

    value: str
    label: LocaleText
    points: Number = 0
    help: LocaleText | None = None


@dataclass(frozen=True)
class Band:
    """A points band for a number item: matches when value ≤ max (or value ≥ min)."""

    points: Number
    max: Number | None = None
    min: Number | None = None

    def matches(self, value: Number) -> bool:
        """Return whether `value` falls in this band."""
        if self.max is not None:
            return value <= self.max
        return self.min is not None and value >= self.min


@dataclass(frozen=True)
class Evidence:
    """Upload settings attached to an item."""

    accept: tuple[str, ...] = ("pdf",)
    max_mb: Number = 20
    expected: bool = False
    label: LocaleText | None = None


@dataclass(frozen=True)
class Justification:
    """A free-text box shown when `when` is true."""

    when_text: str
    when: Compiled
    label: LocaleText | None = None


@dataclass(frozen=True)
class Organisation:
    """An international organisation a country answer may name (its code is user-assigned)."""

    code: str
    name: LocaleText


@dataclass(frozen=True)
class Item:
    """A question (or a table column, or a note); type-specific fields are None when unused.

    `type` is the name written in the file; `kind` is that type's object (see `itemtypes/`), which
    every layer asks how to check, convert, score, word and draw the item.
    """

    id: str
    type: str
    kind: ItemType = field(repr=False)
    path: str
    section: str | None = None
    label: LocaleText | None = None
    help: LocaleText | None = None
    refs: tuple[str, ...] = ()
    required: bool = False
    required_text: str | None = None
    required_expr: Compiled | None = None
    visible_if_text: str | None = None
    visible_if: Compiled | None = None
    category: str | None = None
    weight: Number = 1
    evidence: Evidence | None = None
    justification: Justification | None = None
    export: str | None = None
    tags: tuple[str, ...] = ()
    na_allowed: bool = False
    good: str = "yes"
    points: Number | None = None
    options: tuple[Option, ...] = ()
    option_set: str | None = None
    min_selected: int | None = None
    max_selected: int | None = None
    exclusive: tuple[str, ...] = ()
    max_points: Number | None = None
    max_length: int | None = None
    min: Number | None = None
    max: Number | None = None
    min_date: date | None = None
    max_date: date | None = None
    integer: bool = False
    unit: LocaleText | None = None
    bands: tuple[Band, ...] = ()
    accept: tuple[str, ...] = ()
    max_mb: Number | None = None
    max_files: int | None = None
    columns: tuple[Item, ...] = ()
    min_rows: int | None = None
    max_rows: int | None = None
    unique: tuple[str, ...] = ()
    statement: LocaleText | None = None
    body: LocaleText | None = None
    max_score: Number = 0
    # Country items: the organisations of the pinned country-groups dataset, also accepted.
    organisations: tuple[Organisation, ...] = ()
    # The options' values in order, and the options by value (set from `options`).
    option_values: tuple[str, ...] = field(init=False, repr=False, compare=False)
    options_by_value: dict[str, Option] = field(init=False, repr=False, compare=False)

    @property
    def is_scored(self) -> bool:
        """Return whether the item counts towards a category."""
        return self.category is not None and self.max_score > 0

    def option(self, value: str) -> Option | None:
        """Return the option with `value`, if any."""
        return self.options_by_value.get(value) if isinstance(value, str) else None

    def __post_init__(self) -> None:
        # Worked out once per item, as fields: every answer is checked and scored against them.
        object.__setattr__(self, "option_values", tuple(o.value for o in self.options))
        by_value: dict[str, Option] = {}
        for o in self.options:
            by_value.setdefault(o.value, o)  # the first wins, as a search in order finds it
        object.__setattr__(self, "options_by_value", by_value)

    def organisation_name(self, code: object, locale: str) -> str | None:
        """Return the name of an organisation this country item accepts, else None."""
        found = next((o for o in self.organisations if o.code == code), None)
        return found.name.get(locale) if found is not None else None

    def column(self, column_id: str) -> Item:
        """Return a table column by id (KeyError if unknown)."""
        for col in self.columns:
            if col.id == column_id:
                return col
        raise KeyError(column_id)


@dataclass(frozen=True)
class Section:
    """A page of items."""

    id: str
    title: LocaleText
    path: str
    items: tuple[Item, ...]
    help: LocaleText | None = None
    visible_if_text: str | None = None
    visible_if: Compiled | None = None


@dataclass(frozen=True)
class Category:
    """A scoring bucket."""

    id: str
    weight: Number
    label: LocaleText


@dataclass(frozen=True)
class Computed:
    """A named boolean; scored when it has a category and points_if_true."""

    id: str
    expr_text: str
    expr: Compiled
    path: str
    category: str | None = None
    weight: Number = 1
    points_if_true: Number = 0
    label: LocaleText | None = None

    @property
    def is_scored(self) -> bool:
        """Return whether the value counts towards a category."""
        return self.category is not None and self.points_if_true > 0


@dataclass(frozen=True)
class Finding:
    """A rule that raises a finding when `when` is true."""

    id: str
    severity: str
    when_text: str
    when: Compiled
    title: LocaleText
    refs: tuple[str, ...] = ()
    remediation: LocaleText | None = None
    due_days: int | None = None


@dataclass(frozen=True)
class Tier:
    """An ordered tier rule; the first match wins."""

    id: str
    when_text: str
    when: Compiled
    label: LocaleText | None = None
    floor: str | None = None          # severity that forces at least this tier
    score_max: Number | None = None   # highest score consistent with this tier


@dataclass(frozen=True)
class TestExpect:
    """What an embedded test expects."""

    tier: str | None = None
    findings: tuple[str, ...] | None = None
    findings_include: tuple[str, ...] = ()
    findings_exclude: tuple[str, ...] = ()
    score_min: Number | None = None
    score_max: Number | None = None
    assessed: bool | None = None


@dataclass(frozen=True)
class EmbeddedTest:
    """A golden answer set with its expected result."""

    name: str
    answers: Mapping[str, Any]
    expect: TestExpect
    path: str
    today: date | None = None


@dataclass(frozen=True)
class Questionnaire:
    """A loaded, checked and compiled questionnaire version."""

    id: str
    version: str
    sha256: str
    status: str
    file: str
    default_locale: str
    locales: tuple[str, ...]
    title: LocaleText
    sections: tuple[Section, ...]
    canonical: Mapping[str, Any] = field(repr=False)
    description: LocaleText | None = None
    intro: LocaleText | None = None
    effective_date: date | None = None
    review_by: date | None = None
    audience: str = "buyer"  # who sends it: "buyer" (to a vendor) or "vendor" (for itself)
    reference_data: tuple[str, ...] = ()
    references: Mapping[str, Reference] = field(default_factory=dict)
    option_sets: Mapping[str, tuple[Option, ...]] = field(default_factory=dict)
    categories: tuple[Category, ...] = ()
    computed: tuple[Computed, ...] = ()
    findings: tuple[Finding, ...] = ()
    tiers: tuple[Tier, ...] = ()
    assessed_from: float = 0.0  # completeness needed before a score (or a rule-based tier) is given
    tests: tuple[EmbeddedTest, ...] = ()
    country_groups: Any = field(default=None, repr=False)
    plan: Any = field(default=None, repr=False, compare=False)
    _index: dict[str, Item] = field(init=False, repr=False, compare=False, hash=False)
    _items: tuple[Item, ...] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {i.id: i for s in self.sections for i in s.items})
        object.__setattr__(self, "_items", tuple(self._index.values()))

    @property
    def for_buyers(self) -> bool:
        """Tell whether buyers send this questionnaire to vendors (else vendors fill it in for themselves)."""
        return self.audience == "buyer"

    @property
    def items(self) -> tuple[Item, ...]:
        """Return every item in order (table columns excluded)."""
        return self._items

    def item(self, item_id: str) -> Item:
        """Return an item by id (KeyError if unknown)."""
        return self._index[item_id]

    def has_item(self, item_id: str) -> bool:
        """Return whether an item with this id exists."""
        return item_id in self._index

    def category(self, category_id: str) -> Category:
        """Return a category by id (KeyError if unknown)."""
        for cat in self.categories:
            if cat.id == category_id:
                return cat
        raise KeyError(category_id)

    def finding(self, finding_id: str) -> Finding:
        """Return a finding rule by id (KeyError if unknown)."""
        for rule in self.findings:
            if rule.id == finding_id:
                return rule
        raise KeyError(finding_id)

    @property
    def key(self) -> str:
        """Return `id@version`."""
        return f"{self.id}@{self.version}"


# ---------------------------------------------------------------------------- item types
# What every item type is: its file keys, answer check, rule value, points, words and widget. One
# subclass per `type:` of the file format lives in itemtypes/; an item holds its type as `item.kind`,
# so the item and its type are defined side by side here.

ALLOWED_CONTROLS = frozenset("\n\r\t")
# Every character clean_text refuses: control characters other than ALLOWED_CONTROLS (Unicode
# category Cc is exactly U+0000-U+001F and U+007F-U+009F) and lone surrogates. A text with none of
# them is accepted without looking at each character.
_SUSPECT_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
NA_WORDS = ("na", "n/a")  # a written "not applicable"

# Records a problem found inside an answer (a table cell): (where, message).
Problem = Callable[[str, str], None]


class RowRules(Protocol):
    """What deciding whether a table is answered reads: which columns each row shows and needs."""

    def row_columns(self, table_id: str, index: int) -> tuple[frozenset[str], frozenset[str]]:
        """Return (visible, required) column ids of one row."""
        ...


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
    if _SUSPECT_CHARS.search(value) is None:  # nearly every answer: no need to look at each character
        if len(value) > max_length:
            raise Invalid(f"max {max_length:,} characters")
        return value
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

    def is_answered(self, item: Item, value: Any, visibility: RowRules) -> bool:
        """Return whether a shown item's rule value counts as an answer."""
        return not (value is None or (isinstance(value, (str, tuple, list)) and len(value) == 0))

    # --- scoring

    def max_points(self, item: Item) -> Number:
        """Return the highest points the item can earn."""
        return 0

    def earned(self, item: Item, value: Any) -> Number:
        """Return the points a (non-N/A) answer earns."""
        return 0

    def points_by_value(self, item: Item) -> Mapping[str, Number] | None:
        """Return what `earned` gives each text answer, any other text earning 0 (None: ask `earned`)."""
        return None

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
