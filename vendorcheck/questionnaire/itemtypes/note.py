"""The note type: a text shown between questions; it takes no answer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vendorcheck.questionnaire.model import Invalid, ItemType, LocaleText, Problem, Widget
from vendorcheck.questionnaire.schemakeys import ItemBase, LocaleMap

if TYPE_CHECKING:
    from vendorcheck.questionnaire.expr.checker import Type
    from vendorcheck.questionnaire.model import Item


class NoteSchema(ItemBase):
    body = LocaleMap(required=True)


class Note(ItemType):
    """A `body` text; no answer, no number, no label needed."""

    name = "note"
    label = LocaleText.of({"en": "note", "fr": "note"})
    schema = NoteSchema
    widget = Widget("supplier/widgets/note.html", converter="none", reader="none", field=None)
    in_tables = False
    is_question = False

    def value_type(self, item: Item) -> Type | None:
        return None

    def check(self, item: Item, value: object, problem: Problem) -> object:
        raise Invalid("a note takes no answer")

    def convert(self, value: Any) -> Any:
        return None
