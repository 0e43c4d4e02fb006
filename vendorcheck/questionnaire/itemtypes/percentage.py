"""The percentage type: a number from 0 to 100, scored by bands like a number, read as "42 %"."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from babel.numbers import format_decimal, format_percent

from vendorcheck.questionnaire.itemtypes.number import Number
from vendorcheck.questionnaire.model import Formatter, Invalid, LocaleText, Problem, Widget, Words
from vendorcheck.questionnaire.schemakeys import (
    BandSchema,
    Bool,
    ItemBase,
    List,
    Nested,
    to_number,
)

if TYPE_CHECKING:
    from vendorcheck.questionnaire.model import Item


class PercentageSchema(ItemBase):
    integer = Bool()
    bands = List(Nested(BandSchema))


def to_percentage(value: Any) -> int | float | None:
    """Read 42, "42", "42 %" or "42%" as 42; None when it is not a number."""
    if isinstance(value, str):
        value = value.strip().removesuffix("%")
    return to_number(value)


def percent_text(number: str, locale: str) -> str:
    """Put the locale's percent sign around a formatted number ("42%" in English, "42 %" in French)."""
    prefix, zero, suffix = format_percent(0, locale=locale).partition(format_decimal(0, locale=locale))
    return f"{prefix}{number}{suffix}" if zero else f"{number} %"


class Percentage(Number):
    """A share from 0 to 100 (`integer`); `bands` give points, as for a number."""

    name = "percentage"
    label = LocaleText.of({"en": "percentage", "fr": "pourcentage"})
    schema = PercentageSchema
    widget = Widget("supplier/widgets/percentage.html", converter="percentage",
                    attrs=(("inputmode", "decimal"),))

    def check(self, item: Item, value: object, problem: Problem) -> int | float:
        number = to_percentage(value)
        if number is None or not 0 <= number <= 100:
            raise Invalid("must be a percentage between 0 and 100")
        if item.integer and not isinstance(number, int):
            raise Invalid("must be a whole number")
        return number

    def convert(self, value: Any) -> Any:
        return to_percentage(value)

    def describe(self, item: Item, value: Any, fmt: Formatter) -> Words:
        return Words(text=percent_text(fmt.number(value), fmt.locale))
