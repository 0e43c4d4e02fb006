"""The buyer's area: vendors, assessments and their review, reports, packs and exports (/buyer)."""

from flask import Blueprint


def routes() -> Blueprint:
    """Return the area's blueprint with every route registered (its view modules add them on import)."""
    from vendorcheck.buyer import assessments, dpa, kit, links, remediation, reports, vendors  # noqa: F401
    from vendorcheck.buyer.blueprint import bp

    return bp
