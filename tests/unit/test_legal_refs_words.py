"""Issue 16: no raw identifier is left in a legal reference, in English or French."""

from types import SimpleNamespace

import pytest

from vendorcheck.questionnaire.legal_refs import format_ref


def _source(en: str, fr: str) -> SimpleNamespace:
    return SimpleNamespace(title={"en": en, "fr": fr}, url="https://example.eu/")


REFS = {
    "edpb": _source("EDPB guidelines, recommendations and opinions",
                    "Lignes directrices, recommandations et avis du CEPD"),
    "art28scc": _source("Standard contractual clauses between controllers and processors, "
                        "Implementing Decision (EU) 2021/915",
                        "Clauses contractuelles types entre responsables du traitement et "
                        "sous-traitants, décision d'exécution (UE) 2021/915"),
    "scc": _source("Standard contractual clauses for transfers, Implementing Decision (EU) 2021/914",
                   "Clauses contractuelles types pour les transferts, décision d'exécution (UE) "
                   "2021/914"),
    "dpf": _source("EU-US Data Privacy Framework adequacy decision, (EU) 2023/1795",
                   "Décision d'adéquation Data Privacy Framework UE-États-Unis, (UE) 2023/1795"),
    "cjeu": _source("Latombe v Commission, appeal C-703/25 P", "Latombe c. Commission, pourvoi "
                    "C-703/25 P"),
    "cpce": _source("French Postal and Electronic Communications Code, article",
                    "Code des postes et des communications électroniques, article"),
}


@pytest.mark.parametrize(
    ("code", "locale", "text"),
    [
        ("edpb:guidelines_05_2021", "en", "EDPB Guidelines 05/2021"),
        ("edpb:guidelines_05_2021", "fr", "Lignes directrices 05/2021 du CEPD"),
        ("edpb:opinion_22_2024", "en", "EDPB Opinion 22/2024"),
        ("edpb:opinion_22_2024", "fr", "Avis 22/2024 du CEPD"),
        ("edpb:recommendations_01_2020", "en", "EDPB Recommendations 01/2020"),
        ("edpb:wp243", "en", "WP243 (endorsed by the EDPB)"),
        ("art28scc:clause_7_7", "en", "Clause 7.7 of the SCCs (Decision 2021/915)"),
        ("art28scc:clause_7_7", "fr", "Clause 7.7 des CCT (décision 2021/915)"),
        ("scc:clause_14", "en", "Clause 14 of the SCCs (Decision 2021/914)"),
        ("scc:annex_ii", "fr", "Annexe II des CCT (décision 2021/914)"),
        ("dpf:article_1", "en", "Article 1 of Decision (EU) 2023/1795"),
        ("cjeu:c_703_25_p", "en", "Latombe v Commission, appeal C-703/25 P"),
        ("cpce:L34-5", "fr", "Code des postes et des communications électroniques, article L34-5"),
        ("gdpr:30.2.c", "en", "Art. 30(2)(c) GDPR"),
        ("gdpr:30.2.c", "fr", "art. 30, § 2, c) RGPD"),
    ],
)
def test_reference_in_words_without_raw_identifiers(code, locale, text):
    words = format_ref(code, REFS, locale).text
    assert words == text
    assert "_" not in words
