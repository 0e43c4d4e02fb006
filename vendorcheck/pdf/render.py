"""Render server-owned HTML to PDF with WeasyPrint, fetching nothing outside static/."""

from __future__ import annotations

import io
import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import DataHandler, Request

from weasyprint import CSS, HTML, Attachment
from weasyprint.urls import URLFetcher, URLFetcherResponse

# Variants whose output is byte-for-byte reproducible: PDF/X-4 and later write a random
# xmpMM:DocumentID (uuid4) into the XMP packet, so they are not offered.
PDF_VARIANTS = frozenset(
    {
        "pdf/a-1b",
        "pdf/a-2b",
        "pdf/a-3b",
        "pdf/a-2u",
        "pdf/a-3u",
        "pdf/a-4u",
        "pdf/a-1a",
        "pdf/a-2a",
        "pdf/a-3a",
        "pdf/ua-1",
        "pdf/ua-2",
    }
)

# WeasyPrint stamps attachments with datetime.now() unless told otherwise; a fixed date
# keeps the same input rendering to the same bytes.
FIXED_DATE = datetime(2000, 1, 1, tzinfo=UTC)
# WeasyPrint copies any href into a PDF /URI action, javascript: and file: included (S13).
LINK_SCHEMES = frozenset({"http", "https", "mailto"})


@dataclass(frozen=True)
class ReportAttachment:
    """A file embedded in the PDF (PDF/A-3 associated file)."""

    name: str
    data: bytes
    description: str | None = None
    relationship: str = "Data"


class StaticOnlyFetcher(URLFetcher):  # type: ignore[misc]
    """Serve only regular files below one static folder and data: URIs; refuse the rest."""

    def __init__(self, static_dir: Path) -> None:
        # Allowing only "data" means even a call that slips past fetch() cannot reach
        # the network; redirects are off for the same reason (CVE-2025-68616).
        super().__init__(allowed_protocols={"data"}, allow_redirects=False, timeout=3)
        self.static_dir = Path(static_dir).resolve(strict=True)

    @property
    def base_url(self) -> str:
        """Return the static folder as a file: URL ending in a slash."""
        return self.static_dir.as_uri() + "/"

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        """Return the resource for ``url`` or raise ValueError, which WeasyPrint skips."""
        # OpenerDirector.open(Request) stores the request for the parent fetch(); drop
        # it so a refused request can never be replayed by a later data: fetch.
        self._request = None
        scheme = url.split(":", 1)[0].lower()
        if scheme == "data":
            return _fetch_data_uri(url)
        if scheme == "file":
            return self._fetch_static_file(url)
        raise ValueError(f"blocked URL scheme: {url[:80]!r}")

    def open(self, url: Any, data: Any = None, timeout: Any = None) -> URLFetcherResponse:
        """Route every open() through fetch(), ignoring request objects' state."""
        return self.fetch(url.full_url if isinstance(url, Request) else str(url))

    def _fetch_static_file(self, url: str) -> URLFetcherResponse:
        """Read a file: URL that resolves (symlinks included) inside the static folder."""
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"blocked file URL with a host: {url[:80]!r}")
        path = Path(unquote(parts.path)).resolve()
        if not path.is_relative_to(self.static_dir) or not path.is_file():
            raise ValueError(f"blocked file outside static: {url[:80]!r}")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(
            path.as_uri(), body=path.read_bytes(), headers={"Content-Type": content_type}
        )


def _fetch_data_uri(url: str) -> URLFetcherResponse:
    """Decode a data: URI with the standard library's handler (no I/O involved)."""
    # fetch() routes only data: URLs here, and DataHandler has no network or file access.
    response = DataHandler().data_open(Request(url))  # noqa: S310
    return URLFetcherResponse(url, body=response.read(), headers=dict(response.headers))


def render_pdf(
    html: str,
    *,
    static_dir: Path,
    stylesheets: Sequence[str] = (),
    attachments: Sequence[ReportAttachment] = (),
    pdf_variant: str | None = None,
    created: datetime | None = None,
) -> bytes:
    """Render trusted HTML to PDF bytes; the same arguments always give the same bytes.

    ``stylesheets`` are CSS texts (never URLs). ``created`` becomes the PDF creation and
    modification date; pass the decision time so re-renders stay identical.
    """
    if pdf_variant is not None and pdf_variant not in PDF_VARIANTS:
        raise ValueError(f"unsupported PDF variant: {pdf_variant!r}")
    fetcher = StaticOnlyFetcher(static_dir)
    document = HTML(string=html, base_url=fetcher.base_url, url_fetcher=fetcher).render(
        stylesheets=[_css(text, fetcher) for text in stylesheets]
    )
    _restrict_document(document, created)
    options: dict[str, Any] = {
        "attachments": [_attachment(item, fetcher, created) for item in attachments],
    }
    if pdf_variant is not None:
        options["pdf_variant"] = pdf_variant
    pdf: bytes = document.write_pdf(**options)
    return pdf


def _css(text: str, fetcher: StaticOnlyFetcher) -> CSS:
    """Build a stylesheet from text so its url()s go through the restricted fetcher."""
    return CSS(string=text, base_url=fetcher.base_url, url_fetcher=fetcher)


def _attachment(
    item: ReportAttachment, fetcher: StaticOnlyFetcher, created: datetime | None
) -> Attachment:
    """Wrap an in-memory attachment with fixed dates and the restricted fetcher."""
    when = created or FIXED_DATE
    return Attachment(
        file_obj=io.BytesIO(item.data),
        name=item.name,
        description=item.description,
        relationship=item.relationship,
        url_fetcher=fetcher,
        created=when,
        modified=when,
    )


def _restrict_document(document: Any, created: datetime | None) -> None:
    """Fix dates, drop HTML-declared attachments and links with unsafe schemes."""
    metadata = document.metadata
    # Attachments come only through render_pdf(attachments=...): <link rel=attachment>
    # and <a rel=attachment> would embed whatever the template points at, stamped now().
    metadata.attachments = []
    for page in document.pages:
        page.links = [link for link in page.links if _is_safe_link(link[0], link[1])]
    stamp = created.isoformat(timespec="seconds") if created else None
    metadata.created = stamp
    metadata.modified = stamp


def _is_safe_link(link_type: str, target: Any) -> bool:
    """Keep internal links and external ones to http(s)/mailto only."""
    if link_type == "internal":
        return True
    if link_type != "external":
        return False
    return urlsplit(str(target)).scheme.lower() in LINK_SCHEMES
