"""A minimal OpenID provider on 127.0.0.1 whose ID tokens the test writes (to try each bad token).

It serves the discovery document, its JWKS and a token endpoint that checks the PKCE verifier against the
challenge of the authorization request the test hands it, then answers with `make_id_token(nonce)`.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey


def continue_target(response: Any) -> str:
    """Return where the app's "continuing to your identity provider" page sends the browser."""
    assert response.status_code == 200, response.get_data(as_text=True)
    found = re.search(r'http-equiv="refresh" content="0;url=([^"]+)"', response.get_data(as_text=True))
    assert found, "no refresh to the identity provider"
    return html.unescape(found.group(1))


def new_key(kid: str) -> RSAKey:
    """Return a fresh RSA signing key with this key id."""
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


@dataclass
class FakeProvider:
    """The provider's state: its issuer, published key, the last request's PKCE challenge and nonce."""

    issuer: str = ""
    key: RSAKey = field(default_factory=lambda: new_key("published"))
    challenge: str = ""
    nonce: str = ""
    token_requests: list[dict[str, str]] = field(default_factory=list)
    make_id_token: Callable[[FakeProvider], str] | None = None

    def remember(self, authorization_url: str) -> dict[str, str]:
        """Read the authorization request our app sent the browser to; return its parameters."""
        params = {k: v[0] for k, v in parse_qs(urlsplit(authorization_url).query).items()}
        self.challenge, self.nonce = params.get("code_challenge", ""), params.get("nonce", "")
        return params

    def claims(self, client_id: str, **overrides: Any) -> dict[str, Any]:
        """Return valid ID token claims for the last request; overrides change or remove (None) some."""
        now = int(time.time())
        claims: dict[str, Any] = {"iss": self.issuer, "aud": client_id, "sub": "user-1", "iat": now,
                                  "exp": now + 300, "nonce": self.nonce, "email": "ada@acme.example",
                                  "email_verified": True, "name": "Ada Lovelace"}
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def sign(self, claims: dict[str, Any], key: RSAKey | None = None) -> str:
        """Return the claims as a compact RS256 JWT signed by `key` (the published key by default)."""
        signer = key or self.key
        return jwt.encode({"alg": "RS256", "kid": signer.kid}, claims, signer)


def _handler(provider: FakeProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def _json(self, data: Any, status: int = 200) -> None:
            body = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path == "/.well-known/openid-configuration":
                self._json({"issuer": provider.issuer, "authorization_endpoint": provider.issuer + "/auth",
                            "token_endpoint": provider.issuer + "/token",
                            "jwks_uri": provider.issuer + "/jwks",
                            "scopes_supported": ["openid", "email", "profile", "groups"]})
            elif self.path == "/jwks":
                self._json(KeySet([provider.key]).as_dict(private=False))
            else:
                self._json({"error": "not_found"}, 404)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            provider.token_requests.append(form)
            verifier = form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
            if digest.decode() != provider.challenge:
                self._json({"error": "invalid_grant"}, 400)
                return
            assert provider.make_id_token is not None
            self._json({"access_token": "at", "token_type": "Bearer", "expires_in": 300,
                        "id_token": provider.make_id_token(provider)})

    return Handler


@contextmanager
def fake_provider() -> Iterator[FakeProvider]:
    """Serve a FakeProvider on a free port of 127.0.0.1 for the duration of the block."""
    provider = FakeProvider()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    provider.issuer = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, name="fake-oidc", daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
