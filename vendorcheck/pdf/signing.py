"""Sign PDF bytes with pyHanko (PAdES) using the instance's self-signed key."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

if TYPE_CHECKING:  # pyHanko takes about half a second to import: only the functions that sign load it
    from pyhanko import stamp
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

P12_NAME = "instance.p12"
CERT_NAME = "instance-cert.pem"
CERT_VALIDITY = timedelta(days=3652)
DEFAULT_STAMP_LINES = ("Digitally signed by %(signer)s", "%(ts)s")
STAMP_SIZE = (240.0, 44.0)  # width, height in points
STAMP_MARGIN = 28.0  # from the right and bottom page edges, in points


def ensure_instance_signer(instance_dir: Path, *, common_name: str, passphrase: bytes) -> Path:
    """Return the instance's PKCS#12 path, creating an EC P-256 key and certificate once."""
    folder = instance_dir / "signing"
    p12_path = folder / P12_NAME
    if p12_path.exists():
        return p12_path
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _self_signed_certificate(key, common_name)
    p12 = pkcs12.serialize_key_and_certificates(
        b"instance", key, cert, None, serialization.BestAvailableEncryption(passphrase)
    )
    _write_private(p12_path, p12)
    (folder / CERT_NAME).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return p12_path


def _self_signed_certificate(key: ec.EllipticCurvePrivateKey, common_name: str) -> x509.Certificate:
    """Build a 10-year self-signed certificate usable for document signatures."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=True,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + CERT_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file readable by the owner only."""
    # O_EXCL: two workers racing on first use must not overwrite each other's key.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


@lru_cache(maxsize=8)
def load_signer(p12_bytes: bytes, passphrase: bytes) -> signers.SimpleSigner:
    """Load a signer from PKCS#12 bytes; cached per process (RSA keys take ~0.1 s)."""
    from pyhanko.sign import signers

    signer = signers.SimpleSigner.load_pkcs12_data(p12_bytes, (), passphrase=passphrase)
    if signer is None:  # pragma: no cover - pyHanko raises ValueError instead today
        raise ValueError("could not load the signing key")
    result: signers.SimpleSigner = signer
    return result


def sign_pdf(
    pdf: bytes,
    signer: signers.Signer,
    *,
    reason: str,
    field_name: str,
    font_path: Path,
    location: str | None = None,
    stamp_lines: Sequence[str] = DEFAULT_STAMP_LINES,
    timestamp_url: str | None = None,
) -> bytes:
    """Return ``pdf`` with a PAdES signature and a visible stamp on its last page.

    ``stamp_lines`` are pyHanko templates: ``%(signer)s`` and ``%(ts)s`` are filled in,
    so a literal percent sign must be written ``%%``. With ``timestamp_url`` the
    signature gets an RFC 3161 timestamp (PAdES B-T) from that server over HTTP.
    """
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=True)
    pdf_signer = _pdf_signer(writer, signer, reason=reason, field_name=field_name,
                             font_path=font_path, location=location, stamp_lines=stamp_lines,
                             timestamp_url=timestamp_url)
    out: io.BytesIO = pdf_signer.sign_pdf(writer)
    return out.getvalue()


