"""Signed audit reports: render, sign, store once decided; certificates; verification."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12
from flask import current_app, has_request_context
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from vendorcheck import audit
from vendorcheck.extensions import db
from vendorcheck.models import Organisation, User
from vendorcheck.models.assessments import Assessment, AssessmentStatus
from vendorcheck.models.base import utcnow
from vendorcheck.models.reports import OrganisationCertificate, StoredReport
from vendorcheck.questionnaire import Questionnaire
from vendorcheck.reports import Verification, ensure_instance_signer, load_signer, sign_pdf, verify_pdf
from vendorcheck.reports.report import LOCALES, ReportData, build_report_context, render_report_pdf
from vendorcheck.reports.signing import CERT_NAME
from vendorcheck.services.errors import DomainError, ValidationFailed

FIELD_NAME = "ReportSignature"
MAX_P12_BYTES = 64 * 1024
CLAIM = re.compile(r"vendorcheck-assessment:(\d{1,18})")


class CertificateInvalid(ValidationFailed):
    default = _l("The file is not a PKCS#12 certificate, or the passphrase is wrong.")


class QuestionnaireMissing(DomainError):
    status = 409
    default = _l("The questionnaire version of this assessment is no longer available.")


# ------------------------------------------------------------------------------------ keys

def _derived_key(purpose: bytes) -> bytes:
    """Derive 32 bytes from SECRET_KEY for one purpose (HKDF-SHA256)."""
    secret = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"vendorcheck " + purpose).derive(secret)


def _fernet() -> Fernet:
    """Return the Fernet used to encrypt organisation certificates at rest."""
    return Fernet(base64.urlsafe_b64encode(_derived_key(b"organisation certificate")))


def _instance_passphrase() -> bytes:
    """Return the instance key's passphrase (derived from SECRET_KEY)."""
    return base64.urlsafe_b64encode(_derived_key(b"instance signing key"))


def _instance_dir() -> Path:
    return Path(current_app.instance_path)


def instance_signer() -> tuple[Any, x509.Certificate]:
    """Return the instance's signer and certificate, creating them on first use."""
    p12_path = ensure_instance_signer(_instance_dir(), common_name=_instance_name(),
                                      passphrase=_instance_passphrase())
    cert = x509.load_pem_x509_certificate((p12_path.parent / CERT_NAME).read_bytes())
    return load_signer(p12_path.read_bytes(), _instance_passphrase()), cert


def instance_certificate() -> x509.Certificate:
    """Return the instance's certificate (creating the key if needed)."""
    return instance_signer()[1]


def _instance_name() -> str:
    base = str(current_app.config.get("BASE_URL") or "vendorcheck")
    host = re.sub(r"^[a-z]+://", "", base).split("/")[0] or "vendorcheck"
    return f"vendorcheck instance {host}"


def organisation_certificate(org_id: int) -> OrganisationCertificate | None:
    """Return an organisation's uploaded certificate, if any."""
    return db.session.scalar(select(OrganisationCertificate)
                             .where(OrganisationCertificate.organisation_id == org_id))


def _org_signer(record: OrganisationCertificate) -> Any:
    """Decrypt and load an organisation's signer."""
    f = _fernet()
    return load_signer(f.decrypt(record.p12_encrypted), f.decrypt(record.passphrase_encrypted))


def trust_roots() -> list[x509.Certificate]:
    """Return the certificates this instance trusts: its own and every uploaded one."""
    roots = [instance_certificate()]
    for pem in db.session.scalars(select(OrganisationCertificate.cert_pem)):
        roots.append(x509.load_pem_x509_certificate(pem.encode("ascii")))
    return roots


# ---------------------------------------------------------------------------- certificates

@dataclass(frozen=True)
class CertificateInfo:
    """What a PKCS#12 file holds, once it loaded."""

    subject: str
    not_after: datetime
    cert_pem: str


def inspect_p12(data: bytes, passphrase: str) -> CertificateInfo:
    """Load a PKCS#12 file, or raise CertificateInvalid with a clear message."""
    if not data or len(data) > MAX_P12_BYTES:
        raise CertificateInvalid()
    try:
        loaded = pkcs12.load_pkcs12(data, passphrase.encode("utf-8") or None)
    except (ValueError, TypeError) as exc:
        raise CertificateInvalid() from exc
    cert = loaded.cert.certificate if loaded.cert is not None else None
    if cert is None or loaded.key is None:
        raise CertificateInvalid(_l("The PKCS#12 file must hold a certificate and its private key."))
    if cert.not_valid_after_utc <= datetime.now(UTC):
        raise CertificateInvalid(_l("This certificate has expired."))
    try:
        load_signer(data, passphrase.encode("utf-8"))
    except Exception as exc:  # pyHanko refuses keys it cannot sign with
        raise CertificateInvalid() from exc
    return CertificateInfo(cert.subject.rfc4514_string()[:500], cert.not_valid_after_utc,
                           cert.public_bytes(Encoding.PEM).decode("ascii"))


