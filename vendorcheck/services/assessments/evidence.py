"""An assessment's evidence files, vendor side: upload (checked by content, within quotas), validity
dates, removal; and the rules for a file sent with a clarification answer.

Each service takes the acting user (`by=`), raises a domain exception and commits once.
"""

from __future__ import annotations

from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage

from vendorcheck import audit
from vendorcheck.extensions import db
from vendorcheck.link_access import Actor
from vendorcheck.models.assessments import Assessment, Evidence
from vendorcheck.questionnaire import Item
from vendorcheck.services import uploads
from vendorcheck.services.assessments.answering import UnknownItem, mark_started, store_answer
from vendorcheck.services.assessments.reading import check_editable, questionnaire_of
from vendorcheck.services.assessments.results import refresh_results
from vendorcheck.services.errors import ValidationFailed
from vendorcheck.storage import Area, current_store

MB = 1024 * 1024
# What a file sent with a clarification answer may be, whatever the item asks (the common document kinds).
CLARIFICATION_ACCEPT = ("pdf", "image", "docx", "xlsx", "txt", "csv")


class QuotaExceeded(ValidationFailed):
    """Too many files or bytes for one assessment."""


def add_evidence(assessment: Assessment, item_id: str, upload: FileStorage, *,
                 by: Actor, effective_on: date | None = None, expires_on: date | None = None
                 ) -> Evidence:
    """Check and store one evidence file for an item (with the document's validity dates);
    refuse over quota or by content."""
    _check_dates(effective_on, expires_on)
    q = questionnaire_of(assessment)
    if not q.has_item(item_id):
        raise UnknownItem(_l("Unknown item '%(item)s'.", item=str(item_id)[:64]))
    item = q.item(item_id)
    if not item.kind.is_upload and item.evidence is None:
        raise UnknownItem(_l("This question takes no file."))
    check_editable(assessment, item_id)
    accept, max_mb = _evidence_rules(item)
    evidence = store_evidence_file(assessment, item_id, upload, accept, max_mb, by=by)
    evidence.effective_on, evidence.expires_on = effective_on, expires_on
    key, sha256, size, store = evidence.storage_key, evidence.sha256, evidence.size, current_store()
    try:
        assessment.evidence.append(evidence)
        db.session.flush()
        if item.kind.is_upload:
            _store_file_ids(assessment, item_id, by)
        mark_started(assessment)
        refresh_results(assessment, q)
        audit.record("evidence_uploaded", by=by, org=assessment.vendor_org_id, obj=evidence,
                     details={"assessment_id": assessment.id, "item": item_id, "sha256": sha256,
                              "size": size, "expires_on": expires_on.isoformat() if expires_on
                              else None})
        db.session.commit()
    except BaseException:
        db.session.rollback()
        store.delete(Area.EVIDENCE, key)
        raise
    return evidence


def store_evidence_file(assessment: Assessment, item_id: str, upload: FileStorage,
                        accept: tuple[str, ...], max_mb: float, *, by: Actor) -> Evidence:
    """Check a file (kind, content, size, the assessment's quotas) and store it in the evidence area;
    return its unsaved record. The caller adds it and deletes the stored file if its commit fails."""
    cfg = current_app.config
    if len(assessment.evidence) >= int(cfg.get("EVIDENCE_MAX_FILES", 200)):
        raise QuotaExceeded(_l("This assessment already has the maximum number of files."))
    checked = uploads.check_upload(upload.stream, upload.filename, accept, int(max_mb * MB))
    upload.stream.seek(0)  # the checks read it
    store = current_store()
    key, sha256, size = store.save(Area.EVIDENCE, upload.stream)
    total = sum(e.size for e in assessment.evidence) + size
    if total > int(cfg.get("EVIDENCE_MAX_TOTAL_MB", 200)) * MB:
        store.delete(Area.EVIDENCE, key)
        raise QuotaExceeded(_l("The files of this assessment would exceed %(mb)d MB in total.",
                               mb=int(cfg.get("EVIDENCE_MAX_TOTAL_MB", 200))))
    return Evidence(item_id=item_id, file_name=checked.display_name, storage_key=key,
                    content_type=checked.content_type, size=size, sha256=sha256, uploaded_by_id=by.id)


def _store_file_ids(assessment: Assessment, item_id: str, by: Actor) -> None:
    """Write a file question's answer: the ids of its files (not those sent with a clarification's
    answer), or no answer once the last one is removed."""
    ids = [str(e.id) for e in assessment.evidence if e.item_id == item_id and e.clarification_id is None]
    store_answer(assessment, item_id, ids or None, None, by=by, keep_justification=True)


def clarification_file_rules() -> tuple[tuple[str, ...], float]:
    """Return (accepted kinds, max MB) of a file sent with a clarification answer."""
    return CLARIFICATION_ACCEPT, float(current_app.config.get("EVIDENCE_MAX_MB", 20))


def _evidence_rules(item: Item) -> tuple[tuple[str, ...], float]:
    """Return (accepted kinds, max MB) of an item, capped by EVIDENCE_MAX_MB."""
    cap = float(current_app.config.get("EVIDENCE_MAX_MB", 20))
    if item.kind.is_upload:
        return item.accept or ("pdf",), min(float(item.max_mb or cap), cap)
    assert item.evidence is not None
    return item.evidence.accept, min(float(item.evidence.max_mb or cap), cap)


def _check_dates(effective_on: date | None, expires_on: date | None) -> None:
    """Refuse a document that would expire before it takes effect."""
    if effective_on and expires_on and expires_on < effective_on:
        raise ValidationFailed(_l("The expiry date must come after the date the document takes "
                                  "effect."))


def set_evidence_dates(evidence: Evidence, *, effective_on: date | None, expires_on: date | None,
                       by: Actor) -> None:
    """Set when an evidence file's document takes effect and expires, while it is editable."""
    check_editable(evidence.assessment, evidence.item_id)
    _check_dates(effective_on, expires_on)
    evidence.effective_on, evidence.expires_on = effective_on, expires_on
    audit.record("evidence_dates_set", by=by, org=evidence.assessment.vendor_org_id, obj=evidence,
                 details={"effective_on": effective_on.isoformat() if effective_on else None,
                          "expires_on": expires_on.isoformat() if expires_on else None})
    db.session.commit()


def remove_evidence(evidence: Evidence, *, by: Actor) -> None:
    """Delete an evidence file while the item is still editable."""
    assessment = evidence.assessment
    check_editable(assessment, evidence.item_id)
    key, item_id = evidence.storage_key, evidence.item_id
    assessment.evidence.remove(evidence)
    q = questionnaire_of(assessment)
    if q.has_item(item_id) and q.item(item_id).kind.is_upload:
        _store_file_ids(assessment, item_id, by)
    refresh_results(assessment, q)
    audit.record("evidence_removed", by=by, org=assessment.vendor_org_id, obj=assessment,
                 details={"item": item_id, "file": evidence.file_name})
    db.session.commit()
    current_store().delete(Area.EVIDENCE, key)
