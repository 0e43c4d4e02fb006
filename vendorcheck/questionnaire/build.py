"""Build a Questionnaire from a validated document: cross-references, expressions, cycles."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from vendorcheck.questionnaire.datasets import CountryGroups
from vendorcheck.questionnaire.errors import Problem, QuestionnaireError
from vendorcheck.questionnaire.evaluate import make_plan
from vendorcheck.questionnaire.expr.checker import Compiled, Scope, Type, compile_expr
from vendorcheck.questionnaire.expr.parser import RESERVED, ExprError
from vendorcheck.questionnaire.itemtypes import item_type
from vendorcheck.questionnaire.model import (
    SEVERITIES,
    Band,
    Category,
    Computed,
    EmbeddedTest,
    Evidence,
    Finding,
    Item,
    Justification,
    LocaleText,
    Option,
    Organisation,
    Questionnaire,
    Reference,
    Section,
    TestExpect,
    Tier,
)
from vendorcheck.questionnaire.yamlload import PathKey, YamlDoc, format_path

MAX_ROWS_CAP = 500


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


def canonical_sha256(data: Mapping[str, Any]) -> str:
    """Return the sha256 of the canonical JSON of a parsed document."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------- top-level parts


def references(ctx: Ctx, data: dict[str, Any]) -> dict[str, Reference]:
    """Build the reference registry."""
    out = {}
    for key, raw in (data.get("references") or {}).items():
        out[key] = Reference(key, ctx.text(raw["title"], ("references", key, "title"))
                             or LocaleText(()), raw.get("url"))
    ctx.prefixes = frozenset(out)
    return out


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


def categories(ctx: Ctx, data: dict[str, Any]) -> tuple[Category, ...]:
    """Build the scoring categories."""
    out: list[Category] = []
    for index, raw in enumerate(data.get("categories") or ()):
        path: PathKey = ("categories", index)
        if raw["id"] in {c.id for c in out}:
            ctx.problem((*path, "id"), f"duplicate category '{raw['id']}'")
        out.append(Category(raw["id"], raw["weight"],
                            ctx.text(raw["label"], (*path, "label")) or LocaleText(())))
    ctx.categories = frozenset(c.id for c in out)
    return tuple(out)


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
    values = {o.value for o in built.options}
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


# ---------------------------------------------------------------------------- expression types


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


# ---------------------------------------------------------------------------- dependency order


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


# ---------------------------------------------------------------------------- rules and tests


def computed_values(ctx: Ctx, data: dict[str, Any], scope: Scope) -> tuple[Computed, ...]:
    """Compile the computed booleans (traced: findings that read them are explained through them)."""
    out = []
    scope = replace(scope, trace=True)
    for index, raw in enumerate(data.get("computed") or ()):
        path: PathKey = ("computed", index)
        expr = compile_at(ctx, raw["expr"], (*path, "expr"), scope, raw["id"])
        category = raw.get("category")
        if category is not None and category not in ctx.categories:
            ctx.problem((*path, "category"), f"unknown category '{category}'")
        if expr is not None:
            out.append(Computed(raw["id"], raw["expr"], expr, format_path(path), category,
                                raw.get("weight", 1), raw.get("points_if_true", 0),
                                ctx.text(raw.get("label"), (*path, "label"))))
    return tuple(out)


def findings(ctx: Ctx, data: dict[str, Any], scope: Scope) -> tuple[Finding, ...]:
    """Compile the finding rules, traced so a raised finding can say what triggered it."""
    out: list[Finding] = []
    scope = replace(scope, trace=True)
    for index, raw in enumerate(data.get("findings") or ()):
        path: PathKey = ("findings", index)
        if raw["id"] in {f.id for f in out}:
            ctx.problem((*path, "id"), f"duplicate finding '{raw['id']}'")
        when = compile_at(ctx, raw["when"], (*path, "when"), scope, raw["id"])
        title = ctx.text(raw["title"], (*path, "title")) or LocaleText(())
        if when is not None:
            out.append(Finding(raw["id"], raw["severity"], raw["when"], when, title,
                               ctx.refs(raw.get("refs"), (*path, "refs")),
                               ctx.text(raw.get("remediation"), (*path, "remediation")),
                               raw.get("due_days")))
    return tuple(out)


