"""Organisation administration: members, invitations, audit log, outbox, certificate, webhooks, MFA,
single sign-on, API tokens (/org)."""

from flask import Blueprint


def routes() -> Blueprint:
    """Return the area's blueprint with every route registered (its view modules add them on import)."""
    from vendorcheck.org import certificates, security, sso, tokens, views, webhooks  # noqa: F401
    from vendorcheck.org.blueprint import bp

    return bp
