"""Strict loading: every bad file fails with a clear, located message."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from vendorcheck.questionnaire import Questionnaire, QuestionnaireError, load_questionnaire, yamlload
from vendorcheck.questionnaire.yamlload import parse_yaml

from .samples import BASE

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize(("name", "message"), [
    ("duplicate_key.yaml", "duplicate key 'id'"),
    ("anchor.yaml", "anchors/aliases are not allowed"),
    ("billion_laughs.yaml", "anchors/aliases are not allowed"),
    ("python_tag.yaml", "tag not allowed"),
    ("empty.yaml", "empty questionnaire"),
    ("latin1.yaml", "not UTF-8 text"),
    ("top_level_list.yaml", "expected a mapping at the top level"),
    ("tabs.yaml", "tabs cannot indent YAML"),
    ("deep.yaml", "nesting too deep (max 50)"),
])
def test_bad_yaml_fixture_fails_with_message(name: str, message: str,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    events = _count_events(monkeypatch)
    with pytest.raises(QuestionnaireError) as info:
        load_questionnaire(FIXTURES / name)
    assert message in str(info.value)
    assert info.value.problems[0].file.endswith(name)
    # Refused early, whatever the machine's speed: never more than a depth's worth of events per parse
    # (the deep file is 10,000 levels; billion laughs would expand to a billion nodes).
    assert events["n"] <= 2 * (yamlload.MAX_DEPTH + 10)


def _count_events(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count the parser events the builder takes, whichever parser and path handles them."""
    counter = {"n": 0}
    start = yamlload._Builder.__init__

    class Counted:
        def __init__(self, parser: type, text: str) -> None:
            self.inner = parser(text)
            self.check_event, self.dispose = self.inner.check_event, self.inner.dispose

        def get_event(self) -> object:
            counter["n"] += 1
            return self.inner.get_event()

    def counting(self: yamlload._Builder, file: str, what: str, parser: Any,
                 with_lines: bool = False) -> None:
        real = getattr(parser, "real", parser)  # a second parse gets the counted one: count once

        def counted(text: str) -> Counted:
            return Counted(real, text)

        counted.real = real  # type: ignore[attr-defined]
        start(self, file, what, counted, with_lines)

    monkeypatch.setattr(yamlload._Builder, "__init__", counting)
    return counter


def _assert_too_deep(error: QuestionnaireError, file: str) -> None:
    """Our own depth problem: the file is named, and so is our limit."""
    problem = error.problems[0]
    assert problem.file == file
    assert problem.message == f"nesting too deep (max {yamlload.MAX_DEPTH})"
    assert file in str(error) and str(yamlload.MAX_DEPTH) in str(error)


@pytest.mark.parametrize("style", ["flow", "block"])
def test_too_deep_yaml_gets_our_message(style: str) -> None:
    depth = yamlload.MAX_DEPTH + 1
    if style == "flow":
        text = "a: " + "[" * depth + "x" + "]" * depth + "\n"
    else:
        text = "".join("  " * level + f"k{level}:\n" for level in range(depth)) + "  " * depth + "v: x\n"
    with pytest.raises(QuestionnaireError) as info:
        parse_yaml(text.encode(), "nested.yaml")
    _assert_too_deep(info.value, "nested.yaml")


def test_just_under_the_limit_loads() -> None:
    depth = yamlload.MAX_DEPTH - 1
    doc = parse_yaml(("a: " + "[" * depth + "x" + "]" * depth).encode(), "ok.yaml")
    assert doc.data["a"]


class _StricterLibrary(yamlload.StrictLoader):
    """A YAML library whose parser refuses nesting itself, earlier and in its own words."""

    def check_event(self, *choices: object) -> bool:
        raise yaml.scanner.ScannerError("while scanning", None, "Verschachtelung zu tief", None)


@pytest.mark.parametrize("depth", [3, 10_000])
def test_library_refusing_first_still_gives_our_message(monkeypatch: pytest.MonkeyPatch, depth: int) -> None:
    """Whatever the fast parser says, the message is ours, and a shallow document is not called deep."""
    monkeypatch.setattr(yamlload, "_PARSER", _StricterLibrary)
    text = "a: " + "[" * depth + "x" + "]" * depth
    if depth < yamlload.MAX_DEPTH:
        assert parse_yaml(text.encode(), "shallow.yaml").data == {"a": [[["x"]]]}
        return
    with pytest.raises(QuestionnaireError) as info:
        parse_yaml(text.encode(), "deep.yaml")
    _assert_too_deep(info.value, "deep.yaml")


@pytest.mark.skipif(not hasattr(getattr(yaml, "_yaml", None), "_set_max_nest_level"),
                    reason="this PyYAML has no libyaml nesting cap to lower")