def upload_certificate(org: Organisation, data: bytes, passphrase: str, *,
                       by: User) -> OrganisationCertificate:
    """Store (or replace) an organisation's signing certificate, encrypted at rest."""
    info = inspect_p12(data, passphrase)
    f = _fernet()
    record = organisation_certificate(org.id)
    action = "certificate.replaced" if record else "certificate.uploaded"
    if record is None:
        record = OrganisationCertificate(organisation_id=org.id)
        db.session.add(record)
    record.p12_encrypted = f.encrypt(data)
    record.passphrase_encrypted = f.encrypt(passphrase.encode("utf-8"))
    record.cert_pem = info.cert_pem
    record.subject = info.subject
    record.not_after = info.not_after
    record.uploaded_by_id = by.id
    record.uploaded_at = utcnow()
    audit.record(action, by=by, org=org, obj=record,
                 details={"subject": info.subject, "not_after": info.not_after.isoformat()})
    db.session.commit()
    return record


def remove_certificate(org: Organisation, *, by: User) -> None:
    """Remove an organisation's certificate; reports are then signed by the instance."""
    record = organisation_certificate(org.id)
    if record is None:
        return
    audit.record("certificate.removed", by=by, org=org, obj=record,
                 details={"subject": record.subject})
    db.session.delete(record)
    db.session.commit()


# --------------------------------------------------------------------------------- reports

def questionnaire_for(assessment: Assessment) -> Questionnaire:
    """Return the exact questionnaire version the assessment is pinned to."""
    catalogue = current_app.extensions["questionnaires"]
    try:
        q: Questionnaire = catalogue.get(assessment.questionnaire_id,
                                         assessment.questionnaire_version)
    except KeyError as exc:
        raise QuestionnaireMissing(_text(QuestionnaireMissing.default)) from exc
    return q


def _name(user: User | None) -> str:
    return user.name if user is not None else ""


def report_data(assessment: Assessment, *, now: datetime | None = None) -> ReportData:
    """Collect an assessment's records as plain data for the report."""
    answers = {a.item_id: a.value for a in assessment.answers}
    service = assessment.vendor.services or ""
    att = assessment.attestation
    return ReportData(
        assessment_id=assessment.id,
        buyer=assessment.buyer_org.name,
        vendor=assessment.vendor.legal_name,
        service=service,
        answers=answers,
        generated_at=now or utcnow(),
        status=assessment.status.value,
        decided=assessment.status == AssessmentStatus.DECIDED,
        decision=assessment.decision.value if assessment.decision else None,
        decision_comment=assessment.decision_comment,
        reviewer=_name(assessment.decided_by),
        sent_at=assessment.sent_at,
        submitted_at=assessment.submitted_at,
        decided_at=assessment.decided_at,
        due_date=assessment.due_date,
        next_review_date=assessment.next_review_date,
        score=assessment.score,
        tier=assessment.tier,
        justifications={a.item_id: a.justification for a in assessment.answers if a.justification},
        findings=[{
            "finding_id": f.finding_id, "source": f.source, "severity": f.severity,
            "title": f.title, "refs": f.refs, "remediation": f.remediation,
            "state": f.state.value, "due_date": f.due_date, "comment": f.comment,
        } for f in assessment.findings],
        overrides=[{
            "kind": o.kind, "target": o.target, "computed_value": o.computed_value,
            "new_value": o.new_value, "comment": o.comment, "by": _name(o.by), "at": o.at,
        } for o in assessment.overrides],
        evidence=[{
            "item_id": e.item_id, "file_name": e.file_name, "sha256": e.sha256, "size": e.size,
            "review_state": e.review_state.value,
        } for e in assessment.evidence],
        clarifications=[{
            "item_id": c.item_id, "question": c.question, "asked_by": _name(c.asked_by),
            "asked_at": c.asked_at, "answer": c.answer, "answered_by": _name(c.answered_by),
            "answered_at": c.answered_at, "state": c.state.value,
        } for c in assessment.clarifications],
        attestation={"name": att.name, "role": att.role, "statement": att.statement,
                     "attested_at": att.attested_at} if att else None,
    )


