"""A local RFC 3161 timestamping authority for the tests (no network: a stand-in on 127.0.0.1)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.keys import load_private_key_from_pemder_data
from pyhanko.sign.timestamps import DummyTimeStamper

TSA_TIME = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def make_tsa_cert() -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    """Create a self-signed certificate fit for a timestamping authority."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # pyHanko's stub: RSA only
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test TSA")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(TSA_TIME - timedelta(days=365))
        .not_valid_after(datetime.now(UTC) + timedelta(days=365))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert, key


@contextmanager
def serve_tsa() -> Iterator[tuple[str, x509.Certificate, list[str]]]:
    """Serve RFC 3161 responses on 127.0.0.1 with a fixed time; yield (url, certificate, hits)."""
    cert, key = make_tsa_cert()
    pem_key = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    stamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        tsa_key=load_private_key_from_pemder_data(pem_key, passphrase=None),
        fixed_dt=TSA_TIME,
    )
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            hits.append(self.path)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            reply = stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/tsa", cert, hits
    server.shutdown()
    server.server_close()
