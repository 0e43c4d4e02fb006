"""Documents that expire: validity dates on evidence, the buyer's 30/60/90-day list, renewal
reminders and "evidence expired" findings, with the day passed in (no clock is read in tests
that depend on the date)."""

from __future__ import annotations

import io
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from tests.factories.accounts import make_org, make_user, make_vendor
from tests.factories.assessments import make_assessment, make_contact
from tests.factories.evidence import make_evidence, two_page_pdf
from tests.factories.questionnaires import COMPLETE, install_questionnaire
from tests.integration.conftest import outbox
from vendorcheck.extensions import db
from vendorcheck.models.assessments import Assessment, AssessmentStatus, Evidence
from vendorcheck.services import expiry
from vendorcheck.services.assessments import refresh_results
from vendorcheck.services.reminders import send_reminders

TODAY = date.today()


@pytest.fixture
def env(app, tmp_path, monkeypatch):
    """A buyer, a vendor organisation with a user, and a submitted assessment with answers."""
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path / "evidence"))
    with app.app_context():
        install_questionnaire()
        buyer = make_org("Buyer One", slug="buyer-one")
        admin = make_user("admin@buyer.example", org=buyer)
        vorg = make_org("Vendor Co", buyer=False, vendor=True, slug="vendor-co")
        vuser = make_user("marie@vendor.example", org=vorg, name="Marie")
        vendor = make_vendor(buyer, "Vendor Co record", vendor_org=vorg)
        contact = make_contact(vendor, "marie@vendor.example", "Marie")
        a = make_assessment(buyer, vendor, by=admin, contact=contact, answers=COMPLETE,
                            due_date=TODAY + timedelta(days=40))
        return SimpleNamespace(a=a.id, admin=SimpleNamespace(id=admin.id, session_epoch=admin.session_epoch),
                               vuser=SimpleNamespace(id=vuser.id, session_epoch=vuser.session_epoch))


def _evidence(app, aid: int, item: str = "has_dpa", *, expires_on: date | None,
              name: str = "iso27001.pdf") -> int:
    with app.app_context():
        assessment = db.session.get(Assessment, aid)
        evidence = make_evidence(assessment, item, name=name)
        evidence.expires_on = expires_on
        db.session.commit()
        return evidence.id


def test_vendor_sets_validity_dates_on_upload_and_later(app, client, login_as, env):
    login_as(env.vuser)
    upload = client.post(f"/vendor/assessments/{env.a}/items/has_dpa/evidence", data={
        "file": (io.BytesIO(two_page_pdf()), "iso.pdf"), "section": "main",
        "effective_on": "2026-01-01", "expires_on": "2027-01-01"})
    assert upload.status_code == 303, upload.get_data(as_text=True)
    with app.app_context():
        evidence = db.session.scalar(select(Evidence).where(Evidence.assessment_id == env.a))
        assert (evidence.effective_on, evidence.expires_on) == (date(2026, 1, 1), date(2027, 1, 1))
        evidence_id = evidence.id
    moved = client.post(f"/vendor/assessments/{env.a}/evidence/{evidence_id}/dates",
                        data={"effective_on": "2026-02-01", "expires_on": "2028-02-01"})
    assert moved.status_code == 303
    backwards = client.post(f"/vendor/assessments/{env.a}/evidence/{evidence_id}/dates",
                            data={"effective_on": "2028-02-01", "expires_on": "2026-02-01"})
    assert backwards.status_code == 422
    garbage = client.post(f"/vendor/assessments/{env.a}/evidence/{evidence_id}/dates",
                          data={"expires_on": "31/02/2027"})
    assert garbage.status_code == 422
    with app.app_context():
        assert db.session.get(Evidence, evidence_id).expires_on == date(2028, 2, 1)


def test_buyer_dashboard_lists_what_expires_in_30_60_90_days(app, client, login_as, env):
    # A newer valid file of the same question renews the older one: the far one comes first.
    _evidence(app, env.a, "docs", expires_on=TODAY + timedelta(days=200), name="far-away.pdf")
    _evidence(app, env.a, expires_on=TODAY + timedelta(days=20), name="soc2-report.pdf")
    _evidence(app, env.a, "docs", expires_on=TODAY + timedelta(days=75), name="pentest.pdf")
    with app.app_context():
        groups = expiry.by_window(expiry.expiring_files(
            db.session.get(Assessment, env.a).buyer_org_id, TODAY))
        assert [f.evidence.file_name for f in groups[30]] == ["soc2-report.pdf"]
        assert [f.evidence.file_name for f in groups[90]] == ["pentest.pdf"]
        assert groups[0] == [] and groups[60] == []
    login_as(env.admin)
    page = client.get("/buyer/assessments").get_data(as_text=True)
    assert "soc2-report.pdf" in page and "pentest.pdf" in page and "far-away.pdf" not in page


