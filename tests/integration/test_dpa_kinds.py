"""The two kinds of DPA end to end: publishing each, public pages and PDFs, the accepted copy with
the controller in Annex I, the checks that block an unlawful DPA, and the versions and drafts
that predate the kinds."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from tests.factories.dpa import MAILER, OVH, complete_answers, publish_dpa, set_draft_answers
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry, Organisation, utcnow
from vendorcheck.models.assessments import Assessment
from vendorcheck.models.dpa import DpaAcceptanceParty, DpaProfile, DpaVersion
from vendorcheck.models.dpa_relations import DpaAcceptance
from vendorcheck.services import dpa as svc

LEGACY = Path(__file__).resolve().parents[1] / "unit" / "dpa" / "golden" / "legacy"
ACCEPT = {"signer_name": "Lea Legal", "signer_role": "General counsel", "authorised": "y",
          "controller_name": "Acheteur Exemple SA", "controller_address": "1 place du Marché, Lyon",
          "contact_name": "Lea Legal, General counsel", "contact_email": "legal@acheteur.example",
          "controller_dpo": "Paul DPO, dpo@acheteur.example"}


@pytest.fixture(autouse=True)
def _instance(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    (tmp_path / "instance").mkdir()


def _vendor_org(world, key="a"):
    return db.session.get(Organisation, world[key].vendor_org.id)


def _versions(app):
    with app.app_context():
        return [(v.number, v.content.get("kind")) for v in db.session.scalars(
            select(DpaVersion).order_by(DpaVersion.number))]


def test_the_vendor_chooses_the_kind_when_publishing(app, client, world, login_as):
    with app.app_context():
        set_draft_answers(_vendor_org(world), complete_answers([OVH, MAILER]))
    login_as(world.user("a.vendor"))
    manage = client.get("/vendor/dpa").get_data(as_text=True)
    assert 'checked id="kind-0" name="kind" required type="radio" value="scc_reference"' in manage
    assert "A DPA in our own words" in manage
    response = client.post("/vendor/dpa/publish", data={"confirm": "y", "kind": "own_words"})
    assert response.status_code == 303
    # The same answers as the other kind are a different document, hence a new version.
    assert client.post("/vendor/dpa/publish", data={"confirm": "y", "kind": "scc_reference"}
                       ).status_code == 303
    refused = client.post("/vendor/dpa/publish", data={"confirm": "y", "kind": "sccs_reworded"},
                          follow_redirects=True)
    assert "Not a valid choice" in refused.get_data(as_text=True)
    assert _versions(app) == [(1, "own_words"), (2, "scc_reference")]
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "dpa.published").order_by(AuditEntry.id.desc())).first()
        assert entry.details["kind"] == "scc_reference"
    listing = client.get("/vendor/dpa").get_data(as_text=True)
    assert "DPA in the processor&#39;s own words" in listing
    assert "standard contractual clauses, by reference" in listing


def test_preview_shows_either_kind(app, client, world, login_as):
    with app.app_context():
        set_draft_answers(_vendor_org(world), complete_answers([OVH]))
    login_as(world.user("a.vendor"))
    own = client.get("/vendor/dpa/preview?kind=own_words").get_data(as_text=True)
    assert "Data processing agreement (Art. 28 GDPR)" in own and "not published" in own
    reference = client.get("/vendor/dpa/preview").get_data(as_text=True)
    assert "CELEX 32021D0915" in reference
    assert client.get("/vendor/dpa/preview?kind=mixed").status_code == 400


@pytest.mark.parametrize("kind", ["scc_reference", "own_words"])
def test_public_page_pdf_and_feeds_of_each_kind(app, client, world, kind):
    with app.app_context():
        version = publish_dpa(world, _vendor_org(world), subprocessors=[OVH, MAILER], kind=kind)
        slug = version.profile.slug
    page = client.get(f"/dpa/{slug}?lang=en").get_data(as_text=True)
    assert "Annex IV" in page and "Privacy team, privacy@mailer.example" in page
    assert f"dpa-doc--{kind.replace('_', '-')}" in page
    listing = client.get(f"/dpa/{slug}/subprocessors").get_data(as_text=True)
    assert "Privacy team, privacy@mailer.example" in listing
    feed = json.loads(client.get(f"/dpa/{slug}/subprocessors.json").get_data(as_text=True))
    assert "contact" not in feed["subprocessors"][1]  # schema @1 keeps its six fields
    pdf = client.get(f"/dpa/{slug}/v1.pdf?locale=en")
    assert pdf.status_code == 200
    text = "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf.get_data())).pages)
    title = {"scc_reference": "Standard contractual clauses for controllers",
             "own_words": "Data processing agreement (Art. 28 GDPR)"}[kind]
    assert title in " ".join(text.split())


def test_accepted_copy_names_the_controller_in_annex_i(app, client, world, login_as):
    with app.app_context():
        version = publish_dpa(world, _vendor_org(world), subprocessors=[OVH], kind="own_words")
        slug, sha = version.profile.slug, version.sha256
    login_as(world.user("a.legal"))
    form = client.get(f"/buyer/dpa/{slug}/v1/accept").get_data(as_text=True)
    assert "as it will appear in Annex I" in form
    assert f'name="controller_name" required type="text" value="{world["a"].buyer.name}"' in form
    missing = client.post(f"/buyer/dpa/{slug}/v1/accept",
                          data={**ACCEPT, "controller_address": "", "version_sha256": sha})
    assert missing.status_code == 422
    accepted = client.post(f"/buyer/dpa/{slug}/v1/accept", data={**ACCEPT, "version_sha256": sha})
    assert accepted.status_code == 302
    with app.app_context():
        acceptance = db.session.scalars(select(DpaAcceptance)).one()
        party = db.session.scalars(select(DpaAcceptanceParty)).one()
        assert (party.acceptance_id, party.legal_name, party.address) == (
            acceptance.id, "Acheteur Exemple SA", "1 place du Marché, Lyon")
        acceptance_id = acceptance.id
    copy = client.get(f"/buyer/dpa/acceptances/{acceptance_id}/copy").get_data(as_text=True)
    for value in ("Acheteur Exemple SA", "1 place du Marché, Lyon",
                  "Lea Legal, General counsel, legal@acheteur.example",
                  "Paul DPO, dpo@acheteur.example"):
        assert value in copy, value
    assert "identified in its acceptance record" not in copy
    public = client.get(f"/dpa/{slug}/v1").get_data(as_text=True)
    assert "Acheteur Exemple SA" not in public
    assert "The controller: the party accepting this DPA" in public
    pdf = client.get(f"/buyer/dpa/acceptances/{acceptance_id}/certificate.pdf").get_data()
    text = " ".join("\n".join(p.extract_text() or "" for p in
                              PdfReader(io.BytesIO(pdf)).pages).split())
    for value in ("Acheteur Exemple SA", "1 place du Marché, Lyon", "legal@acheteur.example"):
        assert value in text, value
    login_as(world.user("b.admin"))
    assert client.get(f"/buyer/dpa/acceptances/{acceptance_id}/copy").status_code == 404


def _blocked_codes(app, world, changes, objection_days=None):
    """Try to publish changed answers; return the codes of the problems that block it."""
    with app.app_context():
        answers = complete_answers(changes.pop("subprocessors", [OVH]), **changes)
        org = _vendor_org(world)
        set_draft_answers(org, answers)
        profile = svc.profile_of(org)
        if objection_days is not None:
            profile.objection_days = objection_days
            db.session.commit()
        with pytest.raises(svc.PublishBlocked) as blocked:
            publish_dpa(world, org, answers)
        assert db.session.scalar(select(func.count(DpaVersion.id))) == 0
        return [p.code for p in blocked.value.check.problems]


@pytest.mark.parametrize(("changes", "code"), [
    ({"audit_model": "documents_only"}, "audit_documents_only"),
    ({"deletion_certificate": "no"}, "deletion_not_certified"),
    ({"end_of_contract": "delete_only"}, "deletion_without_choice"),
    ({"annex2_logging": "Logging is done according to industry best practices."},
     "measures_too_generic"),
    ({"subprocessors": [{k: v for k, v in OVH.items() if k != "contact"}]},
     "subprocessor_without_contact"),
    ({"notice_days": "0"}, "notice_days_zero"),
])
def test_unlawful_terms_block_publication(app, world, changes, code):
    assert _blocked_codes(app, world, dict(changes)) == [code]


def test_objection_period_shorter_than_notice_blocks_publication(app, client, world, login_as):
    codes = _blocked_codes(app, world, {"notice_days": "30"}, objection_days=10)
    assert codes == ["objection_shorter_than_notice"]
    login_as(world.user("a.vendor"))
    page = client.get("/vendor/dpa").get_data(as_text=True)
    assert "(10 days) is shorter than the notice period of your DPA (30 days)" in page


def test_legacy_versions_and_1_0_0_drafts_keep_working(app, client, world, login_as):
    """A version stored before the kinds renders as stored; its 1.0.0 draft moves to 1.1.0."""
    legacy = json.loads((LEGACY / "complete_eu_processor_is_low_risk.json").read_text("utf-8"))
    with app.app_context():
        org = _vendor_org(world)
        q1 = app.extensions["questionnaires"].get("dpa-questionnaire", "1.0.0")
        draft = set_draft_answers(org, complete_answers([OVH]))
        draft.questionnaire_version, draft.questionnaire_sha256 = q1.version, q1.sha256
        profile = svc.profile_of(org)
        db.session.add(DpaVersion(
            profile_id=profile.id, vendor_org_id=org.id, number=1, published_at=utcnow(),
            sha256=svc.content_sha256(legacy), content=legacy, questionnaire_id=q1.id,
            questionnaire_version=q1.version, questionnaire_sha256=q1.sha256, objection_days=30))
        db.session.commit()
        slug, draft_id = profile.slug, draft.id
    page = client.get(f"/dpa/{slug}/v1?lang=en").get_data(as_text=True)
    assert "Invariability of the Clauses" in page and "Clause 7.7" in page  # as published then
    assert '<article class="dpa-doc" lang="en">' in page
    assert client.get(f"/dpa/{slug}/v1.pdf?locale=fr").status_code == 200
    assert "Earlier format" in client.get(f"/dpa/{slug}/versions").get_data(as_text=True)
    login_as(world.user("a.vendor"))
    assert client.get("/vendor/dpa").status_code == 200  # the draft moves to the latest version
    with app.app_context():
        draft = db.session.get(Assessment, draft_id)
        assert draft.questionnaire_version == "1.1.0"
        assert db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "dpa.draft_upgraded")).one().details == {"from": "1.0.0",
                                                                          "to": "1.1.0"}
        assert svc.draft_answers(draft)["processor_legal_name"] == "Hébergement Exemple SAS"
    assert client.post("/vendor/dpa/publish", data={"confirm": "y", "kind": "own_words"}
                       ).status_code == 303
    assert _versions(app) == [(1, None), (2, "own_words")]
    diff = client.get(f"/dpa/{slug}/diff?from=1&to=2&lang=en").get_data(as_text=True)
    assert "The kind of document changed" in diff and "Earlier format" in diff
    with app.app_context():
        assert db.session.scalar(select(DpaProfile.objection_days)) == 30


def test_accepted_copy_of_an_earlier_version_keeps_it_as_published(app, client, world, login_as):
    legacy = json.loads((LEGACY / "complete_eu_processor_is_low_risk.json").read_text("utf-8"))
    with app.app_context():
        org = _vendor_org(world)
        q1 = app.extensions["questionnaires"].get("dpa-questionnaire", "1.0.0")
        profile = svc.ensure_profile(org, by=None)
        version = DpaVersion(
            profile_id=profile.id, vendor_org_id=org.id, number=1, published_at=utcnow(),
            sha256=svc.content_sha256(legacy), content=legacy, questionnaire_id=q1.id,
            questionnaire_version=q1.version, questionnaire_sha256=q1.sha256, objection_days=30)
        db.session.add(version)
        db.session.commit()
        slug, sha = profile.slug, version.sha256
    login_as(world.user("a.admin"))
    assert client.post(f"/buyer/dpa/{slug}/v1/accept",
                       data={**ACCEPT, "version_sha256": sha}).status_code == 302
    with app.app_context():
        acceptance_id = db.session.scalars(select(DpaAcceptance.id)).one()
    copy = client.get(f"/buyer/dpa/acceptances/{acceptance_id}/copy?lang=fr").get_data(
        as_text=True)
    assert "Invariabilité des clauses" in copy  # the version as it was published
    assert "Acheteur Exemple SA" in copy and "1 place du Marché, Lyon" in copy
    assert "Exemplaire de la version 1 accepté par Acheteur Exemple SA" in copy
