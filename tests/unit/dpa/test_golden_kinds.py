"""Golden text of the two kinds of document, in English and French, for fixed answer sets.

Each document is rendered with the page template and reduced to its text, one block per line
(tests/golden/dpa/<kind>-<answers>.<locale>.txt): the clauses (or parts) and the four Annexes.
Regenerate after an intended wording change with VENDORCHECK_UPDATE_GOLDEN=1, then review the diff.
"""

from __future__ import annotations

import os
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from tests.unit.dpa.conftest import answer_set
from vendorcheck.agreement.assemble import KINDS, OWN_WORDS, SCC_REFERENCE, assemble, document_context

ROOT = Path(__file__).resolve().parents[3]
GOLDEN = ROOT / "tests" / "golden" / "dpa"
BLOCKS = frozenset({"h1", "h2", "h3", "h4", "p", "dt", "dd", "tr", "li", "caption"})
CONTROLLER = {"legal_name": "Acheteur Exemple SA", "address": "1 place du Marché, 69001 Lyon",
              "contact": "Léa Martin, DPO, dpo@acheteur.example", "dpo": "",
              "signatory": "Léa Martin, Directrice juridique", "accepted_at": "2026-12-04 10:00 UTC"}


class _Text(HTMLParser):
    """Collect the text of an HTML fragment, one block element per line, cells separated."""

    def __init__(self) -> None:
        super().__init__()
        self.out: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("td", "th"):
            self.out.append(" | ")

    def handle_endtag(self, tag: str) -> None:
        if tag in BLOCKS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        self.out.append(data)


def document_text(html: str) -> str:
    """Return the readable text of a rendered document."""
    parser = _Text()
    parser.feed(html)
    lines = (re.sub(r"\s+", " ", unescape(line)).strip(" |") for line in "".join(parser.out).split("\n"))
    return "\n".join(line for line in lines if line) + "\n"


def _general(q):
    """Two sub-processors (one in the US under SCCs), general authorisation, a 24-hour limit."""
    answers = answer_set(q, "us_subprocessor_under_scc_is_accepted")
    answers.update(breach_undue_delay="yes", docking_clause="no")
    answers["subprocessors"][0]["responsibilities"] = "Hosts the servers; no access to the application."
    return answers


def _specific(q):
    """Prior specific authorisation with a request period, no hour limit, docking clause."""
    answers = answer_set(q, "specific_authorisation_done_right")
    answers.pop("breach_notice_hours")
    answers.pop("governing_law")
    return answers


SETS = {"general": _general, "specific": _specific}


@pytest.fixture(scope="module")
def env():
    return Environment(loader=FileSystemLoader(ROOT / "templates"), autoescape=True,
                       undefined=StrictUndefined)


def render(env, q, answers, kind, locale, controller=None):
    """Render one kind of document as the public page shows it (no version header)."""
    content = assemble(q, answers, kind=kind, objection_days=30)
    doc = document_context(content, locale=locale, q=q, controller=controller)
    return env.get_template("dpa/_document.html").render(doc=doc, version=None)


@pytest.mark.parametrize("locale", ["en", "fr"])
@pytest.mark.parametrize("answers", sorted(SETS))
@pytest.mark.parametrize("kind", KINDS)
def test_document_matches_golden_text(dpa_q, env, kind, answers, locale):
    text = document_text(render(env, dpa_q, SETS[answers](dpa_q), kind, locale))
    path = GOLDEN / f"{kind}-{answers}.{locale}.txt"
    if os.environ.get("VENDORCHECK_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_clauses_by_reference_quote_the_decision_and_reword_nothing(dpa_q, env):
    text = document_text(render(env, dpa_q, _general(dpa_q), SCC_REFERENCE, "en"))
    for needed in ("Commission Implementing Decision (EU) 2021/915 of 4 June 2021",
                   "CELEX 32021D0915", "http://data.europa.eu/eli/dec_impl/2021/915/oj",
                   "without any modification (Clause 2(a))", "the Clauses prevail (Clause 4)",
                   "Clause 5 (optional docking clause) is not included",
                   "Option 2, general written authorisation", "at least 30 days in advance",
                   "Clause 9.2", "at the latest 24 hours", "within 30 days of being informed"):
        assert needed in text, needed
    # The Commission's wording is incorporated, never paraphrased here.
    for reworded in ("processes personal data only on documented instructions",
                     "Invariability", "third-party beneficiary clause"):
        assert reworded not in text, reworded


def test_own_words_claim_no_standard_clause_status_and_fix_the_defects(dpa_q, env):
    general = document_text(render(env, dpa_q, _general(dpa_q), OWN_WORDS, "en"))
    specific = document_text(render(env, dpa_q, _specific(dpa_q), OWN_WORDS, "en"))
    assert "Data processing agreement (Art. 28 GDPR)" in general
    assert "It is not the standard contractual clauses" in general
    for claim in ("undertake not to modify", "Invariability", "Article 28(7)"):
        assert claim not in general, claim
    # 7.6: audits are a right; reports may satisfy a request, never replace it.
    assert "The processor allows for and contributes to audits, including inspections" in general
    assert "Reports never replace the controller's right to audit" in general
    # 10(d): the controller's choice, and a certificate that is not optional.
    assert "at the controller's choice, either deletes all personal data" in general
    assert "certifies to the controller in writing that it has done so" in general
    # 7.7, specific authorisation: the advance period stays, silence is no authorisation.
    assert "submits each request at least 30 days before" in specific
    assert "silence or the passing of time is not an authorisation" in specific
    assert "without undue delay after becoming aware of it." in specific


@pytest.mark.parametrize("kind", KINDS)
def test_annex_i_names_the_controller_only_in_an_accepted_copy(dpa_q, env, kind):
    published = document_text(render(env, dpa_q, _general(dpa_q), kind, "en"))
    accepted = document_text(render(env, dpa_q, _general(dpa_q), kind, "en", CONTROLLER))
    assert "The controller: the party accepting this DPA, identified in its acceptance record." \
        in published
    assert "Acheteur Exemple SA" not in published
    for value in ("Acheteur Exemple SA", "1 place du Marché, 69001 Lyon",
                  "Léa Martin, DPO, dpo@acheteur.example"):
        assert value in accepted, value
    assert "identified in its acceptance record" not in accepted


@pytest.mark.parametrize("locale", ["en", "fr"])
@pytest.mark.parametrize("kind", KINDS)
def test_annex_iv_gives_contact_and_delimitation(dpa_q, env, kind, locale):
    html = render(env, dpa_q, _general(dpa_q), kind, locale)
    assert "dpo@ovh.net" in html and "privacy@mailer.example" in html
    assert "Hosts the servers; no access to the application." in html
    header = {"en": "Delimitation of responsibilities", "fr": "Répartition des responsabilités"}
    assert header[locale] in html
