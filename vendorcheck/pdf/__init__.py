"""PDF reports: restricted HTML rendering, PAdES signing and verification.

The names below are loaded on first use (PEP 562): WeasyPrint and pyHanko take about a second to
import, and commands or pages that never render or sign should not pay for them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vendorcheck.pdf.render import ReportAttachment, StaticOnlyFetcher, render_pdf
    from vendorcheck.pdf.signing import ensure_instance_signer, load_signer, sign_pdf
    from vendorcheck.pdf.verify import Verification, verify_pdf

_HOME = {
    "ReportAttachment": "render",
    "StaticOnlyFetcher": "render",
    "render_pdf": "render",
    "ensure_instance_signer": "signing",
    "load_signer": "signing",
    "sign_pdf": "signing",
    "Verification": "verify",
    "verify_pdf": "verify",
}

__all__ = [
    "ReportAttachment",
    "StaticOnlyFetcher",
    "Verification",
    "ensure_instance_signer",
    "load_signer",
    "render_pdf",
    "sign_pdf",
    "verify_pdf",
]


def __getattr__(name: str) -> Any:
    """Import the submodule that holds `name` on first access."""
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
    globals()[name] = value
    return value
