"""Fixtures for the PDF core: a static folder, a counting HTTP listener and signing keys."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509

from vendorcheck.pdf import ensure_instance_signer, load_signer, render_pdf
from vendorcheck.pdf.signing import CERT_NAME

# A 1x1 red PNG, small enough to inline.
PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"
)
SECRET = "TOPSECRET-outside-static"
REPORT_HTML = """<!doctype html><html lang="en"><head><title>Vendor report</title></head>
<body><h1>Vendor report</h1>{body}</body></html>"""


@dataclass
class Listener:
    """A loopback HTTP server that records every request path."""

    port: int
    hits: list[str]

    @property
    def url(self) -> str:
        """Return the server's base URL."""
        return f"http://127.0.0.1:{self.port}"


@dataclass(frozen=True)
class SignerKit:
    """A signer with its certificate, as the app would load them."""

    signer: object
    cert: x509.Certificate
    p12_path: Path


@pytest.fixture
def static_dir(tmp_path: Path) -> Path:
    """Build a static folder with a logo, a symlink to /etc/passwd and a secret beside it."""
    static = tmp_path / "static"
    (static / "img").mkdir(parents=True)
    (static / "img" / "logo.png").write_bytes(PNG_1PX)
    (static / "leak.txt").symlink_to("/etc/passwd")
    (tmp_path / "secret.txt").write_text(SECRET)
    return static


@pytest.fixture
def listener() -> Iterator[Listener]:
    """Serve 200 to anything on 127.0.0.1 and count the requests."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"body { color: red }")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Listener(port=server.server_address[1], hits=hits)
    server.shutdown()
    server.server_close()


def make_kit(folder: Path, common_name: str) -> SignerKit:
    """Create an instance key in ``folder`` and load it."""
    p12_path = ensure_instance_signer(folder, common_name=common_name, passphrase=b"test-pw")
    cert = x509.load_pem_x509_certificate((p12_path.parent / CERT_NAME).read_bytes())
    return SignerKit(load_signer(p12_path.read_bytes(), b"test-pw"), cert, p12_path)


@pytest.fixture(scope="session")
def kit(tmp_path_factory: pytest.TempPathFactory) -> SignerKit:
    """Return this instance's signing kit."""
    return make_kit(tmp_path_factory.mktemp("instance"), "vendorcheck test instance")


@pytest.fixture(scope="session")
def foreign_kit(tmp_path_factory: pytest.TempPathFactory) -> SignerKit:
    """Return another instance's signing kit (not trusted by ours)."""
    return make_kit(tmp_path_factory.mktemp("foreign"), "someone else")


@pytest.fixture(scope="session")
def report_pdf(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """Render a two-page unsigned report."""
    static = tmp_path_factory.mktemp("static")
    body = "".join(f"<p>Question {i}: answered yes.</p>" for i in range(60))
    return render_pdf(REPORT_HTML.format(body=body), static_dir=static)
