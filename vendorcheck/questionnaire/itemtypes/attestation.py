"""The attestation type: a statement agreed to by a named person in a role."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from vendorcheck.questionnaire.expr.checker import Type
from vendorcheck.questionnaire.model import (
    Formatter,
    Invalid,
    ItemType,
    LocaleText,
    Problem,
    Widget,
    Words,
    clean_text,
    is_blank,
)
from vendorcheck.questionnaire.schemakeys import ItemBase, LocaleMap

if TYPE_CHECKING:
    from vendorcheck.questionnaire.model import Item


class AttestationSchema(ItemBase):
    statement = LocaleMap(required=True)


class Attestation(ItemType):
    """`{agreed: true, name, role}` under a `statement`; rules read it as true."""

    name = "attestation"
    label = LocaleText.of({"en": "attestation", "fr": "attestation"})
    schema = AttestationSchema
    widget = Widget("supplier/widgets/attestation.html", converter="attestation", reader="agreement",
                    field=None)
    in_tables = False
    carried_over = False  # an attestation is given anew for each assessment

    def value_type(self, item: Item) -> Type:
        return Type("bool", source=item.id)

    def check(self, item: Item, value: object, problem: Problem) -> dict[str, object]:
        if not isinstance(value, Mapping):
            raise Invalid("must be {agreed, name, role}")
        extra = set(value) - {"agreed", "name", "role"}
        if extra:
            raise Invalid(f"unknown field '{sorted(extra)[0]}'")
        if value.get("agreed") not in (True, "true"):
            raise Invalid("must be agreed")
        name, role = value.get("name"), value.get("role")
        if is_blank(name) or is_blank(role):
            raise Invalid("name and role are required")
        return {"agreed": True, "name": clean_text(name, 200).strip(),
                "role": clean_text(role, 200).strip()}

    def convert(self, value: Any) -> Any:
        if isinstance(value, Mapping) and value.get("agreed") in (True, "true"):
            return True
        return None

    def describe(self, item: Item, value: Any, fmt: Formatter) -> Words:
        code = "attested" if value not in (False, "no", "false") else "not_attested"
        if isinstance(value, Mapping):
            return Words(code=code, signer=(value.get("name", ""), value.get("role", "")))
        return Words(code=code, text=str(value))
