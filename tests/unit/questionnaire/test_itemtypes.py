"""The item-type registry: every type registered once, answers checked and converted, points, words."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from marshmallow import ValidationError

from vendorcheck.pdf.report import Formatter
from vendorcheck.questionnaire import Questionnaire, score, validate_answers
from vendorcheck.questionnaire.itemtypes import (
    REGISTRY,
    Invalid,
    ItemType,
    Words,
    answer_words,
    column_types,
    item_type,
    register,
)
from vendorcheck.questionnaire.itemtypes.text import Text
from vendorcheck.questionnaire.schema import load_item

DOCUMENTED = ("yes_no", "single_choice", "multi_choice", "text", "long_text", "number", "date",
              "country", "country_list", "email", "url", "file", "table", "attestation", "note")


def _no_problem(where: str, message: str) -> None:
    raise AssertionError(f"{where}: {message}")


def test_every_documented_type_is_registered_once_under_its_name() -> None:
    assert tuple(REGISTRY)[:len(DOCUMENTED)] == DOCUMENTED
    for name, kind in REGISTRY.items():
        assert isinstance(kind, ItemType) and kind.name == name and item_type(name) is kind
        assert kind.label.get("en") and kind.label.get("fr"), name
        assert kind.widget.partial.startswith("supplier/widgets/"), name


def test_every_widget_names_a_template_and_ways_the_page_knows() -> None:
    templates = Path(__file__).resolve().parents[3] / "templates"
    for name, kind in REGISTRY.items():
        widget = kind.widget
        assert (templates / widget.partial).is_file(), name
        assert widget.reader in ("value", "list", "rows", "agreement", "none"), name
        assert widget.field in ("input", "textarea", "radio", "select", "checkboxes", None), name
        assert widget.choices in ("words", "options", "countries", None), name
        assert kind.typed == (widget.reader != "none"), name


def test_a_type_cannot_be_registered_twice() -> None:
    with pytest.raises(ValueError, match="already registered"):
        register(Text)


def test_table_columns_take_the_scalar_types_only() -> None:
    assert set(column_types()) == set(REGISTRY) - {"file", "table", "attestation", "note"}


def test_an_unknown_type_is_refused_naming_the_registered_ones() -> None:
    with pytest.raises(ValidationError) as caught:
        load_item({"id": "x", "type": "slider"})
    message = caught.value.messages["type"][0]  # type: ignore[call-overload,index]
    assert message.startswith("'slider' is not one of yes_no, single_choice, multi_choice")


def test_each_type_keeps_its_own_keys() -> None:
    load_item({"id": "h", "type": "number", "bands": [{"max": "1", "points": "1"}]})
    with pytest.raises(ValidationError, match="bands"):
        load_item({"id": "h", "type": "text", "bands": [{"max": "1", "points": "1"}]})
    with pytest.raises(ValidationError, match="bands"):  # columns are never scored
        load_item({"id": "h", "type": "number", "bands": []}, column=True)


def test_every_item_knows_its_type(demo: Questionnaire) -> None:
    for item in demo.items:
        assert item.kind is REGISTRY[item.type]
        for column in item.columns:
            assert column.kind is REGISTRY[column.type]


# --- answers: checked, stored as JSON, read by rules ----------------------------------------------

ROUND_TRIPS = [
    # item, raw answer (as a form or the API sends it), stored answer, value rules read
    ("has_dpa", "yes", "yes", "yes"),
    ("audits", "na", "na", "na"),
    ("hours", "12.5", 12.5, 12.5),
    ("hours", 24, 24, 24),
    ("measures", ["mfa", "enc"], ["mfa", "enc"], ("mfa", "enc")),
    ("measures", "mfa", ["mfa"], ("mfa",)),
    ("name", "Acme", "Acme", "Acme"),
    ("notes", "short", "short", "short"),
    ("contact", " dpo@acme.example ", "dpo@acme.example", "dpo@acme.example"),
    ("site", "https://acme.example", "https://acme.example", "https://acme.example"),
    ("since", "2020-02-29", "2020-02-29", date(2020, 2, 29)),
    ("hq", "FR", "FR", "FR"),
    ("regions", ["FR", "US"], ["FR", "US"], ("FR", "US")),
    ("docs", ["1", "2"], ["1", "2"], ("1", "2")),
    ("sign", {"agreed": "true", "name": " Ana ", "role": "DPO"},
     {"agreed": True, "name": "Ana", "role": "DPO"}, True),
    ("subs", [{"name": "Acme", "country": "US", "tool": "scc"}],
     [{"name": "Acme", "country": "US", "tool": "scc"}],
     [{"name": "Acme", "country": "US", "tool": "scc"}]),
]


@pytest.mark.parametrize(("item_id", "raw", "stored", "rule_value"), ROUND_TRIPS)
def test_an_answer_round_trips_through_check_storage_and_rules(
        demo: Questionnaire, item_id: str, raw: Any, stored: Any, rule_value: Any) -> None:
    item = demo.item(item_id)
    checked = item.kind.check(item, raw, _no_problem)
    assert checked == stored
    again = json.loads(json.dumps(checked))            # the database keeps JSON
    assert item.kind.check(item, again, _no_problem) == stored
    assert item.kind.convert(again) == rule_value


@pytest.mark.parametrize(("item_id", "raw", "message"), [
    ("has_dpa", "maybe", "'maybe' is not one of yes, no"),
    ("hours", "-1", "≥ 0"),
    ("since", "1999-12-31", "on or after 2000-01-01"),
    ("notes", "x" * 21, "max 20"),
    ("hq", "XX", "not an ISO 3166-1"),
    ("measures", ["none", "mfa"], "'none' must be chosen alone"),
    ("docs", ["1", "2", "3"], "at most 2 files"),
    ("sign", {"agreed": False, "name": "A", "role": "B"}, "must be agreed"),
    ("intro_note", "x", "a note takes no answer"),
])
def test_a_wrong_answer_is_refused_with_a_reason(demo: Questionnaire, item_id: str, raw: Any,
                                                 message: str) -> None:
    item = demo.item(item_id)
    with pytest.raises(Invalid, match=message):
        item.kind.check(item, raw, _no_problem)


def test_table_cell_problems_are_reported_by_row_and_column(demo: Questionnaire) -> None:
    item, found = demo.item("subs"), []
    rows = [{"name": "A", "country": "XX"}, {"name": "A", "bogus": 1}]
    item.kind.check(item, rows, lambda where, message: found.append(where))
    assert found == ["subs[0].country", "subs[1].bogus", "subs[1].name"]


def test_blank_and_wrong_values_read_as_no_value_in_rules(demo: Questionnaire) -> None:
    for item in demo.items:
        assert item.kind.convert(None) is None, item.type
    assert demo.item("hours").kind.convert("abc") is None
    assert demo.item("since").kind.convert("2026-02-30") is None
    assert demo.item("sign").kind.convert({"agreed": False}) is None


# --- scoring ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("item_id", "maximum", "answers"), [
    ("has_dpa", 2, {"yes": 2, "no": 0}),
    ("hours", 3, {12: 3, 24: 3, 48: 1, 100: 0}),
    ("measures", 3, {("mfa",): 2, ("mfa", "enc"): 3, ("none",): 0}),
])
def test_scored_types_earn_points_up_to_their_maximum(demo: Questionnaire, item_id: str,
                                                      maximum: int, answers: dict[Any, int]) -> None:
    item = demo.item(item_id)
    assert item.kind.scorable and item.kind.max_points(item) == item.max_score == maximum
    for value, points in answers.items():
        assert item.kind.earned(item, value) == points


def test_unscored_types_earn_nothing_and_refuse_a_category(demo: Questionnaire) -> None:
    scorable = {name for name, kind in REGISTRY.items() if kind.scorable}
    assert scorable >= {"yes_no", "single_choice", "multi_choice", "number"}
    for item in demo.items:
        if not item.kind.scorable:
            assert item.kind.max_points(item) == 0 and item.max_score == 0


# --- words -----------------------------------------------------------------------------------------

WORDS = [
    # item, answer, English, French (list answers are joined with ", ")
    ("has_dpa", "yes", "@yes", "@yes"),
    ("audits", "na", "@na", "@na"),
    ("hours", 1234.5, "1,234.5", "1\u202f234,5"),
    ("measures", ["mfa", "enc"], "MFA, Encryption", "MFA, Chiffrement"),
    ("since", "2026-03-12", "March 12, 2026", "12 mars 2026"),
    ("hq", "CH", "Switzerland", "Suisse"),
    ("regions", ["DE", "US"], "Germany, United States", "Allemagne, États-Unis"),
    ("name", "na", "na", "na"),                     # a short text may be a name
    ("notes", "n/a", "@na", "@na"),                 # a written N/A in a long text
    ("docs", ["1", "2"], "#2", "#2"),
    ("sign", {"agreed": True, "name": "Ana", "role": "DPO"}, "@attested", "@attested"),
    ("hours", None, "@unanswered", "@unanswered"),
]


def _said(words: Words) -> str:
    """Write Words compactly: @code, #files, or the text / values."""
    if words.code:
        return f"@{words.code}"
    if words.files is not None:
        return f"#{words.files}"
    return ", ".join(words.values) if words.values is not None else words.text


