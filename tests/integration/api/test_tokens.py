"""API tokens: the web page (shown once, listed, revoked after a confirmation) and the command line."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.factories.api import bearer
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry
from vendorcheck.models.api_tokens import ApiToken


def test_a_token_made_on_the_web_is_shown_once_works_and_is_revoked(app, client, world, login_as):
    login_as(world.user("a.assessor"))
    page = client.post("/org/tokens", data={"name": "GRC sync", "scope": "write", "kind": "personal",
                                            "expires": "30"})
    assert page.status_code == 200
    secret = re.search(r'value="(vc_[^"]+)"', page.get_data(as_text=True)).group(1)
    listed = client.get("/org/tokens").get_data(as_text=True)
    assert "GRC sync" in listed and secret not in listed  # shown once, never again
    with app.app_context():
        token = db.session.scalar(select(ApiToken).where(ApiToken.name == "GRC sync"))
        assert token.token_hash != secret and secret.startswith(f"vc_{token.prefix}_")
        token_id = token.id
    assert client.get("/api/v1/vendors", headers=bearer(secret)).status_code == 200

    confirm = client.get(f"/org/tokens/{token_id}/revoke")
    assert confirm.status_code == 200 and "Revoke this token?" in confirm.get_data(as_text=True)
    assert client.post(f"/org/tokens/{token_id}/revoke").status_code == 302
    assert client.get("/api/v1/vendors", headers=bearer(secret)).status_code == 401
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("api_token%")))
        assert list(actions) == ["api_token_created", "api_token_revoked"]


def test_only_an_admin_makes_organisation_tokens_and_others_tokens_answer_404(app, client, world, login_as):
    login_as(world.user("a.legal"))
    refused = client.post("/org/tokens", data={"name": "Org", "scope": "read", "kind": "organisation",
                                               "expires": "never"})
    assert refused.status_code == 422
    login_as(world.user("a.admin"))
    client.post("/org/tokens", data={"name": "Shared", "scope": "read", "kind": "organisation",
                                     "expires": "never"})
    with app.app_context():
        shared = db.session.scalar(select(ApiToken.id).where(ApiToken.name == "Shared"))
    login_as(world.user("a.assessor"))
    assert client.get(f"/org/tokens/{shared}/revoke").status_code == 404
    login_as(world.user("b.admin"))
    assert client.post(f"/org/tokens/{shared}/revoke").status_code == 404


def test_the_french_page_is_translated(client, world, login_as):
    login_as(world.user("a.admin"))
    client.post("/auth/profile", data={"name": "Admin A", "locale": "fr"})
    assert "Jetons d’API" in client.get("/org/tokens").get_data(as_text=True)


def test_the_command_line_creates_lists_and_revokes(app, runner, world, client):
    created = runner.invoke(args=["tokens", "create", "admin@a.example", "--scope", "read", "--name", "CLI",
                                  "--expires", "7"])
    assert created.exit_code == 0, created.output
    secret = created.output.strip().splitlines()[-1]
    assert secret.startswith("vc_")
    assert client.get("/api/v1/organisation", headers=bearer(secret)).status_code == 200
    listed = runner.invoke(args=["tokens", "list", "--email", "admin@a.example"])
    assert "CLI" in listed.output and "active" in listed.output and secret not in listed.output
    token_id = listed.output.split("\t")[0]
    assert runner.invoke(args=["tokens", "revoke", token_id]).exit_code == 0
    assert client.get("/api/v1/organisation", headers=bearer(secret)).status_code == 401
    assert runner.invoke(args=["tokens", "create", "nobody@x.example"]).exit_code == 1
