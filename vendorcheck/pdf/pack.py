"""Assemble an evidence pack PDF from parts on disk, streaming evidence files (no Flask).

The pack is: cover pages, the signed reports' pages, the manifest pages, then each evidence
PDF's pages and one page per image; other files (and PDFs that cannot be opened) are embedded
as PDF/A-3 associated files. Evidence is never read into memory as a whole: PDFs are opened
lazily by qpdf, and files to embed are copied in chunks into a one-object "carrier" PDF whose
stream qpdf copies into the pack only when it writes the result.
"""

from __future__ import annotations

import enum
import hashlib
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import pikepdf
from pikepdf import Array, Dictionary, Name, NameTree, OutlineItem, Pdf, String
from PIL import Image

CHUNK = 256 * 1024
IMAGE_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG"}
PDF_TYPE = "application/pdf"
# Where an image is drawn on its page (points, A4): inside the report's page margins, below
# the 52 mm caption laid out by templates/reports/pack_images.html and above the room kept for
# the signature stamp at the bottom right.
IMAGE_BOX = (56.7, 90.0, 544.2, 610.0)  # x1, y1, x2, y2
MAX_IMAGE_PIXELS = 60_000_000  # larger images are attached instead of decoded

Progress = Callable[[int, str], None]


class Inclusion(enum.StrEnum):
    """How an evidence file is included in the pack."""

    PAGES = "pages"
    IMAGE = "image"
    ATTACHED = "attached"
    MISSING = "missing"


@dataclass(frozen=True)
class EvidenceFile:
    """One uploaded file, as the manifest describes it; ``path`` None if missing from storage."""

    path: Path | None
    name: str
    content_type: str
    size: int
    sha256: str
    assessment_id: int
    item_id: str = ""
    question: str = ""
    uploader: str = ""
    uploaded_at: str = ""
    description: str = ""


@dataclass
class PlannedFile:
    """An evidence file with the way it will be included and why."""

    file: EvidenceFile
    inclusion: Inclusion
    reason: str = ""  # encrypted | damaged | missing | changed | too_large | "" (as planned)
    pages: int = 0
    attachment_name: str = ""
    number: int = 0


@dataclass(frozen=True)
class PackPart:
    """A rendered PDF on disk that goes into the pack with one outline entry."""

    title: str
    path: Path
    children: Sequence[str] = ()


@dataclass(frozen=True)
class PackMetadata:
    """The pack's document information."""

    title: str
    author: str
    subject: str
    keywords: str
    created: datetime
    evidence_title: str = "Evidence"


@dataclass
class AssembleResult:
    """What was written."""

    pages: int = 0
    attachments: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------- planning

def plan_evidence(files: Sequence[EvidenceFile]) -> list[PlannedFile]:
    """Decide how each file is included, checking it exists, matches its digest and opens."""
    planned: list[PlannedFile] = []
    names: set[str] = set()
    for number, file in enumerate(files, start=1):
        item = _plan_one(file)
        item.number = number
        if item.inclusion is Inclusion.ATTACHED:
            item.attachment_name = _unique_name(file.name, number, names)
        planned.append(item)
    return planned


def _plan_one(file: EvidenceFile) -> PlannedFile:
    """Classify one file."""
    if file.path is None or not file.path.is_file():
        return PlannedFile(file, Inclusion.MISSING, "missing")
    if file_sha256(file.path) != file.sha256:
        # Never present altered bytes as the uploaded evidence: attach them, flagged.
        return PlannedFile(file, Inclusion.ATTACHED, "changed")
    kind = file.content_type.split(";", 1)[0].strip().lower()
    if kind == PDF_TYPE:
        return _plan_pdf(file)
    if kind in IMAGE_TYPES:
        return _plan_image(file, IMAGE_TYPES[kind])
    return PlannedFile(file, Inclusion.ATTACHED)


def _plan_pdf(file: EvidenceFile) -> PlannedFile:
    """Open a PDF to count its pages; encrypted or damaged ones are attached instead."""
    assert file.path is not None
    try:
        with Pdf.open(file.path) as pdf:
            pages = len(pdf.pages)
            for page in pdf.pages:  # touch every page now so a broken tree fails here
                page.obj.get("/MediaBox")
    except pikepdf.PasswordError:
        return PlannedFile(file, Inclusion.ATTACHED, "encrypted")
    except (pikepdf.PdfError, OSError, ValueError, RuntimeError):
        return PlannedFile(file, Inclusion.ATTACHED, "damaged")
    if pages == 0:
        return PlannedFile(file, Inclusion.ATTACHED, "damaged")
    return PlannedFile(file, Inclusion.PAGES, pages=pages)


