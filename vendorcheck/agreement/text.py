"""Messages the pure engine writes, translated only when shown (the engine imports no Flask).

`_l("...", name=value)` keeps the English message id and its values; `str()` asks the translator the
app installs at start-up (Flask-Babel's gettext, see `vendorcheck.i18n`), so a check made in one
request reads in that request's language. Without an app, messages read in English. Babel extracts
`_l(...)` calls like any other (babel.cfg keyword `_l`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Translate = Callable[..., str]


def _english(msgid: str, **values: Any) -> str:
    """Return the message id itself, with its values filled in."""
    return msgid % values if values else msgid


_translate: Translate = _english


def install_translator(translate: Translate) -> None:
    """Make every message read through `translate(msgid, **values)` from now on."""
    global _translate
    _translate = translate


class LazyText:
    """A message id and its values, translated each time it is read."""

    __slots__ = ("msgid", "values", "_join")

    def __init__(self, msgid: str = "", /, **values: Any) -> None:
        self.msgid = msgid
        self.values = values
        self._join: tuple[Any, ...] | None = None

    @classmethod
    def joined(cls, *parts: Any) -> LazyText:
        """Return several messages read as one text, separated by spaces."""
        text = cls()
        text._join = parts
        return text

    def __str__(self) -> str:
        if self._join is not None:
            return " ".join(str(part) for part in self._join)
        return _translate(self.msgid, **self.values)

    def __html__(self) -> str:
        """Let Jinja escape the translated text like any other string."""
        from markupsafe import escape

        return str(escape(str(self)))

    def __eq__(self, other: object) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))

    def __repr__(self) -> str:
        return f"LazyText({str(self)!r})"

    def __contains__(self, part: str) -> bool:
        return part in str(self)


_l = LazyText
