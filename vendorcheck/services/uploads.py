"""Check an uploaded file by its content: allowed kinds only, and the extension must agree."""

from __future__ import annotations

import re
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from flask_babel import lazy_gettext as _l

from vendorcheck.services.errors import ValidationFailed

MAX_PIXELS = 40_000_000
MAX_ZIP_ENTRIES = 1000
MAX_UNZIPPED = 100 * 1024 * 1024
MAX_NAME = 200

# kind → (extensions, content type served)
KINDS: dict[str, tuple[tuple[str, ...], str]] = {
    "pdf": (("pdf",), "application/pdf"),
    "png": (("png",), "image/png"),
    "jpeg": (("jpg", "jpeg"), "image/jpeg"),
    "docx": (("docx",), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": (("xlsx",), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "txt": (("txt",), "text/plain; charset=utf-8"),
    "csv": (("csv",), "text/csv; charset=utf-8"),
}
# What a questionnaire's `accept` list may name → the kinds it allows.
ACCEPT_ALIASES = {"image": ("png", "jpeg"), "jpg": ("jpeg",)}
OOXML_MAIN = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}
PDF_DANGER = ("/JavaScript", "/JS", "/OpenAction", "/Launch", "/EmbeddedFiles", "/AA")
PDF_DANGER_NAMES = ("/JavaScript", "/Launch", "/EmbeddedFile")  # as values (/S /JavaScript)
MAX_PDF_NODES = 500_000  # dictionaries and arrays examined per PDF; beyond, the file is refused


class UploadRejected(ValidationFailed):
    """The file is not acceptable; the message says why."""


@dataclass(frozen=True)
class Checked:
    """A file that passed every check."""

    kind: str
    content_type: str
    display_name: str


def display_name(raw: str | None) -> str:
    """Strip control characters and path parts; cap at 200 characters (display only)."""
    name = "".join(ch for ch in (raw or "") if unicodedata.category(ch)[0] != "C")
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "file" if not name.strip(".") else name
    return name[-MAX_NAME:] if len(name) > MAX_NAME else name


def allowed_kinds(accept: tuple[str, ...]) -> tuple[str, ...]:
    """Turn a questionnaire's accept list into our kinds (unknown names ignored)."""
    kinds: list[str] = []
    for name in accept or ("pdf",):
        kinds.extend(ACCEPT_ALIASES.get(name, (name,) if name in KINDS else ()))
    return tuple(dict.fromkeys(kinds))


def check_upload(stream: BinaryIO, filename: str | None, accept: tuple[str, ...],
                 max_bytes: int) -> Checked:
    """Check size, extension and content; raise UploadRejected with a clear reason."""
    name = display_name(filename)
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    if size == 0:
        raise UploadRejected(_l("The file is empty."))
    if size > max_bytes:
        raise UploadRejected(_l("The file is too large (max %(mb)s MB); nothing was saved.",
                                mb=f"{max_bytes / (1024 * 1024):g}"))
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext in ("docm", "xlsm", "dotm", "xltm"):
        raise UploadRejected(_l("Files with macros are not accepted."))
    kinds = allowed_kinds(accept)
    kind = next((k for k in kinds if ext in KINDS[k][0]), None)
    if kind is None:
        allowed = ", ".join(e for k in kinds for e in KINDS[k][0])
        raise UploadRejected(_l("This type of file is not accepted here (allowed: %(types)s).",
                                types=allowed))
    head = stream.read(8)
    stream.seek(0)
    CHECKS[kind](stream, head)
    stream.seek(0)
    return Checked(kind, KINDS[kind][1], name)


def _check_pdf(stream: BinaryIO, head: bytes) -> None:
    import pikepdf

    if not head.startswith(b"%PDF-"):
        raise UploadRejected(_l("The content is not a PDF."))
    try:
        with pikepdf.open(stream) as pdf:
            if pdf.is_encrypted:
                raise UploadRejected(_l("Cannot open the PDF (password-protected or damaged)."))
            _pdf_scan(pdf)
    except UploadRejected:
        raise
    except Exception:  # pikepdf raises several types for damaged files
        raise UploadRejected(_l("Cannot open the PDF (password-protected or damaged).")) from None


