"""Pages anyone can open: the start page, questionnaire previews and the report check (/verify)."""

from vendorcheck.public import verify, views  # noqa: F401  (their routes register on bp)
from vendorcheck.public.blueprint import bp

__all__ = ["bp"]
