"""`GET /api/v1/assessments?latest=true`: each vendor's latest assessment, as the dashboard lists them."""

from __future__ import annotations

from tests.factories.assessments import make_scored_assessment
from vendorcheck.models.assessments import AssessmentStatus


def test_the_list_gives_only_the_latest_when_asked(app, api, world):
    with app.app_context():
        buyer, vendor = world["a"].buyer, world["a"].vendor
        old = make_scored_assessment(buyer, vendor, status=AssessmentStatus.DECIDED).id
        new = make_scored_assessment(buyer, vendor, status=AssessmentStatus.IN_PROGRESS,
                                     answers=None).id
    listed = api("a.legal", "GET", "/assessments", scope="read").get_json()["items"]
    assert {old, new} <= {a["id"] for a in listed}
    latest = api("a.legal", "GET", "/assessments?latest=true", scope="read").get_json()["items"]
    assert [a["id"] for a in latest] == [new]
    everything = api("a.legal", "GET", "/assessments?latest=false", scope="read").get_json()["items"]
    assert {old, new} <= {a["id"] for a in everything}
