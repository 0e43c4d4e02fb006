"""Signed audit reports: render, sign, store once decided; certificates; verification."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, Encoding, pkcs12
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from vendorcheck import audit
from vendorcheck.config import secret_keys
from vendorcheck.extensions import db
from vendorcheck.i18n import plain_text
from vendorcheck.models import Organisation, User
from vendorcheck.models.assessments import Assessment, AssessmentStatus
from vendorcheck.models.base import utcnow
from vendorcheck.models.reports import OrganisationCertificate, StoredReport
from vendorcheck.pdf import Verification, ensure_instance_signer, load_signer, sign_pdf
from vendorcheck.pdf.render import render_pdf
from vendorcheck.pdf.report import (
    CSS_PATH,
    LOCALES,
    ReportData,
    build_report_context,
)
from vendorcheck.pdf.signing import CERT_NAME
from vendorcheck.questionnaire import Questionnaire
from vendorcheck.services.assessments import ensure_fresh, reviewed_of
from vendorcheck.services.errors import DomainError, ValidationFailed
from vendorcheck.services.render_pool import render_pdf_isolated, verify_pdf_isolated

FIELD_NAME = "ReportSignature"
MAX_P12_BYTES = 64 * 1024
CLAIM = re.compile(r"vendorcheck-assessment:(\d{1,18})")


class CertificateInvalid(ValidationFailed):
    default = _l("The file is not a PKCS#12 certificate, or the passphrase is wrong.")


class QuestionnaireMissing(DomainError):
    status = 409
    default = _l("The questionnaire version of this assessment is no longer available.")


class SigningKeyUnavailable(DomainError):
    """The instance key was encrypted with a SECRET_KEY that is no longer configured."""

    status = 503
    default = _l(
        "The instance signing key cannot be opened with the current secret key "
        "(SECRET_KEY was changed). An administrator must add the previous key to "
        "VENDORCHECK_SECRET_KEY_FALLBACKS and restart: the signing key is then re-encrypted "
        "with the new secret key. If the previous key is lost, move the instance's signing "
        "folder away to create a new signing key; reports signed earlier stay verifiable with "
        "the old certificate.")


class CertificateUnreadable(DomainError):
    """An organisation certificate was encrypted with a SECRET_KEY no longer configured."""

    status = 503
    default = _l(
        "Your organisation's signing certificate can no longer be decrypted, because the "
        "server's secret key was changed. An administrator of your organisation must upload "
        "the certificate again (Signing certificate page), or the server administrator must "
        "add the previous key to VENDORCHECK_SECRET_KEY_FALLBACKS.")


# ------------------------------------------------------------------------------------ keys

def _secrets() -> list[bytes]:
    """Return SECRET_KEY then every fallback key (newest first), as bytes."""
    return secret_keys(current_app.config)


def _derived_key(purpose: bytes, secret: bytes | None = None) -> bytes:
    """Derive 32 bytes from SECRET_KEY (or an older key) for one purpose (HKDF-SHA256)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"vendorcheck " + purpose).derive(secret or _secrets()[0])


def _fernets() -> list[Fernet]:
    """Return the certificate Fernets: the current key's first, then the fallbacks'."""
    return [Fernet(base64.urlsafe_b64encode(_derived_key(b"organisation certificate", key)))
            for key in _secrets()]


def _fernet() -> MultiFernet:
    """Return the Fernet used to encrypt organisation certificates at rest (current key)."""
    return MultiFernet(_fernets())


def _instance_passphrase(secret: bytes | None = None) -> bytes:
    """Return the instance key's passphrase (derived from SECRET_KEY or an older key)."""
    return base64.urlsafe_b64encode(_derived_key(b"instance signing key", secret))


def _instance_dir() -> Path:
    return Path(current_app.instance_path)


def instance_signer() -> tuple[Any, x509.Certificate]:
    """Return the instance's signer and certificate, creating them on first use.

    After a SECRET_KEY rotation the key is opened with a fallback key and re-encrypted with
    the current one; when no configured key opens it, SigningKeyUnavailable (503) is raised.
    """
    p12_path = ensure_instance_signer(_instance_dir(), common_name=_instance_name(),
                                      passphrase=_instance_passphrase())
    cert = x509.load_pem_x509_certificate((p12_path.parent / CERT_NAME).read_bytes())
    data = p12_path.read_bytes()
    for index, secret in enumerate(_secrets()):
        passphrase = _instance_passphrase(secret)
        try:
            signer = load_signer(data, passphrase)
        except ValueError:
            continue
        if index > 0:
            current = _reencrypt_instance_key(p12_path, data, passphrase)
            signer = load_signer(current, _instance_passphrase())
        return signer, cert
    raise SigningKeyUnavailable(plain_text(SigningKeyUnavailable.default))


