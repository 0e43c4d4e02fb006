"""The vendor's processor register (Art. 30(2) GDPR): controllers, dated versions and exports.

The register is computed from the vendor's current DPA answers (its `dpa-questionnaire` draft, the
same answers its DPA is assembled from) and from the controllers it acts for: the buyers it works
with in vendorcheck (accepted DPA versions, assessments) and the controllers it adds by hand. Each
time the computed register differs from the latest version, a new dated version is stored, so a
changed answer, a new sub-processor or a controller added or removed shows in the history. See
docs/compliance-kit.md.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from vendorcheck import audit
from vendorcheck.agreement import register as reg
from vendorcheck.agreement.assemble import assemble
from vendorcheck.agreement.text import LazyText
from vendorcheck.exports import Column, Sheet
from vendorcheck.extensions import db
from vendorcheck.models import Organisation, User, Vendor, utcnow
from vendorcheck.models.assessments import Assessment
from vendorcheck.models.dpa import DpaAcceptanceParty, DpaVersion
from vendorcheck.models.dpa_relations import DpaAcceptance
from vendorcheck.models.kit import KitController, RegisterVersion
from vendorcheck.questionnaire import Questionnaire
from vendorcheck.services import dpa as dpa_svc
from vendorcheck.services.errors import DomainError, ValidationFailed
from vendorcheck.services.signing import signer_for, timestamp_url

PDF_FIELD = "RegisterSignature"
PRINT_CSS = ("css", "dpa-print.css")  # the DPA's print style: same page, fonts and tables
# Form fields of a controller and their maximum lengths (the columns of KitController).
CONTROLLER_FIELDS = {"name": 200, "address": 300, "contact_name": 200, "contact_email": 254,
                     "dpo": 300, "eu_representative": 300, "categories": 4000}


class NoAnswers(DomainError):
    status = 409
    default = _l("Start your DPA questionnaire first: the register is built from its answers.")


class ControllerInvalid(ValidationFailed):
    default = _l("Give the controller's name (at most 200 characters); the other fields have "
                 "length limits too.")


class RegisterConflict(DomainError):
    status = 409
    default = _l("The register changed at the same moment; reload the page.")


# ------------------------------------------------------------------------------- controllers

def _buyers_of(org: Organisation) -> dict[int, dict[str, str]]:
    """Return the buyers the vendor works with, by id: those that accepted one of its DPA
    versions (with the identity they gave for Annex I) and those that assess it."""
    found: dict[int, dict[str, str]] = {}
    accepted = db.session.execute(
        select(DpaAcceptance, DpaAcceptanceParty)
        .join(DpaVersion, DpaVersion.id == DpaAcceptance.dpa_version_id)
        .outerjoin(DpaAcceptanceParty, DpaAcceptanceParty.acceptance_id == DpaAcceptance.id)
        .where(DpaVersion.vendor_org_id == org.id).order_by(DpaAcceptance.accepted_at))
    for acceptance, party in accepted:
        found[acceptance.buyer_org_id] = {
            "name": party.legal_name if party else acceptance.buyer_org.name,
            "address": party.address if party else "",
            "contact_name": party.contact_name if party else "",
            "contact_email": party.contact_email if party else "",
            "dpo": (party.dpo or "") if party else "", "source": "dpa_acceptance"}
    assessing = db.session.scalars(
        select(Organisation).join(Assessment, Assessment.buyer_org_id == Organisation.id)
        .join(Vendor, Vendor.id == Assessment.vendor_id)
        .where(Vendor.vendor_org_id == org.id, Organisation.slug != dpa_svc.DRAFTS_ORG_SLUG,
               Organisation.id != org.id).distinct())
    for buyer in assessing:
        found.setdefault(buyer.id, {"name": buyer.name, "source": "assessment"})
    return found


def hand_rows(org: Organisation) -> list[KitController]:
    """Return the controllers the vendor added or edited by hand, removed ones included."""
    return list(db.session.scalars(select(KitController).where(
        KitController.vendor_org_id == org.id).order_by(KitController.name, KitController.id)))


def controllers_of(org: Organisation) -> list[dict[str, Any]]:
    """Return the controllers in the register now: vendorcheck's buyers, completed or removed by
    hand rows, then the controllers added by hand."""
    rows = hand_rows(org)
    by_buyer = {row.buyer_org_id: row for row in rows if row.buyer_org_id is not None}
    out: list[dict[str, Any]] = []
    for buyer_id, found in _buyers_of(org).items():
        row = by_buyer.get(buyer_id)
        if row is not None:
            if row.removed_at is None:
                out.append(_row_dict(row, ref=f"buyer:{buyer_id}", source=found["source"]))
            continue
        out.append({"ref": f"buyer:{buyer_id}", "id": None, "buyer_org_id": buyer_id, **found})
    out += [_row_dict(row, ref=f"hand:{row.id}", source="hand") for row in rows
            if row.buyer_org_id is None and row.removed_at is None]
    return out


def _row_dict(row: KitController, *, ref: str, source: str) -> dict[str, Any]:
    """Return a hand-kept controller as the register reads it."""
    return {"ref": ref, "id": row.id, "buyer_org_id": row.buyer_org_id, "source": source,
            **{key: getattr(row, key) or "" for key in CONTROLLER_FIELDS}}


def clean_controller(data: dict[str, Any]) -> dict[str, str]:
    """Return a controller's fields as collapsed texts, or raise ControllerInvalid."""
    clean = {key: " ".join(str(data.get(key) or "").split()) for key in CONTROLLER_FIELDS}
    clean["categories"] = str(data.get("categories") or "").strip()
    if not clean["name"] or any(len(clean[key]) > size for key, size in CONTROLLER_FIELDS.items()):
        raise ControllerInvalid()
    return clean


