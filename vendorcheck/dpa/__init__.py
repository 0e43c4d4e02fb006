"""Published DPAs for everyone (/dpa): versions, PDFs, history, sub-processors, feeds, subscriptions.

The DPA document itself (assembly, checks, diff, clause templates) is the `agreement` engine; the
vendor's and the buyer's DPA pages are in `supplier/dpa.py` and `buyer/dpa.py`.
"""

from flask import Blueprint


def routes() -> Blueprint:
    """Return the area's blueprint with every route registered (its view modules add them on import)."""
    from vendorcheck.dpa import charter, helpers, pages, subscriptions  # noqa: F401
    from vendorcheck.dpa.blueprint import bp

    return bp
