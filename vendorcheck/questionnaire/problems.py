"""Turn marshmallow errors and expression errors into located problems."""

from __future__ import annotations

from typing import Any

from vendorcheck.questionnaire.errors import Problem
from vendorcheck.questionnaire.yamlload import PathKey, YamlDoc, format_path

_PLAIN = {
    "Missing data for required field.": "missing required key '{key}'",
    "Unknown field.": "unknown field '{key}'",
}


def flatten(messages: Any, path: PathKey = ()) -> list[tuple[PathKey, str]]:
    """Flatten marshmallow's nested error dict into (path, message) pairs."""
    out: list[tuple[PathKey, str]] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            sub: PathKey = path if key == "_schema" else (*path, key)
            out.extend(flatten(value, sub))
    elif isinstance(messages, list):
        for message in messages:
            out.extend(flatten(message, path))
    else:
        out.append((path, str(messages)))
    return out


def to_problems(doc: YamlDoc, messages: Any) -> list[Problem]:
    """Convert marshmallow messages to problems naming the line and key path."""
    problems = []
    for path, message in flatten(messages):
        template = _PLAIN.get(message)
        if template is not None and path:
            key, parent = path[-1], path[:-1]
            line = doc.lines.get(path) if message == "Unknown field." else doc.line_of(parent)
            problems.append(Problem(doc.file, line, format_path(parent), template.format(key=key)))
        else:
            problems.append(Problem(doc.file, doc.line_of(path), format_path(path), message))
    return sorted(problems, key=lambda p: (p.line or 0, p.path))
