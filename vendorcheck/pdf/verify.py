"""Check a signed report: one PAdES signature, trusted, covering the whole unchanged file."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

PADES_SUBFILTER = "/ETSI.CAdES.detached"
# How many times over a file may be read while it is checked, plus a fixed allowance. A real
# signed PDF is read 1.1-1.5 times over (parsing, then hashing the signed ranges; measured on
# signed reports of 13-65 KB).
READ_BUDGET_FACTOR = 32
READ_BUDGET_EXTRA = 1 << 20


class ReadBudgetExceeded(Exception):
    """The parser read the file far more often than a real PDF needs (see BudgetedFile)."""


class BudgetedFile(io.BytesIO):
    """An in-memory file whose reads stop after a budget of bytes (and calls).

    pyHanko's cross-reference parser loops forever on a 57-byte file whose table ends in a short
    line starting with a newline: it seeks back and re-reads the same bytes. With a budget, such
    a file is reported as damaged instead of holding a worker for ever.
    """

    def __init__(self, data: bytes, budget: int) -> None:
        super().__init__(data)
        self.left = budget

    def _spend(self, count: int) -> None:
        self.left -= count + 1  # +1 per call: an empty read at the end is not free either
        if self.left < 0:
            raise ReadBudgetExceeded

    def read(self, size: int | None = -1) -> bytes:
        """Read like BytesIO, counting against the budget."""
        chunk = super().read(size)
        self._spend(len(chunk))
        return chunk

    def read1(self, size: int | None = -1) -> bytes:
        """Read like BytesIO, counting against the budget."""
        chunk = super().read1(size)
        self._spend(len(chunk))
        return chunk

    def readinto(self, buffer: Any) -> int:
        """Read like BytesIO, counting against the budget."""
        count = super().readinto(buffer)
        self._spend(count)
        return count

    def readline(self, size: int | None = -1) -> bytes:
        """Read like BytesIO, counting against the budget."""
        line = super().readline(size)
        self._spend(len(line))
        return line


def budgeted(data: bytes) -> BudgetedFile:
    """Return `data` as a file that may be read READ_BUDGET_FACTOR times over."""
    return BudgetedFile(data, READ_BUDGET_FACTOR * len(data) + READ_BUDGET_EXTRA)


@dataclass
class Verification:
    """The verdict on a signed PDF, with plain-English reasons when it fails."""

    ok: bool = False
    signer: str | None = None
    signed_at: datetime | None = None
    problems: list[str] = field(default_factory=list)
    intact: bool = False
    valid: bool = False
    trusted: bool = False
    coverage: str | None = None
    modification_level: str | None = None


def verify_pdf(
    data: bytes,
    *,
    trust_roots: Sequence[x509.Certificate],
    expected_sha256: str | None = None,
) -> Verification:
    """Verify ``data``; never raises for bad input, the reasons go in ``problems``."""
    result = Verification()
    if not data.startswith(b"%PDF-"):
        result.problems.append("The file is not a PDF.")
        return result
    # A cut file can still parse as an earlier revision, so demand the final marker.
    if not data.rstrip(b"\r\n\t\x00 ").endswith(b"%%EOF"):
        result.problems.append("The PDF is damaged and cannot be read: it is truncated.")
        return result
    if expected_sha256 is not None and not _sha256_matches(data, expected_sha256):
        result.problems.append(
            "The file is not the one recorded for this report: its SHA-256 does not match."
        )
    signature = _single_signature(data, result)
    if signature is not None:
        _check_signature(signature, trust_roots, result)
    result.ok = not result.problems
    return result


def _sha256_matches(data: bytes, expected: str) -> bool:
    """Compare the file's SHA-256 with the recorded hex digest."""
    return hashlib.sha256(data).hexdigest() == expected.strip().lower()


def _single_signature(data: bytes, result: Verification) -> Any:
    """Return the only embedded signature, or None after recording why not."""
    try:
        from pyhanko.pdf_utils.reader import PdfFileReader  # lazy: pyHanko is slow to import

        signatures = PdfFileReader(budgeted(data)).embedded_signatures
    except Exception:  # a parser failure of any kind means the same thing to the user
        result.problems.append("The PDF is damaged and cannot be read.")
        return None
    if not signatures:
        result.problems.append("The PDF has no signature.")
        return None
    if len(signatures) > 1:
        result.problems.append("The PDF has more than one signature; a report has exactly one.")
        return None
    return signatures[0]


def _check_signature(
    signature: Any, trust_roots: Sequence[x509.Certificate], result: Verification
) -> None:
    """Validate one signature with pyHanko and record every failed requirement."""
    if signature.sig_object.get("/SubFilter") != PADES_SUBFILTER:
        result.problems.append("The signature is not a PAdES signature.")
    from pyhanko.sign.validation import validate_pdf_signature  # lazy: pyHanko is slow to import
    from pyhanko_certvalidator import ValidationContext

    context = ValidationContext(trust_roots=[_to_asn1(cert) for cert in trust_roots])
    try:
        status = validate_pdf_signature(signature, context)
    except Exception:  # objects are parsed lazily, so a damaged file can fail here too
        result.problems.append("The signature is damaged and cannot be checked.")
        return
    _copy_status(status, result)
    result.problems.extend(_status_problems(status))


def _to_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    """Convert a cryptography certificate to the asn1crypto type pyHanko expects."""
    return asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))


def _copy_status(status: Any, result: Verification) -> None:
    """Copy pyHanko's findings into the result."""
    result.intact = bool(status.intact)
    result.valid = bool(status.valid)
    result.trusted = bool(status.trusted)
    result.coverage = status.coverage.name if status.coverage is not None else None
    level = status.modification_level
    result.modification_level = level.name if level is not None else None
    result.signer = _common_name(status.signing_cert)
    result.signed_at = _signing_time(status)


def _common_name(cert: asn1_x509.Certificate) -> str:
    """Return the certificate's common name, or its whole subject when it has none."""
    name = cert.subject.native.get("common_name")
    return str(name) if name else str(cert.subject.human_friendly)


def _signing_time(status: Any) -> datetime | None:
    """Prefer the timestamp token's time over the time the signer claims."""
    if status.timestamp_validity is not None:
        stamped: datetime = status.timestamp_validity.timestamp
        return stamped
    claimed: datetime | None = status.signer_reported_dt
    return claimed


def _status_problems(status: Any) -> list[str]:
    """Turn pyHanko's status into plain-English problems, most serious first."""
    problems = []
    if not status.intact:
        problems.append("The signed content was altered: it no longer matches the signature.")
    if not status.valid:
        problems.append("The signature value is not valid for the signer's certificate.")
    if not status.trusted:
        problems.append("The signer's certificate is not trusted by this instance.")
    if status.coverage is None or status.coverage.name != "ENTIRE_FILE":
        problems.append(
            "The signature does not cover the entire file: content was appended after signing."
        )
    stamp = status.timestamp_validity
    if stamp is not None and not (stamp.intact and stamp.valid and stamp.trusted):
        problems.append("The signature's timestamp is not valid or its authority is not trusted.")
    level = status.modification_level
    if (level is not None and level.name != "NONE") or not status.docmdp_ok:
        problems.append("The document was modified after it was signed.")
    return problems
