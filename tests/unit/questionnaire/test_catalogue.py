"""The catalogue, published.lock, embedded tests and the country list."""

from __future__ import annotations

from pathlib import Path

import pycountry
import pytest

from vendorcheck.questionnaire import (
    QuestionnaireError,
    check_paths,
    load_catalogue,
    load_questionnaire_text,
    run_embedded_tests,
    score,
    validate_answers,
)
from vendorcheck.questionnaire.countries import ISO_3166_ALPHA2
from vendorcheck.questionnaire.synthetic import make_synthetic

from .samples import BASE, DATASET


def make_root(tmp_path: Path, text: str = BASE) -> Path:
    root = tmp_path / "questionnaires"
    (root / "demo").mkdir(parents=True)
    (root / "reference" / "country_groups").mkdir(parents=True)
    (root / "reference" / "country_groups" / "2026-01-28.yaml").write_text(DATASET, "utf-8")
    (root / "demo" / "1.0.0.yaml").write_text(text, "utf-8")
    return root


def test_catalogue_loads_and_finds_versions(tmp_path: Path) -> None:
    root = make_root(tmp_path, BASE.replace("status: draft", "status: published"))
    (root / "demo" / "1.1.0.yaml").write_text(BASE.replace("version: 1.0.0", "version: 1.1.0"),
                                              "utf-8")
    catalogue = load_catalogue(root)
    assert catalogue.versions("demo") == ["1.0.0", "1.1.0"]
    assert catalogue.get("demo").version == "1.0.0"  # latest *published*
    assert catalogue.get("demo", "1.1.0").status == "draft"
    assert "country_groups@2026-01-28" in catalogue.datasets
    with pytest.raises(KeyError):
        catalogue.get("nope")


def test_published_file_edited_after_lock(tmp_path: Path) -> None:
    root = make_root(tmp_path, BASE.replace("status: draft", "status: published"))
    sha = load_catalogue(root).get("demo").sha256
    (root / "published.lock").write_text(f"# id version sha256\ndemo 1.0.0 {sha}\n", "utf-8")
    assert load_catalogue(root).get("demo").sha256 == sha
    edited = BASE.replace("status: draft", "status: published").replace("DPA?", "DPA signed?")
    (root / "demo" / "1.0.0.yaml").write_text(edited, "utf-8")
    with pytest.raises(QuestionnaireError, match="demo v1.0.0 changed after publication"):
        load_catalogue(root)


def test_errors_of_every_file_are_collected(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    (root / "other").mkdir()
    (root / "other" / "1.0.0.yaml").write_text("a: &x 1\n", "utf-8")
    (root / "demo" / "2.0.0.yaml").write_text(BASE.replace("version: 1.0.0", "version: 2.0.0")
                                              .replace("titel", "x") + "titel: x\n", "utf-8")
    with pytest.raises(QuestionnaireError) as info:
        load_catalogue(root)
    files = {p.file for p in info.value.problems}
    assert files == {"other/1.0.0.yaml", "demo/2.0.0.yaml"}


def test_file_name_must_match_id_and_version(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    (root / "demo" / "1.0.0.yaml").rename(root / "demo" / "9.9.9.yaml")
    with pytest.raises(QuestionnaireError, match="file should be demo/1.0.0.yaml"):
        load_catalogue(root)


def test_check_paths_runs_embedded_tests(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    assert check_paths([root], root) == []
    broken = BASE.replace("expect: {tier: unacceptable, findings: [no_tool]}",
                          "expect: {tier: low, findings_include: [no_dpa]}")
    (root / "demo" / "1.0.0.yaml").write_text(broken, "utf-8")
    messages = [p.message for p in check_paths([root / "demo" / "1.0.0.yaml"], root)]
    assert messages[0].startswith("test 'us_without_tool': expected tier 'low', got 'unacceptable'")
    assert "expected finding 'no_dpa'" in messages[1]


def test_embedded_test_answers_must_validate(tmp_path: Path) -> None:
    text = BASE.replace('answers: {has_dpa: "yes", uses_sub',
                        'answers: {has_dpa: "maybe", uses_sub')
    root = make_root(tmp_path, text)
    q = load_catalogue(root).get("demo", "1.0.0")
    problems = run_embedded_tests(q)
    assert "answers: has_dpa: 'maybe' is not one of yes, no" in problems[0].message


def test_dataset_group_lookup(tmp_path: Path) -> None:
    groups = load_catalogue(make_root(tmp_path)).datasets["country_groups@2026-01-28"]
    assert groups.group_of("NO") == "eea"
    assert groups.group_of("BR") == "third_country"
    entry = groups.entry("US")
    assert entry is not None
    assert entry.condition is not None
    assert entry.condition.get("fr") == "DPF seulement"


def test_country_list_matches_pycountry() -> None:
    assert {c.alpha_2 for c in pycountry.countries} == ISO_3166_ALPHA2
    assert len(ISO_3166_ALPHA2) == 249


def test_synthetic_questionnaire_scales() -> None:
    text, answers = make_synthetic(300)
    q = load_questionnaire_text(text)
    checked = validate_answers(q, answers)
    assert checked.problems == []
    result = score(q, checked.answers)
    assert result.tier in {"low", "medium", "high", "unacceptable"}
    assert result.score is not None
    assert len([i for i in q.items if i.is_scored]) == 300
