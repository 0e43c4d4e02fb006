"""Country questions offer names in the user's language, sorted by name; the ISO code is stored."""

from __future__ import annotations

from flask_babel import force_locale

from vendorcheck.vendor.forms import choices_of


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
