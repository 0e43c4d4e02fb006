"""Signing and verification: the round trip holds and every tampering is caught."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import stat
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from cryptography import x509
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfWriter
from pypdf.generic import NameObject, NumberObject

from vendorcheck.pdf import ensure_instance_signer, load_signer, sign_pdf, verify_pdf
from vendorcheck.pdf.signing import CERT_NAME

REPO_ROOT = Path(__file__).resolve().parents[3]
FONT_PATH = REPO_ROOT / "static" / "fonts" / "NimbusSans-Regular.otf"
COVERAGE = "The signature does not cover the entire file: content was appended after signing."


def sign(pdf: bytes, kit: Any) -> bytes:
    """Sign ``pdf`` the way the app does."""
    return sign_pdf(
        pdf,
        kit.signer,
        reason="Assessment decided",
        location="Paris",
        field_name="ReportSignature",
        font_path=FONT_PATH,
    )


@pytest.fixture(scope="session")
def signed_pdf(report_pdf: bytes, kit: Any) -> bytes:
    """Return the report signed by this instance."""
    return sign(report_pdf, kit)


def byte_range(pdf: bytes) -> list[int]:
    """Return the signature's /ByteRange."""
    match = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf)
    assert match
    return [int(value) for value in match.groups()]


# -- the instance key ---------------------------------------------------------------------


def test_instance_key_is_created_once_and_private(tmp_path: Path) -> None:
    path = ensure_instance_signer(tmp_path, common_name="Acme vendorcheck", passphrase=b"pw")
    assert path == tmp_path / "signing" / "instance.p12"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = path.read_bytes()
    again = ensure_instance_signer(tmp_path, common_name="other", passphrase=b"pw")
    assert again == path
    assert path.read_bytes() == first


def test_instance_certificate_is_fit_for_signing(tmp_path: Path) -> None:
    path = ensure_instance_signer(tmp_path, common_name="Acme vendorcheck", passphrase=b"pw")
    cert = x509.load_pem_x509_certificate((path.parent / CERT_NAME).read_bytes())
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature
    assert usage.content_commitment
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert lifetime >= timedelta(days=3650)
    assert cert.subject.rfc4514_string() == "CN=Acme vendorcheck"


def test_wrong_passphrase_is_refused(kit: Any) -> None:
    with pytest.raises(ValueError, match="PKCS#12"):
        load_signer(kit.p12_path.read_bytes(), b"wrong")


def test_signer_is_loaded_once_per_process(kit: Any) -> None:
    data = kit.p12_path.read_bytes()
    assert load_signer(data, b"test-pw") is load_signer(data, b"test-pw")


# -- the round trip -----------------------------------------------------------------------


@pytest.mark.slow
def test_signed_report_verifies(signed_pdf: bytes, kit: Any) -> None:
    result = verify_pdf(
        signed_pdf,
        trust_roots=[kit.cert],
        expected_sha256=hashlib.sha256(signed_pdf).hexdigest(),
    )
    assert result.problems == []
    assert result.ok
    assert result.signer == "vendorcheck test instance"
    assert result.signed_at is not None
    assert abs(result.signed_at - datetime.now(UTC)) < timedelta(minutes=10)
    assert (result.intact, result.valid, result.trusted) == (True, True, True)
    assert (result.coverage, result.modification_level) == ("ENTIRE_FILE", "NONE")


@pytest.mark.slow
def test_pyhanko_agrees(signed_pdf: bytes, kit: Any) -> None:
    (embedded,) = PdfFileReader(io.BytesIO(signed_pdf)).embedded_signatures
    root = load_cert_from_pemder((kit.p12_path.parent / CERT_NAME).as_posix())
    status = validate_pdf_signature(embedded, ValidationContext(trust_roots=[root]))
    assert status.bottom_line
    assert embedded.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("pdfsig") is None, reason="pdfsig (poppler-utils) missing")
def test_pdfsig_agrees(signed_pdf: bytes, tmp_path: Path) -> None:
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed_pdf)
    output = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout
    # pdfsig exits 0 even for tampered files, so both lines are read.
    assert "Total document signed" in output
    assert "Signature Validation: Signature is Valid." in output
    assert "ETSI.CAdES.detached" in output


@pytest.mark.slow
def test_stamp_is_on_last_page_with_embedded_font(signed_pdf: bytes) -> None:
    with pikepdf.open(io.BytesIO(signed_pdf)) as doc:
        assert len(doc.pages) >= 2
        (widget,) = [
            annot
            for page in doc.pages
            for annot in page.get("/Annots", [])
            if annot.get("/FT") == "/Sig"
        ]
        assert widget.P.objgen == doc.pages[-1].obj.objgen
        fonts = list(_fonts(widget.AP.N))
        assert fonts
        for font in fonts:
            assert "NimbusSans" in str(font.BaseFont)
            descriptor = _descriptor(font)
            assert any(key in descriptor for key in ("/FontFile2", "/FontFile3"))


def _fonts(xobject: Any) -> Any:
    """Yield every font used by an appearance stream and its nested forms."""
    resources = xobject.get("/Resources", {})
    yield from resources.get("/Font", {}).values()
    for child in resources.get("/XObject", {}).values():
        yield from _fonts(child)


def _descriptor(font: Any) -> Any:
    """Return a font's descriptor, looking through a Type0 font's descendant."""
    if "/DescendantFonts" in font:
        return font.DescendantFonts[0].FontDescriptor
    return font.FontDescriptor


