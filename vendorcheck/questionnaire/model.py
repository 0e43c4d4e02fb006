"""The questionnaire model: frozen dataclasses built once at load and shared by every request."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vendorcheck.questionnaire.expr.checker import Compiled
    from vendorcheck.questionnaire.itemtypes.base import ItemType

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

    @property
    def is_scored(self) -> bool:
        """Return whether the item counts towards a category."""
        return self.category is not None and self.max_score > 0

    def option(self, value: str) -> Option | None:
        """Return the option with `value`, if any."""
        return next((o for o in self.options if o.value == value), None)

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

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {i.id: i for s in self.sections for i in s.items})

    @property
    def items(self) -> tuple[Item, ...]:
        """Return every item in order (table columns excluded)."""
        return tuple(self._index.values())

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
