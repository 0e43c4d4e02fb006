"""Choice types: yes / no, one option, several options."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from marshmallow import validate

from vendorcheck.questionnaire.expr.checker import Type
from vendorcheck.questionnaire.model import (
    Formatter,
    Invalid,
    ItemType,
    LocaleText,
    Problem,
    Widget,
    Words,
    as_list,
    option_label,
)
from vendorcheck.questionnaire.schemakeys import (
    Bool,
    ItemBase,
    Num,
    OptionsField,
    Text,
    ids,
)

if TYPE_CHECKING:
    from vendorcheck.questionnaire.model import Item, Number

YES_NO = ("yes", "no")
YES_NO_CODES = ("yes", "no", "unknown")  # yes/no answers every reader says in its own words


class YesNoSchema(ItemBase):
    na_allowed = Bool()
    good = Text(validate=validate.OneOf(("yes", "no")))
    points = Num(minimum=0)


class SingleChoiceSchema(ItemBase):
    options = OptionsField(required=True)
    na_allowed = Bool()


class MultiChoiceSchema(ItemBase):
    options = OptionsField(required=True)
    min_selected = Num(integer=True, minimum=0)
    max_selected = Num(integer=True, minimum=1)
    exclusive = ids()
    max_points = Num(minimum=0)


def check_one_of(item: Item, value: object, allowed: Sequence[str]) -> str:
    """Check a value is one of `allowed` (plus `na` when the item allows it)."""
    if isinstance(value, str) and (value in allowed or (value == "na" and item.na_allowed)):
        return value
    shown = value if isinstance(value, str) else repr(value)
    listed = [*allowed, "na"] if item.na_allowed else list(allowed)
    raise Invalid(f"'{shown}' is not one of {', '.join(listed)}")


def string_list(value: object) -> list[str]:
    """Accept a list of strings (or one string, as a one-element list)."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise Invalid("must be a list of texts")
    if len(set(value)) != len(value):
        raise Invalid("a value is repeated")
    return list(value)


def check_count(item: Item, count: int) -> None:
    """Check min_selected / max_selected."""
    if item.min_selected is not None and count < item.min_selected:
        raise Invalid(f"choose at least {item.min_selected}")
    if item.max_selected is not None and count > item.max_selected:
        raise Invalid(f"choose at most {item.max_selected}")


def strings(value: Any) -> Any:
    """Return a list answer as the tuple of texts rules read (None when empty)."""
    if isinstance(value, (list, tuple)) and value:
        return tuple(v for v in value if isinstance(v, str)) or None
    return None


def _choice_values(item: Item, values: frozenset[str]) -> Type:
    """Return the expression type of a choice, `na` included when allowed."""
    return Type("string", values | {"na"} if item.na_allowed else values, source=item.id)


class YesNo(ItemType):
    """`yes` or `no` (or `na`); `points` for the `good` answer."""

    name = "yes_no"
    label = LocaleText.of({"en": "yes / no", "fr": "oui / non"})
    schema = YesNoSchema
    widget = Widget("supplier/widgets/choices.html", field="radio", choices="words")
    scorable = True

    def with_defaults(self, built: Item) -> Item:
        """A yes/no item earns 1 point by default."""
        return built if built.points is not None else replace(built, points=1)

    def value_type(self, item: Item) -> Type:
        return _choice_values(item, frozenset({"yes", "no"}))

    def check(self, item: Item, value: object, problem: Problem) -> str:
        return check_one_of(item, value, YES_NO)

    def max_points(self, item: Item) -> Number:
        return item.points or 0

    def earned(self, item: Item, value: Any) -> Number:
        return (item.points or 0) if value == item.good else 0

    def points_by_value(self, item: Item) -> Mapping[str, Number]:
        return {item.good: item.points or 0}

    def describe(self, item: Item, value: Any, fmt: Formatter) -> Words:
        if value in YES_NO_CODES:
            return Words(code=str(value), text=str(value))
        return Words(text=str(value))


class SingleChoice(ItemType):
    """One option value (or `na`); the option's `points`."""

    name = "single_choice"
    label = LocaleText.of({"en": "single choice", "fr": "choix unique"})
    schema = SingleChoiceSchema
    widget = Widget("supplier/widgets/choices.html", field="radio", choices="options")
    scorable = True

    def value_type(self, item: Item) -> Type:
        return _choice_values(item, frozenset(o.value for o in item.options))

    def check(self, item: Item, value: object, problem: Problem) -> str:
        return check_one_of(item, value, item.option_values)

    def max_points(self, item: Item) -> Number:
        return max((o.points for o in item.options), default=0)

    def earned(self, item: Item, value: Any) -> Number:
        option = item.option(value)
        return option.points if option is not None else 0

    def points_by_value(self, item: Item) -> Mapping[str, Number]:
        return {value: option.points for value, option in item.options_by_value.items()}

    def describe(self, item: Item, value: Any, fmt: Formatter) -> Words:
        return Words(text=option_label(item, value, fmt))


class MultiChoice(ItemType):
    """Several option values; the sum of their `points`, capped at `max_points`."""

    name = "multi_choice"
    label = LocaleText.of({"en": "multiple choice", "fr": "choix multiple"})
    schema = MultiChoiceSchema
    widget = Widget("supplier/widgets/checkboxes.html", converter="strings", reader="list",
                    field="checkboxes", choices="options")
    scorable = True
    many = True

    def value_type(self, item: Item) -> Type:
        values = frozenset(o.value for o in item.options)
        return Type("list", values | {"na"} if item.na_allowed else values, elem="string",
                    source=item.id)

    def check(self, item: Item, value: object, problem: Problem) -> list[str]:
        chosen = string_list(value)
        allowed = [o.value for o in item.options]
        for v in chosen:
            if v not in allowed:
                raise Invalid(f"'{v}' is not one of {', '.join(allowed)}")
        for v in item.exclusive:
            if v in chosen and len(chosen) > 1:
                raise Invalid(f"'{v}' must be chosen alone")
        check_count(item, len(chosen))
        return chosen

    def convert(self, value: Any) -> Any:
        return strings(value)

    def max_points(self, item: Item) -> Number:
        total = sum(o.points for o in item.options if o.points > 0)
        return total if item.max_points is None else min(total, item.max_points)

    def earned(self, item: Item, value: Any) -> Number:
        total = sum(o.points for o in item.options if o.value in value)
        return total if item.max_points is None else min(total, item.max_points)

    def describe(self, item: Item, value: Any, fmt: Formatter) -> Words:
        return Words(values=tuple(option_label(item, v, fmt) for v in as_list(value)))
