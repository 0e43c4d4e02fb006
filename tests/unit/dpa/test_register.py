"""The processor register (Art. 30(2) GDPR) assembled from DPA answers: pure, in English and French."""

from __future__ import annotations

from typing import Any

from vendorcheck.agreement import register as reg
from vendorcheck.agreement.assemble import assemble
from vendorcheck.questionnaire import Questionnaire

US_DPF = {"name": "Mailer Inc.", "address": "1 Market St, San Francisco", "country": "US",
          "activity": "Transactional e-mail", "location": "US", "transfer_tool": "dpf",
          "contact": "Privacy team, privacy@mailer.example",
          "responsibilities": "Sends the e-mails the application triggers."}
INDIA_SCC = {"name": "Support India Pvt Ltd", "address": "MG Road, Bengaluru", "country": "IN",
             "activity": "Second-level support desk", "location": "IN",
             "transfer_tool": "scc_2021", "contact": "Ravi Kumar, privacy@support.example",
             "responsibilities": "Answers support tickets; reads only what a ticket shows."}
BUYER = {"ref": "buyer:1", "name": "Acheteur Exemple SA", "address": "1 place du Marché, Lyon",
         "contact_name": "Lea Legal", "contact_email": "legal@acheteur.example",
         "dpo": "Paul DPO", "eu_representative": "", "categories": "", "source": "dpa_acceptance"}


def _data(q: Questionnaire, answers: dict[str, Any], controllers: list[dict[str, str]]
          ) -> dict[str, Any]:
    answers = {**answers, "uses_subprocessors": "yes", "subprocessors": [US_DPF, INDIA_SCC]}
    return reg.snapshot(assemble(q, answers), controllers, questionnaire=(q.id, q.version))


def test_transfers_name_the_country_the_tool_and_the_provision(dpa_q, complete):
    context = reg.register_context(_data(dpa_q, complete, [BUYER]), locale="en", q=dpa_q)
    lines = context["transfer_lines"]
    assert ("United States: Mailer Inc. (Transactional e-mail), EU-US Data Privacy Framework "
            "(recipient self-certified) (adequacy decision on the EU-US Data Privacy Framework, "
            "Implementing Decision (EU) 2023/1795, Art. 45 GDPR)") in lines
    assert ("India: Support India Pvt Ltd (Second-level support desk), EU standard contractual "
            "clauses (Decision 2021/914) (standard data protection clauses, Art. 46(2)(c) GDPR)"
            ) in lines
    assert len(lines) == 2  # OVH-less set: the EU processing itself needs no tool


def test_french_words_for_countries_and_tools(dpa_q, complete):
    context = reg.register_context(_data(dpa_q, complete, [BUYER]), locale="fr", q=dpa_q)
    countries = {t["country"] for t in context["transfers"]}
    assert countries == {"États-Unis", "Inde"}
    assert any("Data Privacy Framework UE-États-Unis" in t["tool"] for t in context["transfers"])


def test_one_record_per_controller_with_the_processing_from_the_answers(dpa_q, complete):
    data = _data(dpa_q, complete, [BUYER, {**BUYER, "ref": "hand:2", "name": "Other SAS",
                                           "categories": "Payroll hosting only"}])
    context = reg.register_context(data, locale="en", q=dpa_q)
    rows = reg.sheet_rows(context, data)
    assert [r["controller"] for r in rows] == ["Acheteur Exemple SA", "Other SAS"]
    assert rows[1]["categories"] == "Payroll hosting only"
    assert "Purpose:" in rows[0]["categories"]  # the DPA answers' description by default
    assert "Data Privacy Framework" in rows[0]["transfers"] and "India" in rows[0]["transfers"]
    assert rows[0]["processor"].startswith(complete["processor_legal_name"])
    assert rows[0]["measures"]  # Art. 30(2)(d) from the Annex III answers


def test_missing_facts_are_listed_never_invented(dpa_q, complete):
    bare = {**BUYER, "address": "", "contact_name": "", "contact_email": ""}
    context = reg.register_context(_data(dpa_q, complete, [bare]), locale="en", q=dpa_q)
    assert [str(t) for t in context["to_complete"]] == [
        "The address and contact details of Acheteur Exemple SA (Art. 30(2)(a))."]
    empty = reg.register_context(reg.snapshot({}, []), locale="en", q=dpa_q)
    texts = " ".join(str(t) for t in empty["to_complete"])
    assert "legal name and address" in texts and "At least one controller" in texts
    assert "security measures" in texts and empty["controllers"] == []


def test_art49_transfer_asks_for_its_safeguards(dpa_q, complete):
    data = _data(dpa_q, complete, [BUYER])
    data["subprocessors"][1]["transfer_tool"] = "art49_derogation"
    context = reg.register_context(data, locale="en", q=dpa_q)
    assert "Art. 49(1), second subparagraph" in context["transfer_lines"][1]
    assert any("Art. 49(1) transfer to India" in str(t) for t in context["to_complete"])


def test_the_same_facts_give_the_same_digest_whatever_the_controller_order(dpa_q, complete):
    other = {**BUYER, "ref": "hand:2", "name": "Zeta"}
    one = _data(dpa_q, complete, [BUYER, other])
    two = _data(dpa_q, complete, [other, BUYER])
    assert reg.snapshot_sha256(one) == reg.snapshot_sha256(two)
    changed = _data(dpa_q, {**complete, "processor_address": "Elsewhere"}, [BUYER])
    assert reg.snapshot_sha256(changed) != reg.snapshot_sha256(_data(dpa_q, complete, [BUYER]))
