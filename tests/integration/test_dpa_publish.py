"""DPA journey: draft → checks → publish → public pages → second version → diff; refusals."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.factories.dpa import MAILER, OVH, complete_answers, publish_dpa, set_draft_answers
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry, Organisation, OutboxMessage
from vendorcheck.models.assessments import Assessment
from vendorcheck.models.dpa import DpaProfile, DpaVersion
from vendorcheck.models.dpa_changes import DpaChangeProposal
from vendorcheck.services import dpa as svc
from vendorcheck.services import dpa_changes


def _vendor(world):
    return world.user("a.vendor")


def test_draft_checks_publish_and_second_version(app, client, world, login_as):
    login_as(_vendor(world))
    assert client.get("/vendor/dpa").status_code == 200
    response = client.post("/vendor/dpa/draft")
    assert response.status_code == 302
    assert "/vendor/assessments/" in response.headers["Location"]
    with app.app_context():
        org = db.session.get(Organisation, world["a"].vendor_org.id)
        bad = complete_answers([dict(MAILER, transfer_tool="none")], breach_notice_hours="96",
                               audit_model="documents_only")
        set_draft_answers(org, bad)
    page = client.get("/vendor/dpa").get_data(as_text=True)
    assert "Mailer Inc." in page and "outside the EEA without a transfer tool" in page
    assert "reports and questionnaires may answer an audit request, not replace it" in page
    assert "#q-audit_model" in page
    assert "above 72 hours" in page  # a long outer limit is a warning (Art. 33(2)), not a block
    refused = client.post("/vendor/dpa/publish", data={"confirm": "y"})
    assert refused.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count(DpaVersion.id))) == 0
        set_draft_answers(db.session.get(Organisation, world["a"].vendor_org.id),
                          complete_answers([OVH]))
    assert "No problem found" in client.get("/vendor/dpa").get_data(as_text=True)
    assert client.post("/vendor/dpa/publish", data={}).status_code == 303  # no confirmation
    with app.app_context():
        assert db.session.scalar(select(func.count(DpaVersion.id))) == 0
    assert client.post("/vendor/dpa/publish", data={"confirm": "y"}).status_code == 303
    with app.app_context():
        v1 = db.session.scalar(select(DpaVersion))
        assert v1.number == 1 and len(v1.sha256) == 64
        slug = v1.profile.slug
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "dpa.published"))
        set_draft_answers(db.session.get(Organisation, world["a"].vendor_org.id),
                          complete_answers([OVH, MAILER]))
        v1_id = v1.id
    # A new sub-processor is never published directly: it is proposed, then takes effect.
    refused = client.post("/vendor/dpa/publish", data={"confirm": "y"}, follow_redirects=True)
    assert "This version changes your sub-processors" in refused.get_data(as_text=True)
    assert client.post(f"/vendor/dpa/versions/{v1_id}/propose",
                       data={"confirm": "y"}).status_code == 303
    login_as(None)
    assert "Mailer Inc." not in client.get(f"/dpa/{slug}").get_data(as_text=True), \
        "a proposed change is not in force before its effective date"
    with app.app_context():
        proposal = db.session.scalars(select(DpaChangeProposal)).one()
        dpa_changes.apply_due(now=proposal.effective_at)
    latest = client.get(f"/dpa/{slug}")
    assert latest.status_code == 200
    assert "Mailer Inc." in latest.get_data(as_text=True)
    assert "Mailer Inc." not in client.get(f"/dpa/{slug}/v1").get_data(as_text=True)
    diff = client.get(f"/dpa/{slug}/diff?from=1&to=2").get_data(as_text=True)
    assert "Mailer Inc." in diff and "Added" in diff
    assert "Annex IV" in client.get(f"/dpa/{slug}/v2").get_data(as_text=True)


def test_identical_content_is_refused(app, world):
    with app.app_context():
        version = publish_dpa(world, world["a"].vendor_org)
        profile = db.session.get(DpaProfile, version.profile_id)
        user = db.session.get(type(world.user("a.vendor")), world.user("a.vendor").id)
        with pytest.raises(svc.NothingChanged, match="Nothing changed"):
            svc.publish(profile, by=user)
        assert db.session.scalar(select(func.count(DpaVersion.id))) == 1


def test_identical_publish_from_the_page_shows_the_message(app, client, world, login_as):
    with app.app_context():
        publish_dpa(world, world["a"].vendor_org)
    login_as(_vendor(world))
    response = client.post("/vendor/dpa/publish", data={"confirm": "y"}, follow_redirects=True)
    assert "Nothing changed since the latest published version" in response.get_data(as_text=True)


def test_versions_are_numbered_per_profile_and_keep_their_content(app, world):
    with app.app_context():
        a1 = publish_dpa(world, world["a"].vendor_org)
        b1 = publish_dpa(world, world["b"].vendor_org)
        a2 = publish_dpa(world, world["a"].vendor_org, subprocessors=[OVH, MAILER])
        assert (a1.number, b1.number, a2.number) == (1, 1, 2)
        assert [r["name"] for r in a1.content["subprocessors"]] == ["OVH SAS"]
        assert a1.sha256 != a2.sha256
        assert a2.content["clauses"]["transfers_outside_eea"] is True


def test_draft_is_invisible_to_buyers(app, client, world, login_as):
    with app.app_context():
        set_draft_answers(db.session.get(Organisation, world["a"].vendor_org.id),
                          complete_answers([OVH], subject_matter="DRAFT-CANARY subject matter"))
        draft = db.session.scalar(select(Assessment).where(
            Assessment.questionnaire_id == "dpa-questionnaire"))
        draft_id = draft.id
        assert svc.is_dpa_draft(draft)
    for actor in ("a.admin", "a.assessor", "b.admin"):
        login_as(world.user(actor))
        for path in ("/buyer/vendors", "/review/assessments"):
            response = client.get(path)
            assert response.status_code in (200, 302, 404)
            assert "DRAFT-CANARY" not in response.get_data(as_text=True)
        assert client.get(f"/review/assessments/{draft_id}").status_code == 404
    login_as(world.user("b.vendor"))
    assert client.get(f"/vendor/assessments/{draft_id}").status_code == 404
    login_as(world.user("a.vendor"))
    assert client.get(f"/vendor/assessments/{draft_id}").status_code == 200


def test_draft_answers_never_reach_public_pages(app, client, world):
    with app.app_context():
        version = publish_dpa(world, world["a"].vendor_org)
        slug = version.profile.slug
        set_draft_answers(db.session.get(Organisation, world["a"].vendor_org.id), complete_answers(
            [dict(OVH, name="CANARY-DRAFT Hosting")], purpose="CANARY-DRAFT purpose"))
    for path in (f"/dpa/{slug}", f"/dpa/{slug}/v1", f"/dpa/{slug}/versions",
                 f"/dpa/{slug}/subprocessors", f"/dpa/{slug}/subprocessors.json",
                 f"/dpa/{slug}/subprocessors.atom"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "CANARY-DRAFT" not in response.get_data(as_text=True), path


def test_settings_change_slug_and_objection_days(app, client, world, login_as):
    with app.app_context():
        publish_dpa(world, world["a"].vendor_org)
    login_as(_vendor(world))
    response = client.post("/vendor/dpa/settings", data={"slug": "acme-hosting",
                                                         "objection_days": "45"})
    assert response.status_code == 303
    assert client.get("/dpa/acme-hosting").status_code == 200
    # The draft gives 30 days' notice of sub-processor changes: a shorter objection period, or
    # none at all, would let a change take effect before the controller could object.
    for days, message in (("14", "(14 days) is shorter than the notice period of your DPA (30 "
                                 "days)"), ("0", "between 1 and 365")):
        refused = client.post("/vendor/dpa/settings", data={"slug": "acme-hosting",
                                                            "objection_days": days},
                              follow_redirects=True)
        assert message in refused.get_data(as_text=True), days
    bad = client.post("/vendor/dpa/settings", data={"slug": "Bad Slug!", "objection_days": "14"},
                      follow_redirects=True)
    assert "lower-case letters" in bad.get_data(as_text=True)
    days = client.post("/vendor/dpa/settings", data={"slug": "acme-hosting",
                                                     "objection_days": "999"},
                       follow_redirects=True)
    assert "between 1 and 365" in days.get_data(as_text=True)
    with app.app_context():
        profile = db.session.scalar(select(DpaProfile))
        assert (profile.slug, profile.objection_days) == ("acme-hosting", 45)


def test_slug_taken_by_another_vendor_is_refused(app, client, world, login_as):
    with app.app_context():
        taken = publish_dpa(world, world["b"].vendor_org).profile.slug
        publish_dpa(world, world["a"].vendor_org)
    login_as(_vendor(world))
    response = client.post("/vendor/dpa/settings", data={"slug": taken, "objection_days": "30"},
                           follow_redirects=True)
    assert "already used" in response.get_data(as_text=True)


def test_a_vendor_cannot_publish_for_another_org(app, client, world, login_as):
    """Publishing acts on the active organisation only; other tenants' drafts stay untouched."""
    with app.app_context():
        set_draft_answers(db.session.get(Organisation, world["a"].vendor_org.id),
                          complete_answers([OVH]))
        draft_id = db.session.scalar(select(Assessment.id))
    login_as(world.user("b.vendor"))
    assert client.get(f"/vendor/assessments/{draft_id}").status_code == 404
    assert client.post(f"/vendor/assessments/{draft_id}/sections/parties",
                       data={"processor_legal_name": "Hijack"}).status_code == 404
    client.post("/vendor/dpa/publish", data={"confirm": "y"})
    with app.app_context():
        assert db.session.scalar(select(func.count(DpaVersion.id))) == 0


