"""`vendorcheck tokens create|list|revoke`: API tokens from the command line (docs/api.md)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("tokens")
def tokens_group() -> None:
    """API tokens."""


@tokens_group.command("create")
@click.argument("email")
@click.option("--scope", type=click.Choice(["read", "write", "admin"]), default="read",
              show_default=True, help="What the token may do, within its user's role.")
@click.option("--name", default="Command line", show_default=True, help="A name to recognise it by.")
@click.option("--expires", "days", type=click.IntRange(1, 3650), default=None,
              help="Expire after this many days (default: never).")
@click.option("--org", "org_slug", default=None, help="The organisation (slug), if the user has several.")
@click.option("--organisation-token", is_flag=True,
              help="An organisation token (the user must be its admin).")
@with_appcontext
def create_command(email: str, scope: str, name: str, days: int | None, org_slug: str | None,
                   organisation_token: bool) -> None:
    """Create a token for EMAIL's membership; the token is printed once, as the last line."""
    from sqlalchemy import select

    from vendorcheck.access import memberships_of
    from vendorcheck.extensions import db
    from vendorcheck.models import User
    from vendorcheck.models.api_tokens import TokenKind, TokenScope
    from vendorcheck.services import api_tokens
    from vendorcheck.services.errors import DomainError

    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"No user with the e-mail address {email}.")
    memberships = [m for m in memberships_of(user) if org_slug in (None, m.organisation.slug)]
    if not memberships:
        raise click.ClickException("This user is a member of no such organisation.")
    if len(memberships) > 1 and org_slug is None:
        slugs = ", ".join(m.organisation.slug for m in memberships)
        raise click.ClickException(
            f"This user is a member of several organisations; choose one with --org ({slugs}).")
    kind = TokenKind.ORGANISATION if organisation_token else TokenKind.PERSONAL
    try:
        issued = api_tokens.create_token(user, memberships[0].organisation, name=name,
                                         scope=TokenScope(scope), kind=kind, expires_in_days=days, by=user)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    token = issued.token
    click.echo(f"Token {token.id} ({token.prefix}, {token.scope.value}) for {user.email} in "
               f"{memberships[0].organisation.slug}; it is shown once:")
    click.echo(issued.secret)


@tokens_group.command("list")
@click.option("--email", default=None, help="Only this user's tokens.")
@with_appcontext
def list_command(email: str | None) -> None:
    """List tokens: id, prefix, scope, kind, state, user, organisation, last use."""
    from vendorcheck.models import utcnow
    from vendorcheck.services import api_tokens

    now = utcnow()
    for token in api_tokens.all_tokens(email):
        used = token.last_used_at.isoformat(timespec="seconds") if token.last_used_at else "never"
        click.echo(f"{token.id}\t{token.prefix}\t{token.scope.value}\t{token.kind.value}\t{token.state(now)}\t"
                   f"{token.user.email}\t{token.organisation.slug}\t{token.name}\tlast used {used}")


@tokens_group.command("revoke")
@click.argument("token_id", type=click.IntRange(1))
@with_appcontext
def revoke_command(token_id: int) -> None:
    """Revoke a token at once."""
    from vendorcheck.extensions import db
    from vendorcheck.models.api_tokens import ApiToken
    from vendorcheck.services import api_tokens

    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise click.ClickException(f"No token {token_id}.")
    api_tokens.revoke_token(token, by=None)
    click.echo(f"Token {token_id} ({token.prefix}) revoked.")