def sign_pdf_file(
    source: Path,
    target: Path,
    signer: signers.Signer,
    *,
    reason: str,
    field_name: str,
    font_path: Path,
    location: str | None = None,
    stamp_lines: Sequence[str] = DEFAULT_STAMP_LINES,
    timestamp_url: str | None = None,
) -> None:
    """Sign the PDF file ``source`` into ``target`` like sign_pdf, reading and writing in chunks."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    # "w+b": pyHanko renders into a BytesIO unless the output is readable and seekable.
    with source.open("rb") as inp, target.open("w+b") as out:
        writer = IncrementalPdfFileWriter(inp, strict=True)
        pdf_signer = _pdf_signer(writer, signer, reason=reason, field_name=field_name,
                                 font_path=font_path, location=location,
                                 stamp_lines=stamp_lines, timestamp_url=timestamp_url)
        pdf_signer.sign_pdf(writer, output=out)


def _pdf_signer(writer: IncrementalPdfFileWriter, signer: signers.Signer, *, reason: str,
                field_name: str, font_path: Path, location: str | None,
                stamp_lines: Sequence[str], timestamp_url: str | None) -> signers.PdfSigner:
    """Build a PAdES signer with a visible stamp in the last page's bottom-right corner."""
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigFieldSpec, SigSeedSubFilter
    from pyhanko.sign.timestamps import HTTPTimeStamper

    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        reason=reason,
        location=location,
        subfilter=SigSeedSubFilter.PADES,
        md_algorithm="sha256",
    )
    return signers.PdfSigner(
        meta,
        signer=signer,
        timestamper=HTTPTimeStamper(timestamp_url) if timestamp_url else None,
        stamp_style=_stamp_style(stamp_lines, font_path),
        new_field_spec=SigFieldSpec(field_name, on_page=-1, box=_stamp_box(writer)),
    )


@lru_cache(maxsize=1)
def _in_memory_font_factory() -> type:
    """Return the font factory class, defined on first use (its base class is pyHanko's)."""
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulator, GlyphAccumulatorFactory

    class InMemoryFontFactory(GlyphAccumulatorFactory):
        """A GlyphAccumulatorFactory that reads the font into memory instead of leaking a handle."""

        def create_font_engine(self, writer: Any, obj_stream: Any = None) -> Any:
            """Build the glyph accumulator from the font's bytes."""
            # pyHanko's factory opens the font file and never closes it (ResourceWarning);
            # fontTools reads tables lazily, so the bytes must outlive this call.
            if obj_stream is None and writer.stream_xrefs and self.create_objstream_if_needed:
                obj_stream = writer.prepare_object_stream()
            return GlyphAccumulator(
                writer=writer,
                font_handle=io.BytesIO(Path(self.font_file).read_bytes()),
                font_size=self.font_size,
                ot_script_tag=self.ot_script_tag,
                ot_language_tag=self.ot_language_tag,
                writing_direction=self.writing_direction,
                bcp47_lang_code=self.bcp47_lang_code,
                obj_stream=obj_stream,
            )

    return InMemoryFontFactory


def _stamp_style(lines: Sequence[str], font_path: Path) -> stamp.TextStampStyle:
    """Build a text stamp that embeds ``font_path`` (an OpenType/CFF font)."""
    # pyHanko mis-scales TrueType fonts whose unitsPerEm is not 1000 (letter-spaced,
    # clipped text), so the project ships a CFF font with unitsPerEm 1000.
    from pyhanko import stamp
    from pyhanko.pdf_utils.text import TextBoxStyle

    text_style = TextBoxStyle(font=_in_memory_font_factory()(str(font_path)), font_size=9)
    return stamp.TextStampStyle(stamp_text="\n".join(lines), text_box_style=text_style)


def _stamp_box(writer: Any) -> tuple[int, int, int, int]:
    """Place the stamp in the bottom-right corner of the last page."""
    page_ref, _resources = writer.find_page_for_modification(-1)
    left, bottom, right, _top = _media_box(page_ref.get_object())
    width, height = STAMP_SIZE
    x2 = right - STAMP_MARGIN
    y1 = bottom + STAMP_MARGIN
    return (round(max(left, x2 - width)), round(y1), round(x2), round(y1 + height))


def _media_box(page: Any) -> tuple[float, float, float, float]:
    """Return a page's media box, following inheritance up the page tree."""
    node = page
    while node is not None and "/MediaBox" not in node:
        node = node.get("/Parent")
        node = node.get_object() if node is not None else None
    x1, y1, x2, y2 = (float(v) for v in (node["/MediaBox"] if node else (0, 0, 595, 842)))
    return (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))