def _reencrypt_instance_key(p12_path: Path, data: bytes, old_passphrase: bytes) -> bytes:
    """Rewrite the instance PKCS#12 under the current key's passphrase (atomically)."""
    loaded = pkcs12.load_pkcs12(data, old_passphrase)
    cert = loaded.cert.certificate if loaded.cert is not None else None
    assert loaded.key is not None
    assert cert is not None
    fresh = pkcs12.serialize_key_and_certificates(
        b"instance", loaded.key, cert, None, BestAvailableEncryption(_instance_passphrase()))  # type: ignore[arg-type]
    tmp = p12_path.with_name(f".{p12_path.name}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(fresh)
    os.replace(tmp, p12_path)
    current_app.logger.warning("instance signing key re-encrypted with the current SECRET_KEY")
    return fresh


def instance_certificate() -> x509.Certificate:
    """Return the instance's certificate (creating the key if needed; no decryption)."""
    p12_path = ensure_instance_signer(_instance_dir(), common_name=_instance_name(),
                                      passphrase=_instance_passphrase())
    return x509.load_pem_x509_certificate((p12_path.parent / CERT_NAME).read_bytes())


def _instance_name() -> str:
    base = str(current_app.config.get("BASE_URL") or "vendorcheck")
    host = re.sub(r"^[a-z]+://", "", base).split("/")[0] or "vendorcheck"
    return f"vendorcheck instance {host}"


def organisation_certificate(org_id: int) -> OrganisationCertificate | None:
    """Return an organisation's uploaded certificate, if any."""
    return db.session.scalar(select(OrganisationCertificate)
                             .where(OrganisationCertificate.organisation_id == org_id))


def _org_signer(record: OrganisationCertificate) -> Any:
    """Decrypt and load an organisation's signer, re-encrypting it after a key rotation."""
    current, f = _fernets()[0], _fernet()
    try:
        p12, passphrase = f.decrypt(record.p12_encrypted), f.decrypt(record.passphrase_encrypted)
    except InvalidToken as exc:
        raise CertificateUnreadable(plain_text(CertificateUnreadable.default)) from exc
    try:
        current.decrypt(record.p12_encrypted)
    except InvalidToken:
        # Opened with a fallback key: store it under the current one (the caller commits).
        record.p12_encrypted = current.encrypt(p12)
        record.passphrase_encrypted = current.encrypt(passphrase)
        current_app.logger.warning("certificate of organisation %s re-encrypted with the "
                                   "current SECRET_KEY", record.organisation_id)
    return load_signer(p12, passphrase)


def timestamp_url() -> str | None:
    """Return the RFC 3161 server every signature asks for a timestamp (B-T), if configured."""
    return current_app.config.get("TIMESTAMP_URL") or None


def signer_for(org_id: int) -> Any:
    """Return the signer of an organisation's documents: its certificate, else the instance key."""
    record = organisation_certificate(org_id)
    return _org_signer(record) if record is not None else instance_signer()[0]


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
        raise QuestionnaireMissing(plain_text(QuestionnaireMissing.default)) from exc
    return q


def _name(user: User | None) -> str:
    return user.name if user is not None else ""


def report_data(assessment: Assessment, *, now: datetime | None = None) -> ReportData:
    """Collect an assessment's records as plain data for the report."""
    ensure_fresh(assessment)  # a report must not miss the latest autosave's findings
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
        verdict=reviewed_of(assessment).verdict,
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
    # The signer first: an unreadable key should fail before a render, not after it.
    signer = signer_for(assessment.buyer_org_id)
    data = report_data(assessment)
    context = build_report_context(q, data, locale, base_url=current_app.config["BASE_URL"])
    static_dir = Path(current_app.static_folder or "static")
    created = assessment.decided_at if data.decided else None
    pdf = render_pdf_isolated(render_report_html(context), static_dir=static_dir,
                              stylesheets=[CSS_PATH.read_text(encoding="utf-8")], created=created)
    reason = "Vendor audit report" if data.decided else "Vendor audit report (draft, not decided)"
    return sign_pdf(pdf, signer, reason=reason, field_name=FIELD_NAME, timestamp_url=timestamp_url(),
                    font_path=static_dir / "fonts" / "NimbusSans-Regular.otf",
                    location=assessment.buyer_org.name[:100])


def signed_report(assessment: Assessment, locale: str, by: User | None) -> bytes:
    """Return the signed report without auditing: stored bytes once decided, else a draft."""
    if assessment.status != AssessmentStatus.DECIDED:
        return build_signed_report(assessment, locale)
    existing = stored_report(assessment.id, locale)
    pdf = read_stored(existing) if existing is not None else None
    if pdf is None:
        pdf = build_signed_report(assessment, locale)
        _store(assessment, locale, pdf, by, existing)
    return pdf


def render_assessment_report(assessment: Assessment, *, locale: str, by: User | None) -> bytes:
    """Return the signed report; a decided assessment's report is rendered once and kept."""
    if locale not in LOCALES:
        locale = "en"
    decided = assessment.status == AssessmentStatus.DECIDED
    pdf = signed_report(assessment, locale, by)
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
        from vendorcheck.services.dpa import pdf_by_digest
        from vendorcheck.services.dpa_acceptance import acceptance_by_certificate

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


# ------------------------------------------------------------------------------------- render

def render_report_html(context: Mapping[str, Any]) -> str:
    """Render the report template in the context's locale."""
    with force_locale(str(context["locale"])):
        return render_template("reports/audit.html", **context)


def render_report_pdf(context: Mapping[str, Any], *, static_dir: Path,
                      created: datetime | None = None) -> bytes:
    """Render the report to unsigned PDF bytes, in this process (benchmarks and tools)."""
    html = render_report_html(context)
    css = CSS_PATH.read_text(encoding="utf-8")
    return render_pdf(html, static_dir=static_dir, stylesheets=[css], created=created)
