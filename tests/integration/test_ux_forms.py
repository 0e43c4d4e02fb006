"""Issue 16: forms that help: no silent truncation, a counter, progress that reaches 100 %."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.factories.questionnaires import COMPLETE
from tests.integration.test_vendor_answering import _answers, _autosave, env  # noqa: F401
from vendorcheck.extensions import db
from vendorcheck.models.assessments import Assessment

PASTE = "x" * 100_000


def test_a_paste_over_the_limit_is_refused_clearly_and_nothing_is_cut(app, client, login_as, env):  # noqa: F811
    login_as(env.vuser)
    assert _autosave(client, env.a, "notes", "kept").status_code == 200
    response = _autosave(client, env.a, "notes", PASTE, version=1)
    assert response.status_code == 422
    message = response.get_json()["problems"]["notes"]
    assert "100,000" in message and "10,000" in message and "Nothing was saved" in message
    assert _answers(app, env.a)["notes"] == "kept"  # not a cut 10,000-character text


def test_the_refusal_is_in_french_too(app, client, login_as, env):  # noqa: F811
    login_as(env.vuser)
    with client.session_transaction() as sess:
        sess["lang"] = "fr"
    response = _autosave(client, env.a, "notes", PASTE)
    assert response.status_code == 422
    assert "Rien n'a été enregistré" in response.get_json()["problems"]["notes"]


def test_a_too_long_section_post_keeps_the_text_and_names_the_limit(app, client, login_as, env):  # noqa: F811
    login_as(env.vuser)
    response = client.post(f"/vendor/assessments/{env.a}/sections/main",
                           data={"has_dpa": "yes", "notes": "y" * 10_001})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "10,001" in page and "y" * 10_001 in page  # the text stays in the field
    assert "notes" not in _answers(app, env.a)


def test_texts_have_a_counter_not_a_browser_cut(client, login_as, env):  # noqa: F811
    login_as(env.vuser)
    page = client.get(f"/vendor/assessments/{env.a}/sections/main").get_data(as_text=True)
    field = re.search(r"<textarea[^>]*id=\"notes\"[^>]*>", page).group(0)
    assert "maxlength=" not in field.replace("data-maxlength=", "")
    assert 'data-maxlength="10000"' in field and 'aria-describedby="notes-count"' in field
    counter = re.search(r"<p class=\"char-count[^>]*id=\"notes-count\"[^>]*>", page).group(0)
    assert 'aria-live="polite"' in counter and 'data-limit="10000"' in counter
    assert "js/counter.js" in page


def test_progress_reaches_100_when_every_required_item_is_answered(app, client, login_as, env):  # noqa: F811
    login_as(env.vuser)
    for item, value in COMPLETE.items():
        assert _autosave(client, env.a, item, value).status_code == 200
    with app.app_context():
        progress = db.session.scalar(select(Assessment.progress).where(Assessment.id == env.a))
    assert progress == 100  # the optional hours, notes and documents left blank do not count
    page = client.get(f"/vendor/assessments/{env.a}").get_data(as_text=True)
    assert 'aria-valuenow="100"' in page