def _plan_image(file: EvidenceFile, expected: str) -> PlannedFile:
    """Check an image's header (without decoding it); odd ones are attached instead."""
    assert file.path is not None
    try:
        with Image.open(file.path) as image:
            fmt, (width, height) = image.format, image.size
    except (OSError, ValueError, Image.DecompressionBombError):
        return PlannedFile(file, Inclusion.ATTACHED, "damaged")
    if fmt != expected:
        return PlannedFile(file, Inclusion.ATTACHED, "damaged")
    if width * height > MAX_IMAGE_PIXELS:
        return PlannedFile(file, Inclusion.ATTACHED, "too_large")
    return PlannedFile(file, Inclusion.IMAGE, pages=1)


def _unique_name(name: str, number: int, taken: set[str]) -> str:
    """Return an attachment name unique within the pack (the manifest shows it)."""
    clean = "".join(ch for ch in name if ch.isprintable() and ch not in "/\\") or f"file-{number}"
    candidate = clean
    if candidate in taken:
        stem, dot, ext = clean.rpartition(".")
        candidate = f"{stem} ({number}).{ext}" if dot and stem else f"{clean} ({number})"
    taken.add(candidate)
    return candidate


def file_sha256(path: Path) -> str:
    """Return a file's SHA-256, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# -------------------------------------------------------------------------------- assembling

def assemble_pack(
    *,
    leading: Sequence[PackPart],
    evidence: Sequence[PlannedFile],
    image_pages: Path | None,
    output: Path,
    workdir: Path,
    metadata: PackMetadata,
    progress: Progress | None = None,
) -> AssembleResult:
    """Write the unsigned pack to ``output``; ``leading`` parts come first, in order."""
    report = progress or (lambda percent, message: None)
    result = AssembleResult()
    with ExitStack() as stack:
        pack = stack.enter_context(Pdf.new())
        outline: list[OutlineItem] = []
        for part in leading:
            outline.append(_append_part(pack, stack, part))
        evidence_item = OutlineItem(metadata.evidence_title, len(pack.pages))
        images = stack.enter_context(Pdf.open(image_pages)) if image_pages else None
        image_index = 0
        filespecs: list[tuple[str, Any]] = []
        total = max(1, len(evidence))
        for done, item in enumerate(evidence, start=1):
            if item.inclusion is Inclusion.PAGES:
                evidence_item.children.append(_append_pdf(pack, stack, item))
            elif item.inclusion is Inclusion.IMAGE and images is not None:
                evidence_item.children.append(
                    _append_image(pack, stack, item, images, image_index, workdir))
                image_index += 1
            elif item.inclusion is Inclusion.ATTACHED:
                filespecs.append((item.attachment_name,
                                  _embed_file(pack, stack, item, workdir, metadata.created)))
            report(done * 100 // total, item.file.name)
        if evidence_item.children:
            outline.append(evidence_item)
        _write_outline(pack, outline)
        _register_attachments(pack, filespecs)
        _set_metadata(pack, metadata)
        result.pages = len(pack.pages)
        result.attachments = [name for name, _spec in filespecs]
        # Streams are copied as they are (no decode/re-encode), and the /ID is derived from
        # the content so the same inputs give the same file.
        pack.save(output, deterministic_id=True, compress_streams=True,
                  stream_decode_level=pikepdf.StreamDecodeLevel.none,
                  object_stream_mode=pikepdf.ObjectStreamMode.preserve)
    return result


def _append_part(pack: Pdf, stack: ExitStack, part: PackPart) -> OutlineItem:
    """Append every page of a rendered part; its outline entry points at its first page."""
    source = stack.enter_context(Pdf.open(part.path))
    first = len(pack.pages)
    # A merged copy of a signed report no longer verifies: its signature widget goes.
    pack.add_pages_from(source, forms="strip", outlines="ignore")
    item = OutlineItem(part.title, first)
    item.children.extend(OutlineItem(child, first) for child in part.children)
    return item


def _append_pdf(pack: Pdf, stack: ExitStack, item: PlannedFile) -> OutlineItem:
    """Append an evidence PDF's pages (read lazily from disk when the pack is written)."""
    assert item.file.path is not None
    source = stack.enter_context(Pdf.open(item.file.path))
    first = len(pack.pages)
    for page in source.pages:
        _drop_active_content(page.obj)
    pack.add_pages_from(source, forms="strip", outlines="ignore")
    return OutlineItem(f"{item.number}. {item.file.name}", first)


