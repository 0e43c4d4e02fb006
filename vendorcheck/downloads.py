"""Responses that send bytes or stored files as attachments, with headers that keep browsers safe."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import quote

from flask import Response, abort
from werkzeug.utils import secure_filename

from vendorcheck import storage
from vendorcheck.models.assessments import Evidence

CHUNK = 256 * 1024


def attachment(body: bytes | Iterable[bytes], mimetype: str, filename: str) -> Response:
    """Return a body as an attachment that browsers neither sniff nor cache.

    `filename` is built from ids and fixed words by the callers, so it needs no quoting rules.
    """
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def file_chunks(path: Path) -> Iterator[bytes]:
    """Yield a file in chunks; it is opened only once the body is read (files can be large)."""
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def evidence_file(evidence: Evidence) -> Response:
    """Send an uploaded evidence file: attachment, its own name, sandboxed, never sniffed."""
    if not storage.exists(evidence.storage_key):
        abort(404)
    path = storage.path_of(evidence.storage_key)
    response = Response(file_chunks(path), content_type=evidence.content_type, direct_passthrough=True)
    response.headers["Content-Length"] = str(path.stat().st_size)
    response.headers["Content-Disposition"] = content_disposition(evidence.file_name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def content_disposition(name: str) -> str:
    """Return an RFC 6266 attachment header with an ASCII fallback and a UTF-8 name."""
    ascii_name = secure_filename(name) or "evidence"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
