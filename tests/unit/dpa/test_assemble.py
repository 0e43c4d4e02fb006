"""Assembly: answers by export slot → document content (2021/915 annex numbering), hashing."""

from __future__ import annotations

import pytest
from markupsafe import Markup

from tests.unit.dpa.conftest import answer_set
from vendorcheck.dpa.assemble import (
    LOCALES,
    TEMPLATE_VERSION,
    TemplateError,
    assemble,
    conditions,
    content_sha256,
    document_context,
    fill,
    iter_clauses,
    load_template,
)


def test_slots_map_to_the_2021_915_annexes(dpa_q, complete):
    content = assemble(dpa_q, complete)
    assert set(content) == {"parties", "processing", "measures", "subprocessors", "clauses",
                            "template_version"}
    assert content["parties"]["processor_name"] == "Hébergement Exemple SAS"   # dpa.parties → I
    assert content["processing"]["nature"][0] == "hosting"                   # dpa.annex_i → II
    assert content["measures"]["encryption"].startswith("AES-256")           # dpa.annex_ii → III
    assert content["subprocessors"] == [{                                     # dpa.annex_iii → IV
        "name": "OVH SAS", "address": "2 rue Kellermann, 59100 Roubaix", "country": "FR",
        "activity": "Infrastructure hosting", "location": "FR", "transfer_tool": None}]
    assert content["clauses"]["breach_hours"] == 24 and content["clauses"]["notice_days"] == 30
    assert content["template_version"] == TEMPLATE_VERSION


def test_hidden_answers_are_not_exported(dpa_q, complete):
    complete.update(dpo_designated="no", uses_subprocessors="no")
    content = assemble(dpa_q, complete)
    assert "dpo_name" not in content["parties"]
    assert content["subprocessors"] == []
    assert "notice_days" not in content["clauses"]


def test_contact_column_is_not_published(dpa_q, complete):
    complete["subprocessors"][0]["contact"] = "private person, +33 6 00 00 00 00"
    assert "contact" not in assemble(dpa_q, complete)["subprocessors"][0]


def test_signatory_keeps_name_and_role_only(dpa_q, complete):
    assert assemble(dpa_q, complete)["parties"]["signatory"] == {
        "name": "Claire Martin", "role": "Responsable juridique"}


def test_transfers_flag_follows_the_country_groups(dpa_q):
    eu = assemble(dpa_q, answer_set(dpa_q, "complete_eu_processor_is_low_risk"))
    us = assemble(dpa_q, answer_set(dpa_q, "us_subprocessor_under_scc_is_accepted"))
    assert eu["clauses"]["transfers_outside_eea"] is False
    assert us["clauses"]["transfers_outside_eea"] is True
    assert "transfers" in conditions(us) and "no_transfers" in conditions(eu)


def test_hash_is_stable_and_sensitive(dpa_q, complete):
    first = content_sha256(assemble(dpa_q, complete))
    assert first == content_sha256(assemble(dpa_q, dict(complete)))
    complete["purpose"] += " And billing."
    assert content_sha256(assemble(dpa_q, complete)) != first
    assert len(first) == 64


def test_fill_escapes_values_not_the_template():
    html = fill("Notify {breach_contact} within {breach_hours} hours.",
                {"breach_contact": "<b>x</b>", "breach_hours": "24"})
    assert isinstance(html, Markup)
    assert str(html) == "Notify &lt;b&gt;x&lt;/b&gt; within 24 hours."
    assert "[…]" in str(fill("{unknown}", {}))


def test_missing_values_show_a_marker_not_an_error(dpa_q):
    context = document_context(assemble(dpa_q, {}), locale="en", q=dpa_q)
    text = " ".join(str(p) for s in context["sections"] for c in s["clauses"]
                    for p in c["paragraphs"])
    assert "[…]" in text


@pytest.mark.parametrize("locale", LOCALES)
def test_templates_have_the_2021_915_structure(locale):
    template = load_template(TEMPLATE_VERSION, locale)
    ids = [str(c["id"]) for c in iter_clauses(template)]
    assert ids == ["1", "2", "3", "4", "5", "6", "7", "7.1", "7.2", "7.3", "7.4", "7.5", "7.6",
                   "7.7", "7.8", "8", "9", "9.1", "9.2", "10", "11"]
    assert [a["number"] for a in template["annexes"].values()] == ["I", "II", "III", "IV"]


def test_both_locales_agree_on_clauses_refs_conditions_and_placeholders():
    en, fr = (load_template(TEMPLATE_VERSION, loc) for loc in ("en", "fr"))
    for a, b in zip(iter_clauses(en), iter_clauses(fr), strict=True):
        assert a["id"] == b["id"] and a.get("refs") == b.get("refs") and a.get("when") == b.get("when")
        assert [p.get("when") for p in a["paragraphs"]] == [p.get("when") for p in b["paragraphs"]]
        for pa, pb in zip(a["paragraphs"], b["paragraphs"], strict=True):
            import re

            assert sorted(re.findall(r"\{(\w+)\}", pa["text"])) == \
                sorted(re.findall(r"\{(\w+)\}", pb["text"])), a["id"]


def test_article_28_is_covered_by_the_clause_refs():
    refs = {r for c in iter_clauses(load_template(TEMPLATE_VERSION, "en")) for r in c.get("refs", [])}
    for letter in "abcdefgh":
        assert f"gdpr:28.3.{letter}" in refs, letter
    assert {"gdpr:28.2", "gdpr:28.4"} <= refs


def test_french_wording_uses_the_legal_terms():
    fr = load_template(TEMPLATE_VERSION, "fr")
    text = " ".join(p["text"] for c in iter_clauses(fr) for p in c["paragraphs"])
    for term in ("le responsable du traitement", "le sous-traitant", "sous-traitant ultérieur",
                 "RGPD"):
        assert term in text, term
    assert "GDPR" not in text


@pytest.mark.parametrize(("version", "locale"), [("2021-915/v9", "en"), ("../etc", "en"),
                                                 ("2021-915/v1", "de")])
def test_unknown_templates_are_refused(version, locale):
    with pytest.raises(TemplateError):
        load_template(version, locale)


def test_annexes_in_words(dpa_q):
    content = assemble(dpa_q, answer_set(dpa_q, "us_subprocessor_under_scc_is_accepted"))
    context = document_context(content, locale="fr", q=dpa_q)
    processing = dict(context["annex_processing"])
    assert processing["Catégories de données à caractère personnel traitées"]
    us_rows = [r for r in context["annex_subprocessors"] if r["location"] == "États-Unis"]
    assert us_rows and us_rows[0]["transfer_tool"].startswith("Clauses contractuelles types")
    labels = [label for label, _text in context["annex_measures"]]
    assert labels[0] == "Pseudonymisation et chiffrement des données à caractère personnel"
