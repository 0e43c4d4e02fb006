"""With CSRF on (as in production), unsafe requests without a valid token are refused."""

from __future__ import annotations

import re

import pytest

from tests.integration.authz.matrix import MATRIX


@pytest.fixture(autouse=True)
def _csrf_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)


def _token(client, path):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


# RFC 8058 one-click unsubscribe: mail clients POST without a token (the URL's signed token is the
# credential); tests/integration/test_dpa_subscriptions.py checks that exemption.
# SAML's POST binding: the identity provider's page posts the signed response from another site; the
# signature, the audience and the request id it answers are the credential
# (tests/integration/test_sso_saml.py).
CSRF_EXEMPT = frozenset({"dpa.unsubscribe", "auth.saml_acs"})
# API routes take no cookie at all, only bearer tokens, so they need no CSRF token: a logged-in browser's
# POST to them answers 401 (tests/integration/api/test_api_bad_input.py).
POSTS = sorted(endpoint for endpoint, route in MATRIX.items()
               if "POST" in route.allow and endpoint not in CSRF_EXEMPT and route.api is None)


@pytest.mark.parametrize("endpoint", POSTS)
def test_every_post_without_a_token_is_400_and_changes_nothing(
        app, client, world, login_as, fingerprint, endpoint):
    route = MATRIX[endpoint]
    login_as(world.user("a.admin"))
    before = fingerprint()
    data = route.data(world, "a.admin") if route.data else {}
    response = client.post(route.path(world), data=data)
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert fingerprint() == before


def test_a_token_from_another_session_is_refused(app, client, world, fingerprint):
    other = app.test_client()
    token = _token(other, "/auth/signup")
    before = fingerprint()
    response = client.post("/auth/signup", data={
        "csrf_token": token, "org_name": "X", "name": "Y", "email": "y@x.example",
        "password": "long-enough-pass", "locale": "en"})
    assert response.status_code == 400
    assert fingerprint() == before


def test_a_valid_token_works(app, client):
    token = _token(client, "/auth/signup")
    response = client.post("/auth/signup", data={
        "csrf_token": token, "org_name": "X", "name": "Y", "email": "y@x.example",
        "password": "long-enough-pass", "locale": "en"})
    assert response.status_code == 302