def add_controller(org: Organisation, data: dict[str, Any], *, by: User,
                   buyer_org_id: int | None = None) -> KitController:
    """Add a controller by hand (or complete one vendorcheck found), then version the register."""
    clean = clean_controller(data)
    if buyer_org_id is not None and buyer_org_id not in _buyers_of(org):
        raise ControllerInvalid()
    row = KitController(vendor_org_id=org.id, buyer_org_id=buyer_org_id, **clean)
    db.session.add(row)
    audit.record("kit.controller_added", by=by, org=org, obj=row,
                 details={"name": row.name, "buyer_org_id": buyer_org_id})
    _version_if_changed(org, by=by)
    db.session.commit()
    return row


def edit_controller(row: KitController, data: dict[str, Any], *, by: User) -> KitController:
    """Change a hand-kept controller's details, then version the register."""
    clean = clean_controller(data)
    changed = sorted(key for key, value in clean.items() if getattr(row, key) != value)
    for key, value in clean.items():
        setattr(row, key, value)
    row.updated_at = utcnow()
    audit.record("kit.controller_edited", by=by, org=row.vendor_org_id, obj=row,
                 details={"fields": changed})
    _version_if_changed(row.vendor_org, by=by)
    db.session.commit()
    return row


def remove_controller(org: Organisation, *, by: User, row: KitController | None = None,
                      buyer_org_id: int | None = None) -> None:
    """Take a controller out of the register; its row and the versions listing it stay."""
    if row is None:
        found = _buyers_of(org).get(buyer_org_id or 0)
        if found is None:
            raise ControllerInvalid()
        row = KitController(vendor_org_id=org.id, buyer_org_id=buyer_org_id,
                            name=found["name"][:200])
        db.session.add(row)
    if row.removed_at is None:
        row.removed_at = utcnow()
        audit.record("kit.controller_removed", by=by, org=org, obj=row, details={"name": row.name})
        _version_if_changed(org, by=by)
    db.session.commit()


def buyer_controller(org: Organisation, buyer_org_id: int) -> dict[str, str] | None:
    """Return a controller vendorcheck found among the vendor's buyers, as the edit form shows it."""
    return _buyers_of(org).get(buyer_org_id)


# ---------------------------------------------------------------------------------- versions