@pytest.mark.parametrize(("item_id", "value", "english", "french"), WORDS)
def test_an_answer_reads_in_each_locale(demo: Questionnaire, item_id: str, value: Any,
                                        english: str, french: str) -> None:
    item = demo.item(item_id)
    assert _said(answer_words(item, value, Formatter("en"))) == english
    assert _said(answer_words(item, value, Formatter("fr"))) == french


def test_a_table_reads_as_rows_of_cells_in_words(demo: Questionnaire) -> None:
    item = demo.item("subs")
    words = answer_words(item, [{"name": "Acme", "country": "US", "tool": "scc"},
                                {"name": "Beta", "country": "FR"}], Formatter("fr"))
    assert words.table is not None
    assert words.table.columns == ("Nom", "Pays", "Outil")
    assert [[_said(cell) for cell in row] for row in words.table.rows] == [
        ["Acme", "États-Unis", "CCT"], ["Beta", "France", "@unanswered"]]


def test_an_attestation_names_who_agreed(demo: Questionnaire) -> None:
    words = answer_words(demo.item("sign"), {"agreed": True, "name": "Ana", "role": "DPO"},
                         Formatter("en"))
    assert words.signer == ("Ana", "DPO")


# --- percentage: the type added through the registry alone ----------------------------------------

