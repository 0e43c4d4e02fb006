"""Building one evidence pack: the signed reports, a cover and manifest, and the evidence files, in one PDF.

`build_pack` works in a temporary folder under the instance's `tmp/` (or, inside a pack job, the job's own
run folder, set through `run_folder`) and writes the signed result to a local path; `services.packs` runs it
as a job and keeps the result in the store.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from vendorcheck.extensions import db
from vendorcheck.models import User, utcnow
from vendorcheck.models.assessments import Assessment, AssessmentStatus, Evidence
from vendorcheck.models.kit import AssessmentCharterLink
from vendorcheck.pdf.pack import (
    EvidenceFile,
    Inclusion,
    PackMetadata,
    PackPart,
    PlannedFile,
    assemble_pack,
    file_sha256,
    plan_evidence,
)
from vendorcheck.pdf.report import CSS_PATH, LOCALES, Formatter
from vendorcheck.pdf.signing import sign_pdf_file
from vendorcheck.services import kit_charter_attach, remediation, reports, signing
from vendorcheck.services.errors import DomainError
from vendorcheck.services.render_pool import render_pdf_isolated
from vendorcheck.storage import CHUNK, Area, FileMissing, InvalidKey, current_store

FIELD_NAME = "PackSignature"

Progress = Callable[[int, str], None]


class NothingToPack(DomainError):
    status = 409
    default = _l("This vendor has no assessment yet, so there is nothing to put in a pack.")


@dataclass(frozen=True)
class BuiltPack:
    """A signed pack written to a local file (the CLI's output, or a job's working file)."""

    path: Path
    sha256: str
    size: int
    pages: int
    attachments: Sequence[str]


def tmp_root() -> Path:
    """Return the folder of the packs' temporary working files (local disk, not the store)."""
    folder = Path(current_app.instance_path) / "tmp"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


run_folder: ContextVar[Path | None] = ContextVar("packrun_folder", default=None)


def work_dir() -> Path:
    """Return where working files go: the running job's own folder, else instance/tmp."""
    return run_folder.get() or tmp_root()


