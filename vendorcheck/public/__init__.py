"""Pages anyone can open: the start page, questionnaire previews and the report check (/verify)."""

from flask import Blueprint


def routes() -> Blueprint:
    """Return the area's blueprint with every route registered (its view modules add them on import)."""
    from vendorcheck.public import verify, views  # noqa: F401
    from vendorcheck.public.blueprint import bp

    return bp
