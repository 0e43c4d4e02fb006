"""Turn a questionnaire into what the read-only preview shows, conditions written in words."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from vendorcheck.i18n import current_locale

TOKEN = re.compile(r"'(?:[^'\\]|\\.)*'|[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?|==|!=|<=|>=|[<>()\[\],+-]|\d+(?:\.\d+)?|\s+")


@dataclass(frozen=True)
class PreviewItem:
    """One question as shown in the preview."""

    item: Any
    number: str
    condition: str | None
    required: str | None


def _words() -> dict[str, str]:
    """Return the operators and functions of the condition language in words."""
    return {
        "and": _("and"), "or": _("or"), "not": _("not"), "in": _("in"),
        "==": _("is"), "!=": _("is not"), "<": "<", "<=": "≤", ">": ">", ">=": "≥",
        "null": _("unanswered"), "true": _("true"), "false": _("false"),
        "answered": _("answered"), "selected": _("includes"), "count": _("number of"),
        "any": _("any row of"), "all": _("every row of"), "in_group": _("in group"),
        "any_country": _("any country of"), "all_country": _("every country of"),
        "row": _("the row's"), "it": _("the country"),
    }


def describe_condition(q: Any, text: str | None, locale: str) -> str | None:
    """Write a condition with question labels and operators in words (the expression stays exact)."""
    if not text:
        return None
    words = _words()
    out: list[str] = []
    for token in TOKEN.findall(text):
        out.append(_describe_token(q, token, words, locale))
    return "".join(out).strip()


def _describe_token(q: Any, token: str, words: dict[str, str], locale: str) -> str:
    """Describe one token: an item id becomes its label in quotes, an option value its label."""
    if token in words:
        return words[token]
    name = token.split(".")[-1]
    try:
        item = q.item(name)
    except KeyError:
        return token
    label = item.label.get(locale) if item.label is not None else name
    return f"« {label} »" if locale == "fr" else f"“{label}”"


def build_preview(q: Any) -> list[tuple[Any, list[PreviewItem]]]:
    """Return the sections with numbered items and their conditions in words."""
    locale = current_locale()
    sections = []
    for s_index, section in enumerate(q.sections, start=1):
        items = []
        number = 0
        for item in section.items:
            if item.type != "note":
                number += 1
            items.append(PreviewItem(
                item=item,
                number=f"{s_index}.{number}" if item.type != "note" else "",
                condition=describe_condition(q, getattr(item, "visible_if_text", None), locale),
                required=_required_text(q, item, locale),
            ))
        sections.append((section, items))
    return sections


def _required_text(q: Any, item: Any, locale: str) -> str | None:
    """Say whether an item is required, always or under a condition."""
    required = getattr(item, "required_text", None)
    if required in (None, "false", False):
        return None
    if required in ("true", True):
        return _("Required")
    return _("Required when %(condition)s", condition=describe_condition(q, required, locale))