def _drop_active_content(page: Any) -> None:
    """Drop page actions, form widgets and script/launch links of an uploaded PDF's page."""
    # The pack is signed by the buyer: nothing in it may run code or submit forms.
    if "/AA" in page:
        del page["/AA"]
    annots = page.get("/Annots")
    if annots is None:
        return
    kept = [a for a in annots if a.get("/Subtype") != Name.Widget and not _is_active(a)]
    page.Annots = Array(kept)


def _is_active(annotation: Any) -> bool:
    """Tell whether an annotation runs a script, launches a file or has extra actions."""
    action = annotation.get("/A")
    kind = action.get("/S") if isinstance(action, Dictionary) else None
    return "/AA" in annotation or kind in (Name.JavaScript, Name.Launch, Name.SubmitForm,
                                           Name.ImportData, Name.ResetForm)


def _append_image(pack: Pdf, stack: ExitStack, item: PlannedFile, captions: Pdf,
                  caption_index: int, workdir: Path) -> OutlineItem:
    """Append the image's caption page with the image drawn into its free area."""
    assert item.file.path is not None
    index = len(pack.pages)
    pack.add_pages_from(captions, [caption_index], forms="strip", outlines="ignore")
    page = pack.pages[index]
    xobject = _image_xobject(pack, stack, item.file.path, workdir, item.number)
    name = Name(f"/EvidenceImage{item.number}")
    resources = page.obj.get("/Resources")
    if resources is None:
        page.obj.Resources = resources = Dictionary()
    if "/XObject" not in resources:
        resources.XObject = Dictionary()
    resources.XObject[name] = xobject
    width, height = float(xobject.Width), float(xobject.Height)
    x, y, w, h = fit_box(width, height, IMAGE_BOX)
    draw = f"q {w:.2f} 0 0 {h:.2f} {x:.2f} {y:.2f} cm {name} Do Q\n".encode("ascii")
    page.contents_add(pikepdf.Stream(pack, draw), prepend=False)
    return OutlineItem(f"{item.number}. {item.file.name}", index)


def fit_box(width: float, height: float, box: tuple[float, float, float, float]
            ) -> tuple[float, float, float, float]:
    """Scale width × height to fit ``box`` (never enlarging past 2×), centred at the top."""
    x1, y1, x2, y2 = box
    scale = min((x2 - x1) / width, (y2 - y1) / height, 2.0)
    w, h = width * scale, height * scale
    return (x1 + ((x2 - x1) - w) / 2, y2 - h, w, h)


def _image_xobject(pack: Pdf, stack: ExitStack, path: Path, workdir: Path, number: int) -> Any:
    """Return an image XObject: JPEG bytes as they are, PNG decoded to RGB (one at a time)."""
    carrier = workdir / f"image-{number}.carrier.pdf"
    with Image.open(path) as image:
        width, height = image.size
        if image.format == "JPEG" and image.mode in ("RGB", "L"):
            colour = Name.DeviceRGB if image.mode == "RGB" else Name.DeviceGray
            with path.open("rb") as handle:
                write_carrier(carrier, _chunks(handle), compress=False)
            extra = {"/Filter": Name.DCTDecode}
        else:
            pixels = _flatten(image)
            colour = Name.DeviceRGB
            write_carrier(carrier, iter([pixels.tobytes()]), compress=True)
            pixels.close()
            extra = {}
    stream = _copy_carrier_stream(pack, stack, carrier)
    stream.Type, stream.Subtype = Name.XObject, Name.Image
    stream.Width, stream.Height, stream.ColorSpace = width, height, colour
    stream.BitsPerComponent = 8
    for key, value in extra.items():
        stream[key] = value
    return stream


