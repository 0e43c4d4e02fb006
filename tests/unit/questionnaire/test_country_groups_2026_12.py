"""The country-groups dataset of 2026-12-01: what changed in the law, and the older dataset kept as it was."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from vendorcheck.questionnaire import load_catalogue

ROOT = Path(__file__).resolve().parents[3] / "questionnaires"
CATALOGUE = load_catalogue(ROOT)
NEW = CATALOGUE.datasets["country_groups@2026-12-01"]
OLD = CATALOGUE.datasets["country_groups@2026-01-28"]


def test_gb_cites_the_december_2025_renewal():
    entry = NEW.entry("GB")
    assert entry is not None and entry.group == "adequate"
    assert entry.decision == "(EU) 2025/2574"
    assert entry.date == date(2025, 12, 19)
    assert entry.url == "https://eur-lex.europa.eu/eli/dec_impl/2025/2574/oj"
    assert entry.note is not None and "2021/1772" in entry.note.get("en")


@pytest.mark.parametrize(("code", "decision", "words_en", "words_fr"), [
    ("IL", "2011/61/EU", "automated", "automatisé"),
    ("FO", "2010/146/EU", "Faroese data protection act", "loi féroïenne"),
    ("JP", "(EU) 2019/419", "Academic and research institutions", "universitaires"),
])
def test_limited_scope_decisions_state_their_scope_in_both_languages(code, decision, words_en,
                                                                      words_fr):
    entry = NEW.entry(code)
    assert entry is not None and entry.group == "adequate_partial"
    assert entry.decision == decision and entry.date is not None and entry.url
    assert entry.condition is not None
    assert words_en in entry.condition.get("en")
    assert words_fr in entry.condition.get("fr")


def test_japan_note_cites_the_first_review():
    entry = NEW.entry("JP")
    assert entry is not None and entry.note is not None
    assert "COM(2023) 275" in entry.note.get("en") and "COM(2023) 275" in entry.note.get("fr")


def test_every_adequacy_entry_keeps_its_source():
    for code in NEW.members("adequate") + NEW.members("adequate_partial"):
        entry = NEW.entry(code)
        assert entry is not None and entry.decision and entry.date and entry.url, code


@pytest.mark.parametrize(("code", "group"), [
    ("IL", "adequate"), ("FO", "adequate"), ("JP", "adequate_partial"), ("GB", "adequate"),
])
def test_the_older_dataset_keeps_its_groups(code, group):
    assert OLD.group_of(code) == group
    assert OLD.entry("GB").decision == "(EU) 2021/1772"


# --- valid_until: a decision past its sunset date no longer counts ----------------------------

RECIPIENTS = """\
schema: vendorcheck/questionnaire@1
id: recipients
version: 1.0.0
status: draft
default_locale: en
locales: [en, fr]
title: {en: Recipients, fr: Destinataires}
reference_data: [country_groups@2026-12-01]
sections:
  - id: main
    title: {en: Main, fr: Principal}
    items:
      - {id: recipient, type: country, label: {en: Recipient, fr: Destinataire}}
      - {id: places, type: country_list, label: {en: Places, fr: Lieux}}
      - {id: tool, type: text, visible_if: "recipient != null and not in_group(recipient, 'adequate')",
         label: {en: Tool, fr: Outil}}
      - id: subs
        type: table
        label: {en: Subs, fr: Sous-traitants}
        columns:
          - {id: name, type: text, label: {en: Name, fr: Nom}}
          - {id: location, type: country, label: {en: Location, fr: Lieu}}
findings:
  - {id: needs_tool, severity: high,
     when: "recipient != null and not in_group(recipient, 'eea') and not in_group(recipient, 'adequate')",
     title: {en: Needs a tool, fr: Outil requis}}
