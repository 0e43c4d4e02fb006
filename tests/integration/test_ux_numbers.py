"""Issue 16: numbers that agree with each other (the report's category table uses the overrides)."""

from __future__ import annotations

from tests.factories.accounts import make_org, make_user, make_vendor
from tests.factories.assessments import make_scored_assessment
from tests.factories.questionnaires import HIGH
from vendorcheck.models import Role
from vendorcheck.pdf.report import build_report_context
from vendorcheck.services import reports, review


def test_report_category_table_uses_the_reviewer_overrides(app):
    with app.app_context():
        buyer = make_org("Acme Buyer SA", slug="acme")
        user = make_user("reviewer@acme.example", org=buyer, role=Role.ADMIN, name="Alice")
        vendor = make_vendor(buyer, "Cloudy Inc.", owner=user)
        assessment = make_scored_assessment(buyer, vendor, answers=HIGH, by=user)
        computed = review.result_of(assessment).computed
        entry = next(i for i in computed.items if i.maximum > 0 and i.earned == 0)
        review.override_item_points(assessment, entry.item_id, float(entry.maximum),
                                    "Evidence shows it is done.", by=user)
        reviewed = review.result_of(assessment)
        q = app.extensions["questionnaires"].get(assessment.questionnaire_id,
                                                 assessment.questionnaire_version)
        context = build_report_context(q, reports.report_data(assessment), "en", base_url="x")
    table = {row["id"]: row["score"] for row in context["summary"]["categories"]}
    expected = {c.id: f"{c.score:.1f}" for c in reviewed.categories if c.score is not None}
    before = {c.id: f"{c.score:.1f}" for c in computed.categories if c.score is not None}
    assert expected != before  # the override moved at least one category
    for cat_id, score in expected.items():
        assert table[cat_id] == score
