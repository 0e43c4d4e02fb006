"""Security headers, safe redirects and URL converters that refuse hostile ids."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, current_app
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
MAX_ID = 2**31 - 1  # ids are INTEGER columns: PostgreSQL refuses a larger one with an error (500)


class BoundedIntConverter(IntegerConverter):
    """An int converter that answers 404 for ids the database cannot hold (beyond a 32-bit INTEGER)."""

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        if number > MAX_ID:
            raise NotFound()
        return number


def add_security_headers(response: Response) -> Response:
    """Set CSP and friends on every response."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    # Never no-referrer: Flask-WTF's HTTPS referrer check would then reject every POST.
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if current_app.config["ENV"] == "production":
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def is_safe_next(target: str | None) -> bool:
    """Tell whether `next` is a local path we may redirect to (no scheme, host, // or control chars)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def init_app(app: Flask) -> None:
    """Install converters and headers."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.after_request(add_security_headers)


def has_control_chars(text: str) -> bool:
    """Tell whether a text holds NUL or another control character (tab and line breaks aside) or a
    lone surrogate: PostgreSQL rejects NUL, and nobody types the others."""
    return any((ord(ch) < 32 and ch not in "\t\r\n") or 0xD800 <= ord(ch) <= 0xDFFF for ch in text)
