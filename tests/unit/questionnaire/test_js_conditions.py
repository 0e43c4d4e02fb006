"""The browser's show/hide script agrees with the engine: same plan, same answers, same visibility.

Every `visible_if` (items, sections, table columns) and every computed value of the shipped
questionnaires, plus a probe questionnaire using the whole expression language, is evaluated by
`evaluate.evaluate_visibility` and by `static/js/answer.js` under node, on seeded random answer sets
(embedded test answers mutated, and answers drawn at random, with missing answers and N/A).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import textwrap
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from vendorcheck.questionnaire import Questionnaire, load_catalogue
from vendorcheck.questionnaire.client import client_plan
from vendorcheck.questionnaire.evaluate import evaluate_visibility
from vendorcheck.questionnaire.expr.parser import Lit, Node, children
from vendorcheck.questionnaire.model import Item

from .samples import BASE

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "static" / "js" / "answer.js"
TODAY = date(2026, 11, 23)
CASES = int(os.environ.get("VENDORCHECK_JS_CASES", "160"))
SHIPPED = ("art28-processor-audit", "dpa-questionnaire", "b2b-prospecting-crm")

HARNESS = """
const rules = require(process.argv[1]);
let input = "";
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const job = JSON.parse(input);
  const full = job.cases.map((answers) => {
    const result = rules.evaluate(job.plan, answers);
    const computed = {};
    job.computed.forEach((id) => { computed[id] = result.values[id]; });
    return {visible: result.visible, computed: computed};
  });
  const pages = job.pages.map((page) => page.cases.map((c) => {
    const answers = Object.assign({}, c.answers);
    page.items.forEach((id) => { if (id in job.cases[c.index]) answers[id] = job.cases[c.index][id]; });
    const visible = rules.evaluate(Object.assign({}, page.plan, {answers: c.answers}), answers).visible;
    return page.items.map((id) => visible[id] === true);
  }));
  process.stdout.write(JSON.stringify({full: full, pages: pages}));
});
"""


def _node() -> str:
    """Return the node executable; its absence fails under CI and skips only locally."""
    found = shutil.which("node")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("node is required under CI to check static/js/answer.js")
        pytest.skip("node is not installed (set CI to make this a failure)")
    return found


def _run_node(job: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run([_node(), "-e", HARNESS, str(SCRIPT)], input=json.dumps(job),
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, Any] = json.loads(done.stdout)
    return result


# --- answer generation ---------------------------------------------------------------------------


def _literals(q: Questionnaire) -> tuple[list[float], list[str]]:
    """Return the numbers and texts written in the questionnaire's rules (and their neighbours)."""
    nodes: list[Node] = []
    rules = [c.expr for c in q.computed] + [s.visible_if for s in q.sections]
    for item in q.items:
        rules += [item.visible_if, *(c.visible_if for c in item.columns)]
    for rule in rules:
        if rule is not None:
            nodes.append(rule.node)
    numbers: set[float] = {0, 1, -1, 2.5, 24, 48, 365}
    texts: set[str] = {"", "x", "Acme SAS"}
    while nodes:
        node = nodes.pop()
        nodes.extend(children(node))
        if isinstance(node, Lit) and isinstance(node.value, bool):
            continue
        if isinstance(node, Lit) and isinstance(node.value, (int, float)):
            numbers.update({node.value, node.value - 1, node.value + 1, node.value + 0.5})
        elif isinstance(node, Lit) and isinstance(node.value, str):
            texts.add(node.value)
    return sorted(numbers), sorted(texts)