def test_libyaml_nesting_cap_below_ours_still_gives_our_message() -> None:
    """libyaml's own cap (PyYAML >= 6.0.4) set below ours: the document is read, ours decides."""
    default = yaml._yaml._get_max_nest_level()
    yaml._yaml._set_max_nest_level(5)
    try:
        doc = parse_yaml(b"a: [[[[[[[[x]]]]]]]]", "ok.yaml")
    finally:
        yaml._yaml._set_max_nest_level(default)
    assert doc.data["a"] == [[[[[[[["x"]]]]]]]]


def test_broken_yaml_keeps_a_located_message() -> None:
    with pytest.raises(QuestionnaireError) as info:
        parse_yaml(b"a: [1, 2\nb: 3\n", "broken.yaml")
    problem = info.value.problems[0]
    assert problem.file == "broken.yaml" and problem.line is not None
    assert problem.message.startswith("invalid YAML: ")


def test_duplicate_key_names_line() -> None:
    with pytest.raises(QuestionnaireError) as info:
        load_questionnaire(FIXTURES / "duplicate_key.yaml")
    assert info.value.problems[0].line == 4


def test_file_over_1_mib_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"a: " + b"x" * (1024 * 1024))
    with pytest.raises(QuestionnaireError, match=r"file too large \(max 1 MiB\)"):
        load_questionnaire(path)


def test_scalars_stay_strings() -> None:
    doc = parse_yaml(b"countries: [NO, SE]\nversion: 1.10\nflag: yes\nn: 012\nd: 2026-01-01\n", "x")
    assert doc.data == {"countries": ["NO", "SE"], "version": "1.10", "flag": "yes", "n": "012",
                        "d": "2026-01-01"}
    assert doc.lines[("countries", 0)] == 1


def test_a_valid_file_is_parsed_once_and_again_only_to_locate_a_problem(
        monkeypatch: pytest.MonkeyPatch) -> None:
    events = _count_events(monkeypatch)
    text = b"id: x\nitems:\n  - a\n  - {b: c}\n"
    doc = parse_yaml(text, "x.yaml")
    once = events["n"]
    assert doc.data == {"id": "x", "items": ["a", {"b": "c"}]}
    assert events["n"] == once  # no second parse for a file nobody needs a line of
    assert doc.lines == {(): 1, ("id",): 1, ("items",): 3, ("items", 0): 3, ("items", 1): 4,
                         ("items", 1, "b"): 4}
    assert events["n"] == 2 * once
    assert doc.line_of(("items", 1, "b", "nope")) == 4
    assert events["n"] == 2 * once  # worked out once, then kept


def test_norway_stays_norway_in_answers(demo: Questionnaire) -> None:
    assert demo.tests[1].answers["subs"][0]["country"] == "NO"


CYCLE_A = "{id: has_dpa, type: yes_no, visible_if: \"uses_sub == 'yes'\","
CYCLE_B = "{id: uses_sub, type: yes_no, visible_if: \"has_dpa == 'yes'\","


def _edit(old: str, new: str) -> str:
    assert old in BASE
    return BASE.replace(old, new, 1)


@pytest.mark.parametrize(("text", "message"), [
    (_edit("      - {id: contact, type: email,", "      - {id: contact, type: email, titel: x,"),
     "sections[0].items[6]: unknown field 'titel'"),
    (_edit("label: {en: Email, fr: Courriel}", "label: {en: Email}"),
     "sections[0].items[6].label: missing 'fr'"),
    (_edit('when: "has_dpa == \'no\'"', 'when: "has_dpa =="'),
     "findings[1].when: column 11: unexpected end of expression"),
    (_edit('when: "has_dpa == \'no\'"', 'when: "foo == \'no\'"'),
     "findings[1].when: column 1: unknown item 'foo'"),
    (_edit('when: "has_dpa == \'no\'"', 'when: "has_dpa == 3"'),
     "cannot compare 'has_dpa' (a text) with a number"),
    (_edit('when: "has_dpa == \'no\'"', 'when: "has_dpa == \'maybe\'"'),
     "'maybe' is not a value of 'has_dpa'"),
    (_edit('when: "has_dpa == \'no\'"', 'when: "row.x == 1"'), "row.<column> is only allowed"),
    (_edit('when: "has_dpa == \'no\'"', 'when: "any(subs, row.nope == 1)"'),
     "unknown column 'nope' in table 'subs'"),
    (_edit('when: "has_dpa == \'no\'"', 'when: "len(name, name) > 1"'), "len() takes 1 argument"),
    (_edit('when: "has_dpa == \'no\'"', 'when: "frobnicate(name)"'), "unknown function"),
    (_edit('when: "has_dpa == \'no\'"', 'when: "score() > 1"'), "score() is only allowed in tiers"),
    (_edit('when: "has_dpa == \'no\'"', 'when: "' + "not " * 40 + 'true"'), "too deep"),
    (_edit('when: "has_dpa == \'no\'"', 'when: "' + "true or " * 130 + 'true"'), "too long"),
    (_edit("{id: has_dpa, type: yes_no,", CYCLE_A).replace("{id: uses_sub, type: yes_no,", CYCLE_B),
     "cycle has_dpa → uses_sub → has_dpa"),
    (_edit("category: contract, points: 2", "category: nope, points: 2"),
     "unknown category 'nope'"),
    (_edit("status: draft", "status: published").replace("locales: [en, fr]", "locales: [en]"),
     "a published questionnaire needs 'fr'"),
    (_edit("refs: [\"gdpr:28.3\"]", "refs: [\"cnil:1\"]"), "unknown reference prefix 'cnil'"),
    (_edit("expect: {tier: unacceptable", "expect: {tier: catastrophic"), "unknown tier"),
])
def test_bad_questionnaire_content(make_q: Callable[..., Questionnaire], text: str,
                                   message: str) -> None:
    with pytest.raises(QuestionnaireError) as info:
        make_q(text)
    assert message in str(info.value), str(info.value)


