"""Bad input to the API: always a JSON error body with a 4xx, never a 500, nothing stored."""

from __future__ import annotations

import pytest

from tests.factories.api import bearer, make_token
from tests.integration.conftest import db_fingerprint
from vendorcheck.extensions import db


def _error(response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code and body["error"]["message"]
    return body["error"]


def test_malformed_json_answers_400(api):
    response = api("a.admin", "POST", "/vendors", data="{not json",
                   headers={"Content-Type": "application/json"})
    _error(response, 400, "bad_request")


def test_wrong_types_answer_422_with_the_field(api):
    error = _error(api("a.admin", "POST", "/vendors", json={"legal_name": 5, "owner_id": "x"}), 422,
                   "validation_failed")
    assert set(error["details"]["json"]) == {"legal_name", "owner_id"}


def _stored(app):
    """Fingerprint the stored data, but the audit log and the tokens' last use."""
    return db_fingerprint(app, ("audit_entry", "audit_chain_head", "api_token"))


def test_unknown_fields_are_refused_not_ignored(app, api):
    before = _stored(app)
    error = _error(api("a.admin", "POST", "/vendors", json={"legal_name": "X", "is_admin": True}), 422,
                   "validation_failed")
    assert "is_admin" in error["details"]["json"]
    assert _stored(app) == before
    error = _error(api("a.admin", "GET", "/vendors?colour=blue", scope="read"), 422, "validation_failed")
    assert "colour" in error["details"]["query"]


@pytest.mark.parametrize("limit", ["0", "101", "1000000000000000000000", "ten"])
def test_page_sizes_out_of_range_answer_422(api, limit):
    _error(api("a.admin", "GET", f"/vendors?limit={limit}", scope="read"), 422, "validation_failed")


def test_another_tenants_ids_answer_404(api, world):
    b_vendor = world["b"].vendor.id
    _error(api("a.admin", "GET", f"/vendors/{b_vendor}", scope="read"), 404, "not_found")
    _error(api("a.admin", "PATCH", f"/vendors/{b_vendor}", json={"services": "x"},
               headers={"If-Match": '"x"'}), 404, "not_found")
    _error(api("a.admin", "GET", "/vendors/99999999999999999999", scope="read"), 404, "not_found")


def test_missing_unknown_expired_or_revoked_tokens_answer_401(app, client, world):
    with app.app_context():
        expired = make_token(world.user("a.admin"), world["a"].buyer, "read", expired=True)
        revoked = make_token(world.user("a.admin"), world["a"].buyer, "read", revoked=True)
    for headers in ({}, {"Authorization": "Basic abc"}, bearer("vc_nope_nope"), bearer(expired),
                    bearer(revoked)):
        response = client.get("/api/v1/vendors", headers=headers)
        _error(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_session_cookie_is_not_enough(client, world, login_as):
    login_as(world.user("a.admin"))
    _error(client.get("/api/v1/vendors"), 401, "unauthorized")
    _error(client.post("/api/v1/vendors", json={"legal_name": "Via cookie"}), 401, "unauthorized")


def test_a_token_never_exceeds_its_scope_or_role(app, api):
    before = _stored(app)
    _error(api("a.admin", "POST", "/vendors", scope="read", json={"legal_name": "X"}), 403, "forbidden")
    _error(api("a.legal", "POST", "/vendors", scope="admin", json={"legal_name": "X"}), 403, "forbidden")
    _error(api("a.vendor", "GET", "/vendors", scope="admin"), 403, "forbidden")
    assert _stored(app) == before


def test_a_token_stops_when_its_user_leaves_the_organisation(app, api, world):
    assert api("a.legal", "GET", "/organisation", scope="read").status_code == 200
    with app.app_context():
        from tests.factories.accounts import membership_of

        db.session.delete(membership_of(world.user("a.legal"), world["a"].buyer))
        db.session.commit()
    _error(api("a.legal", "GET", "/organisation", scope="read"), 401, "unauthorized")


def test_unknown_api_paths_and_methods_answer_json(api):
    _error(api("a.admin", "GET", "/nothing-here", scope="read"), 404, "not_found")
    _error(api("a.admin", "DELETE", "/organisation"), 405, "method_not_allowed")


@pytest.mark.parametrize("big", ["2919783817263", "2147483648"])
def test_ids_beyond_the_columns_range_answer_404_not_500(api, big):
    _error(api("a.admin", "GET", f"/vendors/{big}/contacts", scope="read"), 404, "not_found")
    error = _error(api("a.admin", "POST", "/assessments", json={
        "vendor_id": int(big), "questionnaire_id": "x", "questionnaire_version": "1", "contact_ids": [1]}),
        422, "validation_failed")
    assert "vendor_id" in error["details"]["json"]


def _review_paths(world, tenant: str) -> dict[str, str]:
    """The review routes of a tenant's assessment (the authz world's ids)."""
    a, clarification, request = (world.extra[f"{name}_{tenant}"]
                                 for name in ("assessment", "clarification", "remediation"))
    return {
        "decision": f"/assessments/{a}/decision",
        "clarifications": f"/assessments/{a}/clarifications",
        "remediation": f"/assessments/{a}/remediation",
        "review": f"/assessments/{a}/remediation/{request}/review",
        "answer": f"/vendor/assessments/{a}/clarifications/{clarification}/answer",
        "respond": f"/vendor/assessments/{a}/remediation/{request}/respond",
    }


# Each write of the review, its actor, and a valid body.
REVIEW_WRITES = [("decision", "a.assessor", {"decision": "rejected", "comment": "No"}),
                 ("clarifications", "a.assessor", {"item_id": "has_dpa", "question": "Why?"}),
                 ("remediation", "a.assessor", {"finding_id": "no_dpa"}),
                 ("review", "a.assessor", {"outcome": "accept", "reason": "Checked"}),
                 ("answer", "a.vendor", {"answer": "Signed."}),
                 ("respond", "a.vendor", {"kind": "fix", "text": "Fixed."})]


@pytest.fixture
def review_world(app, world):
    """Each tenant's assessment with an open clarification and a remediation request."""
    from tests.factories.world import add_assessment_world

    with app.app_context():
        add_assessment_world(world)
    return world


@pytest.mark.parametrize(("name", "actor", "body"), REVIEW_WRITES)
def test_review_writes_refuse_bad_input_and_store_nothing(app, api, review_world, name, actor, body):
    path = _review_paths(review_world, "a")[name]
    before = _stored(app)
    _error(api(actor, "POST", path, data="{not json", headers={"Content-Type": "application/json"}),
           400, "bad_request")
    error = _error(api(actor, "POST", path, json={**body, "approved_by": "me"}), 422, "validation_failed")
    assert "approved_by" in error["details"]["json"]
    wrong = _error(api(actor, "POST", path, json={key: 5 for key in body}), 422, "validation_failed")
    assert set(wrong["details"]["json"]) == set(body)
    _error(api(actor, "POST", path, json=body, scope="read"), 403, "forbidden")
    _error(api(actor, "POST", _review_paths(review_world, "b")[name], json=body), 404, "not_found")
    assert _stored(app) == before


def test_review_reads_of_another_tenant_answer_404(api, review_world):
    b = _review_paths(review_world, "b")
    request = review_world.extra["remediation_b"]
    for path in (b["decision"], b["clarifications"], b["remediation"], f"{b['remediation']}/{request}"):
        _error(api("a.legal", "GET", path, scope="read"), 404, "not_found")
    a = _review_paths(review_world, "a")
    _error(api("a.legal", "GET", f"{a['remediation']}/{request}", scope="read"), 404, "not_found")
    b_assessment = review_world.extra["assessment_b"]
    for path in (f"/vendor/assessments/{b_assessment}/clarifications",
                 f"/vendor/assessments/{b_assessment}/remediation"):
        _error(api("a.vendor", "GET", path, scope="read"), 404, "not_found")
    _error(api("a.legal", "GET", f"{a['clarifications']}?cursor=forged", scope="read"), 400, "bad_request")


def test_review_writes_answer_403_to_the_wrong_role(app, api, review_world):
    a = _review_paths(review_world, "a")
    before = _stored(app)
    _error(api("a.legal", "POST", a["decision"], json={"decision": "approved"}, scope="admin"), 403,
           "forbidden")
    _error(api("a.vendor", "POST", a["remediation"], json={"finding_id": "no_dpa"}, scope="admin"), 403,
           "forbidden")
    _error(api("a.assessor", "POST", a["respond"], json={"kind": "fix", "text": "x"}, scope="admin"), 403,
           "forbidden")
    assert _stored(app) == before
@pytest.mark.parametrize("owner_id", [-5209319086509, 0, 2**31])
def test_an_owner_id_beyond_the_columns_range_answers_422_not_500(app, api, owner_id):
    """Found by schemathesis on PostgreSQL, which refuses such a number in a query (out of range)."""
    before = _stored(app)
    error = _error(api("a.admin", "POST", "/vendors", json={"legal_name": "X", "owner_id": owner_id}), 422,
                   "validation_failed")
    assert "owner_id" in error["details"]["json"]
    assert _stored(app) == before


# --- reports, packs, exports, DPA, webhooks and invitations --------------------------------------

NEW_CREATES = [("/packs", "write", {"assessment_id": 1}),
               ("/webhooks", "admin", {"url": "https://a.example/h", "events": ["assessment.sent"]})]


@pytest.mark.parametrize(("path", "scope", "body"), NEW_CREATES)
def test_new_creates_refuse_malformed_json_and_unknown_fields(app, api, path, scope, body):
    before = _stored(app)
    _error(api("a.admin", "POST", path, scope=scope, data="{not json",
               headers={"Content-Type": "application/json"}), 400, "bad_request")
    error = _error(api("a.admin", "POST", path, scope=scope, json={**body, "priority": "high"}), 422,
                   "validation_failed")
    assert "priority" in error["details"]["json"]
    _error(api("a.admin", "POST", path, scope=scope, json={**body, "locale": 5, "events": "all"}), 422,
           "validation_failed")
    assert _stored(app) == before


@pytest.mark.parametrize("query", ["/exports/vendors?colour=blue", "/exports/vendors?format=pdf",
                                   "/exports/assessments/1?sheet=everything",
                                   "/assessments/1/report?locale=de", "/webhooks?limit=101",
                                   "/webhooks/1/deliveries?status=lost"])
def test_new_reads_refuse_unknown_or_wrong_query_parameters(api, query):
    _error(api("a.admin", "GET", query, scope="admin"), 422, "validation_failed")


def test_new_routes_answer_404_for_another_tenants_ids(app, api, world):
    from tests.factories.webhooks import make_delivery, make_endpoint

    with app.app_context():
        endpoint, _secret = make_endpoint(world["b"].buyer.id)
        endpoint_id, delivery_id = endpoint.id, make_delivery(endpoint).id
    before = _stored(app)
    b_vendor, b_invitation = world["b"].vendor.id, world["b"].vendor_invitation.id
    for method, path, body in (
            ("GET", f"/webhooks/{endpoint_id}", None), ("DELETE", f"/webhooks/{endpoint_id}", None),
            ("PATCH", f"/webhooks/{endpoint_id}", {"enabled": False}),
            ("GET", f"/webhooks/{endpoint_id}/deliveries", None),
            ("POST", f"/webhooks/{endpoint_id}/deliveries/{delivery_id}/replay", None),
            ("POST", "/packs", {"vendor_id": b_vendor}),
            ("GET", f"/vendors/{b_vendor}/invitations", None),
            ("POST", f"/vendors/{b_vendor}/invitations/{b_invitation}/resend", None)):
        _error(api("a.admin", method, path, scope="admin", json=body, headers={"If-Match": '"x"'}), 404,
               "not_found")
    assert _stored(app) == before


def test_new_routes_refuse_a_scope_below_theirs(app, api, world):
    before = _stored(app)
    _error(api("a.admin", "GET", "/webhooks", scope="write"), 403, "forbidden")
    _error(api("a.admin", "POST", "/packs", scope="read", json={"vendor_id": world["a"].vendor.id}), 403,
           "forbidden")
    _error(api("a.legal", "POST", f"/vendors/{world['a'].vendor.id}/invitations/1/revoke", scope="admin"),
           403, "forbidden")
    _error(api("a.vendor", "GET", "/exports/vendors", scope="admin"), 403, "forbidden")
    _error(api("a.admin", "GET", "/dpa/versions", scope="admin"), 403, "forbidden")
    assert _stored(app) == before


@pytest.mark.parametrize("path", ["/packs/1", "/exports/vendors", "/dpa/subprocessors", "/webhooks",
                                  "/assessments/1/report", "/vendors/1/invitations"])
def test_new_routes_refuse_expired_tokens(app, client, world, path):
    with app.app_context():
        expired = make_token(world.user("a.admin"), world["a"].buyer, "admin", expired=True)
    _error(client.get(f"/api/v1{path}", headers=bearer(expired)), 401, "unauthorized")


@pytest.mark.parametrize(("path", "field"), [
    ("/assessments?tier=high%00", "tier"),  # PostgreSQL refused the NUL in the filter: a 500
    ("/vendors?q=acme%01", "q"),
])
def test_a_control_character_in_a_query_is_refused_with_422(api, path, field):
    error = _error(api("a.admin", "GET", path, scope="read"), 422, "validation_failed")
    assert field in error["details"]["query"]


def test_a_control_character_in_a_body_text_is_refused_and_nothing_stored(app, api):
    before = _stored(app)
    error = _error(api("a.admin", "POST", "/vendors", json={"legal_name": "Acme\u0000 SAS"}), 422,
                   "validation_failed")
    assert "legal_name" in error["details"]["json"]
    assert _stored(app) == before