def _flatten(image: Image.Image) -> Image.Image:
    """Return an RGB copy, transparent pixels composited onto white."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        rgba.close()
        return background
    return image.convert("RGB")


def _embed_file(pack: Pdf, stack: ExitStack, item: PlannedFile, workdir: Path,
                created: datetime) -> Any:
    """Embed a file as an associated file (PDF/A-3: /AFRelationship /Supplement)."""
    assert item.file.path is not None
    carrier = workdir / f"attachment-{item.number}.carrier.pdf"
    md5 = hashlib.md5(usedforsecurity=False)  # the PDF spec's /CheckSum is an MD5
    with item.file.path.open("rb") as handle:
        write_carrier(carrier, _chunks(handle, md5), compress=True)
    stream = _copy_carrier_stream(pack, stack, carrier)
    stream.Type = Name.EmbeddedFile
    stream.Subtype = Name("/" + _mime(item.file.content_type))
    stamp = String(pdf_date(created))
    stream.Params = Dictionary(Size=item.file.size, CheckSum=String(md5.digest()),
                               CreationDate=stamp, ModDate=stamp)
    name = item.attachment_name
    spec = Dictionary(Type=Name.Filespec, F=String(name), UF=String(name),
                      Desc=String(item.file.description or item.file.name),
                      AFRelationship=Name.Supplement,
                      EF=Dictionary(F=stream, UF=stream))
    return pack.make_indirect(spec)


def _mime(content_type: str) -> str:
    """Return a bare MIME type for /Subtype (no parameters)."""
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind if "/" in kind and " " not in kind else "application/octet-stream"


def _chunks(handle: BinaryIO, digest: Any = None) -> Iterator[bytes]:
    """Yield a file's bytes in chunks, feeding ``digest`` on the way."""
    while chunk := handle.read(CHUNK):
        if digest is not None:
            digest.update(chunk)
        yield chunk


def write_carrier(path: Path, chunks: Iterator[bytes], *, compress: bool) -> None:
    """Write a minimal PDF whose object 1 is a stream holding ``chunks`` (its length is obj 4)."""
    with path.open("wb") as out:
        offsets = {}
        out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        offsets[1] = out.tell()
        flate = b" /Filter /FlateDecode" if compress else b""
        out.write(b"1 0 obj\n<< /Length 4 0 R" + flate + b" >>\nstream\n")
        start = out.tell()
        compressor = zlib.compressobj(6) if compress else None
        for chunk in chunks:
            out.write(compressor.compress(chunk) if compressor else chunk)
        if compressor is not None:
            out.write(compressor.flush())
        length = out.tell() - start
        out.write(b"\nendstream\nendobj\n")
        for number, body in ((2, b"<< /Type /Catalog /Pages 3 0 R >>"),
                             (3, b"<< /Type /Pages /Kids [] /Count 0 >>"),
                             (4, str(length).encode("ascii"))):
            offsets[number] = out.tell()
            out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
        xref = out.tell()
        out.write(b"xref\n0 5\n0000000000 65535 f \n")
        for number in range(1, 5):
            out.write(f"{offsets[number]:010d} 00000 n \n".encode("ascii"))
        out.write(f"trailer\n<< /Size 5 /Root 2 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())


def _copy_carrier_stream(pack: Pdf, stack: ExitStack, carrier: Path) -> Any:
    """Copy a carrier's stream into the pack; qpdf reads its data only when saving."""
    source = stack.enter_context(Pdf.open(carrier))
    stream = source.get_object((1, 0))
    copied = pack.copy_foreign(stream)
    return copied


def _write_outline(pack: Pdf, items: Sequence[OutlineItem]) -> None:
    """Write the bookmarks and open the outline panel by default."""
    with pack.open_outline() as outline:
        outline.root.extend(items)
    pack.Root.PageMode = Name.UseOutlines


def _register_attachments(pack: Pdf, filespecs: Sequence[tuple[str, Any]]) -> None:
    """List the embedded files in the names tree and in the catalog's /AF (PDF/A-3)."""
    if not filespecs:
        return
    tree = NameTree.new(pack)
    for name, spec in filespecs:
        tree[name] = spec
    pack.Root.Names = Dictionary(EmbeddedFiles=tree.obj)
    pack.Root.AF = Array([spec for _name, spec in filespecs])


def _set_metadata(pack: Pdf, meta: PackMetadata) -> None:
    """Set the document information (fixed dates, so the output is reproducible)."""
    stamp = pdf_date(meta.created)
    pack.docinfo = pack.make_indirect(Dictionary(
        Title=String(meta.title), Author=String(meta.author), Subject=String(meta.subject),
        Keywords=String(meta.keywords), Creator=String("vendorcheck"),
        Producer=String("vendorcheck (pikepdf)"), CreationDate=String(stamp),
        ModDate=String(stamp)))


def pdf_date(moment: datetime) -> str:
    """Return a PDF date string in UTC (D:YYYYMMDDHHmmSSZ)."""
    value = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("D:%Y%m%d%H%M%SZ")
