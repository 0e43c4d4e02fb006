"""The buyer's area: vendors, assessments and their review, reports, packs and exports (/buyer)."""

from vendorcheck.buyer import assessments, dpa, reports, vendors  # noqa: F401  (their routes register on bp)
from vendorcheck.buyer.blueprint import bp

__all__ = ["bp"]
