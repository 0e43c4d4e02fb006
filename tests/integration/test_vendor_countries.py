"""Country questions offer names in the user's language, sorted by name; the ISO code is stored."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest
from flask_babel import force_locale

from vendorcheck.supplier.forms import choices_of


def _country_item(app):
    catalogue = app.extensions["questionnaires"]
    questionnaire = next(q for q in catalogue.questionnaires if q.id == "art28-processor-audit")
    return next(i for s in questionnaire.sections for i in s.items if i.type == "country")


def test_country_choices_are_names_in_the_users_language(app):
    with app.test_request_context():
        item = _country_item(app)
        with force_locale("en"):
            english = dict(choices_of(item))
        with force_locale("fr"):
            french = choices_of(item)
    assert english["DE"] == "Germany (DE)" and dict(french)["DE"] == "Allemagne (DE)"
    labels = [label for value, label in french if value != "na"]
    # Accents do not push a name to the end of the list: Égypte sorts with the other E names.
    assert labels.index("Égypte (EG)") < labels.index("Espagne (ES)") < labels.index("Estonie (EE)")


# --- international organisations: only for questionnaires pinning country_groups@2026-12-01 ----

def _recipients_questionnaire(app):
    """Install a copy of the test questionnaire that pins the dataset listing organisations."""
    from tests.factories.questionnaires import TEST_YAML
    from vendorcheck.questionnaire import load_questionnaire_text

    catalogue = app.extensions["questionnaires"]
    text = TEST_YAML.replace("id: vc-test", "id: vc-recipients").replace(
        "country_groups@2026-01-28", "country_groups@2026-12-01")
    q = load_questionnaire_text(text, datasets=catalogue.datasets, file="vc-recipients.yaml")
    catalogue.questionnaires.append(q)
    return q


@pytest.fixture
def pinned(app):
    """Two assessments of one vendor: one pins the new dataset, one the older one."""
    from tests.factories.accounts import make_org, make_user, make_vendor
    from tests.factories.assessments import make_assessment, new_assessment
    from tests.factories.questionnaires import install_questionnaire
    from vendorcheck.extensions import db
    from vendorcheck.models import utcnow
    from vendorcheck.models.assessments import AssessmentStatus

    answers = {"uses_sub": "yes", "subs": [{"name": "Patents", "country": "QP"}]}
    with app.app_context():
        install_questionnaire()
        q = _recipients_questionnaire(app)
        buyer = make_org("Buyer", slug="buyer")
        vorg = make_org("Vendor", buyer=False, vendor=True, slug="vendor")
        user = make_user("v@vendor.example", org=vorg)
        vendor = make_vendor(buyer, "Vendor record", vendor_org=vorg)
        new = new_assessment(buyer, vendor, q, status=AssessmentStatus.SENT, answers=answers,
                             message="", sent_at=utcnow())
        db.session.commit()
        old = make_assessment(buyer, vendor, answers={"uses_sub": "yes",
                                                       "subs": [{"name": "Acme", "country": "FR"}]})
        return SimpleNamespace(new=new.id, old=old.id,
                               user=SimpleNamespace(id=user.id, session_epoch=user.session_epoch))


def _autosave(client, aid, value):
    return client.post(f"/vendor/assessments/{aid}/autosave", json={
        "item_id": "subs", "value": value, "version": None, "request_id": str(uuid.uuid4())})


def test_the_picker_lists_the_epo_after_the_countries_when_the_dataset_has_it(client, login_as,
                                                                               pinned):
    login_as(pinned.user)
    html = client.get(f"/vendor/assessments/{pinned.new}/sections/subs_section?lang=en"
                      ).get_data(as_text=True)
    assert ('<option value="QP" selected>International organisation: European Patent '
            'Organisation</option>') in html
    assert ('<option value="QZ">International organisation: Another international '
            'organisation</option>') in html
    assert html.index('value="ZW"') < html.index('value="QP"') < html.index('value="QZ"')
    french = client.get(f"/vendor/assessments/{pinned.new}/sections/subs_section?lang=fr"
                        ).get_data(as_text=True)
    assert "Organisation internationale : Organisation européenne des brevets" in french


def test_questionnaires_pinned_to_the_older_dataset_do_not_list_organisations(client, login_as,
                                                                              pinned):
    login_as(pinned.user)
    html = client.get(f"/vendor/assessments/{pinned.old}/sections/subs_section?lang=en"
                      ).get_data(as_text=True)
    assert 'value="FR" selected' in html
    assert 'value="QP"' not in html and "International organisation" not in html


def test_autosave_accepts_organisation_codes_only_where_the_dataset_lists_them(client, login_as,
                                                                               pinned):
    login_as(pinned.user)
    rows = [{"name": "Other body", "country": "QZ"}]
    assert _autosave(client, pinned.new, rows).status_code == 200
    refused = _autosave(client, pinned.old, rows)
    assert refused.status_code == 422
    assert "'QZ' is not an ISO 3166-1 alpha-2 country code" in str(refused.get_json())
