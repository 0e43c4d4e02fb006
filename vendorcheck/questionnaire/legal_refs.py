"""Legal references in words: `gdpr:28.3.h` becomes "Art. 28(3)(h) GDPR" or "art. 28, § 3, h) RGPD"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RefText:
    """A reference ready to show: its words and the source URL, if known."""

    code: str
    text: str
    url: str | None


def _gdpr_words(parts: list[str], locale: str) -> str:
    """Write a GDPR article path (28, 3, h) the way lawyers cite it in each language."""
    article, rest = parts[0], parts[1:]
    if locale == "fr":
        tail = "".join(f", § {p}" if p.isdigit() else f", {p})" for p in rest)
        return f"art. {article}{tail} RGPD"
    tail = "".join(f"({p})" for p in rest)
    return f"Art. {article}{tail} GDPR"


def format_ref(code: str, references: Any, locale: str = "en") -> RefText:
    """Return a reference code in words, using the questionnaire's `references` registry."""
    prefix, _, rest = code.partition(":")
    source = references.get(prefix) if hasattr(references, "get") else None
    url = getattr(source, "url", None)
    if prefix == "gdpr" and rest:
        return RefText(code, _gdpr_words(rest.split("."), locale), url)
    title = source.title.get(locale) if source is not None else prefix
    detail = rest.replace("_", " ").replace(".", " ") if rest else ""
    return RefText(code, f"{title} {detail}".strip(), url)
