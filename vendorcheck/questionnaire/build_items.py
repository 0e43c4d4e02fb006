"""Build the items: options, structure and type rules, then their expressions (visible_if, required...)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from vendorcheck.questionnaire.build_context import Ctx, compile_at
from vendorcheck.questionnaire.expr.checker import Scope, Type
from vendorcheck.questionnaire.expr.parser import RESERVED
from vendorcheck.questionnaire.itemtypes import item_type
from vendorcheck.questionnaire.model import Band, Evidence, Item, Justification, LocaleText, Option
from vendorcheck.questionnaire.yamlload import PathKey, format_path

MAX_ROWS_CAP = 500


# ---------------------------------------------------------------------------- options


def options(ctx: Ctx, raw: list[dict[str, Any]], path: PathKey) -> tuple[Option, ...]:
    """Build an option list, refusing repeated values."""
    out: list[Option] = []
    seen: set[str] = set()
    for index, opt in enumerate(raw):
        where = (*path, index)
        if opt["value"] in seen:
            ctx.problem((*where, "value"), f"duplicate option value '{opt['value']}'")
        seen.add(opt["value"])
        out.append(Option(opt["value"], ctx.text(opt["label"], (*where, "label")) or LocaleText(()),
                          opt.get("points", 0), ctx.text(opt.get("help"), (*where, "help"))))
    return tuple(out)


def option_sets(ctx: Ctx, data: dict[str, Any]) -> None:
    """Build the named option sets."""
    for key, raw in (data.get("option_sets") or {}).items():
        if isinstance(raw, str):
            ctx.problem(("option_sets", key), "an option set must be a list of options")
            continue
        ctx.option_sets[key] = options(ctx, raw, ("option_sets", key))


# ---------------------------------------------------------------------------- items (structure)


def item(ctx: Ctx, raw: dict[str, Any], path: PathKey, section: str | None) -> Item:
    """Build one item's structure; expressions are compiled in a second pass."""
    kind = item_type(raw["type"])
    label = ctx.text(raw.get("label"), (*path, "label"), needed=kind.is_question)
    opts = _item_options(ctx, raw, path)
    required = raw.get("required", False)
    fields: dict[str, Any] = {
        "label": label, "help": ctx.text(raw.get("help"), (*path, "help")),
        "refs": ctx.refs(raw.get("refs"), (*path, "refs")), "required": required is True,
        "required_text": _required_text(required), "visible_if_text": raw.get("visible_if"),
        "options": opts, "option_set": raw["options"] if isinstance(raw.get("options"), str)
        else None, "unit": ctx.text(raw.get("unit"), (*path, "unit")),
        "statement": ctx.text(raw.get("statement"), (*path, "statement")),
        "body": ctx.text(raw.get("body"), (*path, "body")),
        "evidence": _evidence(ctx, raw.get("evidence"), path),
    }
    for key in ("category", "weight", "export", "na_allowed", "good", "points", "min_selected",
                "max_selected", "max_points", "max_length", "integer", "accept", "max_mb",
                "max_files", "min_rows", "max_rows"):
        if key in raw:
            fields[key] = raw[key]
    for key in ("tags", "exclusive", "unique", "accept"):
        fields[key] = tuple(raw.get(key) or ())
    fields.update(kind.bounds(raw))
    if raw.get("bands"):
        fields["bands"] = tuple(Band(b["points"], b.get("max"), b.get("min")) for b in raw["bands"])
    if kind.countries:
        fields["organisations"] = ctx.organisations
    built = Item(id=raw["id"], type=kind.name, kind=kind, path=format_path(path),
                 section=section, **fields)
    built = _with_type_defaults(ctx, built, raw, path)
    _check_item(ctx, built, path)
    return replace(built, max_score=kind.max_points(built))


def _required_text(required: Any) -> str | None:
    """Return the requiredness as text: None (never), "true" or the expression."""
    if required is True:
        return "true"
    return required if isinstance(required, str) else None


def _item_options(ctx: Ctx, raw: dict[str, Any], path: PathKey) -> tuple[Option, ...]:
    """Resolve inline options or an option set id."""
    value = raw.get("options")
    if value is None:
        return ()
    if isinstance(value, str):
        if value not in ctx.option_sets:
            ctx.problem((*path, "options"), f"unknown option set '{value}'")
        return ctx.option_sets.get(value, ())
    return options(ctx, value, (*path, "options"))


def _evidence(ctx: Ctx, raw: dict[str, Any] | None, path: PathKey) -> Evidence | None:
    """Build upload settings."""
    if raw is None:
        return None
    return Evidence(tuple(raw.get("accept") or ("pdf",)), raw.get("max_mb", 20),
                    raw.get("expected", False), ctx.text(raw.get("label"),
                                                         (*path, "evidence", "label")))


