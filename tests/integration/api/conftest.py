"""API tests: the two-tenant world with a token per actor, and a client that sends it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.factories.api import bearer, token_for
from tests.factories.world import World


@pytest.fixture
def api(app: Flask, client: FlaskClient, world: World) -> Callable[..., Any]:
    """Call the API as an actor with a token of a scope: api("a.admin", "GET", "/vendors", json=...)."""
    secrets: dict[tuple[str, str], str] = {}

    def call(actor: str, method: str, path: str, scope: str = "write", **kwargs: Any) -> Any:
        if (actor, scope) not in secrets:
            with app.app_context():
                secrets[(actor, scope)] = token_for(world, actor, scope)
        headers = {**bearer(secrets[(actor, scope)]), **kwargs.pop("headers", {})}
        return client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    return call
