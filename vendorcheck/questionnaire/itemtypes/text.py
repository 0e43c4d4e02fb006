"""Text types: a short text, a long text, an e-mail address, a web address."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from vendorcheck.questionnaire.model import Invalid, ItemType, LocaleText, Problem, Widget, clean_text
from vendorcheck.questionnaire.schemakeys import ItemBase, Num

if TYPE_CHECKING:
    from vendorcheck.questionnaire.model import Item

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")
INPUT = "supplier/widgets/input.html"


class TextSchema(ItemBase):
    max_length = Num(integer=True, minimum=1)


class Text(ItemType):
    """A short text (`max_length`, default 500)."""

    name = "text"
    label = LocaleText.of({"en": "short text", "fr": "texte court"})
    schema = TextSchema
    widget = Widget(INPUT)
    names_rows = True    # the first short text of a row is its name ("Acme Hosting")
    reads_na = False     # a short text may be a name, such as "NA"
    default_length = 500

    def with_defaults(self, built: Item) -> Item:
        """Bound the length when the file does not."""
        if built.max_length is not None:
            return built
        return replace(built, max_length=self.default_length)

    def check(self, item: Item, value: object, problem: Problem) -> str:
        return clean_text(value, item.max_length or 500)


class LongText(Text):
    """A long text (`max_length`, default 10,000)."""

    name = "long_text"
    label = LocaleText.of({"en": "long text", "fr": "texte long"})
    widget = Widget(INPUT, field="textarea")
    names_rows = False
    reads_na = True
    default_length = 10_000


class Email(ItemType):
    """An e-mail address (its shape only)."""

    name = "email"
    label = LocaleText.of({"en": "e-mail", "fr": "e-mail"})
    widget = Widget(INPUT, attrs=(("type", "email"),))

    def check(self, item: Item, value: object, problem: Problem) -> str:
        text = clean_text(value, 254).strip()
        if not EMAIL_RE.match(text):
            raise Invalid("must be an e-mail address")
        return text


class Url(ItemType):
    """An http(s) address."""

    name = "url"
    label = LocaleText.of({"en": "web address", "fr": "adresse web"})
    widget = Widget(INPUT, attrs=(("type", "url"),))

    def check(self, item: Item, value: object, problem: Problem) -> str:
        text = clean_text(value, 2000).strip()
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in text):
            raise Invalid("must be an http:// or https:// address")
        return text
