"""PDF reports: restricted HTML rendering, PAdES signing and verification."""

from vendorcheck.reports.pdf import ReportAttachment, StaticOnlyFetcher, render_pdf
from vendorcheck.reports.signing import ensure_instance_signer, load_signer, sign_pdf
from vendorcheck.reports.verify import Verification, verify_pdf

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
