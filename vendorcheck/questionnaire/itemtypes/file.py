"""The file type: the evidence files uploaded to the item are its answer."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from marshmallow import validate

from vendorcheck.questionnaire.expr.checker import Type
from vendorcheck.questionnaire.itemtypes.choice import string_list, strings
from vendorcheck.questionnaire.model import Formatter, Invalid, ItemType, LocaleText, Problem, Widget, Words
from vendorcheck.questionnaire.schemakeys import FILE_KINDS, ItemBase, List, Num, Text

if TYPE_CHECKING:
    from vendorcheck.questionnaire.model import Item

EVIDENCE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class FileSchema(ItemBase):
    accept = List(Text(validate=validate.OneOf(FILE_KINDS)))
    max_mb = Num(minimum=0)
    max_files = Num(integer=True, minimum=1)


class File(ItemType):
    """A list of stored evidence ids (`accept`, `max_mb`, `max_files`)."""

    name = "file"
    label = LocaleText.of({"en": "document", "fr": "document"})
    schema = FileSchema
    widget = Widget("supplier/widgets/file.html", converter="strings", reader="none", field=None)
    in_tables = False
    carried_over = False  # files belong to the assessment they were uploaded to
    is_upload = True
    many = True

    def value_type(self, item: Item) -> Type:
        return Type("list", elem="string", source=item.id)

    def check(self, item: Item, value: object, problem: Problem) -> list[str]:
        ids = string_list(value)
        if any(not EVIDENCE_ID_RE.match(i) for i in ids):
            raise Invalid("unknown evidence id")
        if len(ids) > (item.max_files or 20):
            raise Invalid(f"at most {item.max_files or 20} files")
        return ids

    def convert(self, value: Any) -> Any:
        return strings(value)

    def describe(self, item: Item, value: Any, fmt: Formatter) -> Words:
        if isinstance(value, (list, tuple)):  # stored ids, or the tuple rules read
            return Words(files=len(value))
        return Words(text=str(value))