# -- tampering ----------------------------------------------------------------------------


@pytest.mark.slow
def test_flipped_byte_is_caught(signed_pdf: bytes, kit: Any, tmp_path: Path) -> None:
    start, length, _, _ = byte_range(signed_pdf)
    offset = signed_pdf.index(b"stream", start + 200) + 20  # inside page content
    assert offset < start + length
    tampered = bytearray(signed_pdf)
    tampered[offset] ^= 0x01
    result = verify_pdf(bytes(tampered), trust_roots=[kit.cert])
    assert not result.ok
    assert not result.intact
    assert "The signed content was altered: it no longer matches the signature." in result.problems
    if shutil.which("pdfsig"):
        path = tmp_path / "tampered.pdf"
        path.write_bytes(bytes(tampered))
        output = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout
        assert "Signature is Valid." not in output


@pytest.mark.slow
def test_appended_revision_is_caught(signed_pdf: bytes, kit: Any, tmp_path: Path) -> None:
    writer = PdfWriter(io.BytesIO(signed_pdf), incremental=True)
    writer.pages[0][NameObject("/Rotate")] = NumberObject(90)
    out = io.BytesIO()
    writer.write(out)
    tampered = out.getvalue()
    assert tampered.startswith(signed_pdf)
    result = verify_pdf(tampered, trust_roots=[kit.cert])
    assert not result.ok
    assert result.intact  # the old revision still matches: intact alone proves nothing
    assert result.coverage == "ENTIRE_REVISION"
    assert COVERAGE in result.problems
    if shutil.which("pdfsig"):
        path = tmp_path / "tampered.pdf"
        path.write_bytes(tampered)
        output = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout
        assert "Not total document signed" in output


@pytest.mark.slow
def test_foreign_signer_is_not_trusted(report_pdf: bytes, kit: Any, foreign_kit: Any) -> None:
    result = verify_pdf(sign(report_pdf, foreign_kit), trust_roots=[kit.cert])
    assert not result.ok
    assert (result.intact, result.trusted) == (True, False)
    assert "The signer's certificate is not trusted by this instance." in result.problems


@pytest.mark.slow
def test_hash_mismatch_is_caught(signed_pdf: bytes, kit: Any) -> None:
    result = verify_pdf(signed_pdf, trust_roots=[kit.cert], expected_sha256="0" * 64)
    assert not result.ok
    assert result.problems == [
        "The file is not the one recorded for this report: its SHA-256 does not match."
    ]


@pytest.mark.slow
@pytest.mark.parametrize("keep", [0, 3, 100, 0.5, -30])
def test_truncated_file_is_refused(signed_pdf: bytes, kit: Any, keep: float) -> None:
    end = int(len(signed_pdf) * keep) if isinstance(keep, float) else keep
    result = verify_pdf(signed_pdf[:end], trust_roots=[kit.cert])
    assert not result.ok
    assert result.problems[0] in (
        "The file is not a PDF.",
        "The PDF is damaged and cannot be read.",
        "The PDF is damaged and cannot be read: it is truncated.",
    )


@pytest.mark.slow
def test_unsigned_pdf_is_refused(report_pdf: bytes, kit: Any) -> None:
    result = verify_pdf(report_pdf, trust_roots=[kit.cert])
    assert not result.ok
    assert result.problems == ["The PDF has no signature."]


@pytest.mark.slow
def test_second_signature_is_refused(signed_pdf: bytes, kit: Any) -> None:
    resigned = sign_pdf(
        signed_pdf, kit.signer, reason="again", field_name="Second", font_path=FONT_PATH
    )
    result = verify_pdf(resigned, trust_roots=[kit.cert])
    assert not result.ok
    assert "more than one signature" in result.problems[0]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(junk=st.binary(max_size=400))
def test_garbage_never_raises(junk: bytes) -> None:
    for data in (junk, b"%PDF-1.7\n" + junk, b"%PDF-1.7\n" + junk + b"\nstartxref\n9\n%%EOF\n"):
        result = verify_pdf(data, trust_roots=[])
        assert not result.ok
        assert result.problems


# A 57-byte file on which pyHanko's xref parser seeks back and re-reads the same line for ever
# (found by test_garbage_never_raises).
STALLING_PDF = b"%PDF-1.7\nxref\n0 3\n0000000000 65535 f \n\nstartxref\n9\n%%EOF\n"


class Stalled(BaseException):
    """Raised by the alarm: not an Exception, so verify_pdf's handlers cannot swallow it."""


def test_a_file_built_to_stall_the_parser_is_reported_damaged() -> None:
    import signal

    def stalled(*_args: Any) -> None:
        raise Stalled("verify_pdf did not finish within 10 seconds")

    previous = signal.signal(signal.SIGALRM, stalled)
    signal.alarm(10)
    try:
        result = verify_pdf(STALLING_PDF, trust_roots=[])
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert not result.ok and result.problems == ["The PDF is damaged and cannot be read."]


def test_the_read_budget_leaves_real_reports_alone(signed_pdf: bytes, kit: Any) -> None:
    from vendorcheck.pdf.verify import READ_BUDGET_EXTRA, budgeted

    stream = budgeted(signed_pdf)
    assert stream.left == 32 * len(signed_pdf) + READ_BUDGET_EXTRA
    assert verify_pdf(signed_pdf, trust_roots=[kit.cert]).ok