class Draw:
    """Random answers of the right type for one questionnaire."""

    def __init__(self, q: Questionnaire, rng: random.Random) -> None:
        self.q, self.rng = q, rng
        self.numbers, self.texts = _literals(q)
        groups = q.country_groups
        listed = sorted(groups.entries) if groups is not None else ["FR", "US", "CH"]
        self.countries = [*rng.sample(listed, min(12, len(listed))), "FR", "DE", "US", "CH", "IN",
                          "GB", "JP", "ZZ"]

    def value(self, item: Item) -> Any:
        """Return a plausible (sometimes odd) answer for the item."""
        rng, t = self.rng, item.type
        options = [o.value for o in item.options]
        if t in ("yes_no", "single_choice"):
            values = (["yes", "no"] if t == "yes_no" else options) + (["na"] if item.na_allowed else [])
            return rng.choice(values)
        if t == "multi_choice":
            return rng.sample(options, rng.randint(0, min(3, len(options))))
        if t == "number":
            return rng.choice([*self.numbers, "12", "7.5", "abc", 1e6])
        if t == "date":
            return rng.choice(["2026-11-23", "2025-11-23", "2024-02-29", "2026-12-23", "2020-01-01",
                               "2027-02-28", "2026-02-30", "bad", ""])
        if t == "country":
            return rng.choice([*self.countries, ""])
        if t == "country_list":
            return rng.sample(self.countries, rng.randint(0, 3))
        if t == "file":
            return rng.choice([[], ["1"], ["1", "2"]])
        if t == "attestation":
            return {"agreed": rng.choice([True, False, "true", None]), "name": "A", "role": "B"}
        if t == "table":
            return [self.row(item) for _ in range(rng.randint(0, 3))]
        return rng.choice([*self.texts, *options])

    def row(self, table: Item) -> dict[str, Any]:
        """Return a table row with some cells left out."""
        return {c.id: self.value(c) for c in table.columns if self.rng.random() < 0.85}

    def random_answers(self) -> dict[str, Any]:
        """Answer about two thirds of the items at random."""
        return {i.id: self.value(i) for i in self.q.items
                if i.type != "note" and self.rng.random() < 0.7}

    def mutate(self, answers: dict[str, Any]) -> dict[str, Any]:
        """Change, drop or set to N/A some answers of a realistic set."""
        out = dict(answers)
        for item in self.q.items:
            if item.type == "note":
                continue
            roll = self.rng.random()
            if roll < 0.12:
                out[item.id] = self.value(item)
            elif roll < 0.2:
                out.pop(item.id, None)
            elif roll < 0.24 and item.na_allowed:
                out[item.id] = "na"
        return out


def answer_sets(q: Questionnaire, seed: int) -> Iterator[dict[str, Any]]:
    """Yield the embedded tests' answers, then mutated and random sets (JSON round-tripped)."""
    draw = Draw(q, random.Random(seed))
    bases = [dict(t.answers) for t in q.tests] or [{}]
    for answers in bases:
        yield json.loads(json.dumps(answers))
    for index in range(CASES):
        made = draw.mutate(bases[index % len(bases)]) if index % 3 else draw.random_answers()
        yield json.loads(json.dumps(made))


# --- the comparison ------------------------------------------------------------------------------


def _python_side(q: Questionnaire, cases: list[dict[str, Any]]) -> list[tuple[dict, dict]]:
    computed = [c.id for c in q.computed]
    out = []
    for answers in cases:
        vis = evaluate_visibility(q, answers, today=TODAY)
        out.append((dict(vis.visible), {c: vis.values.get(c) for c in computed}))
    return out


def _job(q: Questionnaire, cases: list[dict[str, Any]]) -> dict[str, Any]:
    """Build the node job: the full plan, and each section's page plan as the view emits it."""
    pages = []
    for section in q.sections:
        page = [i.id for i in section.items]
        plan = client_plan(q, today=TODAY, targets=page, page=page)
        pages.append({"items": page, "plan": plan, "cases": [
            {"index": n, "answers": client_plan(q, today=TODAY, answers=answers, targets=page,
                                                page=page)["answers"]}
            for n, answers in enumerate(cases)]})
    return {"plan": client_plan(q, today=TODAY), "cases": cases,
            "computed": [c.id for c in q.computed], "pages": pages}