def test_renewal_reminders_go_30_and_7_days_before_once_each(app, env):
    due = TODAY + timedelta(days=100)
    evidence_id = _evidence(app, env.a, expires_on=due)
    with app.app_context():
        db.session.get(Assessment, env.a).status = AssessmentStatus.SUBMITTED
        db.session.commit()
        assert send_reminders(today=due - timedelta(days=31))["renewals"] == 0
        assert send_reminders(today=due - timedelta(days=30))["renewals"] == 1
        assert send_reminders(today=due - timedelta(days=30))["renewals"] == 0  # once
        assert send_reminders(today=due - timedelta(days=7))["renewals"] == 1
    mails = [m for m in outbox(app) if m.ref_type == "evidence" and m.ref_id == evidence_id]
    assert [m.template for m in mails] == ["evidence_expiry_30", "evidence_expiry_7"]
    assert mails[0].to_email == "marie@vendor.example" and "iso27001.pdf" in mails[0].body_text


def test_a_renewed_document_stops_the_reminders(app, env):
    due = TODAY + timedelta(days=100)
    _evidence(app, env.a, expires_on=due)
    _evidence(app, env.a, expires_on=due + timedelta(days=365), name="iso27001-2027.pdf")
    with app.app_context():
        assert send_reminders(today=due - timedelta(days=30))["renewals"] == 0


def _findings(app, aid: int, today: date) -> list[expiry.DocumentFinding]:
    with app.app_context():
        assessment = db.session.get(Assessment, aid)
        result = refresh_results(assessment).computed
        db.session.commit()
        return expiry.document_findings(assessment, result, today)


def test_an_expired_file_behind_a_favourable_answer_raises_a_finding_until_renewed(app, client,
                                                                                    login_as, env):
    expires = TODAY - timedelta(days=3)
    _evidence(app, env.a, expires_on=expires)
    assert _findings(app, env.a, expires) == []  # valid through its last day
    found = _findings(app, env.a, expires + timedelta(days=1))
    assert [(f.kind, f.item_id) for f in found] == [("evidence_expired", "has_dpa")]
    login_as(env.admin)
    page = client.get(f"/buyer/assessments/{env.a}").get_data(as_text=True)
    assert 'data-finding="evidence_expired"' in page
    _evidence(app, env.a, expires_on=TODAY + timedelta(days=365), name="renewed.pdf")
    assert _findings(app, env.a, TODAY) == []


def test_an_expired_file_behind_an_unfavourable_answer_raises_nothing(app, env):
    with app.app_context():
        assessment = db.session.get(Assessment, env.a)
        next(a for a in assessment.answers if a.item_id == "has_dpa").value = "no"
        db.session.commit()
    _evidence(app, env.a, expires_on=TODAY - timedelta(days=3))
    assert _findings(app, env.a, TODAY) == []


def test_a_superseded_accepted_dpa_is_flagged(app, client, login_as, world, tmp_path, monkeypatch):
    from tests.factories.assessments import make_art28_assessment
    from tests.factories.dpa import OVH, complete_answers, publish_dpa
    from tests.factories.dpa_relations import accept_version
    from vendorcheck.models import Organisation, User, Vendor

    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    with app.app_context():
        vendor_org = db.session.get(Organisation, world["a"].vendor_org.id)
        buyer = db.session.get(Organisation, world["a"].buyer.id)
        admin = db.session.get(User, world.user("a.admin").id)
        v1 = publish_dpa(None, vendor_org, subprocessors=[OVH])
        accept_version(v1, buyer, admin)
        art28 = make_art28_assessment(buyer, db.session.get(Vendor, world["a"].vendor.id))
        result = refresh_results(art28).computed
        assert expiry.document_findings(art28, result, TODAY) == []
        # a new version with the same sub-processors: the buyer's acceptance stays on v1
        publish_dpa(None, vendor_org, complete_answers([OVH], breach_notice_hours=36))
        rows = expiry.superseded_dpas(buyer.id)
        assert [(r.in_force.number, r.latest.number) for r in rows] == [(1, 2)]
        kinds = [f.kind for f in expiry.document_findings(art28, result, TODAY)]
        assert kinds == ["dpa_superseded"]
    login_as(world.user("a.admin"))
    page = client.get("/buyer/assessments").get_data(as_text=True)
    assert "Accepted DPA v1; v2 published" in page
