"""Strict YAML loading: plain strings, lists and mappings only, with the line of every node."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from typing import Any

import yaml

from vendorcheck.questionnaire.errors import QuestionnaireError, fail

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 50
_TOO_DEEP = f"nesting too deep (max {MAX_DEPTH})"

PathKey = tuple[str | int, ...]


class StrictLoader(yaml.SafeLoader):
    """A SafeLoader whose scalars all stay strings (`NO` is Norway, `1.10` stays `1.10`)."""

    yaml_implicit_resolvers: dict[Any, Any] = {}


# libyaml's parser emits the same events as the Python one, about ten times faster.
_PARSER: Any = getattr(yaml, "CSafeLoader", StrictLoader)
_SCALAR_EVENT: Any = yaml.ScalarEvent


@dataclass(frozen=True)
class YamlDoc:
    """A parsed document with the start line of each node, keyed by its path.

    Lines are only read to locate a problem, so they are worked out when first asked for, by
    parsing the same text again with the same parser: a valid file never pays for them.
    """

    file: str
    data: dict[str, Any]
    locate: Callable[[], dict[PathKey, int]] = field(repr=False, compare=False)

    @cached_property
    def lines(self) -> dict[PathKey, int]:
        """Return the start line of every node, keyed by its path."""
        return self.locate()

    def line_of(self, path: PathKey) -> int | None:
        """Return the line of `path`, or of its nearest ancestor with a known line."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None


def format_path(path: PathKey) -> str:
    """Write a key path as `sections[1].items[4].label`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def read_yaml(path: Path, file: str, what: str = "questionnaire") -> YamlDoc:
    """Read and strictly parse one YAML file whose top level must be a mapping."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise fail(file, f"cannot read file ({exc.strerror or exc})") from None
    return parse_yaml(raw, file, what)


