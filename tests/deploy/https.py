"""A small HTTPS browser for the deployment test: one cookie jar, CSRF tokens, no redirects followed."""

from __future__ import annotations

import http.client
import json
import re
import ssl
import uuid
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


@dataclass(frozen=True)
class Reply:
    """What the server answered."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        """Return the body as text."""
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """Return the body parsed as JSON."""
        return json.loads(self.body)


@dataclass
class Browser:
    """One user's browser: cookies are kept per host (as browsers do, whatever the port)."""

    cafile: Path
    cookies: SimpleCookie = field(default_factory=SimpleCookie)
    timeout: float = 30.0

    def request(self, port: int, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> Reply:
        """Send one request to https://127.0.0.1:<port><path>; keep the cookies it sets."""
        context = ssl.create_default_context(cafile=str(self.cafile))
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=self.timeout, context=context)
        # Browsers send a Referer; Flask-WTF's CSRF check requires a same-origin one over HTTPS.
        sent = {"Referer": f"https://127.0.0.1:{port}{path}", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={m.value}" for k, m in self.cookies.items())
        try:
            conn.request(method, path, body, sent)
            response = conn.getresponse()
            data = response.read()
            for header in response.headers.get_all("Set-Cookie") or []:
                self.cookies.load(header)
            return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
        finally:
            conn.close()

    def get(self, port: int, path: str) -> Reply:
        """GET a page."""
        return self.request(port, "GET", path)

    def csrf(self, port: int, path: str) -> str:
        """Return the CSRF token of a page (form field or meta tag)."""
        page = self.get(port, path)
        match = CSRF_INPUT.search(page.text) or CSRF_META.search(page.text)
        if page.status != 200 or match is None:
            raise AssertionError(f"no CSRF token on {path} (status {page.status})")
        return next(g for g in match.groups() if g)

    def post_form(self, port: int, path: str, fields: dict[str, str]) -> Reply:
        """POST an url-encoded form."""
        return self.request(port, "POST", path, urlencode(fields).encode(),
                            {"Content-Type": "application/x-www-form-urlencoded"})

    def post_json(self, port: int, path: str, payload: dict[str, Any], csrf: str) -> Reply:
        """POST JSON with the CSRF header, as the autosave script does."""
        return self.request(port, "POST", path, json.dumps(payload).encode(),
                            {"Content-Type": "application/json", "Accept": "application/json",
                             "X-CSRFToken": csrf})

    def post_file(self, port: int, path: str, fields: dict[str, str], name: str, content: bytes,
                  content_type: str) -> Reply:
        """POST a multipart form with one file field named `file`."""
        boundary = uuid.uuid4().hex
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                 for k, v in fields.items()]
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                     f"Content-Type: {content_type}\r\n\r\n".encode() + content + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        return self.request(port, "POST", path, b"".join(parts),
                            {"Content-Type": f"multipart/form-data; boundary={boundary}"})

    def log_in(self, port: int, email: str, password: str) -> None:
        """Log in through the login form."""
        token = self.csrf(port, "/auth/login")
        reply = self.post_form(port, "/auth/login",
                               {"email": email, "password": password, "csrf_token": token})
        if reply.status != 302:
            raise AssertionError(f"login of {email} answered {reply.status}")