def current_content(org: Organisation) -> tuple[dict[str, Any], Questionnaire]:
    """Return the DPA document content assembled from the current answers, and its questionnaire."""
    profile = dpa_svc.profile_of(org)
    draft = dpa_svc.current_draft(profile) if profile is not None else None
    if profile is None or draft is None:
        raise NoAnswers()
    q = dpa_svc.draft_questionnaire(draft)
    return assemble(q, dpa_svc.draft_answers(draft)), q


def current_snapshot(org: Organisation) -> tuple[dict[str, Any], Questionnaire]:
    """Return the register as computed now, and the questionnaire its codes belong to."""
    content, q = current_content(org)
    controllers = [{key: c.get(key, "") for key in reg.CONTROLLER_KEYS}
                   for c in controllers_of(org)]
    return reg.snapshot(content, controllers, questionnaire=(q.id, q.version)), q


def latest(org: Organisation) -> RegisterVersion | None:
    """Return the newest register version."""
    return db.session.scalar(select(RegisterVersion).where(
        RegisterVersion.vendor_org_id == org.id).order_by(RegisterVersion.number.desc()).limit(1))


def versions_of(org: Organisation) -> list[RegisterVersion]:
    """Return every register version, newest first."""
    return list(db.session.scalars(select(RegisterVersion).where(
        RegisterVersion.vendor_org_id == org.id).order_by(RegisterVersion.number.desc())))


def _version_if_changed(org: Organisation, *, by: User | None) -> RegisterVersion | None:
    """Store a new version when the computed register differs from the latest (no commit)."""
    db.session.flush()
    try:
        data, _q = current_snapshot(org)
    except NoAnswers:
        return None
    digest = reg.snapshot_sha256(data)
    previous = latest(org)
    if previous is not None and previous.sha256 == digest:
        return previous
    number = (db.session.scalar(select(func.max(RegisterVersion.number)).where(
        RegisterVersion.vendor_org_id == org.id)) or 0) + 1
    version = RegisterVersion(vendor_org_id=org.id, number=number, sha256=digest, snapshot=data,
                              created_by_id=by.id if by is not None else None)
    db.session.add(version)
    audit.record("kit.register_versioned", by=by, org=org, obj=version,
                 details={"number": number, "sha256": digest})
    return version


def refresh(org: Organisation, *, by: User | None) -> RegisterVersion:
    """Return the current register version, storing a new one if the answers or controllers
    changed since the latest (a changed answer or sub-processor updates the register)."""
    version = _version_if_changed(org, by=by)
    if version is None:
        raise NoAnswers()
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise RegisterConflict() from exc
    return version


def questionnaire_of(version: RegisterVersion) -> Questionnaire | None:
    """Return the questionnaire a version's codes belong to, for the words (None if gone)."""
    pinned = version.snapshot.get("questionnaire") or [dpa_svc.DPA_QUESTIONNAIRE, None]
    try:
        q: Questionnaire = current_app.extensions["questionnaires"].get(*pinned)
    except (KeyError, TypeError):
        return None
    return q


def context_of(version: RegisterVersion, locale: str) -> dict[str, Any]:
    """Return a version in words, in one locale (the engine's texts are read in that locale)."""
    with force_locale(locale):
        context = reg.register_context(version.snapshot, locale=locale, q=questionnaire_of(version))
        return read_now(context)