def tiers(ctx: Ctx, data: dict[str, Any], scope: Scope) -> tuple[Tier, ...]:
    """Compile the tier rules, where score(), findings() and completeness() are allowed."""
    out: list[Tier] = []
    tier_scope = replace(scope, tier_context=True, trace=True)
    for index, raw in enumerate(data.get("tiers") or ()):
        path: PathKey = ("tiers", index)
        if raw["id"] in {t.id for t in out}:
            ctx.problem((*path, "id"), f"duplicate tier '{raw['id']}'")
        when = compile_at(ctx, raw["when"], (*path, "when"), tier_scope, raw["id"])
        if when is not None:
            out.append(Tier(raw["id"], raw["when"], when,
                            ctx.text(raw.get("label"), (*path, "label")),
                            raw.get("floor"), raw.get("score_max")))
    _check_floors(ctx, out)
    return tuple(out)


def _check_floors(ctx: Ctx, rules: list[Tier]) -> None:
    """Floors and score caps must get stricter towards the worst tier, or the verdict contradicts itself."""
    floors = [(index, SEVERITIES.index(t.floor)) for index, t in enumerate(rules) if t.floor]
    for (_, before), (index, after) in zip(floors, floors[1:], strict=False):
        if after <= before:
            ctx.problem(("tiers", index, "floor"), "floors must name milder severities in later tiers")
    caps = [(index, float(t.score_max)) for index, t in enumerate(rules) if t.score_max is not None]
    for (_, cap_before), (index, cap_after) in zip(caps, caps[1:], strict=False):
        if cap_after < cap_before:
            ctx.problem(("tiers", index, "score_max"), "score_max must not fall in later tiers")


def tests(ctx: Ctx, data: dict[str, Any], rule_ids: tuple[set[str], set[str]]
          ) -> tuple[EmbeddedTest, ...]:
    """Build the embedded tests, checking they name known findings and tiers."""
    finding_ids, tier_ids = rule_ids
    out = []
    for index, raw in enumerate(data.get("tests") or ()):
        path: PathKey = ("tests", index)
        exp = raw["expect"]
        if exp.get("tier") is not None and exp["tier"] not in tier_ids:
            ctx.problem((*path, "expect", "tier"), f"unknown tier '{exp['tier']}'")
        for key in ("findings", "findings_include", "findings_exclude"):
            for fid in exp.get(key) or ():
                if fid not in finding_ids:
                    ctx.problem((*path, "expect", key), f"unknown finding '{fid}'")
        expect = TestExpect(exp.get("tier"), None if exp.get("findings") is None
                            else tuple(exp["findings"]), tuple(exp.get("findings_include") or ()),
                            tuple(exp.get("findings_exclude") or ()), exp.get("score_min"),
                            exp.get("score_max"), exp.get("assessed"))
        out.append(EmbeddedTest(raw["name"], raw["answers"], expect, format_path(path),
                                raw.get("today")))
    return tuple(out)


# ---------------------------------------------------------------------------- assembly


def build_questionnaire(doc: YamlDoc, data: dict[str, Any],
                        datasets: Mapping[str, CountryGroups]) -> Questionnaire:
    """Build and check a questionnaire; raise QuestionnaireError listing every problem."""
    locales = tuple(data["locales"])
    ctx = Ctx(doc, locales, data["default_locale"])
    _check_header(ctx, data)
    refs = references(ctx, data)
    option_sets(ctx, data)
    cats = categories(ctx, data)
    groups = _groups(ctx, data, datasets)
    ctx.organisations = _organisations(groups)
    structure = _structure(ctx, data)
    computed_ids = [c["id"] for c in data.get("computed") or ()]
    for index, cid in enumerate(computed_ids):
        ctx.claim(cid, ("computed", index))
    scope = base_scope(ctx, [items for _, items in structure], computed_ids, groups is not None)
    sections = _sections(ctx, data, structure, scope)
    comp = computed_values(ctx, data, scope)
    rules = findings(ctx, data, scope)
    tier_rules = tiers(ctx, data, scope)
    embedded = tests(ctx, data, ({f.id for f in rules}, {t.id for t in tier_rules}))
    order, columns = _order(ctx, sections, comp)
    _check_scoring(ctx, sections, comp, tier_rules)
    if ctx.problems:
        raise QuestionnaireError(sorted(ctx.problems, key=lambda p: (p.line or 0, p.path)))
    q = Questionnaire(
        id=data["id"], version=data["version"], sha256=canonical_sha256(doc.data),
        status=data["status"], file=doc.file, default_locale=ctx.default, locales=locales,
        title=ctx.text(data["title"], ("title",)) or LocaleText(()), sections=sections,
        canonical=doc.data, description=ctx.text(data.get("description"), ("description",)),
        intro=ctx.text(data.get("intro"), ("intro",)), effective_date=data.get("effective_date"),
        review_by=data.get("review_by"), reference_data=tuple(data.get("reference_data") or ()),
        references=refs, option_sets=dict(ctx.option_sets), categories=cats, computed=comp,
        findings=rules, tiers=tier_rules, tests=embedded, country_groups=groups,
        assessed_from=float((data.get("scoring") or {}).get("assessed_from", 0)))
    return replace(q, plan=make_plan(q, order, columns))


