"""PDF reports: restricted HTML rendering, PAdES signing and verification."""

from vendorcheck.pdf.render import ReportAttachment, StaticOnlyFetcher, render_pdf
from vendorcheck.pdf.signing import ensure_instance_signer, load_signer, sign_pdf
from vendorcheck.pdf.verify import Verification, verify_pdf

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
