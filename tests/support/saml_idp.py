"""A SAML identity provider for the tests: pysaml2's IdP classes (server.Server) behind a small HTTP server.

Its key and certificate are made at test time (cryptography). It signs in `user` at once (no login form):
GET /sso with our AuthnRequest answers with the HTTP-POST form pysaml2 builds for the app's ACS, which the
browser submits. `sign_assertion=False` or `signing_key` (another key than its metadata's) make bad answers.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.server import Server

PASSWORD_CLASS = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"


def write_key_pair(folder: Path, name: str) -> tuple[Path, Path]:
    """Write a fresh RSA key and its self-signed certificate as PEM files; return their paths."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"test idp {name}")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
            .sign(key, hashes.SHA256()))
    key_path, cert_path = folder / f"{name}.key", folder / f"{name}.crt"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


@dataclass
class SamlIdp:
    """The running IdP: its base URL, key files, the SP metadata it trusts and whom it signs in."""

    folder: Path
    url: str = ""
    key: tuple[Path, Path] | None = None
    sp_metadata: str = ""
    user: dict[str, list[str]] = field(default_factory=dict)
    sign_assertion: bool = True
    signing_key: tuple[Path, Path] | None = None  # another key than the metadata's: a forged signature
    responses: list[str] = field(default_factory=list)  # every SAMLResponse it produced

    def config(self, with_sp: bool) -> IdPConfig:
        """Return pysaml2's IdP configuration (the SP's metadata once the app is configured)."""
        assert self.key is not None
        key_path, cert_path = self.signing_key or self.key
        settings: dict[str, Any] = {
            "entityid": self.url + "/metadata",
            "xmlsec_binary": shutil.which("xmlsec1") or "/usr/bin/xmlsec1",
            "key_file": str(key_path), "cert_file": str(cert_path),
            "service": {"idp": {
                "endpoints": {"single_sign_on_service": [(self.url + "/sso", BINDING_HTTP_REDIRECT)]},
                "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
                "policy": {"default": {"lifetime": {"minutes": 5}, "attribute_restrictions": None}},
            }},
        }
        if with_sp:
            settings["metadata"] = {"inline": [self.sp_metadata]}
        config = IdPConfig()
        config.load(settings)
        return config

    def metadata(self) -> str:
        """Return the IdP's metadata XML (its entity id, SSO endpoint and published certificate)."""
        key, self.signing_key = self.signing_key, None
        try:
            return str(entity_descriptor(self.config(with_sp=False)))
        finally:
            self.signing_key = key

    def answer(self, saml_request: str, relay_state: str | None) -> str:
        """Return the auto-submitting HTML form that posts the signed response to the app's ACS."""
        server = Server(config=self.config(with_sp=True))
        request = server.parse_authn_request(saml_request, BINDING_HTTP_REDIRECT)
        args = server.response_args(request.message, [BINDING_HTTP_POST])
        email = self.user["mail"][0]
        response = server.create_authn_response(
            self.user, userid=email, name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=email),
            authn={"class_ref": PASSWORD_CLASS, "authn_auth": self.url},
            sign_assertion=self.sign_assertion, sign_response=False, **args)
        http = server.apply_binding(BINDING_HTTP_POST, str(response), args["destination"],
                                    relay_state or "", response=True)
        form = http["data"]
        self.responses.append(_saml_response(form))
        return form


def _saml_response(form: str) -> str:
    """Return the SAMLResponse value of pysaml2's POST form."""
    marker = 'name="SAMLResponse" value="'
    start = form.index(marker) + len(marker)
    return form[start:form.index('"', start)]


def _handler(idp: SamlIdp) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path == "/metadata":
                self._send(idp.metadata(), "application/samlmetadata+xml")
                return
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if parts.path != "/sso" or "SAMLRequest" not in query:
                self._send("not found", "text/plain", 404)
                return
            self._send(idp.answer(query["SAMLRequest"], query.get("RelayState")), "text/html")

        def _send(self, text: str, content_type: str, status: int = 200) -> None:
            body = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type + "; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextmanager
def saml_idp(folder: Path) -> Iterator[SamlIdp]:
    """Serve a SamlIdp with a fresh key on a free port of 127.0.0.1 for the duration of the block."""
    idp = SamlIdp(folder=folder)
    idp.key = write_key_pair(folder, "idp")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(idp))
    idp.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, name="saml-idp", daemon=True)
    thread.start()
    try:
        yield idp
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
