"""`vendorcheck init-db`: create or upgrade the database schema."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the database schema through the migrations."""
    from flask_migrate import upgrade

    upgrade()
    click.echo(f"Database ready: {_safe_url(current_app.config['SQLALCHEMY_DATABASE_URI'])}")


def _safe_url(url: str) -> str:
    """Hide a password in a database URL before printing it."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
