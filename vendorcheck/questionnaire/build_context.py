"""The state shared while building a questionnaire: the document, locales, claimed ids, problems found."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vendorcheck.questionnaire.errors import Problem
from vendorcheck.questionnaire.expr.checker import Compiled, Scope, compile_expr
from vendorcheck.questionnaire.expr.parser import RESERVED, ExprError
from vendorcheck.questionnaire.model import LocaleText, Option, Organisation
from vendorcheck.questionnaire.yamlload import PathKey, YamlDoc, format_path


@dataclass
class Ctx:
    """Shared state while building: the document, locales and the problems found so far."""

    doc: YamlDoc
    locales: tuple[str, ...]
    default: str
    problems: list[Problem] = field(default_factory=list)
    prefixes: frozenset[str] = frozenset()
    option_sets: dict[str, tuple[Option, ...]] = field(default_factory=dict)
    categories: frozenset[str] = frozenset()
    ids: dict[str, str] = field(default_factory=dict)
    organisations: tuple[Organisation, ...] = ()  # of the pinned dataset, for country items

    def problem(self, path: PathKey, message: str) -> None:
        """Record a problem at `path`."""
        self.problems.append(Problem(self.doc.file, self.doc.line_of(path), format_path(path),
                                     message))

    def text(self, value: Any, path: PathKey, *, needed: bool = False) -> LocaleText | None:
        """Convert a locale map, checking every declared locale is present."""
        if value is None:
            if needed:
                self.problem(path[:-1], f"missing required key '{path[-1]}'")
            return None
        if isinstance(value, str):
            if len(self.locales) > 1:
                self.problem(path, f"expected a locale map with {', '.join(self.locales)}")
            return LocaleText(((self.default, value),), self.default)
        for locale in self.locales:
            if locale not in value:
                self.problem(path, f"missing '{locale}'")
        for locale in value:
            if locale not in self.locales:
                self.problem(path, f"unknown locale '{locale}'")
        return LocaleText.of(value, self.default)

    def refs(self, refs: list[str] | None, path: PathKey) -> tuple[str, ...]:
        """Check each `prefix:ref` uses a declared prefix."""
        for index, ref in enumerate(refs or ()):
            prefix = ref.split(":", 1)[0]
            if prefix not in self.prefixes:
                self.problem((*path, index), f"unknown reference prefix '{prefix}'")
        return tuple(refs or ())

    def claim(self, item_id: str, path: PathKey) -> None:
        """Refuse a repeated or reserved id among items and computed values."""
        if item_id in RESERVED:
            self.problem((*path, "id"), f"'{item_id}' is a reserved word")
        elif item_id in self.ids:
            self.problem((*path, "id"), f"duplicate id '{item_id}' (also at {self.ids[item_id]})")
        else:
            self.ids[item_id] = format_path(path)


def compile_at(ctx: Ctx, text: str | None, path: PathKey, scope: Scope,
               owner: str | None = None) -> Compiled | None:
    """Compile one expression, recording a located problem on failure."""
    if text is None:
        return None
    try:
        return compile_expr(text, scope)
    except ExprError as exc:
        where = f" (in '{owner}')" if owner else ""
        ctx.problem(path, f"column {exc.column}: {exc.message}{where}")
        return None
    except RecursionError:
        ctx.problem(path, "expression too deep")
        return None
