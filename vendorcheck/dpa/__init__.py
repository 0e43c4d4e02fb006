"""Published DPAs for everyone (/dpa): versions, PDFs, history, sub-processors, feeds, subscriptions.

The DPA document itself (assembly, checks, diff, clause templates) is the `agreement` engine; the
vendor's and the buyer's DPA pages are in `supplier/dpa.py` and `buyer/dpa.py`.
"""

from vendorcheck.dpa import helpers, pages, subscriptions  # noqa: F401  (their routes register on bp)
from vendorcheck.dpa.blueprint import bp

__all__ = ["bp"]
