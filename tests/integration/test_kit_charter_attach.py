"""Buyers attach the vendor's published GDPR charter to an assessment as evidence, or detach it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories.assessments import make_art28_assessment
from tests.factories.dpa import OVH, publish_dpa
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry, Organisation, User, Vendor
from vendorcheck.models.kit import AssessmentCharterLink
from vendorcheck.services import kit_charter


@pytest.fixture(autouse=True)
def _instance(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    (tmp_path / "instance").mkdir()


def _publish_charter(world, tenant):
    """The tenant's vendor publishes a DPA, then its GDPR charter; return the charter's id."""
    vendor_org = db.session.get(Organisation, world[tenant].vendor_org.id)
    publish_dpa(None, vendor_org, subprocessors=[OVH])
    user = db.session.get(User, world.user(f"{tenant}.vendor").id)
    return kit_charter.publish(vendor_org, by=user, confirmed=True)


@pytest.fixture
def setup(app, world):
    """Vendors A and B each published a charter; buyer A assesses vendor A."""
    with app.test_request_context():
        charter = _publish_charter(world, "a")
        other = _publish_charter(world, "b")
        assessment = make_art28_assessment(db.session.get(Organisation, world["a"].buyer.id),
                                           db.session.get(Vendor, world["a"].vendor.id))
        return {"assessment": assessment.id, "charter": charter.id, "sha": charter.sha256,
                "other": other.id, "slug": kit_charter.published_of(charter.vendor_org_id)["slug"]}


def _attach_url(setup):
    return f"/buyer/kit/assessments/{setup['assessment']}/charter/attach"


def _detach_url(setup):
    return f"/buyer/kit/assessments/{setup['assessment']}/charter/detach"


def _actions(app):
    with app.app_context():
        return [(e.action, e.details) for e in db.session.scalars(select(AuditEntry).where(
            AuditEntry.action.like("kit.charter_%tached")).order_by(AuditEntry.id))]


def _links(app):
    with app.app_context():
        return [(link.assessment_id, link.charter_version_id)
                for link in db.session.scalars(select(AssessmentCharterLink))]


def test_attach_list_and_detach_with_confirmation(app, client, world, setup, login_as):
    login_as(world.user("a.assessor"))
    page = client.get(f"/buyer/assessments/{setup['assessment']}").get_data(as_text=True)
    assert "No GDPR charter attached." in page and _attach_url(setup) in page
    form = client.get(_attach_url(setup))
    assert form.status_code == 200 and "Version 1" in form.get_data(as_text=True)

    response = client.post(_attach_url(setup), data={"version_id": setup["charter"]})
    assert response.status_code == 303
    assert _links(app) == [(setup["assessment"], setup["charter"])]
    page = client.get(f"/buyer/assessments/{setup['assessment']}").get_data(as_text=True)
    assert "Version 1 of the GDPR charter of" in page and setup["sha"][:16] in page
    assert f"/dpa/{setup['slug']}/charter" in page and f"/dpa/{setup['slug']}/charter.pdf" in page
    assert _detach_url(setup) in page

    confirm = client.get(_detach_url(setup))
    assert confirm.status_code == 200 and "The published charter itself stays." in \
        confirm.get_data(as_text=True)
    assert _links(app) != [], "showing the confirmation detaches nothing"
    assert client.post(_detach_url(setup), data={}).status_code == 303
    assert _links(app) == []
    page = client.get(f"/buyer/assessments/{setup['assessment']}").get_data(as_text=True)
    assert "No GDPR charter attached." in page
    assert [a for a, _d in _actions(app)] == ["kit.charter_attached", "kit.charter_detached"]
    assert all(d["sha256"] == setup["sha"] and d["number"] == 1 for _a, d in _actions(app))
    french = client.get(f"/buyer/assessments/{setup['assessment']}?lang=fr")
    assert "Aucune charte RGPD jointe." in french.get_data(as_text=True)


def test_another_vendors_charter_is_not_found(app, client, world, setup, login_as):
    login_as(world.user("a.admin"))
    assert client.post(_attach_url(setup), data={"version_id": setup["other"]}).status_code == 404
    assert client.post(_attach_url(setup), data={"version_id": 999_999}).status_code == 404
    for bad in ("abc", ""):
        assert client.post(_attach_url(setup), data={"version_id": bad}).status_code == 422, bad
    assert _links(app) == [] and _actions(app) == []


def test_another_tenants_assessment_is_not_found(app, client, world, setup, login_as):
    login_as(world.user("b.admin"))
    assert client.get(_attach_url(setup)).status_code == 404
    assert client.post(_attach_url(setup), data={"version_id": setup["charter"]}).status_code == 404
    assert client.post(_detach_url(setup), data={}).status_code == 404
    assert _links(app) == [] and _actions(app) == []


def test_a_member_without_the_right_is_forbidden(app, client, world, setup, login_as):
    login_as(world.user("a.vendor"))
    assert client.get(_attach_url(setup)).status_code == 403
    assert client.post(_attach_url(setup), data={"version_id": setup["charter"]}).status_code == 403
    assert client.post(_detach_url(setup), data={}).status_code == 403
    assert _links(app) == []


def test_a_vendor_without_a_charter_cannot_be_attached(app, client, world, login_as):
    with app.test_request_context():
        assessment = make_art28_assessment(db.session.get(Organisation, world["a"].buyer.id),
                                           db.session.get(Vendor, world["a"].vendor.id))
        url = f"/buyer/kit/assessments/{assessment.id}/charter/attach"
    login_as(world.user("a.admin"))
    page = client.get(url)
    assert page.status_code == 200
    assert "has not published a GDPR charter" in page.get_data(as_text=True)
    assert client.post(url, data={"version_id": 1}).status_code == 409
    assert _links(app) == []
