"""The API's DPA: a vendor token reads its own published versions and sub-processors."""

from __future__ import annotations

import pytest

from tests.factories.dpa import MAILER, OVH, publish_dpa
from vendorcheck.extensions import db
from vendorcheck.models import Organisation


@pytest.fixture
def published(app, world) -> str:
    """Vendor A publishes v1 (OVH), then v2 (OVH and Mailer, in force); its public slug."""
    with app.app_context():
        org = db.session.get_one(Organisation, world["a"].vendor_org.id)
        publish_dpa(None, org, subprocessors=[OVH])
        return publish_dpa(None, org, subprocessors=[OVH, MAILER]).profile.slug


@pytest.mark.slow
def test_a_vendor_reads_its_versions_and_sub_processors(app, api, client, published):
    versions = api("a.vendor", "GET", "/dpa/versions", scope="read")
    oldest_first = api("a.vendor", "GET", "/dpa/versions?sort=id&limit=1", scope="read").get_json()
    one = api("a.vendor", "GET", "/dpa/versions/1", scope="read")
    current = api("a.vendor", "GET", "/dpa/subprocessors", scope="read")

    assert versions.status_code == 200
    assert [v["number"] for v in versions.get_json()["items"]] == [2, 1]
    assert versions.get_json()["items"][0]["slug"] == published
    assert versions.get_json()["items"][0]["public_url"].endswith(f"/dpa/{published}/v2")
    assert [v["number"] for v in oldest_first["items"]] == [1] and oldest_first["next_cursor"]
    assert one.status_code == 200 and one.headers["ETag"]
    assert [s["name"] for s in one.get_json()["subprocessors"]] == ["OVH SAS"]
    assert one.get_json()["subprocessors"][0] == {key: OVH.get(key) for key in (
        "name", "address", "country", "activity", "location", "transfer_tool")}
    body = current.get_json()
    assert current.status_code == 200 and body["version"] == 2
    assert [s["name"] for s in body["subprocessors"]] == ["OVH SAS", "Mailer Inc."]
    # The same list as the public feed, which stays public.
    public = client.get(f"/dpa/{published}/subprocessors.json").get_json()
    assert public["subprocessors"] == body["subprocessors"] and public["sha256"] == body["sha256"]


@pytest.mark.slow
def test_only_the_organisations_own_dpa_and_only_for_vendor_members(app, api, published):
    none = api("b.vendor", "GET", "/dpa/versions", scope="read")
    assert none.status_code == 200 and none.get_json() == {"items": [], "next_cursor": None}
    for path in ("/dpa/versions/1", "/dpa/subprocessors"):
        other = api("b.vendor", "GET", path, scope="read")
        assert other.status_code == 404 and other.get_json()["error"]["code"] == "not_found"
        assert api("a.admin", "GET", path, scope="read").status_code == 403  # a buyer organisation
    for number in ("0", "3", "2147483648", "99999999999999999999"):
        assert api("a.vendor", "GET", f"/dpa/versions/{number}", scope="read").status_code == 404, number
    refused = api("a.vendor", "GET", "/dpa/versions?sort=created_at", scope="read")
    assert refused.status_code == 422 and "sort" in refused.get_json()["error"]["details"]["query"]