PERCENTAGE = """\
schema: vendorcheck/questionnaire@1
id: shares
version: 1.0.0
status: draft
default_locale: en
locales: [en, fr]
title: {en: Shares, fr: Parts}
categories:
  - {id: service, label: {en: Service, fr: Service}}
sections:
  - id: main
    title: {en: Main, fr: Principal}
    items:
      - {id: uptime, type: percentage, category: service, label: {en: Uptime, fr: Disponibilité},
         bands: [{min: 99.9, points: 3}, {min: 99, points: 1}]}
      - {id: encrypted, type: percentage, integer: true, label: {en: Encrypted, fr: Chiffré}}
      - id: vendors
        type: table
        label: {en: Vendors, fr: Prestataires}
        columns:
          - {id: name, type: text, label: {en: Name, fr: Nom}}
          - {id: share, type: percentage, label: {en: Share, fr: Part}}
computed:
  - {id: reliable, expr: "uptime >= 99.9"}
  - {id: big_vendor, expr: "any(vendors, row.share > 50)"}
tiers:
  - {id: high, when: "score() < 50"}
  - {id: low, when: "true"}
"""


@pytest.fixture
def shares(make_q: Any) -> Questionnaire:
    """A questionnaire with percentage items (scored, whole, and in a table)."""
    return make_q(PERCENTAGE, name="shares.yaml")


@pytest.mark.parametrize(("raw", "stored"), [
    (0, 0), (100, 100), ("42", 42), ("42.5", 42.5), (" 99.95 ", 99.95), ("42 %", 42), ("7%", 7),
])
def test_a_percentage_takes_a_number_from_0_to_100(shares: Questionnaire, raw: Any,
                                                   stored: Any) -> None:
    item = shares.item("uptime")
    assert item.kind.check(item, raw, _no_problem) == stored


@pytest.mark.parametrize("raw", [100.5, -1, "101", "-0.5", "abc", "%", "42 %%", True, [42],
                                 pytest.param(10**400, id="10**400"),
                                 pytest.param(-(10**400), id="-10**400"),
                                 float("nan"), "NaN %", "1e400"])
def test_a_percentage_outside_0_to_100_is_refused(shares: Questionnaire, raw: Any) -> None:
    item = shares.item("uptime")
    with pytest.raises(Invalid, match="must be a percentage between 0 and 100"):
        item.kind.check(item, raw, _no_problem)


def test_a_whole_percentage_refuses_decimals(shares: Questionnaire) -> None:
    item = shares.item("encrypted")
    assert item.kind.check(item, "80", _no_problem) == 80
    with pytest.raises(Invalid, match="whole number"):
        item.kind.check(item, "80.5", _no_problem)


def test_a_percentage_is_validated_in_answer_sets_and_table_cells(shares: Questionnaire) -> None:
    checked = validate_answers(shares, {"uptime": "99.95", "encrypted": "150",
                                        "vendors": [{"name": "A", "share": "120"}]})
    assert checked.answers["uptime"] == 99.95
    assert [str(p) for p in checked.problems] == [
        "encrypted: must be a percentage between 0 and 100",
        "vendors[0].share: must be a percentage between 0 and 100"]


@pytest.mark.parametrize(("value", "english", "french"), [
    (42, "42%", "42\u00a0%"), (42.5, "42.5%", "42,5\u00a0%"), (0, "0%", "0\u00a0%"),
    (100, "100%", "100\u00a0%"),
])
def test_a_percentage_reads_with_the_locale_sign(shares: Questionnaire, value: Any, english: str,
                                                 french: str) -> None:
    item = shares.item("uptime")
    assert answer_words(item, value, Formatter("en")).text == english
    assert answer_words(item, value, Formatter("fr")).text == french


def test_a_percentage_is_scored_by_its_bands(shares: Questionnaire) -> None:
    item = shares.item("uptime")
    assert item.kind.scorable and item.max_score == 3
    assert [item.kind.earned(item, v) for v in (99.95, 99.9, 99.5, 98)] == [3, 3, 1, 0]
    result = score(shares, {"uptime": 99.5})
    assert [(i.item_id, i.earned, i.maximum) for i in result.items] == [("uptime", 1, 3)]
    assert result.score == pytest.approx(33.3)


def test_rules_read_a_percentage_as_a_number(shares: Questionnaire) -> None:
    values = score(shares, {"uptime": 99.95, "vendors": [{"name": "A", "share": 60}]}
                   ).visibility.values
    assert values["reliable"] is True and values["big_vendor"] is True
    values = score(shares, {"uptime": 99}).visibility.values
    assert values["reliable"] is False and values["big_vendor"] is False