def assert_agree(q: Questionnaire, seed: int) -> dict[str, set[bool]]:
    """Compare Python and JS on every generated answer set; return what each rule gave."""
    cases = list(answer_sets(q, seed))
    expected = _python_side(q, cases)
    got = _run_node(_job(q, cases))
    for answers, (visible, computed), js in zip(cases, expected, got["full"], strict=True):
        assert js["visible"] == visible, _diff(answers, visible, js["visible"])
        assert js["computed"] == computed, _diff(answers, computed, js["computed"])
    for section, page_results in zip(q.sections, got["pages"], strict=True):
        for (visible, _computed), shown in zip(expected, page_results, strict=True):
            assert shown == [visible[i.id] for i in section.items], section.id
    seen: dict[str, set[bool]] = {}
    for visible, computed in expected:
        for key, value in [*visible.items(), *computed.items()]:
            seen.setdefault(key, set()).add(value)
    return seen


def _diff(answers: dict[str, Any], python: dict[str, Any], js: dict[str, Any]) -> str:
    keys = sorted(k for k in set(python) | set(js) if python.get(k) != js.get(k))
    return f"differ on {[(k, python.get(k), js.get(k)) for k in keys]} for answers {answers}"


@pytest.mark.parametrize("qid", SHIPPED)
def test_browser_visibility_agrees_with_the_engine_on_shipped_questionnaires(qid: str) -> None:
    q = load_catalogue(ROOT / "questionnaires").get(qid, "1.0.0")
    seen = assert_agree(q, seed=sum(map(ord, qid)))
    ruled = [i.id for i in q.items if i.visible_if] + [c.id for c in q.computed]
    assert len(ruled) >= 5                        # every shipped file has conditions to check
    both = [r for r in ruled if seen[r] == {True, False}]
    assert len(both) >= 0.9 * len(ruled), sorted(set(ruled) - set(both))   # cases reach both ways


PROBES = [
    "hours + 1 > 24 and hours - 2 <= 70",
    "hours in [12, 24, 48] or hours not in [1, 2, 2.5]",
    "hours >= 0.5 and hours < 24.5",
    "null != hours",
    "since + days(30) < today()",
    "since - years(1) >= today() - years(3)",
    "today() - since > 365",
    "since + days(hours) > today() - days(10)",
    "since + years(hours) > today()",
    "since - (years(1) - days(10)) < today() and since + (days(1) + years(2)) > today()",
    "(today() - since) - 10 > hours",
    "len(name) > 3 or len(notes) == 0",
    "len(regions) >= 2",
    "count(measures) == 2",
    "count(subs) > 1",
    "count(subs, row.country == 'US') >= 1",
    "all(subs, in_group(row.country, 'eea'))",
    "any(subs, row.tool == 'scc' and row.name != null)",
    "any_country(regions, it == 'US' or in_group(it, 'adequate'))",
    "all_country(regions, not in_group(it, 'third_country'))",
    "in_group(hq, 'eea') or in_group('CH', 'adequate')",
    "hq in ['FR', 'US'] and hq not in ['CH']",
    "measures == ['mfa', 'enc']",
    "measures != ['none']",
    "selected(measures, 'mfa') and not selected(measures, 'none')",
    "answered(sign) and answered(docs)",
    "answered(contact) or answered(site) or answered(subs)",
    "has_dpa == null or audits == 'na'",
    "not (has_dpa == 'yes' or audits != 'no')",
    "tools_ok and uses_sub == 'yes'",
    "name == 'Acme' or name != 'Beta'",
    "true and not false and not null == hours",
    "hours + 1 == 13 and name != null",
]

LANGUAGE = BASE.replace(
    "      - {id: intro_note, type: note, body: {en: Hello, fr: Bonjour}}\n",
    "      - {id: intro_note, type: note, body: {en: Hello, fr: Bonjour}}\n"
    "  - id: probes\n"
    "    title: {en: Probes, fr: Sondes}\n"
    "    visible_if: \"has_dpa != 'no' or hours > 2\"\n"
    "    items:\n"
    "      - id: extra\n"
    "        type: table\n"
    "        label: {en: Extra, fr: Extra}\n"
    "        columns:\n"
    "          - {id: name, type: text, label: {en: Name, fr: Nom}}\n"
    "          - {id: size, type: number, label: {en: Size, fr: Taille},\n"
    "             visible_if: \"row.name != null and len(row.name) > 2 and hours > 10\"}\n"
    "          - {id: when, type: date, label: {en: When, fr: Quand},\n"
    "             visible_if: \"row.size > 3 or row.size == null\"}\n"
    "      - {id: probe_extra, type: note, body: {en: x, fr: x},\n"
    "         visible_if: \"any(extra, row.when != null and row.when < today()) or "
    "count(extra, row.size >= 4) >= 1\"}\n"
    + "".join(f"      - {{id: probe_{n:02d}, type: note, body: {{en: x, fr: x}}, "
              f"visible_if: {json.dumps(expr)}}}\n" for n, expr in enumerate(PROBES)))


