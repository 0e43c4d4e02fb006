"""Issue 16: legal references and questionnaires in words on every page, not raw identifiers."""

from __future__ import annotations

import pytest

from tests.factories.dpa import publisher_of, set_draft_answers
from tests.integration.test_vendor_answering import env  # noqa: F401
from vendorcheck.services.dpa import DRAFTS_ORG_NAME


@pytest.mark.parametrize(("lang", "words"), [("en", "Art. 28(3) GDPR"), ("fr", "art. 28, § 3 RGPD")])
def test_answering_page_writes_references_in_words(client, login_as, env, lang, words):  # noqa: F811
    login_as(env.vuser)
    page = client.get(f"/vendor/assessments/{env.a}/sections/main?lang={lang}").get_data(as_text=True)
    assert words in page
    assert "28.3" not in page


def test_vendor_list_and_buyer_dashboard_name_the_questionnaire(client, login_as, env):  # noqa: F811
    login_as(env.vuser)
    page = client.get("/vendor/assessments?lang=fr").get_data(as_text=True)
    assert "Questionnaire de test" in page and "vc-test" not in page
    login_as(env.admin)
    page = client.get("/buyer/assessments?lang=en").get_data(as_text=True)
    assert "Test questionnaire" in page and "vc-test v1.0.0" not in page


def test_a_dpa_draft_is_not_sent_by_the_hidden_drafts_organisation(app, client, login_as, world):
    with app.app_context():
        draft = set_draft_answers(world["a"].vendor_org, {})
        user = publisher_of(draft.vendor.vendor_org)
        draft_id = draft.id
    login_as(user)
    for url in ("/vendor/assessments", f"/vendor/assessments/{draft_id}"):
        page = client.get(url + "?lang=en").get_data(as_text=True)
        assert DRAFTS_ORG_NAME not in page
        assert "Your DPA draft" in page