def _pdf_scan(pdf: object) -> None:
    """Refuse active content: JavaScript, automatic actions, launch actions, embedded files."""
    import pikepdf

    assert isinstance(pdf, pikepdf.Pdf)
    found = _dangers(pdf.objects)
    if found & {"/JavaScript", "/JS"}:
        raise UploadRejected(_l("The PDF contains JavaScript, which is not accepted."))
    if found & {"/OpenAction", "/AA", "/Launch"}:
        raise UploadRejected(_l("The PDF contains automatic actions, which are not accepted."))
    if found & {"/EmbeddedFiles", "/EmbeddedFile"}:
        raise UploadRejected(_l("The PDF contains embedded files, which are not accepted."))


def _dangers(objects: Iterable[object]) -> set[str]:
    """Collect dangerous keys and names in every object and everything nested in it.

    Indirect objects are each visited once (they are all in `objects`); direct dictionaries and
    arrays nested inside them are walked with a stack, so no depth (a chain of 60 /Next actions)
    hides anything. The walk has a budget instead of a depth limit: a file that would take more
    than MAX_PDF_NODES steps is refused, because what is not examined is not accepted.
    """
    import pikepdf

    found: set[str] = set()
    budget = MAX_PDF_NODES
    for top in objects:
        stack = [top]
        while stack:
            budget -= 1
            if budget < 0:
                raise UploadRejected(_l("The PDF is too complex to check (too many objects), so "
                                        "it is not accepted."))
            obj = stack.pop()
            if isinstance(obj, pikepdf.Stream):  # its dictionary: an /EmbeddedFile is a stream
                obj = obj.stream_dict
            if isinstance(obj, pikepdf.Dictionary):
                children = []
                for key in obj:
                    if key in PDF_DANGER:
                        found.add(key)
                    children.append(obj.get(key))
            elif isinstance(obj, pikepdf.Array):
                children = list(obj)
            else:
                continue
            for child in children:
                if isinstance(child, pikepdf.Name) and str(child) in PDF_DANGER_NAMES:
                    found.add(str(child))
                elif isinstance(child, (pikepdf.Dictionary, pikepdf.Array)) and not child.is_indirect:
                    stack.append(child)
    return found


def _check_image(stream: BinaryIO, head: bytes) -> None:
    from PIL import Image

    if not (head.startswith(b"\x89PNG\r\n\x1a\n") or head.startswith(b"\xff\xd8\xff")):
        raise UploadRejected(_l("The content is not a PNG or JPEG image."))
    try:
        with Image.open(stream) as image:
            if image.width * image.height > MAX_PIXELS:
                raise UploadRejected(_l("The image is too large (max 40 megapixels)."))
            image.verify()
    except UploadRejected:
        raise
    except Exception:
        raise UploadRejected(_l("The image is damaged or not a PNG or JPEG.")) from None


def _check_ooxml(kind: str) -> object:
    def check(stream: BinaryIO, head: bytes) -> None:
        if not head.startswith(b"PK\x03\x04"):
            raise UploadRejected(_l("The content is not a Word or Excel (Office Open XML) file."))
        try:
            with zipfile.ZipFile(stream) as archive:
                infos = archive.infolist()
        except (zipfile.BadZipFile, OSError, ValueError):
            raise UploadRejected(_l("The archive is damaged.")) from None
        names = {i.filename for i in infos}
        if any(n.lower().endswith("vbaproject.bin") for n in names):
            raise UploadRejected(_l("Files with macros are not accepted."))
        if "[Content_Types].xml" not in names or OOXML_MAIN[kind] not in names:
            raise UploadRejected(_l("The content is not a Word or Excel (Office Open XML) file."))
        if len(infos) > MAX_ZIP_ENTRIES or sum(i.file_size for i in infos) > MAX_UNZIPPED:
            raise UploadRejected(_l("The archive is too large when unpacked."))
    return check


def _check_text(stream: BinaryIO, head: bytes) -> None:
    data = stream.read()
    if b"\x00" in data:
        raise UploadRejected(_l("The text file contains NUL bytes."))
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise UploadRejected(_l("The text file is not UTF-8.")) from None
    if re.match(rb"\s*<(!doctype|html|svg|\?xml)", data[:512], re.IGNORECASE):
        raise UploadRejected(_l("HTML and SVG files are not accepted."))


CHECKS = {"pdf": _check_pdf, "png": _check_image, "jpeg": _check_image,
          "docx": _check_ooxml("docx"), "xlsx": _check_ooxml("xlsx"),
          "txt": _check_text, "csv": _check_text}
