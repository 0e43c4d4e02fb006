"""The evaluation order: items and computed values after what they read, refusing cycles."""

from __future__ import annotations

from vendorcheck.questionnaire.build_context import Ctx
from vendorcheck.questionnaire.expr.checker import Compiled
from vendorcheck.questionnaire.model import Computed, Item, Section
from vendorcheck.questionnaire.yamlload import PathKey


def _deps(*compiled: Compiled | None, rows: bool = False) -> list[str]:
    """Return the ids (or row columns) that some compiled expressions read."""
    out: list[str] = []
    for c in compiled:
        if c is not None:
            out.extend(sorted(c.row_deps if rows else c.deps))
    return out


def item_deps(built: Item) -> list[str]:
    """Return the nodes an item's visibility and requiredness depend on."""
    deps = [f"§{built.section}", *_deps(built.visible_if, built.required_expr)]
    for col in built.columns:
        deps.extend(_deps(col.visible_if, col.required_expr))
    return deps


def topo_order(graph: dict[str, list[str]]) -> tuple[list[str], list[str] | None]:
    """Order nodes so dependencies come first (document order otherwise); return a cycle if any."""
    state: dict[str, int] = {}
    order: list[str] = []
    for start in graph:
        if state.get(start):
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        state[start] = 1
        while stack:
            node, index = stack[-1]
            deps = graph.get(node, [])
            if index == len(deps):
                stack.pop()
                state[node] = 2
                order.append(node)
                continue
            stack[-1] = (node, index + 1)
            dep = deps[index]
            if state.get(dep) == 1:
                names = [n for n, _ in stack]
                return order, [*names[names.index(dep):], dep]
            if not state.get(dep) and dep in graph:
                state[dep] = 1
                stack.append((dep, 0))
    return order, None


def cycle_message(cycle: list[str], prefix: str = "") -> str:
    """Write a cycle as `cycle a → b → a`."""
    return "cycle " + " → ".join(prefix + n.lstrip("§") for n in cycle)


def column_order(ctx: Ctx, built: Item, path: PathKey) -> tuple[str, ...]:
    """Order a table's columns by their row dependencies, refusing cycles."""
    graph = {c.id: _deps(c.visible_if, c.required_expr, rows=True) for c in built.columns}
    order, cycle = topo_order(graph)
    if cycle:
        ctx.problem((*path, "columns"), cycle_message(cycle, "row."))
    return tuple(order)


def evaluation_order(ctx: Ctx, sections: tuple[Section, ...], comp: tuple[Computed, ...]
           ) -> tuple[list[str], dict[str, tuple[str, ...]]]:
    """Order sections, items and computed values so each is evaluated once after its inputs."""
    graph: dict[str, list[str]] = {}
    paths: dict[str, PathKey] = {}
    columns: dict[str, tuple[str, ...]] = {}
    for s_index, section in enumerate(sections):
        graph[f"§{section.id}"] = _deps(section.visible_if)
        for i_index, built in enumerate(section.items):
            graph[built.id] = item_deps(built)
            paths[built.id] = ("sections", s_index, "items", i_index)
            if built.kind.has_rows:
                columns[built.id] = column_order(ctx, built, paths[built.id])
    for index, c in enumerate(comp):
        graph[c.id] = _deps(c.expr)
        paths[c.id] = ("computed", index)
    order, cycle = topo_order(graph)
    if cycle:
        ctx.problem(paths.get(cycle[0], ()), cycle_message(cycle))
    return order, columns
