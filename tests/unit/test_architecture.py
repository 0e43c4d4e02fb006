"""The house keeps its floors: imports point down, engines stay pure, and nothing imports in a circle."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "vendorcheck"

ENGINES = ("questionnaire", "pdf", "agreement")
AREAS = ("public", "auth", "org", "buyer", "supplier", "dpa", "api")
TOP = ("cli", "commands", "jobs")
FRAMEWORK = ("flask", "flask_babel", "flask_login", "flask_wtf", "flask_sqlalchemy", "flask_migrate",
             "flask_limiter", "sqlalchemy", "werkzeug", "wtforms")


def _modules() -> dict[str, Path]:
    """Return every module of the package by dotted name."""
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _imports(path: Path, *, top_level_only: bool) -> Iterator[str]:
    """Yield the modules a file imports (absolute names), at module level or anywhere."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    for node in nodes:
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            named = [f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in MODULES]
            # `from vendorcheck.services import dpa` imports the module dpa (after its package's
            # __init__); `from vendorcheck import audit` does not run the app factory's imports.
            if node.module != "vendorcheck" or not named:
                yield node.module
            yield from named


def _floor_of(module: str) -> str:
    """Return the floor a vendorcheck module stands on."""
    part = module.split(".")[1] if module.count(".") else ""
    if part in ENGINES:
        return "engine"
    if part in AREAS:
        return "area"
    if part in TOP or module == "vendorcheck":
        return "top"
    if part == "services":
        return "service"
    return "infrastructure"


def _in(module: str, floor: str) -> list[str]:
    """Return the vendorcheck modules (and frameworks) that `module` imports from `floor` or above."""
    forbidden = {"engine": ("service", "area", "top", "infrastructure"), "service": ("area", "top"),
                 "infrastructure": ("service", "area", "top")}[floor]
    found = []
    for imported in _imports(MODULES[module], top_level_only=False):
        if imported.startswith("vendorcheck") and imported in MODULES or imported == "vendorcheck":
            if _floor_of(imported) in forbidden:
                found.append(imported)
        elif floor == "engine" and imported.split(".")[0] in FRAMEWORK:
            found.append(imported)
    return found


@pytest.mark.parametrize("floor", ["engine", "service", "infrastructure"])
def test_imports_point_down(floor: str) -> None:
    wrong = {m: _in(m, floor) for m in MODULES if _floor_of(m) == floor}
    assert not {m: v for m, v in wrong.items() if v}


def test_no_import_circles() -> None:
    graph = {m: {i for i in _imports(p, top_level_only=True) if i in MODULES and i != m}
             for m, p in MODULES.items()}
    circles = [c for c in _strongly_connected(graph) if len(c) > 1]
    assert circles == []


def test_the_checks_see_the_house() -> None:
    """Guard the guard: the floors hold what they should, so the tests above cannot pass empty."""
    floors = {_floor_of(m) for m in MODULES}
    assert floors == {"engine", "area", "top", "service", "infrastructure"}
    assert "vendorcheck.questionnaire.scoring" in MODULES and "vendorcheck.buyer.assessments" in MODULES
    assert "flask" in {i.split(".")[0] for i in _imports(MODULES["vendorcheck.buyer.assessments"],
                                                           top_level_only=False)}


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm: the groups of modules that reach one another."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                group.append(item)
                if item == node:
                    break
            out.append(group)

    for node in graph:
        if node not in index:
            visit(node)
    return out
