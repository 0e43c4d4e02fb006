"""The app factory, error pages, security headers and the public questionnaire pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import make_config
from vendorcheck import create_app
from vendorcheck.security import is_safe_next


def test_start_page_lists_the_shipped_questionnaires(client):
    response = client.get("/?lang=en")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "art28-processor-audit" in page
    assert 'lang="en"' in page


def test_start_page_speaks_french_from_accept_language(client):
    response = client.get("/", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert 'lang="fr"' in response.get_data(as_text=True)


def test_questionnaire_preview_shows_sections_refs_and_conditions(client, app):
    q = app.extensions["questionnaires"].get("art28-processor-audit")
    response = client.get(f"/questionnaires/{q.id}/{q.version}?lang=en")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert q.sha256 in page
    assert "gdpr:44" in page or "gdpr:28" in page
    assert "Shown when:" in page


def test_questionnaire_preview_in_french(client, app):
    q = app.extensions["questionnaires"].get("art28-processor-audit")
    page = client.get(f"/questionnaires/{q.id}/{q.version}?lang=fr").get_data(as_text=True)
    assert q.title.get("fr") in page


def test_favicon_is_served_and_linked(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/vnd.microsoft.icon"
    assert icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO header, not an HTML error page
    page = client.get("/").get_data(as_text=True)
    assert 'rel="icon"' in page and "favicon.svg" in page
    with client.get("/static/img/favicon.svg") as svg:
        assert svg.status_code == 200 and svg.data.startswith(b"<svg")


def test_unknown_questionnaire_is_a_404_page(client):
    response = client.get("/questionnaires/nope/9.9.9")
    assert response.status_code == 404
    assert "Traceback" not in response.get_data(as_text=True)


def test_404_as_json_for_api_clients(client):
    response = client.get("/api/nothing-here", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.is_json
    assert response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("path", ["/questionnaires/x/1", "/"])
def test_security_headers_are_set(client, path):
    headers = client.get(path).headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_oversized_body_is_a_413_page(tmp_path):
    app = create_app(make_config(tmp_path))

    @app.post("/_upload")
    def upload() -> str:
        from flask import request

        return str(len(request.get_data()))

    body = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = app.test_client().post("/_upload", data=body, content_type="application/octet-stream")
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    config = make_config(tmp_path, ENV="production", SECRET_KEY=None, TESTING=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(config)


def test_development_creates_and_keeps_a_secret_key(tmp_path):
    config = make_config(tmp_path, SECRET_KEY=None)
    first = create_app(config)
    second = create_app(config)
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert (Path(first.instance_path) / "secret_key").exists() or first.config["SECRET_KEY"]


def test_environment_variables_override_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("VENDORCHECK_PAGE_SIZE", "25")
    app = create_app(make_config(tmp_path))
    assert app.config["PAGE_SIZE"] == 25


def _boom_app(tmp_path: Path) -> Flask:
    """Return a production app with a route that raises, to see the 500 page."""
    app = create_app(make_config(tmp_path, ENV="production", TESTING=False, PROPAGATE_EXCEPTIONS=False))

    @app.get("/_boom")
    def boom() -> str:
        raise RuntimeError("SECRET-XYZ sqlalchemy internals")

    return app


@pytest.mark.allow_5xx
def test_500_page_hides_the_traceback(tmp_path):
    client = _boom_app(tmp_path).test_client()
    response = client.get("/_boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    for leak in ("Traceback", "SECRET-XYZ", "sqlalchemy", "Debugger"):
        assert leak not in body
    assert "Incident reference" in body


@pytest.mark.allow_5xx
def test_500_as_json_has_an_incident_id(tmp_path):
    client = _boom_app(tmp_path).test_client()
    response = client.get("/_boom", headers={"Accept": "application/json"})
    assert response.status_code == 500
    assert set(response.get_json()) == {"error", "message", "incident"}


def test_production_cookies_are_secure(tmp_path):
    app = create_app(make_config(tmp_path, ENV="production", TESTING=False))
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


@pytest.mark.parametrize(
    ("target", "ok"),
    [
        ("/buyer/vendors", True),
        ("/x?y=1", True),
        ("//evil.example", False),
        ("/\\evil.example", False),
        ("/\t/evil.example", False),
        ("///evil.example", False),
        ("http:///evil.example", False),
        ("https://evil.example", False),
        ("javascript:alert(1)", False),
        ("", False),
        (None, False),
    ],
)
def test_next_only_accepts_local_paths(target, ok):
    assert is_safe_next(target) is ok


def _refusing_app(tmp_path: Path) -> Flask:
    """Return an app with a route whose service refuses after writing, like a real use case."""
    from vendorcheck.extensions import db
    from vendorcheck.models import Organisation
    from vendorcheck.services.errors import DomainError

    class Refused(DomainError):
        status = 409
        default = "The vendor already answered this."

    # A database of its own (the shared PostgreSQL schema belongs to the session app).
    app = create_app(make_config(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'r.sqlite3'}"))
    with app.app_context():
        db.create_all()

    @app.post("/_refuse")
    def refuse() -> str:
        db.session.add(Organisation(name="Half-done SA", slug="half-done", country="FR"))
        db.session.flush()
        raise Refused()

    return app


@pytest.mark.parametrize("json", [False, True])
def test_a_refused_business_rule_answers_its_status_and_reason_and_keeps_nothing(tmp_path, json):
    from sqlalchemy import func, select

    from vendorcheck.extensions import db
    from vendorcheck.models import Organisation

    app = _refusing_app(tmp_path)
    app.config["WTF_CSRF_ENABLED"] = False
    headers = {"Accept": "application/json"} if json else {}
    response = app.test_client().post("/_refuse", headers=headers)
    assert response.status_code == 409
    if json:
        assert response.get_json()["message"] == "The vendor already answered this."
    else:
        assert "The vendor already answered this." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Organisation.id))) == 0
        db.engine.dispose()


def test_two_apps_in_one_process_get_every_route(tmp_path):
    """Workers, tests and the CLI build apps repeatedly: each area hands out its routes every time."""
    first = create_app(make_config(tmp_path / "one"))
    second = create_app(make_config(tmp_path / "two"))
    rules = sorted(r.rule for r in first.url_map.iter_rules())
    assert len(rules) > 90 and rules == sorted(r.rule for r in second.url_map.iter_rules())
