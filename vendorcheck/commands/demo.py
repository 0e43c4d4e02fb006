"""`vendorcheck demo`: seed the demo organisations and users, and print the logins."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when organisations already exist.")
@with_appcontext
def demo_command(if_empty: bool) -> None:
    """Seed a demo buyer (Acme Retail SAS), two vendors and their users; print the logins."""
    from sqlalchemy import func, select

    from vendorcheck.extensions import db
    from vendorcheck.models import Organisation, User
    from vendorcheck.services.demo import BUYER_USERS, demo_logins, seed

    demo_present = db.session.scalar(select(User.id).where(User.email == BUYER_USERS[0].email))
    if db.session.scalar(select(func.count(Organisation.id))):
        if if_empty:
            click.echo("The database already holds organisations; demo data not added.")
            if demo_present:
                _print_logins("Demo logins", demo_logins())
            return
        if demo_present:
            click.echo("Demo data already present.", err=True)
            raise SystemExit(1)
    _print_logins("Demo data created. Logins", seed())


def _print_logins(title: str, logins: list[tuple[str, str]]) -> None:
    """Print the demo logins and their shared password."""
    from vendorcheck.services.demo import DEMO_PASSWORD

    click.echo(f"{title} (password for all, DEMO ONLY: {DEMO_PASSWORD}):")
    for email, description in logins:
        click.echo(f"  {email:<34} {description}")
