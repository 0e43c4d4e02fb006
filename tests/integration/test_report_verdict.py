"""The report says why the tier is what it is, and what raised each finding, in its language."""

from __future__ import annotations

import pytest

from tests.factories.accounts import make_org, make_user, make_vendor
from tests.factories.assessments import make_scored_assessment
from tests.factories.questionnaires import UNACCEPTABLE
from vendorcheck.models import Role
from vendorcheck.pdf.report import build_report_context
from vendorcheck.services import reports
from vendorcheck.services.reports import render_report_html


@pytest.mark.parametrize(("locale", "because", "triggered", "country"), [
    ("en", "Unacceptable: do not use until fixed because of:", "Triggered by</span>: ", "United States"),
    ("fr", "Inacceptable : ne pas utiliser avant correction en raison de :", "Déclenché par</span> : ",
     "États-Unis"),
])
def test_report_html_explains_the_tier_and_triggers(app, locale, because, triggered, country):
    with app.app_context():
        buyer = make_org("Acme Buyer SA", slug="acme")
        user = make_user("reviewer@acme.example", org=buyer, role=Role.ADMIN, name="Alice Reviewer")
        vendor = make_vendor(buyer, "Cloudy Inc.", owner=user)
        assessment = make_scored_assessment(buyer, vendor, answers=UNACCEPTABLE, by=user)
        q = app.extensions["questionnaires"].get(assessment.questionnaire_id,
                                                 assessment.questionnaire_version)
        context = build_report_context(q, reports.report_data(assessment), locale, base_url="x")
        html = render_report_html(context)
    assert because in html
    assert triggered in html and country in html  # the label, then the colon as the language writes it
