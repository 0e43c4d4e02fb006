"""A questionnaire using the `percentage` item type: answered by autosave, read in words by the buyer."""

from __future__ import annotations

import re
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from flask import current_app

from tests.factories.accounts import make_org, make_user, make_vendor
from tests.factories.assessments import make_scored_assessment
from vendorcheck.extensions import db
from vendorcheck.models.assessments import Assessment, AssessmentStatus
from vendorcheck.pdf.report import build_report_context
from vendorcheck.questionnaire import Questionnaire, load_questionnaire_text
from vendorcheck.services import reports
from vendorcheck.services.assessments import answers_of, refresh_results

PERCENT_YAML = """\
schema: vendorcheck/questionnaire@1
id: vc-percentage
version: 1.0.0
status: published
default_locale: en
locales: [en, fr]
title: {en: Service levels, fr: Niveaux de service}
categories:
  - {id: service, label: {en: Service, fr: Service}}
sections:
  - id: levels
    title: {en: Service levels, fr: Niveaux de service}
    items:
      - {id: uptime, type: percentage, category: service, required: true,
         label: {en: Guaranteed uptime, fr: Disponibilité garantie},
         bands: [{min: 99.9, points: 3}, {min: 99, points: 1}]}
      - {id: long_text_na, type: long_text, label: {en: Exceptions, fr: Exceptions}}
      - {id: downtime_note, type: text, visible_if: "uptime < 99",
         label: {en: Why so low?, fr: Pourquoi si bas ?}}
tiers:
  - {id: high, when: "score() < 50", label: {en: High, fr: Élevé}}
  - {id: low, when: "true", label: {en: Low, fr: Faible}}
"""


def _questionnaire() -> Questionnaire:
    """Add the percentage questionnaire to the app's catalogue (once) and return it."""
    catalogue = current_app.extensions["questionnaires"]
    for q in catalogue.questionnaires:
        if q.id == "vc-percentage":
            return q  # type: ignore[no-any-return]
    q = load_questionnaire_text(PERCENT_YAML, datasets=catalogue.datasets, file="vc-percentage.yaml")
    catalogue.questionnaires.append(q)
    return q


@pytest.fixture
def env(app: Any) -> SimpleNamespace:
    """A buyer, a vendor organisation with one user, and an assessment of the questionnaire."""
    with app.app_context():
        q = _questionnaire()
        buyer = make_org("Buyer Percent", slug="buyer-percent")
        vorg = make_org("Vendor Percent", buyer=False, vendor=True, slug="vendor-percent")
        assessor = make_user("assessor@buyer-percent.example", org=buyer)
        vuser = make_user("ana@vendor-percent.example", org=vorg)
        vendor = make_vendor(buyer, "Vendor Percent record", vendor_org=vorg)
        a = make_scored_assessment(buyer, vendor, by=assessor, status=AssessmentStatus.IN_PROGRESS,
                                   answers={}, q=q)
        return SimpleNamespace(a=a.id, assessor=_ref(assessor), vuser=_ref(vuser))


def _ref(user: Any) -> SimpleNamespace:
    """Keep what logging in needs once the session is closed."""
    return SimpleNamespace(id=user.id, session_epoch=user.session_epoch)


def _autosave(client: Any, aid: int, item: str, value: Any, version: int | None = None) -> Any:
    return client.post(f"/vendor/assessments/{aid}/autosave", json={
        "item_id": item, "value": value, "version": version, "request_id": str(uuid.uuid4())})


def _answer(html: str, item_id: str) -> str:
    """Return the answer the review page shows for an item."""
    found = re.search(rf'id="item-{item_id}".*?<dd>\s*(.*?)\s*</dd>', html, re.S)
    assert found is not None, item_id
    return found.group(1)


def test_the_answering_page_draws_a_number_input_with_a_percent_sign(client, login_as, env):
    login_as(env.vuser)
    html = client.get(f"/vendor/assessments/{env.a}/sections/levels").get_data(as_text=True)
    fieldset = re.search(r'<fieldset class="question question--percentage".*?</fieldset>', html, re.S)
    assert fieldset is not None
    assert 'data-read="value"' in fieldset.group(0)
    assert re.search(r'<input[^>]*id="uptime"[^>]*inputmode="decimal"', fieldset.group(0))
    assert '<span aria-hidden="true">%</span>' in fieldset.group(0)
    assert '"convert": "percentage"' in html  # the live rules convert it like Python


def test_a_percentage_is_answered_by_autosave_and_read_in_words(app, client, login_as, env):
    login_as(env.vuser)
    refused = _autosave(client, env.a, "uptime", "100.5")
    assert refused.status_code == 422
    assert "between 0 and 100" in refused.get_json()["problems"]["uptime"]
    assert _autosave(client, env.a, "uptime", "-1").status_code == 422
    saved = _autosave(client, env.a, "uptime", "99.5")
    assert saved.status_code == 200, saved.get_json()
    assert _autosave(client, env.a, "long_text_na", "n/a").status_code == 200
    with app.app_context():
        assessment = db.session.get(Assessment, env.a)
        assert answers_of(assessment)["uptime"] == 99.5  # stored as a number
        assessment.status = AssessmentStatus.SUBMITTED
        refresh_results(assessment)
        db.session.commit()

    login_as(env.assessor)
    english = client.get(f"/buyer/assessments/{env.a}/sections/levels?lang=en").get_data(as_text=True)
    french = client.get(f"/buyer/assessments/{env.a}/sections/levels?lang=fr").get_data(as_text=True)
    assert _answer(english, "uptime") == "99.5%" and _answer(french, "uptime") == "99,5\u00a0%"
    assert _answer(english, "long_text_na") == "Not applicable"  # as the report reads "n/a"

    with app.app_context():
        assessment = db.session.get(Assessment, env.a)
        q = reports.questionnaire_for(assessment)
        data = reports.report_data(assessment)
        for locale, shown in (("en", "99.5%"), ("fr", "99,5\u00a0%")):
            context = build_report_context(q, data, locale, base_url="https://vc.example")
            question = context["sections"][0]["questions"][0]
            assert question["id"] == "uptime" and question["answer"]["text"] == shown
            assert question["points"] == "1 / 3"  # the 99 % band


def test_the_public_preview_names_the_type_in_the_reader_language(client, env):
    page = client.get("/questionnaires/vc-percentage/1.0.0?lang=fr").get_data(as_text=True)
    assert '<span class="chip chip--type">pourcentage</span>' in page
