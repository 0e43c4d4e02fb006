"""Assembly: answers by export slot → document content (2021/915 annex numbering), hashing."""

from __future__ import annotations

import pytest
from markupsafe import Markup

from tests.unit.dpa.conftest import answer_set
from vendorcheck.agreement.assemble import (
    KIND_TEMPLATES,
    KINDS,
    LOCALES,
    OWN_WORDS,
    SCC_REFERENCE,
    TEMPLATE_VERSION,
    TemplateError,
    UnknownKind,
    assemble,
    conditions,
    content_sha256,
    document_context,
    document_kind,
    fill,
    iter_clauses,
    load_template,
)

ALL_TEMPLATES = [TEMPLATE_VERSION, *KIND_TEMPLATES.values()]


def test_slots_map_to_the_2021_915_annexes(dpa_q, complete):
    content = assemble(dpa_q, complete)
    assert set(content) == {"kind", "parties", "processing", "measures", "subprocessors",
                            "clauses", "template_version"}
    assert content["parties"]["processor_name"] == "Hébergement Exemple SAS"   # dpa.parties → I
    assert content["processing"]["nature"][0] == "hosting"                   # dpa.annex_i → II
    assert content["measures"]["encryption"].startswith("AES-256")           # dpa.annex_ii → III
    assert content["subprocessors"] == [{                                     # dpa.annex_iii → IV
        "name": "OVH SAS", "address": "2 rue Kellermann, 59100 Roubaix", "country": "FR",
        "contact": "dpo@ovh.net", "activity": "Infrastructure hosting", "responsibilities": None,
        "location": "FR", "transfer_tool": None}]
    assert content["clauses"]["breach_hours"] == 24 and content["clauses"]["notice_days"] == 30
    assert (content["kind"], content["template_version"]) == (SCC_REFERENCE, "scc-reference/v1")


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_records_its_kind_and_template(dpa_q, complete, kind):
    content = assemble(dpa_q, complete, kind=kind, objection_days=45)
    assert document_kind(content) == kind
    assert content["template_version"] == KIND_TEMPLATES[kind]
    assert content["clauses"]["objection_days"] == 45
    other = assemble(dpa_q, complete, kind=({*KINDS} - {kind}).pop(), objection_days=45)
    assert content_sha256(content) != content_sha256(other)  # the kind is part of the content


def test_unknown_kind_is_refused(dpa_q, complete):
    with pytest.raises(UnknownKind):
        assemble(dpa_q, complete, kind="rewritten_sccs")


def test_stored_versions_without_a_kind_are_legacy():
    assert document_kind({"template_version": TEMPLATE_VERSION}) == "legacy"
    assert document_kind({"kind": "something else"}) == "legacy"


def test_hidden_answers_are_not_exported(dpa_q, complete):
    complete.update(dpo_designated="no", uses_subprocessors="no")
    content = assemble(dpa_q, complete)
    assert "dpo_name" not in content["parties"]
    assert content["subprocessors"] == []
    assert "notice_days" not in content["clauses"]


def test_annex_iv_publishes_the_contact_person_and_delimitation(dpa_q, complete):
    # Annex IV of Decision 2021/915 and EDPB Opinion 22/2024 ask for the contact person, so
    # both kinds publish it (the label warns the vendor); the @1 feeds keep their six fields.
    complete["subprocessors"][0].update(contact="Jane Roe, DPO, dpo@ovh.example",
                                        responsibilities="Servers only; no application access.")
    row = assemble(dpa_q, complete)["subprocessors"][0]
    assert row["contact"] == "Jane Roe, DPO, dpo@ovh.example"
    assert row["responsibilities"] == "Servers only; no application access."
    doc = document_context(assemble(dpa_q, complete, kind=OWN_WORDS), locale="en", q=dpa_q)
    assert doc["subprocessor_columns"][3:6] == ("contact", "activity", "responsibilities")
    assert doc["annex_subprocessors"][0]["contact"] == "Jane Roe, DPO, dpo@ovh.example"


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


@pytest.mark.parametrize("locale", LOCALES)
def test_the_kinds_have_their_own_structure(locale):
    reference = load_template(KIND_TEMPLATES[SCC_REFERENCE], locale)
    assert [str(c["id"]) for c in iter_clauses(reference)] == ["A", "B", "C", "D"]
    own = load_template(KIND_TEMPLATES[OWN_WORDS], locale)
    assert [str(c["id"]) for c in iter_clauses(own)] == [
        "1", "2", "3", "4", "5", "5.1", "5.2", "5.3", "5.4", "5.5", "5.6", "5.7", "5.8", "6", "7",
        "7.1", "7.2", "8", "9"]
    for template in (reference, own):
        assert [a["number"] for a in template["annexes"].values()] == ["I", "II", "III", "IV"]
        assert set(template["annexes"]["subprocessors"]["columns"]) >= {"contact",
                                                                         "responsibilities"}
    # Neither kind rewords the Commission's invariability clause.
    own_text = " ".join([c["title"] for c in iter_clauses(own)]
                        + [p["text"] for c in iter_clauses(own) for p in c["paragraphs"]])
    for claim in ("invariab", "not to modify", "ne pas modifier"):
        assert claim not in own_text.casefold(), claim


@pytest.mark.parametrize("version", ALL_TEMPLATES)
def test_both_locales_agree_on_clauses_refs_conditions_and_placeholders(version):
    en, fr = (load_template(version, loc) for loc in ("en", "fr"))
    for a, b in zip(iter_clauses(en), iter_clauses(fr), strict=True):
        assert a["id"] == b["id"] and a.get("refs") == b.get("refs") and a.get("when") == b.get("when")
        assert [p.get("when") for p in a["paragraphs"]] == [p.get("when") for p in b["paragraphs"]]
        for pa, pb in zip(a["paragraphs"], b["paragraphs"], strict=True):
            import re

            assert sorted(re.findall(r"\{(\w+)\}", pa["text"])) == \
                sorted(re.findall(r"\{(\w+)\}", pb["text"])), a["id"]


@pytest.mark.parametrize("version", [TEMPLATE_VERSION, KIND_TEMPLATES[OWN_WORDS]])
def test_article_28_is_covered_by_the_clause_refs(version):
    # A DPA in its own words is an ordinary Art. 28(3) contract: it must itself contain every term.
    refs = {r for c in iter_clauses(load_template(version, "en")) for r in c.get("refs", [])}
    for letter in "abcdefgh":
        assert f"gdpr:28.3.{letter}" in refs, letter
    assert {"gdpr:28.2", "gdpr:28.4"} <= refs


@pytest.mark.parametrize("version", ALL_TEMPLATES)
def test_french_wording_uses_the_legal_terms(version):
    fr = load_template(version, "fr")
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