def parse_yaml(raw: bytes, file: str, what: str = "questionnaire") -> YamlDoc:
    """Parse bytes with every safety check; raise QuestionnaireError on the first problem."""
    if len(raw) > MAX_BYTES:
        raise fail(file, "file too large (max 1 MiB)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise fail(file, "not UTF-8 text") from None
    text = text.removeprefix("\ufeff")
    try:
        return _build(text, file, what, _PARSER)
    except yaml.YAMLError:
        # libyaml refuses some documents (its own nesting cap, from PyYAML 6.0.4) before our builder
        # sees their events; the streaming Python parser has no such cap, so our rules decide.
        return _build_slowly(text, file, what)


def _build(text: str, file: str, what: str, parser: Any, *, with_lines: bool = False) -> YamlDoc:
    """Run the builder over `text` with `parser`, turning deep recursion into our depth problem."""
    try:
        return _Builder(file, what, parser, with_lines).build(text)
    except RecursionError:
        raise fail(file, _TOO_DEEP) from None


def _lines_of(text: str, file: str, what: str, parser: Any) -> dict[PathKey, int]:
    """Parse a document that parsed before, again, noting the line of every node."""
    return _build(text, file, what, parser, with_lines=True).lines


def _build_slowly(text: str, file: str, what: str) -> YamlDoc:
    """Build with the pure-Python parser, mapping its errors to located problems."""
    try:
        return _build(text, file, what, StrictLoader)
    except yaml.MarkedYAMLError as exc:
        raise _wrap_marked(exc, file, text) from None
    except yaml.YAMLError as exc:
        raise fail(file, _plain_problem(str(exc).splitlines()[0])) from None


def _plain_problem(problem: str) -> str:
    """Name a parser's own nesting limit with ours, whatever words the library used."""
    lowered = problem.lower()
    return _TOO_DEEP if "nest" in lowered or "depth" in lowered else f"invalid YAML: {problem}"


def _wrap_marked(exc: yaml.MarkedYAMLError, file: str, text: str) -> QuestionnaireError:
    """Turn a PyYAML error into a problem with a line, naming tabs plainly."""
    mark = exc.problem_mark or exc.context_mark
    line = None if mark is None else mark.line + 1
    lines = text.splitlines()
    if mark is not None and mark.line < len(lines) and "\t" in lines[mark.line][: mark.column + 1]:
        return fail(file, "tabs cannot indent YAML", line=line)
    return fail(file, _plain_problem(str(exc.problem or exc.context)), line=line)


class _Frame:
    """An open mapping or list while building."""

    __slots__ = ("value", "path", "key")

    def __init__(self, value: dict[str, Any] | list[Any], path: PathKey) -> None:
        self.value = value
        self.path = path
        self.key: str | None = None


class _Builder:
    """Build plain Python data from parser events, refusing what the format forbids."""

    def __init__(self, file: str, what: str, parser: Any, with_lines: bool = False) -> None:
        self.file = file
        self.what = what
        self.parser = parser
        self.with_lines = with_lines  # else only collections' lines are noted (see YamlDoc)
        self.lines: dict[PathKey, int] = {}
        self.stack: list[_Frame] = []
        self.root: Any = None
        self.documents = 0

    def build(self, text: str) -> YamlDoc:
        """Consume every event of `text` and return the document."""
        parser = self.parser(text)
        check_event, get_event = parser.check_event, parser.get_event
        scalar = self._attach_scalar if self.with_lines else self._scalar
        try:
            while check_event():
                event: Any = get_event()
                # Most events are plain scalars: they skip the general dispatch below.
                if type(event) is _SCALAR_EVENT and event.anchor is None and event.tag is None:
                    scalar(event.value, event.start_mark.line + 1)
                else:
                    self._event(event)
        finally:
            parser.dispose()
        if self.root is None or self.root == "":
            raise fail(self.file, f"empty {self.what}")
        if not isinstance(self.root, dict):
            raise fail(self.file, "expected a mapping at the top level", line=1)
        if self.with_lines:
            lines = self.lines
            return YamlDoc(self.file, self.root, lambda: lines)
        return YamlDoc(self.file, self.root, partial(_lines_of, text, self.file, self.what,
                                                     self.parser))

    def _event(self, event: Any) -> None:
        """Handle one parser event."""
        line = event.start_mark.line + 1
        if isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise fail(self.file, "only one YAML document is allowed", line=line)
        elif isinstance(event, yaml.AliasEvent):
            self._refuse_anchor(event)
        elif isinstance(event, yaml.NodeEvent):
            self._node(event, line)
        elif isinstance(event, yaml.CollectionEndEvent):
            self.stack.pop()

    def _node(self, event: Any, line: int) -> None:
        """Add a scalar or open a collection."""
        if event.anchor is not None:
            self._refuse_anchor(event)
        if event.tag is not None:
            raise fail(self.file, f"tag not allowed ({event.tag})", line=line)
        if isinstance(event, yaml.ScalarEvent):
            self._attach(event.value, line, is_key_ok=True)
            return
        if len(self.stack) >= MAX_DEPTH:
            raise fail(self.file, _TOO_DEEP, line=line)
        value: dict[str, Any] | list[Any] = {} if isinstance(event, yaml.MappingStartEvent) else []
        path = self._attach(value, line, is_key_ok=False)
        self.stack.append(_Frame(value, path))

    def _refuse_anchor(self, event: Any) -> None:
        """Raise the anchors/aliases problem at the event's position."""
        mark = event.start_mark
        raise fail(self.file, f"anchors/aliases are not allowed (column {mark.column + 1})",
                   line=mark.line + 1)

    def _attach_scalar(self, value: str, line: int) -> None:
        """Add a plain scalar, noting its line."""
        self._attach(value, line, is_key_ok=True)

    def _scalar(self, value: str, line: int) -> None:
        """Add a plain scalar without noting its line: `_attach` with fewer steps, the common case."""
        stack = self.stack
        if not stack:
            self._attach(value, line, is_key_ok=True)
            return
        top = stack[-1]
        container: Any = top.value
        if type(container) is list:
            container.append(value)
        elif top.key is None:
            if value in container:
                raise fail(self.file, f"duplicate key '{value}'", line=line,
                           path=format_path(top.path))
            top.key = value
        else:
            container[top.key] = value
            top.key = None

    def _attach(self, value: Any, line: int, *, is_key_ok: bool) -> PathKey:
        """Put `value` into the open collection (or make it the root); return its path."""
        if not self.stack:
            self.root = value
            self.lines[()] = line
            return ()
        top = self.stack[-1]
        if isinstance(top.value, list):
            path = (*top.path, len(top.value))
            top.value.append(value)
        elif top.key is None:
            self._set_key(top, value, line, is_key_ok)
            return top.path
        else:
            path = (*top.path, top.key)
            top.value[top.key] = value
            top.key = None
        self.lines[path] = line
        return path

    def _set_key(self, top: _Frame, key: Any, line: int, is_key_ok: bool) -> None:
        """Remember the next mapping key, refusing duplicates and non-string keys."""
        if not is_key_ok:
            raise fail(self.file, "mapping keys must be plain strings", line=line,
                       path=format_path(top.path))
        if key in top.value:
            raise fail(self.file, f"duplicate key '{key}'", line=line, path=format_path(top.path))
        top.key = key
