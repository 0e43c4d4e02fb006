"""The number type: a finite number within bounds, scored by bands."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from vendorcheck.questionnaire.expr.checker import Type
from vendorcheck.questionnaire.model import Formatter, Invalid, ItemType, LocaleText, Problem, Widget, Words
from vendorcheck.questionnaire.schemakeys import (
    BandSchema,
    Bool,
    ItemBase,
    List,
    LocaleMap,
    Nested,
    Num,
    to_number,
)

if TYPE_CHECKING:
    from vendorcheck.questionnaire.model import Item
    from vendorcheck.questionnaire.model import Number as NumberValue


class NumberSchema(ItemBase):
    min = Num()
    max = Num()
    integer = Bool()
    unit = LocaleMap()
    bands = List(Nested(BandSchema))


def _fmt(number: float | int | None) -> str:
    return "" if number is None else f"{number:g}"


def check_number(item: Item, value: object) -> int | float:
    """Check a finite number within the item's bounds."""
    number = to_number(value)
    low, high = item.min, item.max
    if low is not None and high is not None:
        message = f"must be a finite number between {_fmt(low)} and {_fmt(high)}"
    elif low is not None:
        message = f"must be a finite number ≥ {_fmt(low)}"
    elif high is not None:
        message = f"must be a finite number ≤ {_fmt(high)}"
    else:
        message = "must be a finite number"
    if number is None or (low is not None and number < low) or (high is not None and number > high):
        raise Invalid(message)
    if item.integer and not isinstance(number, int):
        raise Invalid("must be a whole number")
    return number


class Number(ItemType):
    """A number (`min`, `max`, `integer`, `unit`); `bands` give points."""

    name = "number"
    label = LocaleText.of({"en": "number", "fr": "nombre"})
    schema: ClassVar[type[ItemBase]] = NumberSchema  # as wide as the base's: subtypes add their keys
    widget = Widget("supplier/widgets/input.html", converter="number",
                    attrs=(("inputmode", "decimal"),))
    scorable = True

    def value_type(self, item: Item) -> Type:
        return Type("number", source=item.id)

    def check(self, item: Item, value: object, problem: Problem) -> int | float:
        return check_number(item, value)

    def convert(self, value: Any) -> Any:
        return to_number(value)

    def max_points(self, item: Item) -> NumberValue:
        return max((b.points for b in item.bands), default=0)

    def earned(self, item: Item, value: Any) -> NumberValue:
        return next((b.points for b in item.bands if b.matches(value)), 0)

    def describe(self, item: Item, value: Any, fmt: Formatter) -> Words:
        number = fmt.number(value)
        return Words(text=f"{number} {fmt.text(item.unit)}" if item.unit else number)
