"""Turn a questionnaire into what the read-only preview shows, conditions written in words."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from vendorcheck.i18n import current_locale
from vendorcheck.questionnaire.legal_refs import RefText, format_ref

TOKEN = re.compile(
    r"'(?:[^'\\]|\\.)*'"  # a quoted string
    r"|[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?"  # an id, row.col or item.col
    r"|==|!=|<=|>=|[<>()\[\],+-]|\d+(?:\.\d+)?|\s+"
)


@dataclass(frozen=True)
class PreviewItem:
    """One question as shown in the preview."""

    item: Any
    number: str
    condition: str | None
    required: str | None
    refs: tuple[RefText, ...] = ()


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
    last_item: Any = None
    for token in TOKEN.findall(text):
        if token.startswith("'"):
            out.append(_describe_value(last_item, token[1:-1], locale))
            continue
        item = _find_item(q, token)
        last_item = item or last_item
        if item is not None and item.label is not None:
            out.append(_quote(item.label.get(locale), locale))
        else:
            out.append(words.get(token) or _computed_words(q, token, locale))
    return "".join(out).strip()


def _find_item(q: Any, token: str) -> Any:
    """Return the item (or table column) a token names, or None."""
    owner, _, column = token.partition(".")
    try:
        if column and owner != "row":
            return q.item(owner).column(column)
        return q.item(column or owner)
    except (KeyError, AttributeError):
        return _find_column(q, column) if column else None


def _computed_words(q: Any, token: str, locale: str) -> str:
    """Name a computed value by its label, or by its id in plain words."""
    for computed in q.computed:
        if computed.id == token:
            label = computed.label.get(locale) if computed.label is not None else token.replace("_", " ")
            return f"[{label}]"
    return token


def _find_column(q: Any, column_id: str) -> Any:
    """Return the first table column with this id (for `row.<col>` inside any()/all())."""
    for item in q.items:
        for col in getattr(item, "columns", ()):
            if col.id == column_id:
                return col
    return None


def _describe_value(item: Any, value: str, locale: str) -> str:
    """Write a compared value as the option label the respondent sees."""
    yes_no = {"yes": _("Yes"), "no": _("No"), "na": _("N/A")}
    option = item.option(value) if item is not None and hasattr(item, "option") else None
    if option is not None:
        return _quote(option.label.get(locale), locale)
    return _quote(yes_no.get(value, value), locale)


def _quote(text: str, locale: str) -> str:
    """Quote a label the way each language does."""
    return f"« {text} »" if locale == "fr" else f"“{text}”"


def build_preview(q: Any) -> list[tuple[Any, list[PreviewItem]]]:
    """Return the sections with numbered items and their conditions in words."""
    locale = current_locale()
    sections = []
    for s_index, section in enumerate(q.sections, start=1):
        items = []
        number = 0
        for item in section.items:
            if item.kind.is_question:
                number += 1
            items.append(PreviewItem(
                item=item,
                number=f"{s_index}.{number}" if item.kind.is_question else "",
                condition=describe_condition(q, getattr(item, "visible_if_text", None), locale),
                required=_required_text(q, item, locale),
                refs=tuple(format_ref(ref, q.references, locale) for ref in item.refs),
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
