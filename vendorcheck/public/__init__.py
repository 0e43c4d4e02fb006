"""Pages anyone can open: the start page, previews, the report check (/verify), /healthz and /readyz."""

from flask import Blueprint


def routes() -> Blueprint:
    """Return the area's blueprint with every route registered (its view modules add them on import)."""
    from vendorcheck.public import health, verify, views  # noqa: F401
    from vendorcheck.public.blueprint import bp

    return bp