def _reports_dir() -> Path:
    folder = _instance_dir() / "reports"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def stored_report(assessment_id: int, locale: str) -> StoredReport | None:
    """Return the stored report of an assessment in one locale."""
    return db.session.scalar(select(StoredReport).where(
        StoredReport.assessment_id == assessment_id, StoredReport.locale == locale))


def read_stored(report: StoredReport) -> bytes | None:
    """Return a stored report's bytes if the file is there and matches its digest."""
    path = _reports_dir() / f"{report.storage_key}.pdf"
    if not path.is_file():
        return None
    data = path.read_bytes()
    return data if hashlib.sha256(data).hexdigest() == report.sha256 else None


def build_signed_report(assessment: Assessment, locale: str) -> bytes:
    """Render and sign the report of an assessment (not stored)."""
    q = questionnaire_for(assessment)
    data = report_data(assessment)
    context = build_report_context(q, data, locale, base_url=current_app.config["BASE_URL"])
    static_dir = Path(current_app.static_folder or "static")
    created = assessment.decided_at if data.decided else None
    pdf = render_report_pdf(context, static_dir=static_dir, created=created)
    record = organisation_certificate(assessment.buyer_org_id)
    signer = _org_signer(record) if record is not None else instance_signer()[0]
    reason = "Vendor audit report" if data.decided else "Vendor audit report (draft, not decided)"
    return sign_pdf(pdf, signer, reason=reason, field_name=FIELD_NAME,
                    font_path=static_dir / "fonts" / "NimbusSans-Regular.otf",
                    location=assessment.buyer_org.name[:100])


def render_assessment_report(assessment: Assessment, *, locale: str, by: User | None) -> bytes:
    """Return the signed report; a decided assessment's report is rendered once and kept."""
    if locale not in LOCALES:
        locale = "en"
    decided = assessment.status == AssessmentStatus.DECIDED
    pdf: bytes | None = None
    if decided:
        existing = stored_report(assessment.id, locale)
        pdf = read_stored(existing) if existing is not None else None
        if pdf is None:
            pdf = build_signed_report(assessment, locale)
            _store(assessment, locale, pdf, by, existing)
    else:
        pdf = build_signed_report(assessment, locale)
    audit.record("report.downloaded", by=by, org=assessment.buyer_org_id, obj=assessment,
                 details={"locale": locale, "draft": not decided,
                          "sha256": hashlib.sha256(pdf).hexdigest()})
    db.session.commit()
    return pdf


def _store(assessment: Assessment, locale: str, pdf: bytes, by: User | None,
           existing: StoredReport | None) -> None:
    """Write the report under a random name and record its digest."""
    key = secrets.token_hex(32)
    path = _reports_dir() / f"{key}.pdf"
    path.write_bytes(pdf)
    path.chmod(0o600)
    record = existing or StoredReport(assessment_id=assessment.id, locale=locale)
    if existing is None:
        db.session.add(record)
    record.storage_key = key
    record.sha256 = hashlib.sha256(pdf).hexdigest()
    record.size = len(pdf)
    record.created_at = utcnow()
    record.created_by_id = by.id if by is not None else None
    db.session.flush()


# ------------------------------------------------------------------------------ verification

@dataclass
class ReportCheck:
    """The verdict on an uploaded report: signature, and how it matches our records."""

    verification: Verification
    sha256: str
    stored: StoredReport | None = None
    claimed_assessment_id: int | None = None
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Return whether the file is intact, trusted and not contradicted by our records."""
        return self.verification.ok and not self.problems


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


def _text(message: Any) -> str:
    """Return a lazy message as text: in the request's language, else in English (CLI)."""
    if has_request_context():
        return str(message)
    with force_locale("en"):
        return str(message)


def check_report(data: bytes) -> ReportCheck:
    """Verify a signed report and compare it with the reports this instance stored."""
    digest = hashlib.sha256(data).hexdigest()
    verification = verify_pdf(data, trust_roots=trust_roots())
    check = ReportCheck(verification, digest)
    check.stored = db.session.scalar(select(StoredReport).where(StoredReport.sha256 == digest))
    if check.stored is not None or not verification.valid:
        return check
    claimed = _claimed_assessment(data)
    check.claimed_assessment_id = claimed
    records = list(db.session.scalars(select(StoredReport).where(
        StoredReport.assessment_id == claimed))) if claimed is not None else []
    if records:
        check.problems.append(_text(_l(
            "This file claims to be the report of assessment %(id)s, but it differs from the "
            "report stored for that assessment.", id=claimed)))
    else:
        check.warnings.append(_text(_l(
            "Not issued by this instance's records: no stored report has this SHA-256 "
            "(a draft, or a report from another instance).")))
    return check
