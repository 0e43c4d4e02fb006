"""The organisation's administration: members, invitations, audit log, outbox, signing certificate, API tokens
(/org)."""

from flask import Blueprint


def routes() -> Blueprint:
    """Return the area's blueprint with every route registered (its view modules add them on import)."""
    from vendorcheck.org import certificates, tokens, views  # noqa: F401
    from vendorcheck.org.blueprint import bp

    return bp
