"""Evidence: stored files, rows without a file, and one file of each kind an evidence pack handles.

Call inside an app context; stored files go to the app's evidence store (point EVIDENCE_DIR at a tmp folder).
"""

from __future__ import annotations

import io
import zipfile

from openpyxl import Workbook
from PIL import Image
from weasyprint import HTML

from vendorcheck.extensions import db
from vendorcheck.models.assessments import Assessment, Evidence
from vendorcheck.storage import Area, current_store

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def make_evidence(assessment: Assessment, item_id: str = "docs", *,
                  content: bytes = b"hello evidence\n", name: str = "note.txt",
                  content_type: str = "text/plain; charset=utf-8") -> Evidence:
    """Store a file (a small text file unless given) and record it as evidence of an item."""
    key, sha256, size = current_store().save(Area.EVIDENCE, io.BytesIO(content))
    evidence = Evidence(assessment_id=assessment.id, item_id=item_id, file_name=name,
                        storage_key=key, content_type=content_type, size=size, sha256=sha256)
    db.session.add(evidence)
    db.session.commit()
    db.session.refresh(evidence)
    return evidence


def make_evidence_row(assessment: Assessment, item_id: str, name: str = "policy.pdf") -> Evidence:
    """Record an evidence row with no file in the store (for pages that only list evidence)."""
    evidence = Evidence(assessment_id=assessment.id, item_id=item_id, file_name=name,
                        storage_key=f"{assessment.id:08x}{item_id}"[:64].ljust(16, "0"),
                        content_type="application/pdf", size=2048, sha256="0" * 64)
    db.session.add(evidence)
    db.session.commit()
    return evidence


def two_page_pdf(text: str = "Penetration test summary") -> bytes:
    """Return a small PDF of two pages."""
    html = f"<h1>{text}</h1><p style='break-before: page'>Page two of {text}</p>"
    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


def png_bytes() -> bytes:
    """Return a small translucent PNG."""
    buffer = io.BytesIO()
    Image.new("RGBA", (320, 200), (31, 58, 95, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def jpeg_bytes() -> bytes:
    """Return a small JPEG."""
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 80, 40)).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def xlsx_bytes() -> bytes:
    """Return a workbook of one sheet with a header and one row."""
    book = Workbook()
    sheet = book.active
    sheet.append(["Control", "Status"])
    sheet.append(["Encryption at rest", "Yes"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def docx_bytes() -> bytes:
    """Return a minimal valid DOCX (a zip with a content types part and a document)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.wordprocessingml.document.main+xml"/></Types>'))
        z.writestr("word/document.xml", (
            '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.'
            'openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Security '
            'policy</w:t></w:r></w:p></w:body></w:document>'))
    return buffer.getvalue()


EVIDENCE_KINDS = [
    ("pentest.pdf", "application/pdf"),
    ("datacentre.png", "image/png"),
    ("badge.jpg", "image/jpeg"),
    ("policy.docx", DOCX),
    ("controls.xlsx", XLSX),
    ("sub-processors.csv", "text/csv"),
    ("scan-broken.pdf", "application/pdf"),
]


def add_every_kind(assessment: Assessment) -> dict[str, bytes]:
    """Attach one evidence file of each kind to the "certifications" item; return name → bytes."""
    contents = {
        "pentest.pdf": two_page_pdf(), "datacentre.png": png_bytes(), "badge.jpg": jpeg_bytes(),
        "policy.docx": docx_bytes(), "controls.xlsx": xlsx_bytes(),
        "sub-processors.csv": b"name,country\nAWS,US\nOVH,FR\n",
        "scan-broken.pdf": b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 9 0 R >>\ngarbage",
    }
    for name, content_type in EVIDENCE_KINDS:
        make_evidence(assessment, "certifications", name=name, content=contents[name],
                      content_type=content_type)
    return contents
