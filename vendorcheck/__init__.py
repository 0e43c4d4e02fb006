"""vendorcheck: GDPR processor due diligence."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

__version__ = "0.1.0"


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Create and configure the vendorcheck application."""
    app = Flask(
        __name__, template_folder="../templates", static_folder="../static", instance_relative_config=True,
        instance_path=instance_folder(),
    )
    app.config.from_object("vendorcheck.config.Config")
    app.config.from_prefixed_env("VENDORCHECK")
    if config:
        app.config.update(config)
    from vendorcheck.config import check_production_store, finalise_config

    finalise_config(app)
    register_proxies(app)
    register_extensions(app)
    check_production_store(app)
    register_questionnaires(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_web_hooks(app)
    register_commands(app)
    return app


def instance_folder() -> str | None:
    """Return VENDORCHECK_INSTANCE_PATH (stored files, signing key), or None for Flask's default folder."""
    path = os.environ.get("VENDORCHECK_INSTANCE_PATH", "").strip()
    if path and not os.path.isabs(path):
        raise RuntimeError(f"VENDORCHECK_INSTANCE_PATH must be an absolute path, not {path!r}")
    return path or None


def register_proxies(app: Flask) -> None:
    """Trust X-Forwarded-For and X-Forwarded-Proto from PROXY_COUNT reverse proxies (none by default)."""
    count = app.config["PROXY_COUNT"]
    if count:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)  # type: ignore[method-assign]


def register_extensions(app: Flask) -> None:
    """Bind the Flask extensions and database hooks to the app."""
    from vendorcheck import database, i18n, storage
    from vendorcheck.extensions import babel, csrf, db, limiter, login_manager, migrate

    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    database.init_app(app)  # first: db.init_app builds the engine from its options
    db.init_app(app)
    # Batch mode lets Alembic alter SQLite tables (SQLite cannot ALTER most constraints in place).
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"),
                     render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.viewer_timezone)
    login_manager.init_app(app)
    i18n.init_app(app)
    storage.init_app(app)
    register_access(app)


def register_access(app: Flask) -> None:
    """Set up the server-side sessions (Flask-Login's loader) and the access helpers for templates."""
    from vendorcheck import access, link_access, sessions

    sessions.init_app(app)
    access.init_app(app)
    link_access.init_app(app)


def register_questionnaires(app: Flask) -> None:
    """Load every questionnaire file once; a broken file stops the app at boot with a clear message."""
    from vendorcheck.questionnaire import load_catalogue

    app.extensions["questionnaires"] = load_catalogue(Path(app.config["QUESTIONNAIRES_DIR"]))


def register_blueprints(app: Flask) -> None:
    """Attach the blueprints."""
    from vendorcheck import api, buyer, dpa, org, public, security, supplier
    from vendorcheck.auth import mfa_views, passkey_views, sso  # noqa: F401  (register their routes on auth_bp)
    from vendorcheck.auth.views import bp as auth_bp

    # Rules bind their converters when added: install the bounded int converter first.
    app.url_map.converters["int"] = security.BoundedIntConverter
    app.register_blueprint(public.routes())
    app.register_blueprint(auth_bp)
    app.register_blueprint(org.routes())
    app.register_blueprint(buyer.routes())
    app.register_blueprint(supplier.routes())
    app.register_blueprint(dpa.routes())
    api.init_app(app)


def register_errorhandlers(app: Flask) -> None:
    """Answer errors with a page or JSON, never a traceback; a refused business rule with its reason."""
    from vendorcheck import errors
    from vendorcheck.services.errors import DomainError

    errors.init_app(app)
    # Views let a service's refusal through unless they show it beside a form: one handler answers it.
    app.register_error_handler(DomainError, errors.handle_refusal)


def register_web_hooks(app: Flask) -> None:
    """Add security headers and the URL converters."""
    from vendorcheck import security

    security.init_app(app)


def register_commands(app: Flask) -> None:
    """Register the command-line interface."""
    from vendorcheck import cli

    cli.init_app(app)
