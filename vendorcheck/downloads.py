"""Responses that send bytes or stored files as attachments, with headers that keep browsers safe."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from urllib.parse import quote

from flask import Response, abort
from werkzeug.utils import secure_filename

from vendorcheck.models.assessments import Evidence
from vendorcheck.storage import Area, FileMissing, InvalidKey, Store, current_store

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


def stored_chunks(store: Store, area: Area, key: str) -> Iterator[bytes]:
    """Yield a stored file in chunks; it is opened only once the body is read (files can be large)."""
    with store.open(area, key) as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def stored_attachment(area: Area, key: str, size: int, mimetype: str, filename: str) -> Response:
    """Stream a stored file as an attachment (see `attachment`)."""
    response = attachment(stored_chunks(current_store(), area, key), mimetype, filename)
    response.headers["Content-Length"] = str(size)
    return response


def evidence_file(evidence: Evidence) -> Response:
    """Send an uploaded evidence file: attachment, its own name, sandboxed, never sniffed."""
    store = current_store()
    try:
        size = store.size(Area.EVIDENCE, evidence.storage_key)
    except (FileMissing, InvalidKey):
        abort(404)
    body = stored_chunks(store, Area.EVIDENCE, evidence.storage_key)
    response = Response(body, content_type=evidence.content_type, direct_passthrough=True)
    response.headers["Content-Length"] = str(size)
    response.headers["Content-Disposition"] = content_disposition(evidence.file_name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def content_disposition(name: str) -> str:
    """Return an RFC 6266 attachment header with an ASCII fallback and a UTF-8 name."""
    ascii_name = secure_filename(name) or "evidence"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
