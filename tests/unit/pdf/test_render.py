"""Rendering: hostile markup fetches nothing, legit resources render, output is stable."""

from __future__ import annotations

import base64
import hashlib
import io
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pikepdf
import pytest

from vendorcheck.pdf import ReportAttachment, render_pdf

pytestmark = [
    pytest.mark.slow,
    # WeasyPrint 70 opens its sRGB profile for PDF/A output and never closes it.
    pytest.mark.filterwarnings(r"ignore:unclosed file .*sRGB2014\.icc:ResourceWarning"),
]

HOSTILE = """<!doctype html><html><head>
<link rel="stylesheet" href="{http}/link.css">
<link rel="attachment" href="file:///etc/passwd">
<link rel="attachment" href="../secret.txt">
<link rel="attachment" href="leak.txt">
<link rel="attachment" href="{http}/attach.bin">
<style>
@import url({http}/import.css);
@import url(file:///etc/passwd);
body {{ background: url({http}/bg.png) }}
@font-face {{ font-family: X; src: url({http}/font.woff) }}
</style></head><body>
<p>hostile</p>
<img src="file:///etc/passwd"><img src="../../../../etc/passwd"><img src="leak.txt">
<img src="../secret.txt"><img src="{http}/img.png">
<a rel="attachment" href="file:///etc/passwd">passwd</a>
<a rel="attachment" href="img/logo.png">logo</a>
<svg width="10" height="10"><image href="file:///etc/passwd" width="10" height="10"/></svg>
<iframe src="file:///etc/passwd"></iframe><object data="file:///etc/passwd"></object>
</body></html>"""


def iter_pdf_bytes(pdf: bytes) -> Iterator[bytes]:
    """Yield the raw file and every decoded stream, so compressed content is searched too."""
    yield pdf
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        for obj in doc.objects:
            if isinstance(obj, pikepdf.Stream):
                yield obj.read_bytes()


def embedded_files(pdf: bytes) -> list[tuple[bytes, str]]:
    """Return (content, /ModDate) for every /EmbeddedFile stream in the PDF."""
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        return [
            (obj.read_bytes(), str(obj.Params.ModDate))
            for obj in doc.objects
            if isinstance(obj, pikepdf.Stream) and obj.get("/Type") == "/EmbeddedFile"
        ]


def image_count(pdf: bytes) -> int:
    """Count image XObjects."""
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        return sum(
            1
            for obj in doc.objects
            if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Image"
        )


def test_hostile_html_leaks_nothing(static_dir: Path, listener: Any) -> None:
    html = HOSTILE.format(http=listener.url)
    css = (
        f"@import url({listener.url}/css-import.css);h1 {{ background: url({listener.url}/h.png) }}"
    )
    pdf = render_pdf(html, static_dir=static_dir, stylesheets=[css])
    assert pdf.startswith(b"%PDF-")
    assert listener.hits == []
    assert embedded_files(pdf) == []
    for chunk in iter_pdf_bytes(pdf):
        assert b"root:x:0:0" not in chunk
        assert b"TOPSECRET" not in chunk
        assert b"/EmbeddedFile" not in chunk


def test_static_and_data_images_render(static_dir: Path) -> None:
    png = (static_dir / "img" / "logo.png").read_bytes()
    data_uri = "data:image/png;base64," + base64.b64encode(png).decode()
    html = f'<img src="img/logo.png"><img src="{data_uri}" width="2">'
    css = "p { background: url(img/logo.png) }"
    pdf = render_pdf(html + "<p>x</p>", static_dir=static_dir, stylesheets=[css])
    assert image_count(pdf) >= 2


def test_attachments_are_embedded_with_fixed_dates(static_dir: Path) -> None:
    attachment = ReportAttachment("answers.json", b'{"q1": "yes"}', "Raw answers", "Data")
    pdf = render_pdf(
        "<p>x</p>", static_dir=static_dir, attachments=[attachment], pdf_variant="pdf/a-3b"
    )
    assert embedded_files(pdf) == [(b'{"q1": "yes"}', "D:20000101000000Z")]
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        assert "/OutputIntents" in doc.Root
        names = doc.Root.Names.EmbeddedFiles.Names
        assert str(names[0]) == "answers.json"
        assert str(names[1].AFRelationship) == "/Data"


def test_only_web_and_mail_links_become_uri_actions(static_dir: Path) -> None:
    html = """<p id="top">
    <a href="javascript:alert(1)">js</a> <a href="file:///etc/passwd">file</a>
    <a href="JaVaScRiPt:alert(2)">js2</a> <a href="data:text/html,x">data</a>
    <a href="https://example.org/">web</a> <a href="mailto:dpo@example.org">mail</a>
    <a href="#top">internal</a></p>"""
    pdf = render_pdf(html, static_dir=static_dir)
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        uris = [
            str(annot.A.URI)
            for page in doc.pages
            for annot in page.get("/Annots", [])
            if "/A" in annot and "/URI" in annot.A
        ]
    assert sorted(uris) == ["https://example.org/", "mailto:dpo@example.org"]


def test_unknown_pdf_variant_is_refused(static_dir: Path) -> None:
    with pytest.raises(ValueError, match="unsupported PDF variant"):
        render_pdf("<p>x</p>", static_dir=static_dir, pdf_variant="pdf/x-4")


def test_created_date_is_written(static_dir: Path) -> None:
    when = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
    pdf = render_pdf("<title>t</title><p>x</p>", static_dir=static_dir, created=when)
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        assert str(doc.docinfo.CreationDate).startswith("D:20250304050607")
        assert str(doc.docinfo.ModDate).startswith("D:20250304050607")


RENDER_SNIPPET = """
import hashlib, sys
from datetime import UTC, datetime
from pathlib import Path
from vendorcheck.pdf import ReportAttachment, render_pdf
html = "<h1>Report é ü</h1>" + "".join(f"<p>Q{i} answer</p>" for i in range(80))
pdf = render_pdf(html, static_dir=Path(sys.argv[1]), pdf_variant="pdf/a-3b",
                 attachments=[ReportAttachment("a.json", b"{}")],
                 created=datetime(2025, 1, 2, tzinfo=UTC))
print(hashlib.sha256(pdf).hexdigest())
"""


def test_same_input_gives_same_bytes(static_dir: Path) -> None:
    def render() -> str:
        result = subprocess.run(
            [sys.executable, "-c", RENDER_SNIPPET, str(static_dir)],
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout.strip()

    in_process = [
        hashlib.sha256(
            render_pdf("<p>same</p>" * 50, static_dir=static_dir, pdf_variant="pdf/a-3b")
        ).hexdigest()
        for _ in range(2)
    ]
    assert in_process[0] == in_process[1]
    # A separate process rules out anything seeded per process (ids, font subset tags).
    assert render() == render()


def test_control_default_fetcher_does_leak(static_dir: Path, listener: Any) -> None:
    """Check the harness: WeasyPrint's own fetcher is caught by the same assertions."""
    from weasyprint import HTML

    html = HOSTILE.format(http=listener.url)
    pdf = HTML(string=html, base_url=static_dir.as_uri() + "/").write_pdf()
    assert listener.hits
    assert embedded_files(pdf)
