"""build_report_context: pure, localised, answers in words, hashes and references."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from vendorcheck.pdf.report import ReportData, answers_sha256, build_report_context
from vendorcheck.questionnaire import load_catalogue

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def q():
    return load_catalogue(ROOT / "questionnaires").get("art28-processor-audit")


@pytest.fixture(scope="module")
def answers(q):
    test = next(t for t in q.tests if t.name == "weak_vendor_without_knockout_is_high_risk")
    return dict(test.answers)


def _data(answers, **kw):
    base = {"assessment_id": 7, "buyer": "Acme", "vendor": "Cloudy", "answers": answers,
            "generated_at": datetime(2026, 3, 12, 14, 5, tzinfo=UTC), "decided": True,
            "decided_at": datetime(2026, 3, 12, 9, 0, tzinfo=UTC), "decision": "approved",
            "next_review_date": date(2027, 3, 12)}
    base.update(kw)
    return ReportData(**base)


def _questions(ctx):
    return {q["id"]: q for s in ctx["sections"] for q in s["questions"]}


def test_french_context_formats_countries_dates_and_options(q, answers):
    ctx = build_report_context(q, _data(answers), "fr", base_url="https://vc.example/")
    questions = _questions(ctx)
    assert questions["vendor_establishment_country"]["answer"]["text"] == "États-Unis"
    assert "Inde" in questions["access_countries"]["answer"]["list"]
    assert tuple(v for k, v in ctx["dates"] if k == "next_review") == ("12 mars 2027", )
    assert ctx["verify_url"] == "https://vc.example/verify"
    assert ctx["questionnaire"]["sha256"] == q.sha256
    assert not ctx["draft"]
    en = build_report_context(q, _data(answers), "en", base_url="https://vc.example")
    assert _questions(en)["vendor_establishment_country"]["answer"]["text"] == "United States"
    assert "March 12, 2027" in dict(en["dates"])["next_review"]


def test_answers_hash_is_canonical_json(answers):
    text = json.dumps(answers, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert answers_sha256(answers) == hashlib.sha256(text.encode()).hexdigest()
    assert answers_sha256(dict(reversed(list(answers.items())))) == answers_sha256(answers)


def test_findings_and_summary(q, answers):
    ctx = build_report_context(q, _data(answers, overrides=[{
        "kind": "finding_severity", "target": "no_dpo", "computed_value": "high",
        "new_value": "medium", "comment": "Group DPO", "by": "Alice"}]), "en", base_url="x")
    counts = dict(ctx["summary"]["severity_counts"])
    assert sum(counts.values()) == len(ctx["findings"]) > 0
    severities = [f["severity"] for f in ctx["findings"]]
    order = ["critical", "high", "medium", "low", "info"]
    assert severities == sorted(severities, key=order.index)
    assert all(f["refs"] for f in ctx["findings"])
    assert all(cat["label"] for cat in ctx["summary"]["categories"])
    overridden = [f for f in ctx["findings"] if f["computed_severity"]]
    assert all(f["id"] == "no_dpo" and f["override_comment"] == "Group DPO" for f in overridden)


def test_references_in_words_with_urls(q, answers):
    ctx = build_report_context(q, _data(answers), "fr", base_url="x")
    texts = [r["text"] for r in ctx["references"]]
    assert any(t.startswith("art. 28, § 3") and t.endswith("RGPD") for t in texts)
    assert all(r["url"] == "" or r["url"].startswith("http") for r in ctx["references"])


def test_unanswered_and_na_and_hidden(q, answers):
    partial = {k: v for k, v in answers.items() if k != "dpa_signed"}
    ctx = build_report_context(q, _data(partial, decided=False), "en", base_url="x")
    assert ctx["draft"]
    assert _questions(ctx)["dpa_signed"]["answer"]["code"] == "unanswered"


def test_findings_say_what_triggered_them_and_the_summary_why_the_tier(q):
    test = next(t for t in q.tests if t.name == "us_hosting_without_dpf_confirmation_is_blocked")
    ctx = build_report_context(q, _data(dict(test.answers)), "fr", base_url="x")
    critical = [f for f in ctx["findings"] if f["severity"] == "critical"]
    assert critical and all(f["triggers"] for f in critical)
    assert any(t.get("country") == "États-Unis" for f in critical for t in f["triggers"])
    why = ctx["summary"]["explanation"]
    assert why["reason"] == "finding" and why["severity"] == "critical"
    assert [f.title for f in why["findings"]] == [f["title"] for f in critical]