def test_expression_error_names_line_path_and_item(make_q: Callable[..., Questionnaire]) -> None:
    text = _edit('visible_if: "uses_sub == \'yes\'"', 'visible_if: "uses_sub == \'yes\' and foo"')
    with pytest.raises(QuestionnaireError) as info:
        make_q(text)
    problem = info.value.problems[0]
    assert problem.path == "sections[0].items[5].visible_if"
    line = 1 + text.splitlines().index('        visible_if: "uses_sub == \'yes\' and foo"')
    assert problem.line == line
    assert str(problem).endswith(f"q.yaml:{line}: sections[0].items[5].visible_if: column 23: "
                                 "unknown item 'foo' (in 'subs')")


def test_every_problem_is_reported(make_q: Callable[..., Questionnaire]) -> None:
    text = _edit("label: {en: Email, fr: Courriel}", "label: {en: Email}, titel: x")
    with pytest.raises(QuestionnaireError) as info:
        make_q(text)
    assert len(info.value.problems) >= 1


def test_loaded_questionnaire_api(demo: Questionnaire) -> None:
    assert (demo.id, demo.version, len(demo.sha256)) == ("demo", "1.0.0", 64)
    assert demo.item("measures").options[0].value == "mfa"
    assert [i.id for i in demo.items][:3] == ["has_dpa", "audits", "hours"]
    assert (demo.title.get("fr"), demo.title.get("de")) == ("Démo", "Demo")
    assert demo.item("subs").column("tool").visible_if is not None
    assert demo.canonical["id"] == "demo"


def test_sha256_ignores_comments_not_wording(make_q: Callable[..., Questionnaire]) -> None:
    base = make_q()
    assert make_q("# comment\n" + BASE, name="b.yaml").sha256 == base.sha256
    assert make_q(BASE.replace("Demo", "Demo!"), name="c.yaml").sha256 != base.sha256


def test_loading_does_not_run_the_cyclic_collector_and_restores_it() -> None:
    import gc

    from vendorcheck.questionnaire import load_questionnaire_text
    from vendorcheck.questionnaire.synthetic import make_synthetic

    text, _ = make_synthetic(300)  # enough objects for several automatic collections
    runs: list[int] = []

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            runs.append(info["generation"])

    gc.callbacks.append(note)
    try:
        assert gc.isenabled()
        load_questionnaire_text(text)
        assert len(runs) <= 1 and gc.isenabled()  # at most one, once it resumes (else dozens)
        gc.disable()
        load_questionnaire_text(text)
        assert not gc.isenabled()  # a caller that turned it off keeps it off
    finally:
        gc.enable()
        gc.callbacks.remove(note)


def test_schema_runs_a_validation_pass_only_for_fields_with_validators(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import marshmallow.fields

    from vendorcheck.questionnaire.schema import QUESTIONNAIRE

    passes = {"n": 0}

    class Counted(marshmallow.fields.And):  # what a field builds for each value it validates
        def __init__(self, *validators: Any) -> None:
            passes["n"] += 1
            super().__init__(*validators)

    monkeypatch.setattr(marshmallow.fields, "And", Counted)
    data = QUESTIONNAIRE.load(parse_yaml(BASE.encode("utf-8"), "x").data)
    assert data["id"] == "demo"
    # schema, id, version, status, default_locale, each locale, each severity, each reference's url,
    # ...: the values whose field has a validator (15 here), not one per value loaded (233)
    assert 0 < passes["n"] < 40
    bad = BASE.replace("severity: critical", "severity: dire", 1)
    assert bad != BASE
    with pytest.raises(Exception, match="Must be one of"):
        QUESTIONNAIRE.load(parse_yaml(bad.encode("utf-8"), "x").data)