def read_now(value: Any) -> Any:
    """Return a context with every lazy text read now (in the active locale)."""
    if isinstance(value, dict):
        return {key: read_now(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(read_now(item) for item in value)
    if isinstance(value, LazyText):
        return str(value)
    return value


# ----------------------------------------------------------------------------------- exports

def sheet(version: RegisterVersion, locale: str) -> Sheet:
    """Return a version as one spreadsheet row per controller (CSV, XLSX)."""
    with force_locale(locale):
        context = context_of(version, locale)
        columns = [Column(key, str(label)) for key, label in reg.SHEET_COLUMNS]
        title = str(_l("Register v%(number)s", number=version.number))
        return Sheet(title, columns, reg.sheet_rows(context, version.snapshot))


def render_html(version: RegisterVersion, locale: str, *, standalone: bool) -> str:
    """Render a version's document (the PDF page when standalone)."""
    context = context_of(version, locale)
    with force_locale(context["locale"]):
        template = "register_document.html" if standalone else "_register_body.html"
        return render_template(f"supplier/kit/{template}", version=version, reg=context)


def sign_html(html: str, org: Organisation, *, reason: str, field: str,
              created: datetime | None) -> bytes:
    """Render a kit document's HTML to PDF and sign it with the vendor's key (else the instance's)."""
    from vendorcheck.pdf import sign_pdf
    from vendorcheck.pdf.render import render_pdf

    signer = signer_for(org.id)  # an unreadable key fails before a render
    static_dir = Path(current_app.static_folder or "static")
    css = static_dir.joinpath(*PRINT_CSS).read_text("utf-8")
    pdf = render_pdf(html, static_dir=static_dir, stylesheets=[css], created=created)
    return sign_pdf(pdf, signer, reason=reason, field_name=field,
                    font_path=static_dir / "fonts" / "NimbusSans-Regular.otf",
                    location=org.name[:100], timestamp_url=timestamp_url())


def signed_pdf(version: RegisterVersion, locale: str, *, by: User) -> bytes:
    """Return a version's signed PDF (rendered on each download); audited."""
    html = render_html(version, locale, standalone=True)
    signed = sign_html(html, version.vendor_org, field=PDF_FIELD, created=version.created_at,
                       reason=f"Processor register, version {version.number}")
    audit.record("kit.register_exported", by=by, org=version.vendor_org_id, obj=version,
                 details={"format": "pdf", "locale": locale})
    db.session.commit()
    return signed


def record_export(version: RegisterVersion, fmt: str, *, by: User) -> None:
    """Audit a spreadsheet export of a register version."""
    audit.record("kit.register_exported", by=by, org=version.vendor_org_id, obj=version,
                 details={"format": fmt})
    db.session.commit()



def register_docx(version: RegisterVersion, locale: str, *, by: User) -> bytes:
    """Return a version as an editable DOCX (headings and tables); audited."""
    from vendorcheck.agreement.docx import register_docx as write

    context = context_of(version, locale)
    with force_locale(context["locale"]):
        labels = {
            "to_complete": _l("To be completed"),
            "processor": _l("1. The processor (Art. 30(2)(a))"),
            "controllers": _l("2. Controllers and the categories of processing carried out for "
                              "each (Art. 30(2)(a) and (b))"),
            "controller_columns": [str(t) for t in (
                _l("Controller"), _l("Address"), _l("Contact person"),
                _l("Data protection officer"), _l("Representative in the Union"),
                _l("Categories of processing"))],
            "categories": _l("Categories of processing (from the DPA answers)"),
            "transfers": _l("3. Transfers to third countries (Art. 30(2)(c))"),
            "transfer_columns": [str(t) for t in (
                _l("Country"), _l("Recipient"), _l("Transfer tool"),
                _l("Safeguards (Art. 49(1), second subparagraph)"))],
            "no_transfer": _l("No transfer: the processor and its sub-processors process the "
                              "data in the EEA or in countries with an adequacy decision."),
            "measures": _l("4. General description of the security measures (Art. 30(2)(d), "
                           "Art. 32(1))"),
        }
        data = write(context, labels={k: v if isinstance(v, list) else str(v)
                                      for k, v in labels.items()},
                     title=str(_l("Record of processing activities carried out as processor "
                                  "(Art. 30(2) GDPR)")),
                     subtitle=f"{version.vendor_org.name} · v{version.number} · "
                              f"{version.created_at.strftime('%Y-%m-%d')}")
    audit.record("kit.register_exported", by=by, org=version.vendor_org_id, obj=version,
                 details={"format": "docx", "locale": locale})
    db.session.commit()
    return data


__all__ = ["ControllerInvalid", "NoAnswers", "RegisterConflict", "add_controller",
           "buyer_controller", "clean_controller", "context_of", "controllers_of",
           "current_snapshot", "edit_controller", "hand_rows", "latest", "record_export",
           "refresh", "remove_controller", "render_html", "sheet", "sign_html", "signed_pdf",
           "versions_of", "current_content", "read_now", "register_docx"]
