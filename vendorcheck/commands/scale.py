"""`vendorcheck seed-scale`: fill a database with a large buyer to measure the product at scale."""

from __future__ import annotations

import secrets
import time

import click
from flask.cli import with_appcontext


@click.command("seed-scale")
@click.option("--vendors", type=click.IntRange(1, 1_000_000), default=10_000, show_default=True,
              help="Vendors of the buyer.")
@click.option("--assessments", type=click.IntRange(0, 10_000_000), default=100_000, show_default=True,
              help="Assessments in all, spread over the vendors (several per vendor).")
@click.option("--stale-share", type=click.FloatRange(0.0, 1.0), default=0.3, show_default=True,
              help="Share of scored assessments whose results are left stale, as autosaves leave them.")
@click.option("--email", default="scale-admin@scale.example", show_default=True,
              help="Login of the buyer's admin.")
@click.option("--password", default=None, help="The admin's password (a random one is printed otherwise).")
@click.option("--slug", default="scale-buyer", show_default=True, help="The buyer organisation's slug.")
@click.option("--force", is_flag=True, help="Add the data even if the database is not empty.")
@with_appcontext
def seed_scale_command(vendors: int, assessments: int, stale_share: float, email: str,
                       password: str | None, slug: str, force: bool) -> None:
    """Bulk-insert a buyer with many vendors and assessments (for benchmarks, never production)."""
    from vendorcheck.services.errors import DomainError
    from vendorcheck.services.scale_seed import analyse, seed_scale

    password = password or secrets.token_urlsafe(12)
    began = time.perf_counter()
    try:
        seeded = seed_scale(vendors, assessments, stale_share=stale_share, email=email,
                            password=password, slug=slug, force=force)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from exc
    analyse()
    click.echo(f"Seeded {seeded.vendors} vendor(s) and {seeded.assessments} assessment(s) "
               f"({seeded.stale} with stale results) in {time.perf_counter() - began:.1f} s.")
    click.echo(f"Buyer admin: {email} / {password}")
