"""Signing keys: the instance key, each organisation's PKCS#12 certificate (stored encrypted), timestamps."""

from __future__ import annotations

import base64
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, Encoding, pkcs12
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from vendorcheck import audit
from vendorcheck.config import secret_keys
from vendorcheck.extensions import db
from vendorcheck.i18n import plain_text
from vendorcheck.models import Organisation, User
from vendorcheck.models.base import utcnow
from vendorcheck.models.reports import OrganisationCertificate
from vendorcheck.pdf import ensure_instance_signer, load_signer
from vendorcheck.pdf.signing import CERT_NAME
from vendorcheck.services.errors import DomainError, ValidationFailed

MAX_P12_BYTES = 64 * 1024


class CertificateInvalid(ValidationFailed):
    default = _l("The file is not a PKCS#12 certificate, or the passphrase is wrong.")


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


def _secrets() -> list[bytes]:
    """Return SECRET_KEY then every fallback key (newest first), as bytes."""
    return secret_keys(current_app.config)


def _derived_key(purpose: bytes, secret: bytes | None = None) -> bytes:
    """Derive 32 bytes from SECRET_KEY (or an older key) for one purpose (HKDF-SHA256)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"vendorcheck " + purpose).derive(secret or _secrets()[0])


def fernets_for(purpose: bytes) -> list[Fernet]:
    """Return the Fernets of one purpose (HKDF of SECRET_KEY): the current key's first, then fallbacks'."""
    return [Fernet(base64.urlsafe_b64encode(_derived_key(purpose, key))) for key in _secrets()]


def _fernets() -> list[Fernet]:
    """Return the certificate Fernets: the current key's first, then the fallbacks'."""
    return fernets_for(b"organisation certificate")


def secret_box(purpose: bytes) -> MultiFernet:
    """Return the Fernet that keeps one purpose's secrets at rest (encrypts with the current key)."""
    return MultiFernet(fernets_for(purpose))


def _fernet() -> MultiFernet:
    """Return the Fernet used to encrypt organisation certificates at rest (current key)."""
    return MultiFernet(_fernets())


def _instance_passphrase(secret: bytes | None = None) -> bytes:
    """Return the instance key's passphrase (derived from SECRET_KEY or an older key)."""
    return base64.urlsafe_b64encode(_derived_key(b"instance signing key", secret))


def instance_dir() -> Path:
    """Return the instance folder, where the instance signing key lives.

    The key is a local secret like SECRET_KEY, not a stored file: it never goes through the Store
    (docs/architecture.md, "Stored files").
    """
    return Path(current_app.instance_path)


def instance_signer() -> tuple[Any, x509.Certificate]:
    """Return the instance's signer and certificate, creating them on first use.

    After a SECRET_KEY rotation the key is opened with a fallback key and re-encrypted with
    the current one; when no configured key opens it, SigningKeyUnavailable (503) is raised.
    """
    p12_path = ensure_instance_signer(instance_dir(), common_name=instance_name(),
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
    p12_path = ensure_instance_signer(instance_dir(), common_name=instance_name(),
                                      passphrase=_instance_passphrase())
    return x509.load_pem_x509_certificate((p12_path.parent / CERT_NAME).read_bytes())


def instance_name() -> str:
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
