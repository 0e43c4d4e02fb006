"""The supplier's (vendor's) area: answering questionnaires with evidence, and its DPA (/vendor)."""

from vendorcheck.supplier import answering, dpa  # noqa: F401  (their routes register on bp)
from vendorcheck.supplier.blueprint import bp

__all__ = ["bp"]
