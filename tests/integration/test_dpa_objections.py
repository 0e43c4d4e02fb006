"""Art. 28(2) objections: within the period, e-mailed to the vendor, answered, both sides see it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.factories.accounts import make_user
from tests.factories.dpa import MAILER, OVH, complete_answers, publish_dpa
from tests.factories.dpa_relations import accept_version, object_to
from tests.integration.conftest import outbox
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry, Organisation, Role, User
from vendorcheck.models.dpa import DpaVersion
from vendorcheck.models.dpa_relations import DpaAcceptance, DpaObjection

REASONS = "Mailer Inc. is in the United States; our works council has not approved it."


def _world_with_change(app, world, *, change: bool = True) -> tuple[int, int]:
    """Vendor A publishes v1, buyer A accepts it, vendor A publishes v2; return (acceptance, v2)."""
    with app.test_request_context():
        vendor_org = db.session.get(Organisation, world["a"].vendor_org.id)
        v1 = publish_dpa(None, vendor_org, subprocessors=[OVH])
        acceptance = accept_version(v1, db.session.get(Organisation, world["a"].buyer.id),
                                    db.session.get(User, world.user("a.admin").id))
        answers = complete_answers([OVH, MAILER]) if change else complete_answers(
            [OVH], retention="Kept for the contract term; logs 6 months; backups 30 days.")
        v2 = publish_dpa(None, vendor_org, answers, apply_change=False)
        return acceptance.id, v2.id


def _objection_url(acceptance_id: int, number: int = 2) -> str:
    return f"/buyer/dpa/acceptances/{acceptance_id}/objections/v{number}"


def test_objection_then_vendor_response_both_ways(app, client, world, login_as):
    acceptance_id, v2_id = _world_with_change(app, world)
    login_as(world.user("a.legal"))
    page = client.get(_objection_url(acceptance_id))
    assert page.status_code == 200
    assert "Mailer Inc." in page.get_data(as_text=True)

    response = client.post(_objection_url(acceptance_id), data={"reasons": REASONS})
    assert response.status_code == 302
    with app.app_context():
        objection = db.session.scalars(select(DpaObjection)).one()
        version = db.session.get(DpaVersion, v2_id)
        assert (objection.dpa_version_id, objection.buyer_org_id) == (v2_id, world["a"].buyer.id)
        assert objection.vendor_org_id == world["a"].vendor_org.id
        assert objection.raised_by_id == world.user("a.legal").id and objection.reasons == REASONS
        assert objection.outcome is None and objection.vendor_response is None
        entry = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "dpa.objection_raised")).one()
        assert entry.details["version_sha256"] == version.sha256
        objection_id = objection.id
    assert response.headers["Location"].endswith(f"/buyer/dpa/objections/{objection_id}")
    raised = [m for m in outbox(app) if m.template == "dpa_objection_raised"]
    assert [m.to_email for m in raised] == ["contact@vendor-a.example"]
    assert REASONS in raised[0].body_text and f"/vendor/dpa/objections/{objection_id}" in \
        raised[0].body_text

    login_as(world.user("a.vendor"))
    listing = client.get("/vendor/dpa/objections").get_data(as_text=True)
    assert "Buyer A" in listing and "to answer" in listing
    detail = client.get(f"/vendor/dpa/objections/{objection_id}").get_data(as_text=True)
    assert "works council" in detail and "Send the response" in detail
    answer = client.post(f"/vendor/dpa/objections/{objection_id}", data={
        "response": "We will host your data with OVH only.", "outcome": "alternative_offered"})
    assert answer.status_code == 302
    with app.app_context():
        objection = db.session.get(DpaObjection, objection_id)
        assert objection.outcome == "alternative_offered"
        assert objection.responded_by_id == world.user("a.vendor").id
        assert objection.responded_at is not None
        assert db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "dpa.objection_answered")).one().details["outcome"] == \
            "alternative_offered"
    answered = [m for m in outbox(app) if m.template == "dpa_objection_response"]
    assert sorted(m.to_email for m in answered) == ["admin@a.example", "legal@a.example"]
    assert "Alternative offered" in answered[0].body_text

    again = client.post(f"/vendor/dpa/objections/{objection_id}", data={
        "response": "Changed my mind", "outcome": "maintained"})
    assert again.status_code == 409

    login_as(world.user("a.assessor"))
    thread = client.get(f"/buyer/dpa/objections/{objection_id}").get_data(as_text=True)
    assert "works council" in thread and "OVH only" in thread and "Alternative offered" in thread


def test_objecting_after_the_period_is_refused_clearly(app, client, world, login_as):
    acceptance_id, v2_id = _world_with_change(app, world)
    with app.app_context():
        version = db.session.get(DpaVersion, v2_id)
        version.published_at -= timedelta(days=version.objection_days, minutes=1)
        db.session.commit()
    login_as(world.user("a.admin"))
    page = client.get(_objection_url(acceptance_id))
    assert page.status_code == 409
    assert "objection period for this version has ended" in page.get_data(as_text=True)
    response = client.post(_objection_url(acceptance_id), data={"reasons": REASONS})
    assert response.status_code == 409
    with app.app_context():
        assert db.session.scalars(select(DpaObjection)).all() == []


def test_objecting_on_the_last_day_is_still_accepted(app, client, world, login_as):
    acceptance_id, v2_id = _world_with_change(app, world)
    with app.app_context():
        version = db.session.get(DpaVersion, v2_id)
        version.published_at -= timedelta(days=version.objection_days) - timedelta(minutes=5)
        db.session.commit()
    login_as(world.user("a.admin"))
    assert client.post(_objection_url(acceptance_id), data={"reasons": REASONS}).status_code == 302


def test_no_objection_without_a_subprocessor_change(app, client, world, login_as):
    acceptance_id, _v2 = _world_with_change(app, world, change=False)
    login_as(world.user("a.admin"))
    response = client.post(_objection_url(acceptance_id), data={"reasons": REASONS})
    assert response.status_code == 409
    assert "nothing to object to" in response.get_data(as_text=True)


def test_no_objection_to_the_accepted_version_itself(app, client, world, login_as):
    acceptance_id, _v2 = _world_with_change(app, world)
    login_as(world.user("a.admin"))
    assert client.post(_objection_url(acceptance_id, 1), data={"reasons": REASONS}).status_code \
        == 409
    assert client.get(_objection_url(acceptance_id, 3)).status_code == 404


def test_reasons_are_required(app, client, world, login_as):
    acceptance_id, _v2 = _world_with_change(app, world)
    login_as(world.user("a.admin"))
    for reasons in ("", "   ", "x" * 10_001):
        response = client.post(_objection_url(acceptance_id), data={"reasons": reasons})
        assert response.status_code == 422, len(reasons)
    with app.app_context():
        assert db.session.scalars(select(DpaObjection)).all() == []


def test_objecting_twice_shows_the_first_objection(app, client, world, login_as):
    acceptance_id, _v2 = _world_with_change(app, world)
    login_as(world.user("a.admin"))
    client.post(_objection_url(acceptance_id), data={"reasons": REASONS})
    again = client.post(_objection_url(acceptance_id), data={"reasons": "Another one"})
    assert again.status_code == 302 and "/buyer/dpa/objections/" in again.headers["Location"]
    with app.app_context():
        assert len(db.session.scalars(select(DpaObjection)).all()) == 1


def test_a_bad_outcome_is_refused(app, client, world, login_as):
    acceptance_id, v2_id = _world_with_change(app, world)
    with app.app_context():
        objection = object_to(db.session.get(DpaVersion, v2_id),
                              db.session.get(DpaAcceptance, acceptance_id),
                              db.session.get(User, world.user("a.admin").id))
        objection_id = objection.id
    login_as(world.user("a.vendor"))
    for outcome in ("", "approved", "x" * 40):
        response = client.post(f"/vendor/dpa/objections/{objection_id}",
                               data={"response": "No", "outcome": outcome})
        assert response.status_code == 422, outcome
    response = client.post(f"/vendor/dpa/objections/{objection_id}",
                           data={"response": "", "outcome": "maintained"})
    assert response.status_code == 422


def test_other_tenants_objections_are_404(app, client, world, login_as):
    acceptance_id, _v2 = _world_with_change(app, world)
    login_as(world.user("a.admin"))
    client.post(_objection_url(acceptance_id), data={"reasons": REASONS})
    with app.app_context():
        objection_id = db.session.scalars(select(DpaObjection.id)).one()
    login_as(world.user("b.admin"))
    assert client.get(f"/buyer/dpa/objections/{objection_id}").status_code == 404
    assert client.post(_objection_url(acceptance_id), data={"reasons": "x"}).status_code == 404
    login_as(world.user("b.vendor"))
    assert client.get(f"/vendor/dpa/objections/{objection_id}").status_code == 404
    assert client.post(f"/vendor/dpa/objections/{objection_id}", data={
        "response": "x", "outcome": "maintained"}).status_code == 404
    assert "CANARY-A" not in client.get("/vendor/dpa/objections").get_data(as_text=True)


def test_a_vendor_contributor_may_read_but_not_answer_and_the_refusal_is_logged(
        app, client, world, login_as):
    acceptance_id, v2_id = _world_with_change(app, world)
    with app.app_context():
        objection = object_to(db.session.get(DpaVersion, v2_id),
                              db.session.get(DpaAcceptance, acceptance_id),
                              db.session.get(User, world.user("a.admin").id))
        objection_id, reasons = objection.id, objection.reasons
        contributor = make_user("helper@vendor-a.example", role=Role.CONTRIBUTOR,
                                org=db.session.get(Organisation, world["a"].vendor_org.id))
    login_as(contributor)
    page = client.get(f"/vendor/dpa/objections/{objection_id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert reasons in text and "Send the response" not in text
    response = client.post(f"/vendor/dpa/objections/{objection_id}",
                           data={"response": "We keep it", "outcome": "maintained"})
    assert response.status_code == 403
    with app.app_context():
        assert db.session.get(DpaObjection, objection_id).responded_at is None
        denied = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "access_denied")).one()
        assert denied.details == {"status": 403, "target": "dpa.objections.respond"}
        assert denied.user_id == contributor.id
