"""The date type: an ISO date within bounds."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from vendorcheck.questionnaire.expr.checker import Type
from vendorcheck.questionnaire.model import Formatter, Invalid, ItemType, LocaleText, Problem, Widget, Words
from vendorcheck.questionnaire.schemakeys import DATE_RE, IsoDate, ItemBase

if TYPE_CHECKING:
    from collections.abc import Mapping

    from vendorcheck.questionnaire.model import Item


class DateSchema(ItemBase):
    min = IsoDate()
    max = IsoDate()


def to_date(value: Any) -> date | None:
    """Return a date from a date or a `YYYY-MM-DD` text; None when it is not one."""
    if isinstance(value, date):
        return value
    if isinstance(value, str) and DATE_RE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


class Date(ItemType):
    """A `YYYY-MM-DD` date (`min`, `max`)."""

    name = "date"
    label = LocaleText.of({"en": "date", "fr": "date"})
    schema = DateSchema
    widget = Widget("supplier/widgets/input.html", converter="date", attrs=(("type", "date"),))

    def bounds(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """A date's bounds are dates."""
        return {f"{key}_date": raw[key] for key in ("min", "max") if key in raw}

    def value_type(self, item: Item) -> Type:
        return Type("date", source=item.id)

    def check(self, item: Item, value: object, problem: Problem) -> str:
        if isinstance(value, date):
            value = value.isoformat()
        if not isinstance(value, str) or not DATE_RE.match(value):
            raise Invalid("must be a date (YYYY-MM-DD)")
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise Invalid("must be a date (YYYY-MM-DD)") from None
        if item.min_date is not None and day < item.min_date:
            raise Invalid(f"must be on or after {item.min_date.isoformat()}")
        if item.max_date is not None and day > item.max_date:
            raise Invalid(f"must be on or before {item.max_date.isoformat()}")
        return value

    def convert(self, value: Any) -> Any:
        return to_date(value)

    def describe(self, item: Item, value: Any, fmt: Formatter) -> Words:
        return Words(text=fmt.date(value if isinstance(value, date) else str(value)))
