"""The supplier's (vendor's) area: answering questionnaires with evidence, and its DPA (/vendor)."""

from flask import Blueprint


def routes() -> Blueprint:
    """Return the area's blueprint with every route registered (its view modules add them on import)."""
    from vendorcheck.supplier import answering, dpa, kit, link, remediation, spreadsheet  # noqa: F401
    from vendorcheck.supplier.blueprint import bp

    return bp