def build_pack(assessments: Sequence[Assessment], *, locale: str, output: Path, by: User | None,
               progress: Progress | None = None) -> BuiltPack:
    """Build, sign and write the pack of ``assessments`` (one buyer, one vendor) to ``output``."""
    if not assessments:
        raise NothingToPack()
    report = progress or (lambda percent, message: None)
    locale = locale if locale in LOCALES else "en"
    workdir = Path(tempfile.mkdtemp(prefix="pack-", dir=work_dir()))
    try:
        with force_locale(locale):
            return _build(list(assessments), locale, output, by, report, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _build(assessments: list[Assessment], locale: str, output: Path, by: User | None,
           report: Progress, workdir: Path) -> BuiltPack:
    """Do the steps of build_pack inside its temporary folder."""
    first = assessments[0]
    signer = signing.signer_for(first.buyer_org_id)  # fail early if the key is unreadable
    fmt = Formatter(locale)
    report(3, _("Collecting the signed reports"))
    report_files = _reports(assessments, locale, by, workdir)
    report(15, _("Checking the evidence files"))
    planned = plan_evidence(_evidence_files(assessments, fmt, workdir))
    report(25, _("Laying out the cover and the manifest"))
    context = _context(assessments, report_files, planned, fmt)
    static_dir = Path(current_app.static_folder or "static")
    cover = _render(workdir / "cover.pdf", "reports/pack_cover.html", context, static_dir)
    manifest = _render(workdir / "manifest.pdf", "reports/pack_manifest.html", context, static_dir)
    images = None
    if any(p.inclusion is Inclusion.IMAGE for p in planned):
        images = _render(workdir / "images.pdf", "reports/pack_images.html", context, static_dir)
    leading = [PackPart(_("Cover"), cover)]
    for a, (path, _digest, _stored) in zip(assessments, report_files, strict=True):
        leading.append(PackPart(_("Audit report — assessment #%(id)s", id=a.id), path))
    leading.append(PackPart(_("Manifest of evidence files"), manifest))
    unsigned = workdir / "unsigned.pdf"
    result = assemble_pack(
        leading=leading, evidence=planned, image_pages=images, output=unsigned, workdir=workdir,
        metadata=_metadata(assessments, locale), progress=lambda p, name: report(
            30 + p * 55 // 100, _("Adding %(name)s", name=name)))
    report(88, _("Signing the pack"))
    signed = workdir / "signed.pdf"
    sign_pdf_file(unsigned, signed, signer, reason="Evidence pack", field_name=FIELD_NAME,
                  font_path=static_dir / "fonts" / "NimbusSans-Regular.otf",
                  location=first.buyer_org.name[:100], timestamp_url=signing.timestamp_url())
    digest, size = file_sha256(signed), signed.stat().st_size
    _move(signed, output)
    report(99, _("Storing the pack"))
    return BuiltPack(output, digest, size, result.pages, result.attachments)


def _move(source: Path, target: Path) -> None:
    """Move the signed file to its place (atomic when on the same file system)."""
    try:
        os.replace(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _reports(assessments: Sequence[Assessment], locale: str, by: User | None,
             workdir: Path) -> list[tuple[Path, str, bool]]:
    """Write each assessment's signed report to the work folder: path, SHA-256, stored?"""
    files = []
    for a in assessments:
        pdf = reports.signed_report(a, locale, by)
        db.session.commit()  # a decided report rendered now is stored for good
        path = workdir / f"report-{a.id}.pdf"
        path.write_bytes(pdf)
        files.append((path, hashlib.sha256(pdf).hexdigest(), a.status == AssessmentStatus.DECIDED))
    return files


def _evidence_files(assessments: Sequence[Assessment], fmt: Formatter,
                    workdir: Path) -> list[EvidenceFile]:
    """Describe every evidence file of the assessments for the manifest, with a working copy of each."""
    files = []
    for a in assessments:
        q = reports.questionnaire_for(a)
        for e in a.evidence:
            try:
                question = fmt.text(q.item(e.item_id).label)
            except KeyError:
                question = ""
            files.append(EvidenceFile(
                path=_working_copy(e.storage_key, workdir / f"evidence-{e.id}"), name=e.file_name,
                content_type=e.content_type, size=e.size, sha256=e.sha256, assessment_id=a.id,
                item_id=e.item_id, question=question, uploader=e.uploaded_by.name if e.uploaded_by else "",
                uploaded_at=fmt.datetime(e.uploaded_at),
                description=_clarified(f"{e.item_id}: {question}" if question else e.item_id,
                                       e, fmt)[:500]))
        files.extend(_remediation_files(a, fmt, workdir))
    return files


def _clarified(description: str, evidence: Evidence, fmt: Formatter) -> str:
    """Say in the manifest that a file came with the vendor's answer to a clarification."""
    if evidence.clarification_id is None:
        return description
    with force_locale(fmt.locale):
        return _("%(what)s (sent with the answer to a clarification)", what=description)


def _remediation_files(a: Assessment, fmt: Formatter, workdir: Path) -> list[EvidenceFile]:
    """Describe the evidence files the vendor sent with its fixes (remediation requests)."""
    with force_locale(fmt.locale):
        label = _("Remediation requests")
    return [EvidenceFile(
        path=_working_copy(e.storage_key, workdir / f"remediation-{e.id}"), name=e.file_name or "",
        content_type=e.content_type or "", size=e.size or 0, sha256=e.sha256 or "", assessment_id=a.id,
        item_id=r.finding.finding_id, question=f"{label}: {fmt.text(r.finding.title)}"[:500],
        uploader=e.by.name if e.by else "", uploaded_at=fmt.datetime(e.at),
        description=f"{label}: {fmt.text(r.finding.title)}"[:500])
        for r in remediation.requests_of(a) for e in r.events if e.storage_key]


def _working_copy(key: str, target: Path) -> Path | None:
    """Copy a stored evidence file to a working file (qpdf and Pillow read files); None if missing."""
    try:
        with current_store().open(Area.EVIDENCE, key) as source, target.open("wb") as out:
            shutil.copyfileobj(source, out, CHUNK)
    except (FileMissing, InvalidKey):
        return None
    return target


def _context(assessments: Sequence[Assessment], report_files: Sequence[tuple[Path, str, bool]],
             planned: Sequence[PlannedFile], fmt: Formatter) -> dict[str, Any]:
    """Return the template context of the cover, manifest and image pages."""
    first = assessments[0]
    rows = [_assessment_row(a, report_files[i], fmt) for i, a in enumerate(assessments)]
    counts = {kind.value: sum(1 for p in planned if p.inclusion is kind) for kind in Inclusion}
    return {
        "locale": fmt.locale, "buyer": first.buyer_org.name, "vendor": first.vendor.legal_name,
        "service": first.vendor.services or "", "assessments": rows,
        "generated_at": fmt.datetime(utcnow()), "instance": signing.instance_name(),
        "signer": _signer_name(first.buyer_org_id),
        "verify_url": current_app.config["BASE_URL"].rstrip("/") + "/verify",
        "files": [_file_row(p, fmt) for p in planned],
        "images": [_file_row(p, fmt) for p in planned if p.inclusion is Inclusion.IMAGE],
        "counts": counts, "total_files": len(planned),
        "charters": [_charter_row(a.id, link, fmt) for a in assessments
                     if (link := kit_charter_attach.link_of(a.id)) is not None],
    }


def _charter_row(assessment_id: int, link: AssessmentCharterLink, fmt: Formatter) -> dict[str, Any]:
    """Return the manifest's line about the GDPR charter a buyer attached to an assessment."""
    return {"assessment_id": assessment_id, "number": link.version.number, "sha256": link.version.sha256,
            "published_at": fmt.datetime(link.version.published_at),
            "attached_at": fmt.datetime(link.attached_at)}


def _signer_name(org_id: int) -> str:
    """Name who signs the pack: the organisation's certificate subject, else the instance."""
    record = signing.organisation_certificate(org_id)
    return record.subject if record is not None else signing.instance_name()


def _questionnaire_title(a: Assessment, fmt: Formatter) -> str:
    """Return the questionnaire's title in the pack's language (its id if it is gone)."""
    try:
        return fmt.text(reports.questionnaire_for(a).title) or a.questionnaire_id
    except reports.QuestionnaireMissing:
        return a.questionnaire_id


def _assessment_row(a: Assessment, report_file: tuple[Path, str, bool],
                    fmt: Formatter) -> dict[str, Any]:
    """Return the cover's facts about one assessment."""
    _path, digest, stored = report_file
    return {
        "id": a.id, "questionnaire_id": a.questionnaire_id, "version": a.questionnaire_version,
        "title": _questionnaire_title(a, fmt),
        "sha256": a.questionnaire_sha256, "status": a.status.value,
        "decision": a.decision.value if a.decision else None,
        "dates": [(key, value) for key, value in (
            ("sent", fmt.datetime(a.sent_at)), ("submitted", fmt.datetime(a.submitted_at)),
            ("decided", fmt.datetime(a.decided_at)),
            ("next_review", fmt.date(a.next_review_date))) if value],
        "reviewer": a.decided_by.name if a.decided_by else "",
        "report_sha256": digest, "report_stored": stored,
        "score": fmt.number(a.score, one_decimal=True) if a.score is not None else "",
        "tier": a.tier or "",
    }


def _file_row(p: PlannedFile, fmt: Formatter) -> dict[str, Any]:
    """Return one manifest row."""
    f = p.file
    return {
        "number": p.number, "name": f.name, "assessment_id": f.assessment_id,
        "item_id": f.item_id, "question": f.question, "uploader": f.uploader,
        "uploaded_at": f.uploaded_at, "size": fmt.number(f.size), "size_bytes": f.size,
        "sha256": f.sha256, "inclusion": p.inclusion.value, "reason": p.reason,
        "pages": p.pages, "attachment_name": p.attachment_name,
    }


def _render(target: Path, template: str, context: dict[str, Any], static_dir: Path) -> Path:
    """Render one pack template to a PDF file (in the render worker)."""
    html = render_template(template, **context)
    pdf = render_pdf_isolated(html, static_dir=static_dir,
                              stylesheets=[CSS_PATH.read_text(encoding="utf-8")])
    target.write_bytes(pdf)
    return target


def _metadata(assessments: Sequence[Assessment], locale: str) -> PackMetadata:
    """Return the pack's document information."""
    first = assessments[0]
    ids = ", ".join(f"#{a.id}" for a in assessments)
    return PackMetadata(
        title=_("Evidence pack — %(vendor)s", vendor=first.vendor.legal_name),
        author=signing.instance_name(),
        subject=_("Processor due diligence evidence: %(buyer)s / %(vendor)s, assessments %(ids)s",
                  buyer=first.buyer_org.name, vendor=first.vendor.legal_name, ids=ids),
        keywords=f"vendorcheck-pack, assessments:{' '.join(str(a.id) for a in assessments)}, "
                 f"locale:{locale}",
        created=utcnow(), evidence_title=_("Evidence"))