def _check_header(ctx: Ctx, data: dict[str, Any]) -> None:
    """Check locales: the default is listed, and a published file has en and fr."""
    if ctx.default not in ctx.locales:
        ctx.problem(("default_locale",), f"'{ctx.default}' is not in locales")
    if data["status"] == "published":
        for locale in ("en", "fr"):
            if locale not in ctx.locales:
                ctx.problem(("locales",), f"a published questionnaire needs '{locale}'")


def _groups(ctx: Ctx, data: dict[str, Any], datasets: Mapping[str, CountryGroups]
            ) -> CountryGroups | None:
    """Resolve the pinned country-groups dataset."""
    found = None
    for index, key in enumerate(data.get("reference_data") or ()):
        if key not in datasets:
            known = ", ".join(sorted(datasets)) or "none loaded"
            ctx.problem(("reference_data", index), f"unknown dataset '{key}' (known: {known})")
        elif key.startswith("country_groups@"):
            found = datasets[key]
    return found


def _organisations(groups: CountryGroups | None) -> tuple[Organisation, ...]:
    """Return the international organisations of the pinned dataset, for country answers."""
    if groups is None:
        return ()
    return tuple(Organisation(e.code, e.label) for e in groups.organisations() if e.label)


def _structure(ctx: Ctx, data: dict[str, Any]) -> list[tuple[dict[str, Any], list[Item]]]:
    """Build every section's items (structure only), claiming ids."""
    out = []
    seen: set[str] = set()
    for s_index, raw in enumerate(data["sections"]):
        if raw["id"] in seen:
            ctx.problem(("sections", s_index, "id"), f"duplicate section '{raw['id']}'")
        seen.add(raw["id"])
        items = []
        for i_index, raw_item in enumerate(raw["items"]):
            path: PathKey = ("sections", s_index, "items", i_index)
            ctx.claim(raw_item["id"], path)
            items.append(item(ctx, raw_item, path, raw["id"]))
        out.append((raw, items))
    return out


def _sections(ctx: Ctx, data: dict[str, Any],
              structure: list[tuple[dict[str, Any], list[Item]]], scope: Scope
              ) -> tuple[Section, ...]:
    """Compile the sections' and items' expressions."""
    out = []
    for s_index, (raw, items) in enumerate(structure):
        path: PathKey = ("sections", s_index)
        compiled = tuple(compile_item(ctx, it, (*path, "items", i), scope)
                         for i, it in enumerate(items))
        out.append(Section(raw["id"], ctx.text(raw["title"], (*path, "title")) or LocaleText(()),
                           format_path(path), compiled, ctx.text(raw.get("help"), (*path, "help")),
                           raw.get("visible_if"), compile_at(ctx, raw.get("visible_if"),
                                                             (*path, "visible_if"), scope,
                                                             raw["id"])))
    return tuple(out)


def _order(ctx: Ctx, sections: tuple[Section, ...], comp: tuple[Computed, ...]
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


def _check_scoring(ctx: Ctx, sections: tuple[Section, ...], comp: tuple[Computed, ...],
                   tier_rules: tuple[Tier, ...]) -> None:
    """Anything scored needs tiers."""
    scored = any(i.is_scored for s in sections for i in s.items) or any(c.is_scored for c in comp)
    if scored and not tier_rules:
        ctx.problem(("tiers",), "tiers are required when items are scored")
