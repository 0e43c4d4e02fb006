"""Responses that send bytes or stored files as attachments, with headers that keep browsers safe."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from flask import Response, abort, redirect

from vendorcheck.models.assessments import Evidence
from vendorcheck.models.remediation import RemediationEvent
from vendorcheck.storage import Area, FileMissing, InvalidKey, Store, attachment_disposition, current_store

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
    """Stream a stored file as an attachment (see `attachment`), or redirect to the store's direct link."""
    link = current_store().url(area, key, filename=filename, content_type=mimetype)
    if link:
        return direct_link(link)
    response = attachment(stored_chunks(current_store(), area, key), mimetype, filename)
    response.headers["Content-Length"] = str(size)
    return response


def direct_link(link: str) -> Response:
    """Redirect to an expiring link of the store (which sends the attachment headers); never cached."""
    response = redirect(link, 302)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def evidence_file(evidence: Evidence | RemediationEvent) -> Response:
    """Send an evidence file (an answer's or a remediation step's): attachment, sandboxed, never sniffed.

    With direct links on (S3, STORAGE_S3_PRESIGNED), redirect to a link whose answer carries the same
    disposition and content type from the bucket's own origin.
    """
    store = current_store()
    if not evidence.storage_key or not evidence.content_type:
        abort(404)
    try:
        size = store.size(Area.EVIDENCE, evidence.storage_key)
        link = store.url(Area.EVIDENCE, evidence.storage_key, filename=evidence.file_name or "file",
                         content_type=evidence.content_type)
    except (FileMissing, InvalidKey):
        abort(404)
    if link:
        return direct_link(link)
    body = stored_chunks(store, Area.EVIDENCE, evidence.storage_key)
    response = Response(body, content_type=evidence.content_type, direct_passthrough=True)
    response.headers["Content-Length"] = str(size)
    response.headers["Content-Disposition"] = content_disposition(evidence.file_name or "file")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def content_disposition(name: str) -> str:
    """Return an RFC 6266 attachment header with an ASCII fallback and a UTF-8 name."""
    return attachment_disposition(name, "evidence")
