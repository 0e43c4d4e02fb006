"""The report's markup stays cheap to lay out: a question is one paragraph unless it needs blocks."""

from __future__ import annotations

import re

import pytest

from tests.factories.accounts import make_org, make_user, make_vendor
from tests.factories.reports import make_reviewed_assessment
from vendorcheck.models import Role
from vendorcheck.pdf.report import build_report_context, keeps_spaces
from vendorcheck.services import reports
from vendorcheck.services.reports import render_report_html

SIMPLE = re.compile(r'<p class="q q-main">(.*?)</p>', re.S)
WRAPPED = re.compile(r'<div class="q"><p class="q-main">(.*?)</p>', re.S)
TABLE = re.compile(r'<table class="([^"]*)"')


@pytest.fixture
def report(app) -> tuple[str, dict]:
    with app.app_context():
        buyer = make_org("Acme Buyer SA", slug="acme")
        user = make_user("reviewer@acme.example", org=buyer, role=Role.ADMIN, name="Alice Reviewer")
        vendor = make_vendor(buyer, "Cloudy Inc.", owner=user)
        assessment = make_reviewed_assessment(buyer, vendor, by=user)
        q = app.extensions["questionnaires"].get(assessment.questionnaire_id,
                                                 assessment.questionnaire_version)
        context = build_report_context(q, reports.report_data(assessment), "en", base_url="x")
        return render_report_html(context), context


def test_each_question_is_one_paragraph_unless_it_has_blocks(report):
    html, context = report
    questions = [q for section in context["sections"] for q in section["questions"]]
    simple, wrapped = SIMPLE.findall(html), WRAPPED.findall(html)
    assert len(simple) + len(wrapped) == len(questions)
    with_blocks = [q for q in questions if q["evidence"] or q["threads"] or q["override"]
                   or q["justification"] or q["answer"]["rows"]]
    assert len(wrapped) == len(with_blocks) > 0
    assert len(simple) > len(wrapped)
    for paragraph in simple + wrapped:
        # Between tags only the newlines that start a line (white-space: pre-line), no <br>:
        # each stray space or element would be one more box to lay out.
        assert set(re.findall(r">(\s+)<", paragraph)) <= {"\n"}, paragraph
        assert "<br" not in paragraph
        assert re.match(r"[^<\s]+<b class=\"q-label\">&ensp;", paragraph), paragraph


def test_questions_keep_number_label_references_and_answer(report):
    html, context = report
    paragraphs = SIMPLE.findall(html) + WRAPPED.findall(html)
    questions = [q for section in context["sections"] for q in section["questions"]]
    for q in questions:
        paragraph = next(p for p in paragraphs if p.startswith(f'{q["number"]}<b class="q-label">'))
        assert str(q["label"]).replace("'", "&#39;") in paragraph
        for ref in q["refs"]:
            assert ref in paragraph
        if q["answer"]["code"]:
            assert f'class="code code--{q["answer"]["code"]}"' in paragraph


def test_fixed_layout_for_the_report_tables_but_not_for_answers_or_remediation(report):
    html, _ = report
    classes = TABLE.findall(html)
    assert {"kv fixed", "headline fixed", "bars fixed", "counts fixed", "findings fixed",
            "refs-table fixed"} <= set(classes)
    assert all("fixed" not in c for c in classes if c.startswith("answer-table"))


def test_no_whitespace_between_questions(report):
    html, _ = report
    # A text node between two questions is one more node to parse and box to build and drop.
    assert re.findall(r'</(?:p|div)>\s+<(?:p class="q q-main"|div class="q")', html) == []


@pytest.mark.parametrize(("text", "element"), [
    ("Encrypted at rest, AES-256", False),
    ("Line one\nline two", False),
    ("Columns:  kept  apart", True),
    ("Indented\n  list", True),
    ("\ttabbed", True),
])
def test_an_answer_is_plain_text_unless_its_spaces_must_be_kept(app, report, text, element):
    _, context = report
    question = context["sections"][0]["questions"][0]
    question.update(evidence=[], threads=[], override=None, justification=None, points=None)
    question["answer"] = {"code": None, "text": text, "list": [], "rows": [], "columns": [],
                          "keeps_spaces": keeps_spaces(text)}
    with app.app_context():
        html = render_report_html(context)
    paragraph = next(p for p in SIMPLE.findall(html)
                     if p.startswith(f'{question["number"]}<b class="q-label">'))
    assert (f'<span class="pre">{text}</span>' in paragraph) is element
    assert paragraph.endswith(f"\n{text}") is not element


def test_keeps_spaces_only_where_collapsing_them_changes_the_text():
    assert not keeps_spaces("one two\nthree")
    assert all(keeps_spaces(t) for t in (" lead", "trail ", "a  b", "a\tb", "a \nb", "a\n b"))
