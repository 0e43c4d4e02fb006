"""Proposed sub-processor changes (Art. 28(2) GDPR): announced, objected to or authorised,
applied at their effective date buyer by buyer, or withdrawn before it."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.factories.accounts import make_org, make_user
from tests.factories.dpa import (
    MAILER,
    NEWCO,
    OVH,
    REQUEST_DAYS,
    complete_answers,
    publish_dpa,
    set_draft_answers,
)
from tests.factories.dpa_relations import accept_version, subscribe
from tests.integration.conftest import outbox
from vendorcheck.agreement.assemble import KIND_TEMPLATES, KINDS, content_sha256
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry, Organisation, Role, User, utcnow
from vendorcheck.models.dpa import DpaProfile, DpaVersion
from vendorcheck.models.dpa_changes import (
    DpaChangeConsent,
    DpaChangeOutcome,
    DpaChangeProposal,
)
from vendorcheck.models.dpa_relations import DpaAcceptance, DpaObjection
from vendorcheck.services import dpa as dpa_svc
from vendorcheck.services import dpa_changes, dpa_notify, dpa_proposals, reminders

ATOM = "{http://www.w3.org/2005/Atom}"
# A version stored before the two kinds of document (no kind, no stated objection period).
LEGACY = Path(__file__).resolve().parents[1] / "unit" / "dpa" / "golden" / "legacy"
SHORTER = "objection period (10 days) is shorter than the notice period of your DPA (30 days)"
REASONS = "Mailer Inc. is in the United States; our works council has not approved it."


# ------------------------------------------------------------------------------ helpers

def _org(world, key="a"):
    return db.session.get(Organisation, world[key].vendor_org.id)


def _buyer(name: str, slug: str, *, locale: str = "en") -> tuple[int, int, int]:
    """Create a buyer organisation with an admin and a legal member; return their ids."""
    org = make_org(name, slug=slug)
    admin = make_user(f"admin@{slug}.example", org=org, role=Role.ADMIN, name=f"{name} Admin",
                      locale=locale)
    legal = make_user(f"legal@{slug}.example", org=org, role=Role.LEGAL, name=f"{name} Legal",
                      locale=locale)
    return org.id, admin.id, legal.id


def _specific(subprocessors):
    """Return publishable answers under prior specific authorisation."""
    answers = complete_answers(subprocessors, subprocessor_authorisation="specific",
                               authorisation_request_days=REQUEST_DAYS)
    answers.pop("notice_days", None)  # only asked under general authorisation
    return answers


def _accept(version_id: int, buyer_id: int, user_id: int) -> int:
    acceptance = accept_version(db.session.get(DpaVersion, version_id),
                                db.session.get(Organisation, buyer_id),
                                db.session.get(User, user_id))
    return acceptance.id


def _freeze(monkeypatch, moment: datetime) -> None:
    """Freeze the clock of the proposed-change service (pages apply due changes with it)."""
    monkeypatch.setattr(dpa_changes, "utcnow", lambda: moment)


def _proposal(app) -> DpaChangeProposal:
    with app.app_context():
        proposal = db.session.scalars(select(DpaChangeProposal)
                                      .order_by(DpaChangeProposal.id.desc())).first()
        db.session.expunge(proposal)
        return proposal


def _in_force(app, buyer_id: int, profile_id: int) -> int | None:
    with app.app_context():
        version = dpa_proposals.in_force_version(buyer_id, profile_id)
        return version.number if version else None


def _current_table(page: str) -> str:
    """Return the part of the public sub-processor page that lists the list in force."""
    current = page.split("Current sub-processors", 1)[1]
    return current.split("Proposed change, not in force yet", 1)[0].split(
        "Be told of sub-processor", 1)[0]


def _with_pending_general(app, world):
    """v1 (OVH) in force and accepted by buyer A; v2 (adds Mailer) proposed. Return ids."""
    with app.test_request_context():
        v1 = publish_dpa(None, _org(world), subprocessors=[OVH])
        acceptance_id = _accept(v1.id, world["a"].buyer.id, world.user("a.admin").id)
        v2 = publish_dpa(None, _org(world), subprocessors=[OVH, MAILER], apply_change=False)
        return {"slug": v1.profile.slug, "v1": v1.id, "v2": v2.id, "profile": v1.profile_id,
                "acceptance": acceptance_id}


# ------------------------------------------------------------------------------ general

def test_general_authorisation_flow_objection_silence_then_the_change_applies(
        app, client, world, login_as, monkeypatch):
    with app.test_request_context():
        v1 = publish_dpa(None, _org(world), subprocessors=[OVH])
        ids = {"v1": v1.id, "slug": v1.profile.slug, "profile": v1.profile_id}
        a_acceptance = _accept(v1.id, world["a"].buyer.id, world.user("a.legal").id)
        c_org, c_admin, _c_legal = _buyer("Buyer C", "buyer-c")
        _accept(v1.id, c_org, c_admin)
        subscribe(world["a"].vendor_org.id, "reader@example.org", locale="fr")
        set_draft_answers(_org(world), complete_answers([OVH, MAILER]))
    slug = ids["slug"]

    login_as(world.user("a.vendor"))
    page = client.get("/vendor/dpa/changes").get_data(as_text=True)
    assert "Mailer Inc." in page and "Announce the change" in page
    assert "General authorisation" in page
    assert "Objection period of your DPA" in page, "version 1 prints its objection period"
    response = client.post(f"/vendor/dpa/versions/{ids['v1']}/propose", data={"confirm": "y"})
    assert response.status_code == 303
    proposal = _proposal(app)
    assert response.headers["Location"].endswith(f"/vendor/dpa/changes/{proposal.id}")
    with app.app_context():
        proposal = db.session.get(DpaChangeProposal, proposal.id)
        version = proposal.version
        assert (proposal.status, proposal.authorisation) == ("pending", "general")
        assert (proposal.notice_days, proposal.objection_days) == (30, 30)
        deadline = version.published_at + timedelta(days=30)
        assert proposal.objection_deadline == deadline
        assert proposal.effective_at == datetime.combine(
            deadline.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        assert proposal.effective_at > deadline, "the change takes effect after the deadline"
        assert version.number == 2 and version.content["subprocessors"][1]["name"] == "Mailer Inc."
        assert db.session.scalar(select(AuditEntry).where(
            AuditEntry.action == "dpa.change_proposed")).details["added"] == ["Mailer Inc."]
        effective_at, v2_id = proposal.effective_at, version.id
        deadline_en = dpa_notify.utc_text(deadline, "en")
        effective_en = dpa_notify.utc_text(effective_at, "en")
        deadline_fr = dpa_notify.utc_text(deadline, "fr")
        effective_fr = dpa_notify.utc_text(effective_at, "fr")

    # Notices go out at once: the proposed change, its deadline and its effective date (UTC).
    notices = [m for m in outbox(app) if m.template == "dpa_subprocessor_change"]
    assert sorted(m.to_email for m in notices) == [
        "admin@a.example", "admin@buyer-c.example", "legal@a.example", "legal@buyer-c.example",
        "reader@example.org"], "subscribers and accepting buyers' admins and legal members"
    to_a = next(m for m in notices if m.to_email == "legal@a.example")
    assert "proposes to change its sub-processors" in to_a.body_text
    assert f"until {deadline_en}" in to_a.body_text and effective_en in to_a.body_text
    assert "UTC" in to_a.subject and "Mailer Inc." in to_a.body_text
    assert f"/buyer/dpa/acceptances/{a_acceptance}/objections/v2" in to_a.body_text
    to_reader = next(m for m in notices if m.to_email == "reader@example.org")
    assert to_reader.locale == "fr"
    assert deadline_fr in to_reader.body_text and effective_fr in to_reader.body_text
    assert "Date d'effet" in to_reader.body_text, "in the subscriber's language"

    # Public pages: the announced change is shown apart from the list in force.
    login_as(None)
    public = client.get(f"/dpa/{slug}/subprocessors?lang=en").get_data(as_text=True)
    assert "Proposed change, not in force yet" in public and effective_en in public
    assert "Mailer Inc." not in _current_table(public)
    body = json.loads(client.get(f"/dpa/{slug}/subprocessors.json").get_data(as_text=True))
    assert body["version"] == 1 and [r["name"] for r in body["subprocessors"]] == ["OVH SAS"]
    [pending] = body["proposed_changes"]
    assert pending["version"] == 2 and pending["authorisation"] == "general"
    assert pending["effective_at"] == effective_at.isoformat().replace("+00:00", "Z")
    assert [r["name"] for r in pending["added"]] == ["Mailer Inc."]
    feed = ET.fromstring(client.get(f"/dpa/{slug}/subprocessors.atom").get_data())
    ids_in_feed = [e.find(f"{ATOM}id").text for e in feed.findall(f"{ATOM}entry")]
    assert any(i.endswith("/v2#proposed") for i in ids_in_feed)
    v2_page = client.get(f"/dpa/{slug}/v2?lang=en").get_data(as_text=True)
    assert "not in force yet" in v2_page and effective_en in v2_page
    assert "Mailer Inc." not in client.get(f"/dpa/{slug}?lang=en").get_data(as_text=True)

    # Buyer A objects (the existing objection flow); buyer C stays silent.
    login_as(world.user("a.legal"))
    assert "Accept on behalf of" not in client.get(f"/dpa/{slug}/v2").get_data(as_text=True)
    with app.app_context():
        v2_sha = db.session.get(DpaVersion, v2_id).sha256
    refused = client.post(f"/buyer/dpa/{slug}/v2/accept", data={
        "signer_name": "Lea", "signer_role": "Counsel", "authorised": "y",
        "controller_name": "Buyer A SA", "controller_address": "1 place du Marché, 69001 Lyon",
        "contact_name": "Lea, Counsel", "contact_email": "legal@buyer-a.example",
        "version_sha256": v2_sha})
    assert refused.status_code == 409 and "not in force" in refused.get_data(as_text=True)
    listing = client.get("/buyer/dpa").get_data(as_text=True)
    assert "Proposed sub-processor changes" in listing and effective_en in listing
    assert client.post(f"/buyer/dpa/acceptances/{a_acceptance}/objections/v2",
                       data={"reasons": REASONS}).status_code == 302

    login_as(world.user("a.vendor"))
    detail = client.get(f"/vendor/dpa/changes/{proposal.id}").get_data(as_text=True)
    assert "Buyer A" in detail and "Objected on" in detail and "Buyer C" in detail
    assert "No objection" in detail
    assert "version 1 stays in force (objected)" in detail and "version 2 applies" in detail

    # The effective date comes: the first page view applies the change (no job has run).
    _freeze(monkeypatch, effective_at + timedelta(minutes=1))
    login_as(None)
    public = client.get(f"/dpa/{slug}/subprocessors?lang=en").get_data(as_text=True)
    assert "Mailer Inc." in _current_table(public)
    assert "Proposed change, not in force yet" not in public
    body = json.loads(client.get(f"/dpa/{slug}/subprocessors.json").get_data(as_text=True))
    assert body["version"] == 2 and body["proposed_changes"] == []
    assert "Mailer Inc." in client.get(f"/dpa/{slug}?lang=en").get_data(as_text=True)

    # Which buyer is on which version: the objector stays on v1, the silent buyer moves to v2.
    assert _in_force(app, world["a"].buyer.id, ids["profile"]) == 1
    assert _in_force(app, c_org, ids["profile"]) == 2
    with app.app_context():
        outcomes = {o.buyer_org_id: o.result for o in db.session.scalars(select(DpaChangeOutcome))}
        assert outcomes == {world["a"].buyer.id: "kept_objected", c_org: "moved"}
        assert db.session.get(DpaChangeProposal, proposal.id).status == "applied"
        entry = db.session.scalar(select(AuditEntry).where(
            AuditEntry.action == "dpa.change_applied"))
        assert entry.details["results"] == {"kept_objected": 1, "moved": 1}
    applied = [m for m in outbox(app) if m.template == "dpa_change_applied"]
    to_a = [m for m in applied if m.organisation_id == world["a"].buyer.id]
    to_c = [m for m in applied if m.organisation_id == c_org]
    assert to_a and all("version 1 stays in force" in m.body_text for m in to_a)
    assert to_c and all("Version 2 now applies to Buyer C" in m.body_text for m in to_c)

    # The vendor sees the objection to resolve; withdrawing after the date is refused.
    login_as(world.user("a.vendor"))
    assert "to answer" in client.get("/vendor/dpa/objections").get_data(as_text=True)
    late = client.post(f"/vendor/dpa/changes/{proposal.id}/withdraw", data={})
    assert late.status_code == 409
    assert "took effect" in late.get_data(as_text=True)
    login_as(world.user("a.assessor"))
    assert "Newer version available: 2" in client.get("/buyer/dpa").get_data(as_text=True)


def test_the_daily_job_and_the_command_apply_due_changes(app, world, runner, monkeypatch):
    ids = _with_pending_general(app, world)
    proposal = _proposal(app)
    before = proposal.effective_at - timedelta(minutes=1)
    result = runner.invoke(args=["dpa", "apply-changes", "--now",
                                 before.strftime("%Y-%m-%dT%H:%M")])
    assert result.exit_code == 0 and "0 sub-processor change(s) took effect." in result.output
    assert _proposal(app).status == "pending"
    result = runner.invoke(args=["dpa", "apply-changes", "--now",
                                 proposal.effective_at.strftime("%Y-%m-%dT%H:%M")])
    assert result.exit_code == 0, result.output
    assert "version 2 in force since" in result.output and "1 sub-processor change(s)" in \
        result.output
    assert _in_force(app, world["a"].buyer.id, ids["profile"]) == 2, "silence: the change applies"
    again = runner.invoke(args=["dpa", "apply-changes"])
    assert "0 sub-processor change(s) took effect." in again.output, "applied once only"


def test_the_reminders_daily_job_also_applies_changes(app, world, monkeypatch):
    _with_pending_general(app, world)
    _freeze(monkeypatch, _proposal(app).effective_at)
    with app.app_context():
        reminders._apply_dpa_changes()
    assert _proposal(app).status == "applied"


def test_a_proposal_changes_only_the_subprocessors_and_other_edits_wait(app, client, world,
                                                                         login_as, monkeypatch):
    with app.test_request_context():
        v1 = publish_dpa(None, _org(world), subprocessors=[OVH])
        set_draft_answers(_org(world), complete_answers(
            [OVH, MAILER], retention="Kept for the contract term; logs 6 months."))
        slug, v1_id, v1_content = v1.profile.slug, v1.id, v1.content
    login_as(world.user("a.vendor"))
    assert client.post(f"/vendor/dpa/versions/{v1_id}/propose",
                       data={"confirm": "y"}).status_code == 303
    proposal = _proposal(app)
    with app.app_context():
        content = db.session.get(DpaVersion, proposal.version_id).content
        assert content["processing"] == v1_content["processing"], "other edits stay in the draft"
        assert content["clauses"]["transfers_outside_eea"] is True, "Mailer is in the US"
        assert v1_content["clauses"]["transfers_outside_eea"] is False
    blocked = client.post("/vendor/dpa/publish", data={"confirm": "y"}, follow_redirects=True)
    assert "takes effect on" in blocked.get_data(as_text=True)
    _freeze(monkeypatch, proposal.effective_at)
    assert client.post("/vendor/dpa/publish", data={"confirm": "y"}).status_code == 303
    with app.app_context():
        v3 = db.session.scalar(select(DpaVersion).where(DpaVersion.number == 3))
        assert v3 is not None and "6 months" in v3.content["processing"]["retention"]
        assert [r["name"] for r in v3.content["subprocessors"]] == ["OVH SAS", "Mailer Inc."]
    versions = client.get(f"/dpa/{slug}/versions").get_data(as_text=True)
    assert "Changes from version 2" in versions


# ------------------------------------------------------------------------------ specific

def test_specific_authorisation_needs_each_buyers_written_consent(app, client, world, login_as,
                                                                   runner):
    with app.test_request_context():
        v1 = publish_dpa(None, _org(world), _specific([OVH]))
        profile_id, slug = v1.profile_id, v1.profile.slug
        a_acceptance = _accept(v1.id, world["a"].buyer.id, world.user("a.admin").id)
        c_org, c_admin, _c = _buyer("Buyer C", "buyer-c")
        _accept(v1.id, c_org, c_admin)
        d_org, d_admin, d_legal = _buyer("Buyer D", "buyer-d")
        d_acceptance = _accept(v1.id, d_org, d_admin)
        v2 = publish_dpa(None, _org(world), _specific([OVH, MAILER]), apply_change=False)
        v2_sha = v2.sha256
    proposal = _proposal(app)
    assert proposal.authorisation == "specific" and proposal.notice_days is None

    notices = [m for m in outbox(app) if m.template == "dpa_subprocessor_change"
               and m.to_email == "admin@a.example"]
    [notice] = notices
    assert f"/buyer/dpa/acceptances/{a_acceptance}/authorisations/v2" in notice.body_text
    assert "/objections/" not in notice.body_text
    assert "not authorised for your organisation until you authorise them" in notice.body_text

    # Buyer A authorises in writing, with a reason; objecting is not the way under this model.
    login_as(world.user("a.legal"))
    url = f"/buyer/dpa/acceptances/{a_acceptance}/authorisations/v2"
    page = client.get(url)
    assert page.status_code == 200 and "We authorise this change" in page.get_data(as_text=True)
    assert client.post(url, data={}).status_code == 422
    assert client.post(url, data={"decision": "maybe"}).status_code == 422
    response = client.post(url, data={"decision": "authorised",
                                      "reason": "Reviewed by our DPO on 3 December."})
    assert response.status_code == 303
    with app.app_context():
        consent = db.session.scalars(select(DpaChangeConsent)).one()
        assert (consent.buyer_org_id, consent.decision) == (world["a"].buyer.id, "authorised")
        assert consent.decided_by_id == world.user("a.legal").id
        assert consent.decided_by_name == world.user("a.legal").name
        assert consent.version_sha256 == v2_sha and consent.decided_at is not None
        assert consent.reason == "Reviewed by our DPO on 3 December."
        entry = db.session.scalar(select(AuditEntry).where(
            AuditEntry.action == "dpa.change_authorised"))
        assert entry.user_id == world.user("a.legal").id
        assert entry.details["version_sha256"] == v2_sha
    again = client.post(url, data={"decision": "refused"})
    assert again.status_code == 409 and "already recorded" in again.get_data(as_text=True)
    objection = client.post(f"/buyer/dpa/acceptances/{a_acceptance}/objections/v2",
                            data={"reasons": REASONS})
    assert objection.status_code == 409

    # Buyer D refuses without a reason; buyer C says nothing.
    with app.app_context():
        legal_d = db.session.get(User, d_legal)
    login_as(legal_d)
    assert client.post(f"/buyer/dpa/acceptances/{d_acceptance}/authorisations/v2",
                       data={"decision": "refused"}).status_code == 303

    login_as(world.user("a.vendor"))
    detail = client.get(f"/vendor/dpa/changes/{proposal.id}").get_data(as_text=True)
    assert "Authorised in writing on" in detail and "Reviewed by our DPO" in detail
    assert "Refused on" in detail and "No answer: not authorised" in detail
    assert "version 1 stays in force (not authorised)" in detail

    result = runner.invoke(args=["dpa", "apply-changes", "--now",
                                 proposal.effective_at.strftime("%Y-%m-%dT%H:%M")])
    assert result.exit_code == 0, result.output
    assert _in_force(app, world["a"].buyer.id, profile_id) == 2, "authorised: moved"
    assert _in_force(app, c_org, profile_id) == 1, "silence is not consent"
    assert _in_force(app, d_org, profile_id) == 1, "refused"
    with app.app_context():
        outcomes = {o.buyer_org_id: o.result for o in db.session.scalars(select(DpaChangeOutcome))}
    assert outcomes == {world["a"].buyer.id: "moved", c_org: "kept_not_authorised",
                        d_org: "kept_refused"}
    silent = [m for m in outbox(app) if m.template == "dpa_change_applied"
              and m.organisation_id == c_org]
    assert silent and "silence is not consent" in silent[0].body_text

    login_as(world.user("a.legal"))
    closed = client.post(f"/buyer/dpa/acceptances/{a_acceptance}/authorisations/v2",
                         data={"decision": "authorised"})
    assert closed.status_code == 409
    login_as(None)
    assert "Mailer Inc." in client.get(f"/dpa/{slug}/subprocessors").get_data(as_text=True)


def test_the_first_subprocessor_always_needs_specific_authorisation(app, world):
    """With no sub-processor in force there is no list authorised in general (Art. 28(2))."""
    with app.test_request_context():
        v1 = publish_dpa(None, _org(world), subprocessors=[])
        _accept(v1.id, world["a"].buyer.id, world.user("a.admin").id)
        publish_dpa(None, _org(world), subprocessors=[OVH], apply_change=False)
    proposal = _proposal(app)
    assert proposal.authorisation == "specific"
    with app.app_context():
        dpa_changes.apply_due(now=proposal.effective_at)
    assert _in_force(app, world["a"].buyer.id, proposal.profile_id) == 1


# ------------------------------------------------------------------------------ withdrawing

def test_withdrawing_before_the_effective_date(app, client, world, login_as, monkeypatch):
    ids = _with_pending_general(app, world)
    with app.app_context():
        subscribe(world["a"].vendor_org.id, "reader@example.org")
    proposal = _proposal(app)
    login_as(world.user("a.vendor"))
    page = client.get(f"/vendor/dpa/changes/{proposal.id}").get_data(as_text=True)
    assert "Withdraw the change" in page
    response = client.post(f"/vendor/dpa/changes/{proposal.id}/withdraw",
                           data={"reason": "We keep our own mail servers."})
    assert response.status_code == 303
    withdrawn = _proposal(app)
    assert withdrawn.status == "withdrawn" and withdrawn.withdrawal_reason
    notices = [m for m in outbox(app) if m.template == "dpa_change_withdrawn"]
    assert sorted(m.to_email for m in notices) == ["admin@a.example", "legal@a.example",
                                                   "reader@example.org"]
    assert "We keep our own mail servers." in notices[0].body_text
    again = client.post(f"/vendor/dpa/changes/{proposal.id}/withdraw", data={})
    assert again.status_code == 409 and "was withdrawn on" in again.get_data(as_text=True)

    _freeze(monkeypatch, proposal.effective_at + timedelta(days=1))
    login_as(None)
    slug = ids["slug"]
    assert "Withdrawn proposal" in client.get(f"/dpa/{slug}/v2").get_data(as_text=True)
    body = json.loads(client.get(f"/dpa/{slug}/subprocessors.json").get_data(as_text=True))
    assert body["version"] == 1 and body["proposed_changes"] == []
    feed = ET.fromstring(client.get(f"/dpa/{slug}/subprocessors.atom").get_data())
    assert any(e.find(f"{ATOM}id").text.endswith("/v2#withdrawn")
               for e in feed.findall(f"{ATOM}entry"))
    assert "withdrawn, never in force" in client.get(f"/dpa/{slug}/versions").get_data(
        as_text=True)
    assert _in_force(app, world["a"].buyer.id, ids["profile"]) == 1
    login_as(world.user("a.admin"))
    objection = client.post(f"/buyer/dpa/acceptances/{ids['acceptance']}/objections/v2",
                            data={"reasons": REASONS})
    assert objection.status_code == 409

    # A new proposal after the withdrawn one is compared with the version in force (v1).
    with app.test_request_context():
        v3 = publish_dpa(None, _org(world), subprocessors=[OVH, NEWCO], apply_change=False)
        assert v3.number == 3
        assert dpa_proposals.changes_of(dpa_proposals.proposal_of_version(v3.id)).added[0][
            "name"] == "NewCo GmbH"


# ------------------------------------------------------------------------------ bad input

def _draft_with_mailer(app, world, **settings):
    with app.test_request_context():
        v1 = publish_dpa(None, _org(world), subprocessors=[OVH])
        profile = db.session.get(DpaProfile, v1.profile_id)
        for key, value in settings.items():
            setattr(profile, key, value)
        db.session.commit()
        set_draft_answers(_org(world), complete_answers([OVH, MAILER]))
        return v1.id


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(model.id)))


def _legacy_version_in_force(app, world, make_answers, **clauses) -> int:
    """Start the draft with `make_answers()`, then store version 1 as published before the kinds.

    Such a version states no objection period (the settings' applies) and may state periods the
    questionnaire then allowed (a 0-day notice). Return its id.
    """
    legacy = json.loads((LEGACY / "complete_eu_processor_is_low_risk.json").read_text("utf-8"))
    legacy["clauses"].update(clauses)
    with app.test_request_context():
        org = _org(world)
        set_draft_answers(org, make_answers())
        profile = dpa_svc.profile_of(org)
        q1 = app.extensions["questionnaires"].get("dpa-questionnaire", "1.0.0")
        version = DpaVersion(
            profile_id=profile.id, vendor_org_id=org.id, number=1, published_at=utcnow(),
            sha256=content_sha256(legacy), content=legacy, questionnaire_id=q1.id,
            questionnaire_version=q1.version, questionnaire_sha256=q1.sha256,
            objection_days=profile.objection_days)
        db.session.add(version)
        db.session.commit()
        return version.id


def test_an_objection_period_shorter_than_the_notice_is_refused(app, client, world, login_as):
    """The version in force (before the kinds) promises 30 days' notice and states no objection
    period; the vendor shortened its draft's notice to 10 days and the objection period with it.
    The change is governed by the 30 days in force: 10 days of objection do not cover them."""
    v1_id = _legacy_version_in_force(
        app, world, lambda: complete_answers([OVH, MAILER], notice_days=10))
    with app.test_request_context():
        profile = dpa_svc.profile_of(_org(world))
        dpa_svc.update_settings(profile, slug=profile.slug, objection_days="10",
                                by=db.session.get(User, world.user("a.vendor").id))
        assert dpa_svc.check_profile(profile).ok, "the draft itself is publishable"
    login_as(world.user("a.vendor"))
    page = client.get("/vendor/dpa/changes").get_data(as_text=True)
    assert SHORTER in page
    response = client.post(f"/vendor/dpa/versions/{v1_id}/propose", data={"confirm": "y"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert SHORTER in body and "Lengthen the objection period in the settings first." in body
    assert _count(app, DpaChangeProposal) == 0 and _count(app, DpaVersion) == 1


def test_the_draft_check_and_the_proposal_state_the_same_rule(app, client, world, login_as):
    """The draft's notice grew past the objection period after the settings were saved: the
    publication checks block the draft, hence the proposal, in the words the proposal uses."""
    _draft_with_mailer(app, world)
    with app.test_request_context():
        org = _org(world)
        set_draft_answers(org, complete_answers([OVH], notice_days=10))
        profile = dpa_svc.profile_of(org)
        dpa_svc.update_settings(profile, slug=profile.slug, objection_days="10",
                                by=db.session.get(User, world.user("a.vendor").id))
        set_draft_answers(org, complete_answers([OVH, MAILER]))  # 30 days' notice again
        v1_id = dpa_svc.latest_version(profile).id
    login_as(world.user("a.vendor"))
    assert SHORTER in client.get("/vendor/dpa").get_data(as_text=True)
    response = client.post(f"/vendor/dpa/versions/{v1_id}/propose", data={"confirm": "y"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert SHORTER in body and "or shorten the notice in the draft" in body
    refused = client.post("/vendor/dpa/settings", data={"slug": "acme-hosting",
                                                        "objection_days": "10"},
                          follow_redirects=True)
    assert SHORTER in refused.get_data(as_text=True), "the settings form says it too"
    assert _count(app, DpaChangeProposal) == 0


@pytest.mark.parametrize("draft_model", ["general", "specific"])
def test_no_objection_period_under_general_authorisation_is_refused(app, client, world,
                                                                    login_as, draft_model):
    """Before the kinds, a DPA could give 0 days' notice and the settings allowed 0 days of
    objection. Under that general authorisation no change can be proposed, whatever the draft."""
    def answers():
        return complete_answers([OVH, MAILER]) if draft_model == "general" \
            else _specific([OVH, MAILER])

    v1_id = _legacy_version_in_force(app, world, answers, notice_days=0)
    with app.app_context():
        profile = db.session.scalar(select(DpaProfile))
        profile.objection_days = 0  # saved by the settings form of that time (0 to 365 days)
        db.session.commit()
    login_as(world.user("a.vendor"))
    response = client.post(f"/vendor/dpa/versions/{v1_id}/propose", data={"confirm": "y"})
    assert response.status_code == 422
    assert "objection period must be at least one day" in response.get_data(as_text=True)
    assert _count(app, DpaChangeProposal) == 0


@pytest.mark.parametrize(("effective", "status", "words"), [
    ("today", 422, "at the earliest"),
    ("deadline", 422, "at the earliest"),
    ("far", 422, "less than a year"),
    ("2026-13-45", 422, "Not a valid date"),
    ("x" * 50, 422, "Not a valid date"),
])
def test_bad_effective_dates_are_refused(app, client, world, login_as, effective, status, words):
    v1_id = _draft_with_mailer(app, world)
    today = datetime.now(UTC).date()
    value = {"today": today.isoformat(),
             "deadline": (today + timedelta(days=30)).isoformat(),
             "far": (today + timedelta(days=30 + 400)).isoformat()}.get(effective, effective)
    login_as(world.user("a.vendor"))
    response = client.post(f"/vendor/dpa/versions/{v1_id}/propose",
                           data={"confirm": "y", "effective_date": value})
    assert response.status_code == status
    assert words in response.get_data(as_text=True)
    assert _count(app, DpaChangeProposal) == 0


def test_a_later_effective_date_is_kept(app, client, world, login_as):
    v1_id = _draft_with_mailer(app, world)
    chosen = datetime.now(UTC).date() + timedelta(days=60)
    login_as(world.user("a.vendor"))
    response = client.post(f"/vendor/dpa/versions/{v1_id}/propose",
                           data={"confirm": "y", "effective_date": chosen.isoformat()})
    assert response.status_code == 303
    assert _proposal(app).effective_at == datetime.combine(chosen, datetime.min.time(),
                                                           tzinfo=UTC)


def test_proposing_needs_the_confirmation_a_change_and_the_version_in_force(app, client, world,
                                                                            login_as):
    v1_id = _draft_with_mailer(app, world)
    login_as(world.user("a.vendor"))
    assert client.post(f"/vendor/dpa/versions/{v1_id}/propose", data={}).status_code == 422
    assert client.post(f"/vendor/dpa/versions/{v1_id}/propose",
                       data={"confirm": "y"}).status_code == 303
    again = client.post(f"/vendor/dpa/versions/{v1_id}/propose", data={"confirm": "y"})
    assert again.status_code == 409 and "already announced" in again.get_data(as_text=True)
    with app.app_context():
        proposal = db.session.scalars(select(DpaChangeProposal)).one()
        dpa_changes.apply_due(now=proposal.effective_at)
        v2_id = proposal.version_id
    stale = client.post(f"/vendor/dpa/versions/{v1_id}/propose", data={"confirm": "y"})
    assert stale.status_code == 409
    same = client.post(f"/vendor/dpa/versions/{v2_id}/propose", data={"confirm": "y"})
    assert same.status_code == 409 and "no change to propose" in same.get_data(as_text=True)
    assert _count(app, DpaChangeProposal) == 1


def test_publishing_a_subprocessor_change_directly_is_refused(app, world):
    with app.test_request_context():
        v1 = publish_dpa(None, _org(world), subprocessors=[OVH])
        set_draft_answers(_org(world), complete_answers([OVH, MAILER]))
        profile = db.session.get(DpaProfile, v1.profile_id)
        vendor = db.session.get(User, world.user("a.vendor").id)
        with pytest.raises(dpa_proposals.NeedsProposal):
            dpa_svc.publish(profile, by=vendor)
        db.session.rollback()
    assert _count(app, DpaVersion) == 1


def test_other_vendors_dpa_and_proposals_are_404(app, client, world, login_as):
    ids = _with_pending_general(app, world)
    proposal = _proposal(app)
    with app.test_request_context():
        publish_dpa(None, _org(world, "b"), subprocessors=[OVH])
        set_draft_answers(_org(world, "b"), complete_answers([OVH, MAILER]))
    login_as(world.user("b.vendor"))
    assert client.post(f"/vendor/dpa/versions/{ids['v1']}/propose",
                       data={"confirm": "y"}).status_code == 404
    assert client.get(f"/vendor/dpa/changes/{proposal.id}").status_code == 404
    assert client.post(f"/vendor/dpa/changes/{proposal.id}/withdraw", data={}).status_code == 404
    assert "CANARY-A" not in client.get("/vendor/dpa/changes").get_data(as_text=True)
    assert _count(app, DpaChangeProposal) == 1 and _proposal(app).status == "pending"
    with app.app_context():
        denied = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "access_denied")).all()
        assert len(denied) == 3
    login_as(world.user("b.admin"))
    url = f"/buyer/dpa/acceptances/{ids['acceptance']}/authorisations/v2"
    assert client.get(url).status_code == 404


def test_unknown_versions_and_versions_without_proposal_are_404(app, client, world, login_as):
    ids = _with_pending_general(app, world)
    login_as(world.user("a.admin"))
    base = f"/buyer/dpa/acceptances/{ids['acceptance']}/authorisations"
    assert client.get(f"{base}/v9").status_code == 404
    assert client.get(f"{base}/v1").status_code == 404, "v1 was published, not proposed"
    page = client.get(f"{base}/v2")
    assert page.status_code == 200 and "general authorisation" in page.get_data(as_text=True)
    assert client.post(f"{base}/v2", data={"decision": "authorised"}).status_code == 409
    with app.app_context():
        assert db.session.scalars(select(DpaChangeConsent)).all() == []
        assert db.session.scalars(select(DpaObjection)).all() == []
        assert db.session.scalars(select(DpaAcceptance)).all() != []


def test_prefill_reads_the_version_in_force_not_the_announced_one(app, world):
    from vendorcheck.services import dpa_prefill

    _with_pending_general(app, world)
    with app.app_context():
        version = dpa_prefill.latest_version_of(world["a"].vendor_org.id)
        assert version is not None and version.number == 1


def test_an_objection_period_written_in_the_dpa_wins_over_the_setting(app, world):
    """If the version in force states its objection period, that term of the contract applies."""
    with app.test_request_context():
        v1 = publish_dpa(None, _org(world), subprocessors=[OVH])
        set_draft_answers(_org(world), complete_answers([OVH, MAILER]))
        profile = db.session.get(DpaProfile, v1.profile_id)
        stated = dict(v1.content, clauses={**v1.content["clauses"], "objection_days": 14})
        days, in_text = dpa_changes.objection_days_in_force(stated, profile)
        assert (days, in_text) == (14, True), "the text wins over the 30-day setting"
        with pytest.raises(dpa_proposals.DpaObjectionShorterThanNotice, match="your DPA states"):
            dpa_changes.check_periods("general", 30, days, in_text=in_text)
        longer = dict(stated, clauses={**stated["clauses"], "objection_days": 45})
        assert dpa_changes.objection_days_in_force(longer, profile) == (45, True)
        # Every version of a kind prints the objection period copied from the settings when it
        # was published; a version from before the kinds states none, so the settings apply.
        assert dpa_changes.objection_days_in_force(v1.content, profile) == (30, True)
        profile.objection_days = 45
        legacy = json.loads((LEGACY / "complete_eu_processor_is_low_risk.json").read_text())
        assert dpa_changes.objection_days_in_force(legacy, profile) == (45, False)
        assert dpa_changes.objection_days_in_force(v1.content, profile) == (30, True)
        db.session.rollback()


# ------------------------------------------------------------------------------ with the kinds

@pytest.mark.parametrize("kind", KINDS)
def test_a_proposed_version_keeps_the_kind_in_force_and_its_annex_iv(app, client, world, kind):
    """The first version of each kind publishes; the proposed one is the same kind of document,
    and its Annex IV names the new sub-processor's contact person and responsibilities."""
    with app.test_request_context():
        v1 = publish_dpa(None, _org(world), subprocessors=[OVH], kind=kind)
        assert (v1.number, v1.content["kind"]) == (1, kind)
        v2 = publish_dpa(None, _org(world), subprocessors=[OVH, NEWCO], apply_change=False)
        slug, content = v2.profile.slug, v2.content
    assert content["kind"] == kind and content["template_version"] == KIND_TEMPLATES[kind]
    assert content["clauses"]["objection_days"] == 30
    [newco] = [row for row in content["subprocessors"] if row["name"] == NEWCO["name"]]
    assert (newco["contact"], newco["responsibilities"]) == (NEWCO["contact"],
                                                             NEWCO["responsibilities"])
    page = client.get(f"/dpa/{slug}/v2?lang=en").get_data(as_text=True)
    assert "Delimitation of responsibilities" in page and NEWCO["contact"] in page
    assert "not in force yet" in page
    assert client.get(f"/dpa/{slug}/v2.pdf?locale=fr").status_code == 200


def test_a_proposal_on_a_version_from_before_the_kinds_keeps_its_format(app, client, world):
    """Buyers on an earlier-format version move to the proposed one without signing again, so
    it keeps that format (and the six columns of its Annex IV) and only the list changes."""
    v1_id = _legacy_version_in_force(app, world, lambda: complete_answers([OVH, MAILER]))
    with app.test_request_context():
        profile = dpa_svc.profile_of(_org(world))
        proposal = dpa_changes.propose(profile, base_version_id=v1_id, effective_on=None,
                                       by=db.session.get(User, world.user("a.vendor").id))
        content, slug = proposal.version.content, profile.slug
        assert "kind" not in content and content["template_version"] == "2021-915/v1"
        assert proposal.objection_days == 30, "the settings: the earlier format states none"
    page = client.get(f"/dpa/{slug}/v2?lang=en").get_data(as_text=True)
    assert "Mailer Inc." in page and "Invariability of the Clauses" in page
    assert client.get(f"/dpa/{slug}/v1?lang=en").status_code == 200


def test_the_request_period_of_a_specific_authorisation_delays_the_effective_date(
        app, client, world, login_as):
    """Clause 7.7, Option 1: each request comes the stated number of days before the engagement,
    even when that is longer than the objection period of the settings."""
    with app.test_request_context():
        v1 = publish_dpa(None, _org(world), _specific([OVH]) | {"authorisation_request_days": 60})
        set_draft_answers(_org(world), _specific([OVH, MAILER]) |
                          {"authorisation_request_days": 60})
        v1_id, profile = v1.id, db.session.get(DpaProfile, v1.profile_id)
        plan = dpa_changes.plan(profile)
        assert (plan.request_days, plan.objection_days) == (60, 30)
        assert plan.earliest == (plan.announced_at + timedelta(days=60)).date() + timedelta(1)
    login_as(world.user("a.vendor"))
    assert "Request period of your DPA" in client.get("/vendor/dpa/changes").get_data(
        as_text=True)
    too_early = (datetime.now(UTC) + timedelta(days=40)).date().isoformat()
    response = client.post(f"/vendor/dpa/versions/{v1_id}/propose",
                           data={"confirm": "y", "effective_date": too_early})
    assert response.status_code == 422
    assert "authorisation 60 days before a sub-processor is engaged" in response.get_data(
        as_text=True)
    assert client.post(f"/vendor/dpa/versions/{v1_id}/propose",
                       data={"confirm": "y"}).status_code == 303
    proposal = _proposal(app)
    assert proposal.effective_at >= proposal.proposed_at + timedelta(days=60)


def test_the_first_subprocessors_bring_the_drafts_notice_and_objection_period(app, world):
    """A version without sub-processors printed neither period; the proposed one prints the
    draft's notice with the objection period that passed the publication checks with it."""
    with app.test_request_context():
        v1 = publish_dpa(None, _org(world), subprocessors=[])
        profile = db.session.get(DpaProfile, v1.profile_id)
        vendor = db.session.get(User, world.user("a.vendor").id)
        set_draft_answers(_org(world), complete_answers([OVH], notice_days=45))
        dpa_svc.update_settings(profile, slug=profile.slug, objection_days="45", by=vendor)
        proposal = dpa_changes.propose(profile, base_version_id=v1.id, effective_on=None,
                                       by=vendor)
        clauses = proposal.version.content["clauses"]
        assert (clauses["subprocessor_authorisation"], clauses["notice_days"],
                clauses["objection_days"]) == ("general", 45, 45)
        assert v1.content["clauses"]["objection_days"] == 30
        assert proposal.authorisation == "specific", "no list was authorised in general yet"
