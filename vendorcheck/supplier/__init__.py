"""The supplier's (vendor's) area: answering questionnaires with evidence, and its DPA (/vendor)."""

from vendorcheck.supplier import answering  # noqa: F401  (its routes register on bp)
from vendorcheck.supplier.blueprint import bp

__all__ = ["bp"]
