"""Every route × method × actor: allowed, sent to login, 403 (wrong role) or 404 (other tenant)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.factories.api import bearer, make_token
from tests.factories.links import link_cookie_path
from tests.integration.authz.matrix import LINK_HOLDERS, MATRIX, OK, cases, expected
from tests.integration.conftest import db_fingerprint
from vendorcheck.extensions import db
from vendorcheck.link_access import COOKIE
from vendorcheck.models import AuditEntry


def test_every_route_is_in_the_matrix(app):
    routes = {rule.endpoint for rule in app.url_map.iter_rules()} - {"static"}
    assert not routes - MATRIX.keys(), "add these endpoints to tests/integration/authz/matrix.py"
    assert not MATRIX.keys() - routes, "stale matrix entries"


def test_every_method_of_every_route_is_in_the_matrix(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        methods = set(rule.methods or ()) - {"HEAD", "OPTIONS"}
        assert methods == set(MATRIX[rule.endpoint].allow), rule.endpoint


def _audit_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count(AuditEntry.id)))


@pytest.mark.parametrize(("endpoint", "method", "actor", "scope"), cases())
def test_access(app, client, world, login_as, endpoint, method, actor, scope):
    route = MATRIX[endpoint]
    catalogue = app.extensions["questionnaires"].questionnaires
    if catalogue:
        world.extra["questionnaire"] = (catalogue[0].id, catalogue[0].version)
    world.extra["web_token"] = world.extra.get(f"web_token_{actor}", 0)
    data = route.data(world, actor) if route.data and method != "GET" else None
    anonymous = actor in LINK_HOLDERS | {"anon"}
    if actor in LINK_HOLDERS:  # the cookie a browser keeps after opening the link
        tenant = actor.split(".")[0]
        client.set_cookie(COOKIE, world.extra[f"link_token_{tenant}"],
                          path=link_cookie_path(world.extra[f"assessment_{tenant}"]))
    if route.api is None:
        login_as(None if anonymous else world.user(actor))
        options = {"data": data}
    else:  # API routes take a bearer token of the actor (none for anon); writes send a stale If-Match
        options = {"json": data, "headers": {"If-Match": '"stale"'}}
        if not anonymous:
            with app.app_context():
                options["headers"] |= bearer(make_token(world.user(actor), world.org_of(actor), scope))
    # The log and its heads record denials; a token's last use is written when it is checked.
    skip = ("audit_entry", "audit_chain_head", "api_token")
    before, audit_before = db_fingerprint(app, skip), _audit_count(app)

    response = client.open(route.path(world), method=method, **options)

    want = expected(route, method, actor, scope)
    if route.api is not None and want != "ok":
        assert response.status_code == want, response.get_data(as_text=True)
        assert response.get_json()["error"]["code"] in ("unauthorized", "forbidden", "not_found")
    elif want == "login":
        assert response.status_code == 302
        assert "/auth/login" in response.headers["Location"]
    elif want == "ok":
        assert response.status_code in route.ok.get(method, OK), response.get_data(as_text=True)
    else:
        assert response.status_code == want
    if want in ("login", 401, 403, 404):
        assert db_fingerprint(app, skip) == before, "a denied request changed stored data"
    if want in (403, 404) and route.override.get("user") != want:
        assert _audit_count(app) == audit_before + 1, "denied access is logged"


@pytest.mark.parametrize("actor", ["a.admin", "a.assessor", "a.legal", "a.vendor"])
def test_tenant_a_never_sees_tenant_b(app, client, world, login_as, actor):
    """Canary crawl: every GET route tenant A's actors may open shows nothing of tenant B."""
    login_as(world.user(actor))
    with app.app_context():
        headers = bearer(make_token(world.user(actor), world.org_of(actor), "read"))
    for endpoint, route in MATRIX.items():
        if "GET" not in route.allow or expected(route, "GET", actor, "read") != "ok":
            continue
        response = client.get(route.path(world), headers=headers if route.api else {})
        assert response.status_code in OK | {404} | route.ok.get("GET", frozenset()), endpoint
        assert "CANARY-B" not in _readable_text(response), endpoint


def _readable_text(response):
    """Return the text a person could read in a response: HTML, PDF or XLSX."""
    import io

    body, kind = response.get_data(), response.mimetype or ""
    if kind == "application/pdf":
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(body))
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    if "spreadsheetml" in kind:
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(body), read_only=True)
        return "\n".join(str(cell) for sheet in book for row in sheet.iter_rows(values_only=True)
                         for cell in row if cell is not None)
    return body.decode("utf-8", errors="replace")


@pytest.mark.parametrize("bad_id", ["0", "99999999999999999999", "9223372036854775808", "-1"])
def test_hostile_ids_answer_404(client, world, login_as, bad_id):
    login_as(world.user("a.admin"))
    for path in (f"/buyer/vendors/{bad_id}", f"/buyer/vendors/{bad_id}/edit",
                 f"/org/members/{bad_id}/remove", f"/org/invitations/{bad_id}/revoke"):
        assert client.get(path).status_code == 404, path


def test_other_tenant_ids_answer_404_not_403(client, world, login_as):
    login_as(world.user("a.admin"))
    b = world["b"]
    assert client.get(f"/buyer/vendors/{b.vendor.id}").status_code == 404
    path = f"/buyer/vendors/{world['a'].vendor.id}/invitations/{b.vendor_invitation.id}/revoke"
    assert client.get(path).status_code == 404