def test_browser_visibility_agrees_on_the_whole_expression_language(
        make_q: Callable[..., Questionnaire]) -> None:
    q = make_q(textwrap.dedent(LANGUAGE), name="language.yaml")
    seen = assert_agree(q, seed=6)
    probes = [f"probe_{n:02d}" for n in range(len(PROBES))] + ["probe_extra", "§probes"]
    assert not [p for p in probes if seen[p] != {True, False}], "a probe never changed"


def test_page_plan_holds_only_what_the_page_needs() -> None:
    q = load_catalogue(ROOT / "questionnaires").get("art28-processor-audit", "1.0.0")
    section = next(s for s in q.sections if any(i.visible_if for i in s.items))
    page = [i.id for i in section.items]
    answers = {"vendor_legal_name": "Acme", **{i: "yes" for i in page}}
    plan = client_plan(q, today=TODAY, answers=answers, targets=page, page=page)
    steps = {s["id"] for s in plan["steps"]}
    assert set(page) <= steps < {s.id for s in q.plan.steps}
    read_from_form = {i.id for i in section.items if i.type not in ("file", "note")}
    assert read_from_form and not set(plan["answers"]) & read_from_form
    assert "vendor_legal_name" in plan["answers"] or "vendor_legal_name" not in steps
    json.dumps(plan)                                  # it goes into the page as JSON


# --- converters: each item type's Python conversion and the one its widget names in answer.js ----

CONVERT = """
const rules = require(process.argv[1]);
const job = JSON.parse(require("fs").readFileSync(0, "utf8"));
const plain = (v) => (v instanceof rules.PyDate ? {day: v.n} : v);
process.stdout.write(JSON.stringify(job.names.map((name) => job.values.map((v) => {
  try { return plain(rules.convert(name, v)); } catch (e) { return {error: String(e.message)}; }
}))));
"""

RAW_VALUES: list[Any] = [
    None, "", " ", "yes", "na", "FR", "12", " 12 ", "7.5", "-3", "1e3", "abc", "١٢", 12, 7.5, -3, 1e20,
    True, False, "2024-02-29", "2026-02-30", "2026-11-23\n", "20261123", [], ["a", "b"], ["a", 1], [1],
    [{"name": "A"}, "x", {"name": "B"}], {"agreed": True}, {"agreed": "true"}, {"agreed": False},
    {"agreed": 1}, {"name": "A"}, "42 %", "42%", " 42.5\u00a0% ", "%", "42%%", "% 42", "-1 %", 100.5,
]


def _python_plain(value: Any) -> Any:
    """Return a rule value as the JS harness writes it (dates as days since 1970, tuples as lists)."""
    if isinstance(value, date):
        return {"day": (value - date(1970, 1, 1)).days}
    return json.loads(json.dumps(value))


def test_each_item_type_converts_answers_like_the_browser() -> None:
    from vendorcheck.questionnaire.itemtypes import REGISTRY

    kinds = list(REGISTRY.values())
    job = {"names": [k.widget.converter for k in kinds], "values": RAW_VALUES}
    done = subprocess.run([_node(), "-e", CONVERT, str(SCRIPT)], input=json.dumps(job),
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    for kind, js in zip(kinds, json.loads(done.stdout), strict=True):
        python = [_python_plain(kind.convert(v)) for v in RAW_VALUES]
        assert js == python, (kind.name, [(v, p, j) for v, p, j in zip(RAW_VALUES, python, js, strict=True)
                                          if p != j])
