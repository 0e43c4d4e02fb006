"""The vendor does not retype name and role: the submit attestation is prefilled."""

from __future__ import annotations

import re

from tests.factories.assessments import make_art28_assessment
from tests.factories.questionnaires import GOOD, embedded_answers
from vendorcheck.extensions import db
from vendorcheck.models.assessments import Attestation


def _value(body: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', body)
    assert match, name
    value = re.search(r'value="([^"]*)"', match.group(0))
    return value.group(1) if value else ""


def _submit_page(client, assessment_id: int, lang: str = "en") -> str:
    response = client.get(f"/vendor/assessments/{assessment_id}/submit?lang={lang}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


SOMEONE_ELSE = {"agreed": True, "name": "Jeanne Martin", "role": "CEO"}


def _new(app, world, attestation=SOMEONE_ELSE) -> int:
    """A fully answered Art. 28 assessment (so the submit page shows the attestation form) whose own
    attestation item is answered as given."""
    with app.app_context():
        answers = {**embedded_answers(GOOD), "final_attestation": attestation}
        return make_art28_assessment(world["a"].buyer, world["a"].vendor, answers=answers).id


def test_name_is_the_users_and_role_empty_when_unknown_or_someone_elses(app, client, world, login_as):
    assessment_id = _new(app, world)
    user = world.user("a.vendor")
    login_as(user)
    body = _submit_page(client, assessment_id)
    assert _value(body, "name") == user.name and _value(body, "role") == ""


def test_role_comes_from_the_questionnaires_own_attestation(app, client, world, login_as):
    user = world.user("a.vendor")
    assessment_id = _new(app, world, attestation={
        "agreed": True, "name": f"  {user.name.upper()} ", "role": "DPO"})
    login_as(user)
    for lang in ("en", "fr"):
        body = _submit_page(client, assessment_id, lang)
        assert _value(body, "name") == user.name and _value(body, "role") == "DPO"


def test_role_comes_from_the_users_latest_attestation(app, client, world, login_as):
    user = world.user("a.vendor")
    earlier, current = _new(app, world), _new(app, world)
    with app.app_context():
        db.session.add(Attestation(assessment_id=earlier, user_id=user.id, name=user.name,
                                   role="Head of security", statement="True."))
        db.session.commit()
    login_as(user)
    assert _value(_submit_page(client, current), "role") == "Head of security"
