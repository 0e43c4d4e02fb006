"""Re-assessment: next year's questionnaire version, answers carried forward, changed wording flagged."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.factories.assessments import make_contact, make_scored_assessment
from tests.factories.questionnaires import HIGH, shipped_questionnaire
from tests.integration.conftest import outbox
from vendorcheck.extensions import db
from vendorcheck.models.assessments import Answer, Assessment, AssessmentStatus
from vendorcheck.questionnaire import Catalogue, load_questionnaire_text
from vendorcheck.questionnaire.catalogue import semver_key

S = AssessmentStatus
FOLDER = Path(__file__).parents[2] / "questionnaires" / "art28-processor-audit"
SOURCE = max(FOLDER.glob("*.yaml"), key=lambda path: semver_key(path.stem))  # the latest shipped
MAJOR, MINOR, _PATCH = SOURCE.stem.split(".")
NEXT = f"{MAJOR}.{int(MINOR) + 1}.0"


def _next_version(app):
    """Build the next minor version: one label reworded, one option relabelled, one answer no longer valid."""
    text = SOURCE.read_text(encoding="utf-8")
    changes = [
        (f"version: {SOURCE.stem}", f"version: {NEXT}"),
        ('label: {en: "Legal name of the contracting entity"',
         'label: {en: "Full legal name of the entity that signs the DPA"'),
        ('{value: employees, label: {en: "Employees and contractors"',
         '{value: employees, label: {en: "Employees, interns and contractors"'),
    ]
    for old, new in changes:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    catalogue = app.extensions["questionnaires"]
    return load_questionnaire_text(text, datasets=catalogue.datasets, file=f"v{NEXT}.yaml")


@pytest.fixture
def two_versions(app, monkeypatch):
    """The catalogue with a newer published version of the art. 28 questionnaire."""
    catalogue = app.extensions["questionnaires"]
    newer = _next_version(app)
    monkeypatch.setitem(app.extensions, "questionnaires",
                        replace(catalogue, questionnaires=[*catalogue.questionnaires, newer]))
    return newer


def _previous(app, world):
    with app.app_context():
        contact = make_contact(world["a"].vendor, "contact@vendor-a.example", "Contact A")
        a = make_scored_assessment(world["a"].buyer, world["a"].vendor, answers=HIGH, contacts=[contact],
                                   status=S.DECIDED, q=shipped_questionnaire(version=SOURCE.stem))
        db.session.add(Answer(assessment_id=a.id, item_id="retired_item", value="yes"))
        db.session.commit()
        return a.id, contact.id


def test_reassessment_carries_answers_and_flags_changed_wording(app, client, world, login_as,
                                                                two_versions):
    previous_id, contact_id = _previous(app, world)
    login_as(world.user("a.assessor"))
    page = client.get(f"/buyer/assessments/{previous_id}").get_data(as_text=True)
    assert "Start the next assessment" in page and NEXT in page
    response = client.post(f"/buyer/assessments/{previous_id}/reassess",
                           data={"contacts": [contact_id], "message": "Yearly review"})
    assert response.status_code == 302
    with app.app_context():
        new = db.session.scalars(select(Assessment).where(Assessment.id != previous_id)).one()
        assert new.previous_id == previous_id
        assert (new.questionnaire_version, new.questionnaire_sha256) == (NEXT,
                                                                       two_versions.sha256)
        assert new.status is S.SENT
        answers = {a.item_id: a for a in new.answers}
        old = {a.item_id for a in db.session.get(Assessment, previous_id).answers}
        assert "retired_item" in old and "retired_item" not in answers
        assert answers["vendor_legal_name"].needs_reconfirmation is True
        assert answers["data_subject_categories"].needs_reconfirmation is True
        assert answers["dpa_signed"].needs_reconfirmation is False
        assert answers["dpa_signed"].value == "yes"
        assert "final_attestation" not in answers          # attested anew at submission
        assert new.progress > 0 and new.tier is not None
    assert any(m.to_email == "contact@vendor-a.example" for m in outbox(app))


def test_reassessment_moves_first_version_answers_to_the_latest_shipped_version(app, client, world,
                                                                                 login_as):
    with app.app_context():
        contact = make_contact(world["a"].vendor, "contact@vendor-a.example", "Contact A")
        first = make_scored_assessment(world["a"].buyer, world["a"].vendor, answers=HIGH, contacts=[contact],
                                       status=S.DECIDED, q=shipped_questionnaire(version="1.0.0"))
        ids = (first.id, contact.id, shipped_questionnaire())
    previous_id, contact_id, latest = ids
    login_as(world.user("a.assessor"))
    client.post(f"/buyer/assessments/{previous_id}/reassess", data={"contacts": [contact_id]})
    with app.app_context():
        new = db.session.scalars(select(Assessment).where(Assessment.id != previous_id)).one()
        assert (new.questionnaire_version, new.questionnaire_sha256) == (latest.version, latest.sha256)
        old = {a.item_id: a.value for a in db.session.get(Assessment, previous_id).answers}
        carried = {a.item_id: a.value for a in new.answers}
        assert carried == {k: v for k, v in old.items() if k != "final_attestation"}
        assert new.tier is not None


def test_reassessment_needs_a_contact(app, client, world, login_as, two_versions):
    previous_id, _contact = _previous(app, world)
    login_as(world.user("a.admin"))
    response = client.post(f"/buyer/assessments/{previous_id}/reassess", data={})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalars(select(Assessment)).all().__len__() == 1


def test_reassessment_of_an_unsubmitted_assessment_is_refused(app, client, world, login_as):
    with app.app_context():
        contact = make_contact(world["a"].vendor, "c@vendor-a.example")
        a = make_scored_assessment(world["a"].buyer, world["a"].vendor, status=S.IN_PROGRESS)
        ids = (a.id, contact.id)
    login_as(world.user("a.admin"))
    response = client.post(f"/buyer/assessments/{ids[0]}/reassess", data={"contacts": [ids[1]]})
    assert response.status_code == 409


def test_same_version_carries_everything_without_reconfirmation(app, client, world, login_as):
    previous_id, contact_id = _previous(app, world)
    login_as(world.user("a.admin"))
    client.post(f"/buyer/assessments/{previous_id}/reassess", data={"contacts": [contact_id]})
    with app.app_context():
        new = db.session.scalars(select(Assessment).where(Assessment.id != previous_id)).one()
        assert new.answers and not any(a.needs_reconfirmation for a in new.answers)


def test_catalogue_type_is_the_engine_one(app):
    assert isinstance(app.extensions["questionnaires"], Catalogue)


@pytest.mark.parametrize(("status", "offered"), [
    (S.IN_PROGRESS, False), (S.SUBMITTED, True), (S.IN_REVIEW, True),
    (S.CLARIFICATION_REQUESTED, True), (S.DECIDED, True)])
def test_the_review_page_offers_the_next_assessment_when_the_service_allows_it(
        app, client, world, login_as, status, offered):
    with app.app_context():
        a = make_scored_assessment(world["a"].buyer, world["a"].vendor, status=status)
        assessment_id = a.id
    login_as(world.user("a.admin"))
    page = client.get(f"/buyer/assessments/{assessment_id}").get_data(as_text=True)
    assert ("Start the next assessment" in page) is offered