"""


@pytest.fixture(scope="module")
def recipients():
    from vendorcheck.questionnaire import load_questionnaire_text

    return load_questionnaire_text(RECIPIENTS, datasets=CATALOGUE.datasets)


def test_gb_is_adequate_until_its_sunset_date_inclusive():
    assert NEW.entry("GB").valid_until == date(2031, 12, 27)
    assert NEW.group_of("GB", on=date(2031, 12, 27)) == "adequate"
    assert NEW.group_of("GB", on=date(2031, 12, 28)) == "third_country"
    assert NEW.group_of("CH", on=date(2099, 1, 1)) == "adequate"  # no sunset clause


def test_scoring_reads_groups_on_the_scoring_day(recipients):
    from vendorcheck.questionnaire import score

    ids = lambda day: [f.id for f in score(recipients, {"recipient": "GB"}, today=day).findings]  # noqa: E731
    assert ids(date(2031, 12, 27)) == []
    assert ids(date(2031, 12, 28)) == ["needs_tool"]


def test_the_browser_plan_uses_the_same_day(recipients):
    from vendorcheck.questionnaire.client import client_plan

    assert client_plan(recipients, today=date(2031, 12, 28))["groups"]["GB"] == "third_country"
    assert client_plan(recipients, today=date(2026, 12, 1))["groups"]["GB"] == "adequate"


def test_the_older_dataset_has_no_sunset_date():
    assert OLD.entry("GB").valid_until is None
    assert OLD.group_of("GB", on=date(2040, 1, 1)) == "adequate"


# --- international organisations ---------------------------------------------------------------


def test_the_epo_is_adequate_and_other_organisations_are_not():
    epo, other = NEW.entry("QP"), NEW.entry("QZ")
    assert epo is not None and epo.is_organisation and epo.group == "adequate"
    assert epo.decision == "(EU) 2025/1382" and epo.date == date(2025, 7, 15) and epo.url
    assert other is not None and other.is_organisation and other.group == "third_country"
    assert NEW.group_of("QP") == "adequate" and NEW.group_of("QZ") == "third_country"
    assert [e.code for e in NEW.organisations()] == ["QP", "QZ"]
    assert OLD.organisations() == [] and OLD.entry("QP") is None


def test_country_answers_may_name_an_organisation(recipients):
    from vendorcheck.questionnaire import validate_answers

    checked = validate_answers(recipients, {
        "recipient": "QP", "places": ["FR", "QZ"], "subs": [{"name": "EPO", "location": "QP"}]})
    assert checked.ok, checked.problems
    refused = validate_answers(recipients, {"recipient": "QQ"})
    assert [str(p) for p in refused.problems] == [
        "recipient: 'QQ' is not an ISO 3166-1 alpha-2 country code nor a listed international "
        "organisation"]


def test_organisations_score_by_their_group(recipients):
    from vendorcheck.questionnaire import score

    assert [f.id for f in score(recipients, {"recipient": "QP"}).findings] == []
    assert [f.id for f in score(recipients, {"recipient": "QZ"}).findings] == ["needs_tool"]


def test_questionnaires_pinned_to_the_older_dataset_refuse_organisation_codes():
    from vendorcheck.questionnaire import load_questionnaire_text, validate_answers

    old = load_questionnaire_text(RECIPIENTS.replace("2026-12-01", "2026-01-28"),
                                  datasets=CATALOGUE.datasets)
    assert all(i.organisations == () for i in old.items)
    problems = validate_answers(old, {"recipient": "QP", "places": ["QZ"]}).problems
    assert [str(p) for p in problems] == [
        "recipient: 'QP' is not an ISO 3166-1 alpha-2 country code",
        "places: 'QZ' is not an ISO 3166-1 alpha-2 country code"]


@pytest.mark.parametrize(("locale", "epo", "other"), [
    ("en", "European Patent Organisation", "Another international organisation"),
    ("fr", "Organisation européenne des brevets", "Autre organisation internationale"),
])
def test_organisations_are_named_in_reports_and_dpas(recipients, locale, epo, other):
    from vendorcheck.agreement.assemble import Words
    from vendorcheck.pdf.report import Formatter, answer_words

    fmt = Formatter(locale)
    recipient, places = recipients.item("recipient"), recipients.item("places")
    assert answer_words(recipient, "QP", fmt)["text"] == epo
    assert answer_words(places, ["QZ", "CH"], fmt)["list"] == [other, fmt.country("CH")]
    assert fmt.place(recipients.item("subs").column("location"), "QP") == epo
    words = Words(recipients, {}, fmt)
    words.items = {"dpa.annex_i.processing_locations": places}
    assert words.value("dpa.annex_i.processing_locations", ["QP"]) == epo


@pytest.mark.parametrize(("entry", "message"), [
    ('{code: FR, kind: international_organisation, group: adequate, name: {en: X, fr: X}}',
     "'FR' is not a user-assigned ISO 3166-1 code"),
    ('{code: QP, kind: international_organisation, group: adequate, name: Only English}',
     "needs its name in en and fr"),
    ('{code: QP, group: adequate, name: Patents}', "'QP' is not an ISO 3166-1 alpha-2 code"),
    ('{code: GB, group: adequate, decision_date: "2025-12-19", valid_until: "2020-01-01"}',
     "valid_until is before decision_date"),
])
def test_the_loader_refuses_bad_entries(tmp_path, entry, message):
    from vendorcheck.questionnaire import QuestionnaireError, load_dataset

    path = tmp_path / "2026-12-01.yaml"
    path.write_text("schema: vendorcheck/country-groups@1\nid: country_groups\n"
                    f'version: "2026-12-01"\nentries:\n  - {entry}\n', "utf-8")
    with pytest.raises(QuestionnaireError, match=message):
        load_dataset(path)


def test_organisations_are_named_on_the_review_page(recipients):
    from vendorcheck.buyer.presenters import in_words

    assert in_words(recipients.item("recipient"), "QP", "fr") == "Organisation européenne des brevets"
    assert in_words(recipients.item("places"), ["QZ", "DE"], "en") == [
        "Another international organisation", "Germany"]