def _with_type_defaults(ctx: Ctx, built: Item, raw: dict[str, Any], path: PathKey) -> Item:
    """Apply the type's defaults, and build table columns."""
    built = built.kind.with_defaults(built)
    if built.kind.has_rows:
        cols = tuple(item(ctx, col, (*path, "columns", i), None)
                     for i, col in enumerate(raw["columns"]))
        built = replace(built, columns=cols, max_rows=built.max_rows or MAX_ROWS_CAP)
    return built


def _check_item(ctx: Ctx, built: Item, path: PathKey) -> None:
    """Check type-specific rules that marshmallow cannot express."""
    if built.category is not None:
        if not built.kind.scorable:
            ctx.problem((*path, "category"), f"{built.type} items are not scored")
        elif built.category not in ctx.categories:
            ctx.problem((*path, "category"), f"unknown category '{built.category}'")
    values = built.option_values
    for value in built.exclusive:
        if value not in values:
            ctx.problem((*path, "exclusive"), f"'{value}' is not an option of '{built.id}'")
    _check_limits(ctx, built, path)
    _check_bands(ctx, built, path)
    if built.kind.has_rows:
        _check_columns(ctx, built, path)


def _check_limits(ctx: Ctx, built: Item, path: PathKey) -> None:
    """Check min/max pairs and the row cap."""
    if built.max_rows is not None and built.max_rows > MAX_ROWS_CAP:
        ctx.problem((*path, "max_rows"), f"max_rows must be at most {MAX_ROWS_CAP}")
    pairs = [("min", built.min, built.max), ("min", built.min_date, built.max_date),
             ("min_rows", built.min_rows, built.max_rows),
             ("min_selected", built.min_selected, built.max_selected)]
    for key, low, high in pairs:
        if low is not None and high is not None and low > high:  # type: ignore[operator]
            ctx.problem((*path, key), f"{key} is greater than the maximum")


def _check_bands(ctx: Ctx, built: Item, path: PathKey) -> None:
    """Each band needs exactly one of min and max."""
    for index, band in enumerate(built.bands):
        if (band.min is None) == (band.max is None):
            ctx.problem((*path, "bands", index), "a band needs exactly one of min and max")


def _check_columns(ctx: Ctx, built: Item, path: PathKey) -> None:
    """Column ids are unique within the table and `unique` names columns."""
    seen: set[str] = set()
    for index, col in enumerate(built.columns):
        if col.id in seen or col.id in RESERVED:
            ctx.problem((*path, "columns", index, "id"), f"duplicate or reserved column '{col.id}'")
        seen.add(col.id)
    for value in built.unique:
        if value not in seen:
            ctx.problem((*path, "unique"), f"unknown column '{value}'")


# ---------------------------------------------------------------------------- expressions


def base_scope(ctx: Ctx, sections: list[list[Item]], computed_ids: list[str],
               has_groups: bool) -> Scope:
    """Build the names visible to expressions."""
    symbols: dict[str, Type] = {}
    tables: dict[str, dict[str, Type]] = {}
    for items in sections:
        for built in items:
            typ = built.kind.value_type(built)
            if typ is not None:
                symbols[built.id] = typ
            if built.kind.has_rows:
                tables[built.id] = {c.id: t for c in built.columns
                                    if (t := c.kind.value_type(c)) is not None}
    for cid in computed_ids:
        symbols[cid] = Type("bool", source=cid)
    return Scope(symbols, tables, ctx.categories, has_groups)


def compile_item(ctx: Ctx, built: Item, path: PathKey, scope: Scope) -> Item:
    """Compile an item's visible_if, required and justification (and its columns)."""
    visible = compile_at(ctx, built.visible_if_text, (*path, "visible_if"), scope, built.id)
    required = None
    if built.required_text not in (None, "true"):
        required = compile_at(ctx, built.required_text, (*path, "required"), scope, built.id)
    justification = None
    raw = _raw_at(ctx.doc.data, (*path, "justification"))
    if isinstance(raw, dict) and isinstance(raw.get("when"), str):
        when = compile_at(ctx, raw["when"], (*path, "justification", "when"), scope, built.id)
        if when is not None:
            justification = Justification(raw["when"], when, ctx.text(
                raw.get("label"), (*path, "justification", "label")))
    columns = built.columns
    if built.kind.has_rows:
        inner = replace(scope, row=scope.tables[built.id], row_table=built.id)
        columns = tuple(compile_item(ctx, col, (*path, "columns", i), inner)
                        for i, col in enumerate(built.columns))
    if visible is None and required is None and justification is None and columns is built.columns:
        return built  # nothing was compiled: the same item (copying a frozen item is not free)
    return replace(built, visible_if=visible, required_expr=required,
                   justification=justification, columns=columns)


def _raw_at(data: Any, path: PathKey) -> Any:
    """Return the raw value at a path of the parsed document, or None."""
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data
