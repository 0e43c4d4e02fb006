"""Each API token has its own rate limit: over it, 429 in the API's error body with Retry-After."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.conftest import make_config
from tests.factories.api import bearer, token_for
from vendorcheck import create_app
from vendorcheck.extensions import db, limiter


@pytest.fixture
def limited_api(app: Flask, tmp_path, limiter_restored):
    """A client of an app with rate limiting on and a limit of 3 requests a minute per token."""
    limited = create_app(make_config(tmp_path, RATELIMIT_ENABLED=True, API_RATE_LIMIT="3 per minute",
                                     SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"]))
    limiter.reset()
    yield limited.test_client()
    limiter.reset()
    with limited.app_context():
        db.session.remove()
        db.engine.dispose()


def test_each_token_has_its_own_limit(app, world, limited_api):
    with app.app_context():
        first, second = token_for(world, "a.admin", "read"), token_for(world, "a.admin", "read")
    statuses = [limited_api.get("/api/v1/organisation", headers=bearer(first)).status_code for _ in range(4)]
    refused = limited_api.get("/api/v1/organisation", headers=bearer(first))
    other = limited_api.get("/api/v1/organisation", headers=bearer(second))

    assert statuses == [200, 200, 200, 429]
    assert refused.get_json()["error"]["code"] == "rate_limited" and refused.headers.get("Retry-After")
    assert other.status_code == 200
