"""Legal references in words: `gdpr:28.3.h` becomes "Art. 28(3)(h) GDPR" or "art. 28, § 3, h) RGPD".

One formatter for every place that shows a reference (pages, PDFs, exports, e-mails). A code is
`prefix:detail`; the prefix names a source in the questionnaire's `references` registry. The detail
is put into words by its shape (an EDPB document number, a clause of the standard contractual
clauses, an article of a decision, a court case), so raw identifiers such as `clause_7_7` or
`opinion_22_2024` are never shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RefText:
    """A reference ready to show: its words and the source URL, if known."""

    code: str
    text: str
    url: str | None


EDPB_KINDS = {
    "guidelines": ("EDPB Guidelines", "Lignes directrices {n} du CEPD"),
    "opinion": ("EDPB Opinion", "Avis {n} du CEPD"),
    "recommendations": ("EDPB Recommendations", "Recommandations {n} du CEPD"),
    "statement": ("EDPB Statement", "Déclaration {n} du CEPD"),
}
EDPB_DOCUMENT = re.compile(r"(guidelines|opinion|recommendations|statement)_(\d{1,2})_(\d{4})", re.I)
WORKING_PARTY = re.compile(r"wp_?(\d{2,3})", re.I)
CASE = re.compile(r"c_(\d{1,4})_(\d{2})(_p)?", re.I)
DECISION = re.compile(r"\b(\d{4}/\d{3,4})\b")
CLAUSE = re.compile(r"(?:clause_?)?(\d{1,2}(?:[._]\d{1,2})*)", re.I)
ANNEX = re.compile(r"annex(?:_([ivx]+))?", re.I)
ARTICLE = re.compile(r"article_?(\d{1,3})((?:\(\d+\))*)", re.I)


def _gdpr_words(parts: list[str], locale: str) -> str:
    """Write a GDPR article path (28, 3, h) the way lawyers cite it in each language."""
    article, rest = parts[0], parts[1:]
    if locale == "fr":
        tail = "".join(f", § {p}" if p.isdigit() else f", {p})" for p in rest)
        return f"art. {article}{tail} RGPD"
    tail = "".join(f"({p})" for p in rest)
    return f"Art. {article}{tail} GDPR"


def _source_title(source: Any, locale: str) -> str:
    """Return a source's title in the locale (English fallback), without a trailing comma."""
    title = getattr(source, "title", None)
    if title is None:
        return ""
    words = title.get(locale) if hasattr(title, "get") else str(title)
    return str(words or "").strip().rstrip(",").strip()


def _english_title(source: Any) -> str:
    return _source_title(source, "en")


def _edpb_words(detail: str, locale: str) -> str | None:
    """Write an EDPB document ("guidelines_05_2021") or an endorsed WP paper ("wp243")."""
    found = EDPB_DOCUMENT.fullmatch(detail)
    if found:
        en, fr = EDPB_KINDS[found.group(1).lower()]
        number = f"{found.group(2)}/{found.group(3)}"
        return fr.format(n=number) if locale == "fr" else f"{en} {number}"
    found = WORKING_PARTY.fullmatch(detail)
    if found:
        return (f"WP{found.group(1)} (repris par le CEPD)" if locale == "fr"
                else f"WP{found.group(1)} (endorsed by the EDPB)")
    return None


def _decision_words(detail: str, decision: str, is_scc: bool, locale: str) -> str | None:
    """Write a clause, annex or article of a Commission decision (the SCCs or another one)."""
    fr = locale == "fr"
    found = ARTICLE.fullmatch(detail)
    if found:  # an article of the decision itself, not of the clauses it adopts
        paragraphs = re.findall(r"\d+", found.group(2))
        if fr:
            tail = "".join(f", § {p}" for p in paragraphs)
            return f"Article {found.group(1)}{tail} de la décision (UE) {decision}"
        tail = "".join(f"({p})" for p in paragraphs)
        return f"Article {found.group(1)}{tail} of Decision (EU) {decision}"
    if not is_scc:
        return None
    of = f"des CCT (décision {decision})" if fr else f"of the SCCs (Decision {decision})"
    found = ANNEX.fullmatch(detail)
    if found:
        number = f" {found.group(1).upper()}" if found.group(1) else ""
        if not number:
            return f"Annexes {of}"
        return f"Annexe{number} {of}" if fr else f"Annex{number} {of}"
    found = CLAUSE.fullmatch(detail)
    if found:
        number = found.group(1).replace("_", ".")
        return f"Clause {number} {of}"
    return None


def _case_words(detail: str, title: str, locale: str) -> str | None:
    """Write a Court of Justice case number ("c_703_25_p" → "Case C-703/25 P")."""
    found = CASE.fullmatch(detail)
    if not found:
        return None
    number = f"C-{found.group(1)}/{found.group(2)}" + (" P" if found.group(3) else "")
    if number in title:
        return title
    return f"Affaire {number}" if locale == "fr" else f"Case {number}"


def _plain(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


def _detail_words(prefix: str, detail: str, source: Any, locale: str) -> str | None:
    """Return the detail of a known shape in words, or None to fall back to the title."""
    title = _source_title(source, locale)
    english = _english_title(source)
    if prefix.startswith("edpb") or prefix.startswith("wp"):
        words = _edpb_words(detail, locale)
        if words:
            return words
    decision = DECISION.search(english)
    if decision:
        is_scc = "clauses" in english.lower()
        words = _decision_words(detail, decision.group(1), is_scc, locale)
        if words:
            return words
    return _case_words(detail, title, locale)


def format_ref(code: str, references: Any, locale: str = "en") -> RefText:
    """Return a reference code in words, using the questionnaire's `references` registry."""
    prefix, _, rest = code.partition(":")
    source = references.get(prefix) if hasattr(references, "get") else None
    url = getattr(source, "url", None)
    if prefix == "gdpr" and rest:
        return RefText(code, _gdpr_words(rest.split("."), locale), url)
    detail = rest.strip()
    words = _detail_words(prefix, detail, source, locale) if detail else None
    if words:
        return RefText(code, words, url)
    title = _source_title(source, locale) if source is not None else prefix
    spoken = re.sub(r"[_\-.]+", " ", detail).strip()
    if source is None:
        return RefText(code, f"{title} {spoken}".strip(), url)
    if not spoken or _plain(detail) in _plain(title):
        return RefText(code, title, url)  # the title already names it ("…, Article L.34-5")
    if title.lower().endswith("article"):
        return RefText(code, f"{title} {detail}", url)  # "…, article L34-5"
    return RefText(code, f"{title}, {spoken}", url)
