"""The pack assembler without Flask: planning, carriers, image placement, attachments, outline."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime
from pathlib import Path

import pikepdf
import pytest
from PIL import Image
from pypdf import PdfReader

from vendorcheck.pdf.pack import (
    IMAGE_BOX,
    EvidenceFile,
    Inclusion,
    PackMetadata,
    PackPart,
    assemble_pack,
    fit_box,
    pdf_date,
    plan_evidence,
    write_carrier,
)

WHEN = datetime(2026, 3, 12, 10, 30, tzinfo=UTC)


def _file(folder: Path, name: str, data: bytes, content_type: str) -> EvidenceFile:
    path = folder / name
    path.write_bytes(data)
    return EvidenceFile(path, name, content_type, len(data), hashlib.sha256(data).hexdigest(),
                        assessment_id=1, item_id="docs", question="Documents?")


def _pdf(pages: int, *, annotated: bool = False) -> bytes:
    pdf = pikepdf.new()
    for _ in range(pages):
        page = pdf.add_blank_page()
        if annotated:
            script = pdf.make_indirect(pikepdf.Dictionary(
                Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[0, 0, 10, 10],
                A=pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))))
            note = pdf.make_indirect(pikepdf.Dictionary(
                Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Text, Rect=[0, 0, 10, 10],
                Contents=pikepdf.String("reviewer note")))
            page.obj.Annots = pikepdf.Array([script, note])
            page.obj.AA = pikepdf.Dictionary(O=pikepdf.Dictionary(S=pikepdf.Name.JavaScript))
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()


def _image(fmt: str, size: tuple[int, int] = (300, 150), mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, "navy").save(buffer, fmt)
    return buffer.getvalue()


def test_plan_classifies_every_kind(tmp_path):
    (tmp_path / "other").mkdir()
    encrypted = io.BytesIO()
    with pikepdf.open(io.BytesIO(_pdf(1))) as pdf:
        pdf.save(encrypted, encryption=pikepdf.Encryption(user="secret", owner="owner"))
    files = [
        _file(tmp_path, "a.pdf", _pdf(3), "application/pdf"),
        _file(tmp_path, "b.png", _image("PNG"), "image/png"),
        _file(tmp_path, "c.jpg", _image("JPEG"), "image/jpeg"),
        _file(tmp_path, "d.csv", b"x,y\n", "text/csv; charset=utf-8"),
        _file(tmp_path, "e.pdf", b"%PDF-1.4 nothing here", "application/pdf"),
        _file(tmp_path, "f.pdf", encrypted.getvalue(), "application/pdf"),
        _file(tmp_path, "g.png", b"not an image", "image/png"),
        _file(tmp_path, "h.png", _image("JPEG"), "image/png"),  # says PNG, holds a JPEG
        _file(tmp_path / "other", "d.csv", b"second file, same name\n", "text/csv"),
    ]
    gone = EvidenceFile(None, "gone.pdf", "application/pdf", 1, "0" * 64, 1)
    changed = _file(tmp_path, "i.txt", b"v1", "text/plain")
    changed.path.write_bytes(b"v2")  # type: ignore[union-attr]
    plan = plan_evidence([*files, gone, changed])
    got = [(p.file.name, p.inclusion, p.reason, p.pages) for p in plan]
    assert got == [
        ("a.pdf", Inclusion.PAGES, "", 3), ("b.png", Inclusion.IMAGE, "", 1),
        ("c.jpg", Inclusion.IMAGE, "", 1), ("d.csv", Inclusion.ATTACHED, "", 0),
        ("e.pdf", Inclusion.ATTACHED, "damaged", 0), ("f.pdf", Inclusion.ATTACHED, "encrypted", 0),
        ("g.png", Inclusion.ATTACHED, "damaged", 0), ("h.png", Inclusion.ATTACHED, "damaged", 0),
        ("d.csv", Inclusion.ATTACHED, "", 0), ("gone.pdf", Inclusion.MISSING, "missing", 0),
        ("i.txt", Inclusion.ATTACHED, "changed", 0)]
    names = [p.attachment_name for p in plan if p.inclusion is Inclusion.ATTACHED]
    assert names == ["d.csv", "e.pdf", "f.pdf", "g.png", "h.png", "d (9).csv", "i.txt"]
    assert [p.number for p in plan] == list(range(1, 12))


def test_carrier_is_a_valid_pdf_holding_the_bytes(tmp_path):
    data = bytes(range(256)) * 5000
    for compress in (True, False):
        path = tmp_path / f"carrier-{compress}.pdf"
        write_carrier(path, iter([data[:1000], data[1000:]]), compress=compress)
        with pikepdf.open(path) as pdf:
            assert pdf.get_object((1, 0)).read_bytes() == data
            assert len(pdf.pages) == 0


@pytest.mark.parametrize(("width", "height"), [(4000, 1000), (100, 3000), (50, 40)])
def test_images_fit_their_box_without_distortion(width, height):
    x, y, w, h = fit_box(width, height, IMAGE_BOX)
    x1, y1, x2, y2 = IMAGE_BOX
    assert x1 - 0.01 <= x and x + w <= x2 + 0.01 and y1 - 0.01 <= y and y + h <= y2 + 0.01
    assert abs(w / h - width / height) < 1e-6
    assert w <= width * 2 + 0.01  # small images are enlarged at most twice


def test_assemble_outline_pages_attachments_and_scripts(tmp_path):
    cover = tmp_path / "cover.pdf"
    cover.write_bytes(_pdf(1))
    captions = tmp_path / "captions.pdf"
    captions.write_bytes(_pdf(2))
    files = [
        _file(tmp_path, "scan.pdf", _pdf(2, annotated=True), "application/pdf"),
        _file(tmp_path, "logo.png", _image("PNG", mode="RGBA"), "image/png"),
        _file(tmp_path, "photo.jpg", _image("JPEG", (120, 240)), "image/jpeg"),
        _file(tmp_path, "policy.docx", b"PK\x03\x04 docx bytes", "application/vnd."
              "openxmlformats-officedocument.wordprocessingml.document"),
    ]
    progress: list[int] = []
    out = tmp_path / "pack.pdf"
    result = assemble_pack(
        leading=[PackPart("Cover", cover)], evidence=plan_evidence(files),
        image_pages=captions, output=out, workdir=tmp_path,
        metadata=PackMetadata("Title", "vendorcheck instance x", "Subject", "k", WHEN),
        progress=lambda percent, message: progress.append(percent))
    assert result.pages == 5 and result.attachments == ["policy.docx"]
    assert progress == [25, 50, 75, 100]
    reader = PdfReader(out)
    assert len(reader.pages) == 5
    top = [item for item in reader.outline if not isinstance(item, list)]
    assert [i.title for i in top] == ["Cover", "Evidence"]
    children = reader.outline[-1]
    assert [(c.title, reader.get_destination_page_number(c)) for c in children] == [
        ("1. scan.pdf", 1), ("2. logo.png", 3), ("3. photo.jpg", 4)]
    assert reader.attachments["policy.docx"] == [b"PK\x03\x04 docx bytes"]
    assert reader.metadata["/CreationDate"] == pdf_date(WHEN) == "D:20260312103000Z"
    with pikepdf.open(out) as pdf:
        scan = pdf.pages[1].obj
        assert "/AA" not in scan
        assert [str(a.Subtype) for a in scan.Annots] == ["/Text"]  # the script link is gone
        jpeg = pdf.pages[4].obj.Resources.XObject["/EvidenceImage3"]
        assert jpeg.Filter == pikepdf.Name.DCTDecode and (int(jpeg.Width), int(jpeg.Height)) == (120, 240)
        png = pdf.pages[3].obj.Resources.XObject["/EvidenceImage2"]
        assert png.ColorSpace == pikepdf.Name.DeviceRGB and int(png.Width) == 300
        spec = pdf.Root.AF[0]
        assert spec.AFRelationship == pikepdf.Name.Supplement
        assert str(spec.EF.F.Subtype).endswith("wordprocessingml.document")
    # Same inputs, same bytes (apart from nothing: dates are fixed and the /ID is derived).
    again = tmp_path / "again.pdf"
    assemble_pack(leading=[PackPart("Cover", cover)], evidence=plan_evidence(files),
                  image_pages=captions, output=again, workdir=tmp_path,
                  metadata=PackMetadata("Title", "vendorcheck instance x", "Subject", "k", WHEN))
    assert again.read_bytes() == out.read_bytes()
