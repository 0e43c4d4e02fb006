"""Render server-owned HTML to PDF with WeasyPrint, fetching nothing outside static/."""

from __future__ import annotations

import gc
import io
import mimetypes
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import DataHandler, Request

from weasyprint import CSS, HTML, Attachment
from weasyprint.css.counters import CounterStyle
from weasyprint.html import UA as WEASYPRINT_UA
from weasyprint.text.fonts import FontConfiguration
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
# Parsed stylesheets kept per thread; the app renders from a handful of fixed ones.
MAX_CACHED_STYLESHEETS = 8
# Generation-0 threshold while a render runs. A render creates hundreds of thousands of objects
# that mostly live until it ends; at Python's default (700) the collector walked them, and every
# object of the app, over and over: 20-25 % of a 120-question report's render time with the app
# loaded. At this threshold such a report is rendered without a single collection, and its garbage
# (WeasyPrint's boxes and styles hold reference cycles) is freed when the render ends by collecting
# the two young generations only, which leaves the app's long-lived objects alone. Without that
# collection each 2,000-question render left about 120 MB more in a long-lived worker.
RENDER_GC_THRESHOLD = 1_000_000
# WeasyPrint's user-agent stylesheet gives every element of the document a style for each of six
# pseudo-elements (universal ::marker and footnote/note rules), computed eagerly in the cascade:
# about a tenth of a long report's render. Our documents have no footnotes or notes, and only
# list items have markers, so those rules are dropped or limited to li; the PDF is unchanged.
UNIVERSAL_PSEUDO_RULE = re.compile(r"^::(?:footnote|note)-[a-z-]+ \{[^}]*\}\n", re.MULTILINE)
UNIVERSAL_MARKER = "\n::marker {"
LIST_ITEM_MARKER = "\nli::marker {"


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
    with _fewer_collections():
        # The document lives only in _render's frame, so the collection on leaving frees it.
        return _render(html, static_dir, stylesheets, attachments, pdf_variant, created)


def _render(
    html: str,
    static_dir: Path,
    stylesheets: Sequence[str],
    attachments: Sequence[ReportAttachment],
    pdf_variant: str | None,
    created: datetime | None,
) -> bytes:
    """Lay out and write the PDF with this thread's fonts and parsed stylesheets."""
    fetcher = StaticOnlyFetcher(static_dir)
    fonts = _font_configuration()
    document = LeanHTML(string=html, base_url=fetcher.base_url, url_fetcher=fetcher).render(
        stylesheets=[_css(text, fetcher, fonts) for text in stylesheets], font_config=fonts
    )
    _restrict_document(document, created)
    options: dict[str, Any] = {
        "attachments": [_attachment(item, fetcher, created) for item in attachments],
    }
    if pdf_variant is not None:
        options["pdf_variant"] = pdf_variant
    pdf: bytes = document.write_pdf(**options)
    return pdf


def lean_user_agent_css(text: str) -> str:
    """Return WeasyPrint's user-agent CSS without its rules for footnotes and notes, markers on li only."""
    return UNIVERSAL_PSEUDO_RULE.sub("", text).replace(UNIVERSAL_MARKER, LIST_ITEM_MARKER)


# Parsed once: the counter styles it declares are already in WeasyPrint's own (used by documents).
LEAN_USER_AGENT_STYLESHEET = CSS(string=lean_user_agent_css(WEASYPRINT_UA),
                                 counter_style=CounterStyle())


class LeanHTML(HTML):  # type: ignore[misc]
    """A WeasyPrint document styled by the lean user-agent stylesheet instead of the full one.

    ``_ua_stylesheets`` is the hook WeasyPrint's own test suite overrides to change that sheet;
    tests/unit/pdf/test_render_user_agent.py checks it still returns the full sheet first.
    """

    def _ua_stylesheets(self, forms: bool = False) -> list[CSS]:
        """Return the lean sheet in place of the full one, with the forms sheet if asked."""
        return [LEAN_USER_AGENT_STYLESHEET, *super()._ua_stylesheets(forms)[1:]]


class _RenderCaches(threading.local):
    """One thread's font configuration and parsed stylesheets, reused by its renders.

    WeasyPrint builds a new Fontconfig/Pango font map for every render unless given one: about
    0.1–0.2 s of CPU, and every font is loaded and measured again. Pango objects are not
    thread-safe, so each thread has its own.
    """

    def __init__(self) -> None:
        self.fonts: FontConfiguration | None = None
        self.stylesheets: dict[tuple[str, str], CSS] = {}


_caches = _RenderCaches()


def _font_configuration() -> FontConfiguration:
    """Return this thread's font configuration, made on first use."""
    if _caches.fonts is None:
        _caches.fonts = FontConfiguration()
    return _caches.fonts


def _css(text: str, fetcher: StaticOnlyFetcher, fonts: FontConfiguration) -> CSS:
    """Return the parsed stylesheet for a CSS text, its url()s fetched by the restricted fetcher.

    Parsed once per thread and static folder: the same text with the same fetcher rules always
    parses to the same rules, and WeasyPrint does not change a stylesheet while rendering.
    """
    key = (fetcher.base_url, text)
    cached = _caches.stylesheets.get(key)
    if cached is None:
        if len(_caches.stylesheets) >= MAX_CACHED_STYLESHEETS:
            _caches.stylesheets.clear()
        cached = CSS(string=text, base_url=fetcher.base_url, url_fetcher=fetcher, font_config=fonts)
        _caches.stylesheets[key] = cached
    return cached


_gc_lock = threading.Lock()
_gc_renders = 0
_gc_saved: tuple[int, int, int] | None = None


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Collect garbage rarely while any render runs in this process, then the young generations."""
    global _gc_renders, _gc_saved
    with _gc_lock:
        if _gc_renders == 0:
            _gc_saved = gc.get_threshold()
            gc.set_threshold(RENDER_GC_THRESHOLD, *_gc_saved[1:])
        _gc_renders += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_renders -= 1
            last = _gc_renders == 0 and _gc_saved is not None
            if last:
                gc.set_threshold(*_gc_saved)  # type: ignore[misc]
                _gc_saved = None
        if last:
            gc.collect(1)


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
