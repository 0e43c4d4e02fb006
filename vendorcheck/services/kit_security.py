"""The vendor's description of its technical and organisational measures (compliance kit).

Built from the current DPA answers (Annex III, breach and sub-processor commitments) and the
evidence files the vendor uploaded when answering its buyers' Art. 28 questionnaires; rendered as
a page and a signed PDF. See docs/compliance-kit.md.
"""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_babel import force_locale
from sqlalchemy import select

from vendorcheck import audit
from vendorcheck.agreement.measures import HEADINGS, security_document
from vendorcheck.extensions import db
from vendorcheck.models import Organisation, User, Vendor, utcnow
from vendorcheck.models.assessments import Assessment, Evidence
from vendorcheck.services import kit_register

PDF_FIELD = "SecuritySignature"
EVIDENCE_ITEMS = frozenset(item for h in HEADINGS for item in h.evidence_items)


def evidence_of(org: Organisation) -> dict[str, list[dict[str, str]]]:
    """Return the evidence files the vendor uploaded for the items the document cites, by item
    (each file once, newest first: name, upload date, SHA-256)."""
    rows = db.session.scalars(
        select(Evidence).join(Assessment, Assessment.id == Evidence.assessment_id)
        .join(Vendor, Vendor.id == Assessment.vendor_id)
        .where(Vendor.vendor_org_id == org.id, Evidence.item_id.in_(EVIDENCE_ITEMS))
        .order_by(Evidence.uploaded_at.desc(), Evidence.id.desc()))
    found: dict[str, list[dict[str, str]]] = {}
    seen: set[str] = set()
    for evidence in rows:
        if evidence.sha256 in seen:
            continue
        seen.add(evidence.sha256)
        found.setdefault(evidence.item_id, []).append({
            "name": evidence.file_name, "date": evidence.uploaded_at.strftime("%Y-%m-%d"),
            "sha256": evidence.sha256})
    return found


def document(org: Organisation, locale: str) -> dict[str, Any]:
    """Return the measures document of the vendor in one locale (raises NoAnswers)."""
    content, q = kit_register.current_content(org)
    with force_locale(locale):
        return kit_register.read_now(security_document(content, locale=locale, q=q,
                                                       evidence=evidence_of(org)))


def render_html(org: Organisation, locale: str, *, standalone: bool) -> str:
    """Render the measures document (the PDF page when standalone)."""
    doc = document(org, locale)
    with force_locale(doc["locale"]):
        return render_template("supplier/kit/security_document.html", doc=doc, org=org,
                               standalone=standalone, made_at=utcnow())


def signed_pdf(org: Organisation, locale: str, *, by: User | None) -> bytes:
    """Render and sign the measures document; audited when a user downloads it."""
    html = render_html(org, locale, standalone=True)
    pdf = kit_register.sign_html(html, org, reason="Technical and organisational measures",
                                 field=PDF_FIELD, created=None)
    if by is not None:
        audit.record("kit.security_exported", by=by, org=org, details={"locale": locale})
        db.session.commit()
    return pdf


__all__ = ["document", "evidence_of", "render_html", "signed_pdf"]
