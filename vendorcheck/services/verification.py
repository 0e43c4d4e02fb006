"""Is an uploaded PDF one of ours, intact? Reports, packs, DPA PDFs and acceptance certificates."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from vendorcheck.extensions import db
from vendorcheck.i18n import plain_text
from vendorcheck.models.reports import StoredReport
from vendorcheck.pdf import Verification
from vendorcheck.services.dpa import pdf_by_digest
from vendorcheck.services.dpa_acceptance import acceptance_by_certificate
from vendorcheck.services.render_pool import verify_pdf_isolated
from vendorcheck.services.reports import CLAIM
from vendorcheck.services.signing import trust_roots


@dataclass
class ReportCheck:
    """The verdict on an uploaded report: signature, and how it matches our records."""

    verification: Verification
    sha256: str
    stored: StoredReport | None = None
    pack: Any = None  # the evidence pack (vendorcheck.models.packs.PackJob) with this digest
    claimed_assessment_id: int | None = None
    dpa_pdf: Any = None  # the stored DPA PDF (vendorcheck.models.dpa.DpaPdf) with this digest
    acceptance: Any = None  # the DPA acceptance (models.dpa_relations.DpaAcceptance) certified
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Return whether the file is intact, trusted and not contradicted by our records."""
        return self.verification.ok and not self.problems

    @property
    def record(self) -> str | None:
        """Return, in words, which document of this instance's records the file is."""
        if self.stored is not None:
            return plain_text(_l("the stored report of assessment #%(id)s (%(locale)s)",
                                 id=self.stored.assessment_id, locale=self.stored.locale))
        if self.dpa_pdf is not None:
            version = self.dpa_pdf.version
            return plain_text(_l("the signed data processing agreement %(slug)s, version %(n)s "
                                 "(%(locale)s)", slug=version.profile.slug, n=version.number,
                                 locale=self.dpa_pdf.locale))
        if self.acceptance is not None:
            version = self.acceptance.version
            return plain_text(_l(
                "the certificate of acceptance #%(id)s of %(slug)s version %(n)s",
                id=self.acceptance.id, slug=version.profile.slug, n=version.number))
        if self.pack is not None:
            return plain_text(_l("evidence pack #%(id)s", id=self.pack.id))
        return None


def _claimed_assessment(data: bytes) -> int | None:
    """Return the assessment id the PDF's metadata claims, if readable."""
    try:
        from pypdf import PdfReader

        meta = PdfReader(io.BytesIO(data)).metadata
        keywords = str(meta.get("/Keywords", "")) if meta else ""
    except Exception:  # a damaged file simply claims nothing
        return None
    match = CLAIM.search(keywords)
    return int(match.group(1)) if match else None


def _pack_by_digest(digest: str) -> Any:
    """Return the finished evidence pack with this SHA-256, if this instance built it."""
    from vendorcheck.models.packs import PackJob, PackStatus

    return db.session.scalar(select(PackJob).where(PackJob.sha256 == digest,
                                                   PackJob.status == PackStatus.DONE))


def check_report(data: bytes) -> ReportCheck:
    """Verify a signed report and compare it with the reports this instance stored."""
    digest = hashlib.sha256(data).hexdigest()
    verification = verify_pdf_isolated(data, trust_roots=trust_roots())
    check = ReportCheck(verification, digest)
    check.stored = db.session.scalar(select(StoredReport).where(StoredReport.sha256 == digest))
    if check.stored is None:
        # Signed DPA versions and acceptance certificates count as ours too.
        check.dpa_pdf = pdf_by_digest(digest)
        check.pack = _pack_by_digest(digest)
        check.acceptance = acceptance_by_certificate(digest)
    if check.record is not None or not verification.valid:
        return check
    claimed = _claimed_assessment(data)
    check.claimed_assessment_id = claimed
    records = list(db.session.scalars(select(StoredReport).where(
        StoredReport.assessment_id == claimed))) if claimed is not None else []
    if records:
        check.problems.append(plain_text(_l(
            "This file claims to be the report of assessment %(id)s, but it differs from the "
            "report stored for that assessment.", id=claimed)))
    else:
        check.warnings.append(plain_text(_l(
            "Not issued by this instance's records: no stored report has this SHA-256 "
            "(a draft, or a report from another instance).")))
    return check
