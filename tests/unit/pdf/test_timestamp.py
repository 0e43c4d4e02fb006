"""PAdES B-T: a timestamp from an RFC 3161 server (a local stand-in) is embedded and checked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from tests.support.tsa import TSA_TIME, serve_tsa
from vendorcheck.pdf import sign_pdf, verify_pdf

pytestmark = pytest.mark.slow

FONT_PATH = Path(__file__).resolve().parents[3] / "static" / "fonts" / "NimbusSans-Regular.otf"


@pytest.fixture
def tsa() -> Iterator[tuple[str, x509.Certificate, list[str]]]:
    """Serve RFC 3161 responses on 127.0.0.1, answering with a fixed time."""
    with serve_tsa() as served:
        yield served


def test_timestamped_signature_verifies(report_pdf: bytes, kit: Any, tsa: Any) -> None:
    url, tsa_cert, hits = tsa
    signed = sign_pdf(
        report_pdf,
        kit.signer,
        reason="Assessment decided",
        field_name="ReportSignature",
        font_path=FONT_PATH,
        timestamp_url=url,
    )
    assert hits  # pyHanko asks twice: once to size the signature, once for real
    result = verify_pdf(signed, trust_roots=[kit.cert, tsa_cert])
    assert result.problems == []
    assert result.signed_at == TSA_TIME


def test_untrusted_timestamp_authority_is_reported(report_pdf: bytes, kit: Any, tsa: Any) -> None:
    url, _tsa_cert, _hits = tsa
    signed = sign_pdf(
        report_pdf, kit.signer, reason="r", field_name="Sig", font_path=FONT_PATH, timestamp_url=url
    )
    result = verify_pdf(signed, trust_roots=[kit.cert])
    assert not result.ok
    assert result.problems == [
        "The signature's timestamp is not valid or its authority is not trusted."
    ]
