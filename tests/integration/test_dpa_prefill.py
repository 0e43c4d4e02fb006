"""A DPA beside an assessment: buyers attach a version; vendors prefill answers from their DPA."""

from __future__ import annotations

from sqlalchemy import select

from tests.factories.assessments import make_art28_assessment
from tests.factories.dpa import MAILER, OVH, publish_dpa
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry, Organisation, Vendor
from vendorcheck.models.assessments import Answer, AssessmentStatus
from vendorcheck.models.dpa import DpaVersion
from vendorcheck.models.dpa_relations import AssessmentDpaLink
from vendorcheck.services.dpa_prefill import values_from_dpa

EXPECTED_ROWS = [
    {"name": "OVH SAS", "country": "FR", "purpose": "Infrastructure hosting"},
    {"name": "Mailer Inc.", "country": "US", "purpose": "Transactional e-mail",
     "transfer_tool": "scc_2021"},
]


def _setup(app, world, *, answers=None, status=None, publish=True):
    """Vendor A publishes a DPA (OVH, Mailer); buyer A has an art28 assessment of vendor A."""
    with app.test_request_context():
        if publish:
            publish_dpa(None, db.session.get(Organisation, world["a"].vendor_org.id),
                        subprocessors=[OVH, MAILER])
        assessment = make_art28_assessment(
            db.session.get(Organisation, world["a"].buyer.id),
            db.session.get(Vendor, world["a"].vendor.id), answers=answers, status=status)
        return assessment.id


def _answers(app, assessment_id):
    with app.app_context():
        return {a.item_id: a.value for a in db.session.scalars(select(Answer).where(
            Answer.assessment_id == assessment_id))}


def test_mapping_reads_the_dpa_content():
    content = {"subprocessors": [OVH, MAILER, {"name": ""}],
               "processing": {"processing_locations": ["fr", "DE"], "transfer_tool": "dpf"}}
    assert values_from_dpa(content) == {
        "uses_subprocessors": "yes", "subprocessors": EXPECTED_ROWS,
        "access_countries": ["FR", "DE"], "transfer_tools": ["dpf"]}
    assert values_from_dpa({}) == {}


def test_prefill_shows_the_plan_then_fills_only_empty_answers(app, client, world, login_as):
    assessment_id = _setup(app, world, answers={"access_countries": ["FR"]})
    login_as(world.user("a.vendor"))
    overview = client.get(f"/vendor/assessments/{assessment_id}").get_data(as_text=True)
    assert f"/vendor/dpa/assessments/{assessment_id}/prefill" in overview

    plan = client.get(f"/vendor/dpa/assessments/{assessment_id}/prefill")
    assert plan.status_code == 200
    page = plan.get_data(as_text=True)
    assert "Mailer Inc." in page and "will be filled" in page and "kept (already answered)" in page
    assert _answers(app, assessment_id) == {"access_countries": ["FR"]}, "showing fills nothing"

    response = client.post(f"/vendor/dpa/assessments/{assessment_id}/prefill", data={})
    assert response.status_code == 302
    answers = _answers(app, assessment_id)
    assert answers["subprocessors"] == EXPECTED_ROWS
    assert answers["uses_subprocessors"] == "yes"
    assert answers["access_countries"] == ["FR"], "a given answer is kept without overwrite"
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "dpa.prefilled")).one()
        version = db.session.scalars(select(DpaVersion)).one()
        assert entry.details["sha256"] == version.sha256 and entry.details["overwrite"] is False
        assert set(entry.details["items"]) == {"subprocessors", "uses_subprocessors"}
        saved = db.session.scalars(select(AuditEntry.details).where(
            AuditEntry.action == "answer_saved")).all()
        assert {d["item"] for d in saved} == {"subprocessors", "uses_subprocessors"}, \
            "each answer went through the normal save service"


def test_overwrite_replaces_given_answers(app, client, world, login_as):
    assessment_id = _setup(app, world, answers={"access_countries": ["US"],
                                                "uses_subprocessors": "no"})
    login_as(world.user("a.vendor"))
    page = client.get(f"/vendor/dpa/assessments/{assessment_id}/prefill?overwrite=1")
    assert "will be replaced" in page.get_data(as_text=True)
    assert client.post(f"/vendor/dpa/assessments/{assessment_id}/prefill",
                       data={"overwrite": "y"}).status_code == 302
    answers = _answers(app, assessment_id)
    assert answers["access_countries"] == ["FR", "DE"]
    assert answers["uses_subprocessors"] == "yes"


def test_prefill_is_refused_when_it_cannot_apply(app, client, world, login_as):
    login_as(world.user("a.vendor"))
    no_dpa = _setup(app, world, publish=False)
    response = client.get(f"/vendor/dpa/assessments/{no_dpa}/prefill")
    assert response.status_code == 409 and "not published" in response.get_data(as_text=True)
    submitted = _setup(app, world, status=AssessmentStatus.SUBMITTED)
    assert client.post(f"/vendor/dpa/assessments/{submitted}/prefill").status_code == 409
    assert _answers(app, submitted) == {}
    overview = client.get(f"/vendor/assessments/{submitted}").get_data(as_text=True)
    assert "/prefill" not in overview, "no button when the answers cannot change"


def test_another_tenants_assessment_is_404(app, client, world, login_as):
    assessment_id = _setup(app, world)
    login_as(world.user("b.vendor"))
    assert client.get(f"/vendor/dpa/assessments/{assessment_id}/prefill").status_code == 404
    assert client.post(f"/vendor/dpa/assessments/{assessment_id}/prefill").status_code == 404
    login_as(world.user("b.admin"))
    assert client.get(f"/buyer/dpa/assessments/{assessment_id}/attach").status_code == 404


def test_buyer_attaches_a_version_and_reviewers_see_it(app, client, world, login_as):
    assessment_id = _setup(app, world)
    with app.app_context():
        version = db.session.scalars(select(DpaVersion)).one()
        version_id, sha = version.id, version.sha256
    login_as(world.user("a.assessor"))
    before = client.get(f"/buyer/assessments/{assessment_id}").get_data(as_text=True)
    assert "No DPA attached." in before
    form = client.get(f"/buyer/dpa/assessments/{assessment_id}/attach")
    assert form.status_code == 200 and "Version 1" in form.get_data(as_text=True)
    response = client.post(f"/buyer/dpa/assessments/{assessment_id}/attach",
                           data={"version_id": version_id})
    assert response.status_code == 302
    with app.app_context():
        link = db.session.scalars(select(AssessmentDpaLink)).one()
        assert (link.assessment_id, link.dpa_version_id) == (assessment_id, version_id)
        assert db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "dpa.attached")).one().details["sha256"] == sha
    page = client.get(f"/buyer/assessments/{assessment_id}").get_data(as_text=True)
    assert "Version 1 of the DPA of" in page and "Mailer Inc." in page and sha[:16] in page


def test_attaching_another_vendors_version_is_refused(app, client, world, login_as):
    assessment_id = _setup(app, world)
    with app.test_request_context():
        other = publish_dpa(None, db.session.get(Organisation, world["b"].vendor_org.id))
        other_id = other.id
    login_as(world.user("a.admin"))
    for bad in (other_id, 999_999, "abc", ""):
        response = client.post(f"/buyer/dpa/assessments/{assessment_id}/attach",
                               data={"version_id": bad})
        assert response.status_code == 422, bad
    with app.app_context():
        assert db.session.scalars(select(AssessmentDpaLink)).all() == []