def test_buyers_and_contributors_cannot_publish(app, client, world, login_as):
    with app.app_context():
        set_draft_answers(db.session.get(Organisation, world["a"].vendor_org.id),
                          complete_answers([OVH]))
    login_as(world.user("a.admin"))
    assert client.post("/vendor/dpa/publish", data={"confirm": "y"}).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count(DpaVersion.id))) == 0


def test_generic_submit_of_the_draft_sends_nothing_and_reopens(app, client, world, login_as):
    with app.app_context():
        set_draft_answers(db.session.get(Organisation, world["a"].vendor_org.id),
                          complete_answers([OVH]))
        draft_id = db.session.scalar(select(Assessment.id))
    login_as(_vendor(world))
    response = client.post(f"/vendor/assessments/{draft_id}/submit",
                           data={"name": "Claire", "role": "Counsel", "statement": "y"})
    assert response.status_code in (302, 303)
    with app.app_context():
        assert db.session.get(Assessment, draft_id).status.value == "submitted"
        assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0
    assert client.get("/vendor/dpa/draft").status_code == 302
    with app.app_context():
        assert db.session.get(Assessment, draft_id).status.value == "in_progress"


def test_draft_is_answered_with_the_vendor_pages_and_previewed(app, client, world, login_as):
    login_as(_vendor(world))
    location = client.post("/vendor/dpa/draft").headers["Location"]
    draft_id = int(location.rstrip("/").rsplit("/", 1)[1])
    assert client.get(f"/vendor/assessments/{draft_id}/sections/parties").status_code == 200
    response = client.post(f"/vendor/assessments/{draft_id}/autosave", json={
        "item_id": "processor_legal_name", "value": "Autosaved Hosting SAS", "version": None,
        "request_id": "dpa-autosave-1"})
    assert response.status_code == 200, response.get_data(as_text=True)
    preview = client.get("/vendor/dpa/preview").get_data(as_text=True)
    assert "Autosaved Hosting SAS" in preview and "not published" in preview
    assert "Your DPA" in client.get("/vendor/dpa").get_data(as_text=True)


def test_contributor_drafts_but_cannot_publish(app, client, world, login_as):
    from tests.factories.accounts import make_user
    from vendorcheck.models import Role

    with app.app_context():
        org = db.session.get(Organisation, world["a"].vendor_org.id)
        set_draft_answers(org, complete_answers([OVH]))
        contributor = make_user("helper@vendor-a.example", org=org, role=Role.CONTRIBUTOR)
    login_as(contributor)
    page = client.get("/vendor/dpa")
    assert page.status_code == 200
    assert "/vendor/dpa/publish" not in page.get_data(as_text=True)
    assert client.get("/vendor/dpa/preview").status_code == 200
    assert client.post("/vendor/dpa/publish", data={"confirm": "y"}).status_code == 403
    assert client.post("/vendor/dpa/settings", data={"slug": "taken-over",
                                                     "objection_days": "1"}).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count(DpaVersion.id))) == 0
