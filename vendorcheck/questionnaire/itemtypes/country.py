"""Country types: one country, a list of countries (ISO codes, or organisations the dataset lists)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vendorcheck.questionnaire.countries import ISO_3166_ALPHA2
from vendorcheck.questionnaire.expr.checker import Type
from vendorcheck.questionnaire.itemtypes.choice import check_count, string_list, strings
from vendorcheck.questionnaire.model import (
    Formatter,
    Invalid,
    ItemType,
    LocaleText,
    Problem,
    Widget,
    Words,
    as_list,
)
from vendorcheck.questionnaire.schemakeys import ItemBase, Num

if TYPE_CHECKING:
    from vendorcheck.questionnaire.model import Item


class CountryListSchema(ItemBase):
    min_selected = Num(integer=True, minimum=0)


def check_country(item: Item, value: object) -> str:
    """Check an ISO 3166-1 alpha-2 code, or an organisation code the pinned dataset lists."""
    if isinstance(value, str) and (value in ISO_3166_ALPHA2
                                   or any(o.code == value for o in item.organisations)):
        return value
    also = " nor a listed international organisation" if item.organisations else ""
    raise Invalid(f"'{value}' is not an ISO 3166-1 alpha-2 country code{also}")


class Country(ItemType):
    """One ISO 3166-1 alpha-2 code."""

    name = "country"
    label = LocaleText.of({"en": "country", "fr": "pays"})
    widget = Widget("supplier/widgets/input.html", field="select", choices="countries")
    countries = True

    def value_type(self, item: Item) -> Type:
        return Type("string", country=True, source=item.id)

    def check(self, item: Item, value: object, problem: Problem) -> str:
        return check_country(item, value)

    def describe(self, item: Item, value: Any, fmt: Formatter) -> Words:
        return Words(text=fmt.place(item, value))


class CountryList(ItemType):
    """A list of ISO 3166-1 alpha-2 codes (`min_selected`)."""

    name = "country_list"
    label = LocaleText.of({"en": "countries", "fr": "liste de pays"})
    schema = CountryListSchema
    widget = Widget("supplier/widgets/checkboxes.html", converter="strings", reader="list",
                    field="checkboxes", choices="countries")
    countries = True
    many = True

    def value_type(self, item: Item) -> Type:
        return Type("list", elem="string", country=True, source=item.id)

    def check(self, item: Item, value: object, problem: Problem) -> list[str]:
        codes = string_list(value)
        for code in codes:
            check_country(item, code)
        check_count(item, len(codes))
        return codes

    def convert(self, value: Any) -> Any:
        return strings(value)

    def describe(self, item: Item, value: Any, fmt: Formatter) -> Words:
        return Words(values=tuple(fmt.place(item, v) for v in as_list(value)))
