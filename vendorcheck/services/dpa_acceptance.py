"""Buyers rely on a published DPA: click-to-accept with a signed certificate, and objections.

Art. 28(2) GDPR: under a general written authorisation the controller may object to an intended
change of sub-processors; the objection is recorded against the DPA version that made the change,
and the vendor records its response and the outcome.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from vendorcheck import audit, mail
from vendorcheck.agreement.diff import subprocessor_changes
from vendorcheck.extensions import db
from vendorcheck.models import Organisation, OutboxMessage, User, utcnow
from vendorcheck.models.dpa import DpaAcceptanceParty, DpaProfile, DpaVersion
from vendorcheck.models.dpa_changes import APPLIED, WITHDRAWN, DpaChangeProposal, in_force_filter
from vendorcheck.models.dpa_relations import OBJECTION_OUTCOMES, DpaAcceptance, DpaObjection
from vendorcheck.pdf.report import CSS_PATH, LOCALES, Formatter
from vendorcheck.pdf.signing import sign_pdf
from vendorcheck.services import dpa_notify, dpa_proposals, signing
from vendorcheck.services.errors import DomainError, ValidationFailed
from vendorcheck.services.render_pool import render_pdf_isolated
from vendorcheck.storage import Area, current_store

FIELD_NAME = "DpaAcceptanceSignature"
CLAIM_PREFIX = "vendorcheck-dpa-acceptance:"
MAX_REASONS = 10_000


class VersionNotFound(DomainError):
    status = 404
    default = _l("This DPA version does not exist.")


class AlreadyAccepted(DomainError):
    status = 409
    default = _l("Your organisation has already accepted this version of the DPA.")


class NotAuthorised(ValidationFailed):
    default = _l("Confirm that you are authorised to accept this agreement on behalf of "
                 "your organisation.")


class VersionChanged(DomainError):
    status = 409
    default = _l("The version you read is not the one on record (its fingerprint differs). "
                 "Reload the page and read it again before accepting.")


class CertificateUnavailable(DomainError):
    status = 409
    default = _l("The stored acceptance certificate is missing or damaged; contact the "
                 "instance administrator.")


class NothingToObject(DomainError):
    status = 409
    default = _l("This version does not change the list of sub-processors, so there is "
                 "nothing to object to.")


class NotEarlierAcceptance(DomainError):
    status = 409
    default = _l("An objection applies to a version newer than the one your organisation "
                 "accepted.")


class ObjectionPeriodOver(DomainError):
    status = 409
    default = _l("The objection period for this version has ended; objections are no longer "
                 "accepted.")


class AlreadyObjected(DomainError):
    status = 409
    default = _l("Your organisation has already objected to this version; see the objection "
                 "below.")


class AlreadyAnswered(DomainError):
    status = 409
    default = _l("This objection has already been answered.")


class UnknownOutcome(ValidationFailed):
    default = _l("Choose one of the listed outcomes.")


class VersionNotInForce(DomainError):
    status = 409
    default = _l("This version is a proposed change of sub-processors that is not in force "
                 "(announced, or withdrawn). Accept the version in force; authorise or object to "
                 "the proposed change separately.")


class ProposalWithdrawn(DomainError):
    status = 409
    default = _l("The vendor withdrew this proposed change: there is nothing to object to.")


class ObjectUnderSpecific(DomainError):
    status = 409
    default = _l("Your agreement requires your prior specific authorisation of each new "
                 "sub-processor: without it the change does not apply to your organisation. "
                 "Refuse the change instead of objecting to it.")


# ------------------------------------------------------------------------------ lookups

def find_version(slug: str, number: int) -> DpaVersion:
    """Return a published version by its vendor's public slug and number, or raise 404."""
    version: DpaVersion | None = db.session.scalar(select(DpaVersion).join(
        DpaVersion.profile).where(DpaProfile.slug == slug, DpaVersion.number == number))
    if version is None:
        raise VersionNotFound()
    return version


def latest_version(profile_id: int) -> DpaVersion | None:
    """Return the newest version of a profile in force (proposed changes count once applied)."""
    return db.session.scalar(select(DpaVersion).where(DpaVersion.profile_id == profile_id,
                                                      in_force_filter())
                             .order_by(DpaVersion.number.desc()).limit(1))


def proposal_of(version: DpaVersion) -> DpaChangeProposal | None:
    """Return the proposed change a version was published for, if any."""
    return db.session.scalar(select(DpaChangeProposal).where(
        DpaChangeProposal.version_id == version.id))


def acceptance_of(buyer_org_id: int, version_id: int) -> DpaAcceptance | None:
    """Return a buyer's acceptance of one version."""
    return db.session.scalar(select(DpaAcceptance).where(
        DpaAcceptance.buyer_org_id == buyer_org_id, DpaAcceptance.dpa_version_id == version_id))


@dataclass(frozen=True)
class AcceptedDpa:
    """One row of a buyer's DPA list: its newest acceptance per vendor, and what is pending."""

    acceptance: DpaAcceptance
    latest: DpaVersion
    open_objections: int
    in_force: DpaVersion  # accepted, or reached through a sub-processor change

    @property
    def newer_available(self) -> bool:
        """True when a version newer than the one binding the buyer is in force."""
        return self.latest.number > self.in_force.number


def accepted_dpas(buyer_org_id: int) -> list[AcceptedDpa]:
    """Return, per vendor, the buyer's newest acceptance, the latest version, open objections."""
    query = (select(DpaAcceptance).join(DpaAcceptance.version).where(
        DpaAcceptance.buyer_org_id == buyer_org_id)
        .order_by(DpaVersion.profile_id, DpaVersion.number.desc()))
    newest: dict[int, DpaAcceptance] = {}
    for acceptance in db.session.scalars(query):
        newest.setdefault(acceptance.version.profile_id, acceptance)

    rows = []
    for profile_id, acceptance in newest.items():
        latest = latest_version(profile_id) or acceptance.version
        pending = [o for o in objections_of_buyer(buyer_org_id)
                   if o.version.profile_id == profile_id and o.responded_at is None]
        in_force = dpa_proposals.in_force_version(buyer_org_id, profile_id) or acceptance.version
        rows.append(AcceptedDpa(acceptance, latest, len(pending), in_force))
    return sorted(rows, key=lambda row: row.latest.vendor_org.name.casefold())


# ------------------------------------------------------------------------------ acceptance

def accept(version: DpaVersion, buyer: Organisation, *, by: User, signer_name: str,
           signer_role: str, authorised: bool, seen_sha256: str,
           locale: str = "en", controller: dict[str, Any] | None = None) -> DpaAcceptance:
    """Record a buyer's acceptance of a version, audit it with the hash, store the certificate.

    The certificate is written in `locale`, the language the signer read and accepted in.
    `controller` (legal name, address, contact person and e-mail, DPO) completes Annex I of the
    accepted copy (see record_controller).
    """
    if not authorised:
        raise NotAuthorised()
    proposal = proposal_of(version)
    if proposal is not None and proposal.status != APPLIED:
        raise VersionNotInForce()
    if seen_sha256 != version.sha256:
        raise VersionChanged()
    if acceptance_of(buyer.id, version.id) is not None:
        raise AlreadyAccepted()
    acceptance = DpaAcceptance(
        dpa_version_id=version.id, buyer_org_id=buyer.id, user_id=by.id,
        signer_name=signer_name, signer_role=signer_role, accepted_at=utcnow(),
        version_sha256=version.sha256)
    db.session.add(acceptance)
    try:
        db.session.flush()
    except IntegrityError as exc:  # a double click raced us to the unique constraint
        db.session.rollback()
        raise AlreadyAccepted() from exc
    if controller:
        record_controller(acceptance, controller)
    try:
        pdf = build_certificate(acceptance, locale if locale in LOCALES else "en")
    except DomainError:  # e.g. the signing key cannot be opened: record nothing
        db.session.rollback()
        raise
    acceptance.certificate_storage_key = _write_certificate(pdf)
    acceptance.certificate_sha256 = hashlib.sha256(pdf).hexdigest()
    audit.record("dpa.accepted", by=by, org=buyer, obj=acceptance, details={
        "dpa_version_id": version.id, "vendor_org_id": version.vendor_org_id,
        "number": version.number, "version_sha256": version.sha256,
        "signer_name": signer_name, "signer_role": signer_role,
        "certificate_sha256": acceptance.certificate_sha256})
    db.session.commit()
    return acceptance


def _write_certificate(pdf: bytes) -> str:
    """Store a certificate under a new key; return the key."""
    return current_store().save(Area.CERTIFICATES, io.BytesIO(pdf)).key


def certificate_context(acceptance: DpaAcceptance, locale: str) -> dict[str, Any]:
    """Return what the certificate states, as plain values."""
    version = acceptance.version
    base = current_app.config["BASE_URL"].rstrip("/")
    moment = Formatter(locale).datetime  # in UTC, labelled, as the audit report writes times
    return {
        "locale": locale, "acceptance_id": acceptance.id, "buyer": acceptance.buyer_org.name,
        "vendor": version.vendor_org.name, "number": version.number,
        "published_at": moment(version.published_at), "accepted_at": moment(acceptance.accepted_at),
        "signer_name": acceptance.signer_name, "signer_role": acceptance.signer_role,
        "user_email": acceptance.user.email if acceptance.user else "",
        "version_sha256": acceptance.version_sha256,
        "version_url": dpa_notify.link("dpa.version", slug=version.profile.slug,
                                       number=version.number),
        "verify_url": f"{base}/verify", "claim": f"{CLAIM_PREFIX}{acceptance.id}",
        "controller": annex_i_controller(acceptance, locale),
    }


def build_certificate(acceptance: DpaAcceptance, locale: str = "en") -> bytes:
    """Render and sign an acceptance certificate (the buyer's certificate, else the instance's)."""
    # The signer first (as for reports): an unreadable key should fail before a render.
    signer = signing.signer_for(acceptance.buyer_org_id)
    static_dir = Path(current_app.static_folder or "static")
    with force_locale(locale):
        html = render_template("dpa/certificate.html",
                               **certificate_context(acceptance, locale))
    pdf = render_pdf_isolated(html, static_dir=static_dir,
                              stylesheets=[CSS_PATH.read_text("utf-8")],
                              created=acceptance.accepted_at)
    return sign_pdf(pdf, signer, reason="DPA acceptance certificate", field_name=FIELD_NAME,
                    font_path=static_dir / "fonts" / "NimbusSans-Regular.otf",
                    location=acceptance.buyer_org.name[:100], timestamp_url=signing.timestamp_url())


def certificate_bytes(acceptance: DpaAcceptance, *, by: User) -> bytes:
    """Return the stored certificate (the same bytes every time), audit the download."""
    data = read_certificate(acceptance)
    if data is None:
        raise CertificateUnavailable()
    audit.record("dpa.certificate_downloaded", by=by, org=acceptance.buyer_org_id,
                 obj=acceptance, details={"sha256": acceptance.certificate_sha256})
    db.session.commit()
    return data


def read_certificate(acceptance: DpaAcceptance) -> bytes | None:
    """Return the stored certificate if the file is there and matches its digest."""
    if not acceptance.certificate_storage_key or not acceptance.certificate_sha256:
        return None
    return current_store().read_checked(Area.CERTIFICATES, acceptance.certificate_storage_key,
                                        acceptance.certificate_sha256)


def acceptance_by_certificate(sha256: str) -> DpaAcceptance | None:
    """Return the acceptance whose stored certificate has this digest (for `report verify`)."""
    return db.session.scalar(select(DpaAcceptance).where(
        DpaAcceptance.certificate_sha256 == sha256))


# ------------------------------------------------------------------------------ objections

def objections_of_buyer(buyer_org_id: int) -> list[DpaObjection]:
    """Return a buyer's objections, newest first."""
    return list(db.session.scalars(select(DpaObjection).where(
        DpaObjection.buyer_org_id == buyer_org_id).order_by(DpaObjection.raised_at.desc(),
                                                            DpaObjection.id.desc())))


def objections_of_vendor(vendor_org_id: int) -> list[DpaObjection]:
    """Return the objections to a vendor's versions: unanswered first, then newest first."""
    return list(db.session.scalars(select(DpaObjection).where(
        DpaObjection.vendor_org_id == vendor_org_id).order_by(
        DpaObjection.responded_at.is_not(None), DpaObjection.raised_at.desc(),
        DpaObjection.id.desc())))


def previous_version(version: DpaVersion) -> DpaVersion | None:
    """Return the version in force just before this one (withdrawn proposals never were)."""
    return db.session.scalar(select(DpaVersion).where(
        DpaVersion.profile_id == version.profile_id, DpaVersion.number < version.number,
        in_force_filter()).order_by(DpaVersion.number.desc()).limit(1))


def changes_of(version: DpaVersion) -> Any:
    """Return the sub-processor changes a version made compared with the one it changed."""
    proposal = proposal_of(version)
    previous = proposal.base_version if proposal is not None else previous_version(version)
    old = (previous.content or {}).get("subprocessors") or [] if previous else []
    return subprocessor_changes(old, (version.content or {}).get("subprocessors") or [])


def check_can_object(acceptance: DpaAcceptance, version: DpaVersion,
                     now: datetime | None = None) -> None:
    """Raise unless the acceptance's buyer may still object to this version's change."""
    accepted = acceptance.version
    if version.profile_id != accepted.profile_id or version.number <= accepted.number:
        raise NotEarlierAcceptance()
    proposal = proposal_of(version)
    if proposal is not None and proposal.status == WITHDRAWN:
        raise ProposalWithdrawn()
    if proposal is not None and proposal.is_specific:
        raise ObjectUnderSpecific()
    if changes_of(version).is_empty:
        raise NothingToObject()
    if (now or utcnow()) > dpa_notify.objection_deadline(version):
        raise ObjectionPeriodOver()


def existing_objection(buyer_org_id: int, version_id: int) -> DpaObjection | None:
    """Return a buyer's objection to one version, if any."""
    return db.session.scalar(select(DpaObjection).where(
        DpaObjection.buyer_org_id == buyer_org_id, DpaObjection.dpa_version_id == version_id))


def raise_objection(acceptance: DpaAcceptance, version: DpaVersion, reasons: str, *,
                    by: User, now: datetime | None = None) -> tuple[DpaObjection,
                                                                    list[OutboxMessage]]:
    """Record a buyer's objection within the period and e-mail the vendor's administrators."""
    check_can_object(acceptance, version, now)
    if existing_objection(acceptance.buyer_org_id, version.id) is not None:
        raise AlreadyObjected()
    objection = DpaObjection(
        dpa_version_id=version.id, buyer_org_id=acceptance.buyer_org_id,
        vendor_org_id=version.vendor_org_id, raised_by_id=by.id, reasons=reasons[:MAX_REASONS],
        raised_at=now or utcnow())
    db.session.add(objection)
    db.session.flush()
    audit.record("dpa.objection_raised", by=by, org=acceptance.buyer_org_id, obj=objection,
                 details={"dpa_version_id": version.id, "number": version.number,
                          "version_sha256": version.sha256,
                          "vendor_org_id": version.vendor_org_id})
    messages = dpa_notify.objection_raised(objection)
    db.session.commit()
    return objection, messages


def respond(objection: DpaObjection, response: str, outcome: str, *,
            by: User) -> list[OutboxMessage]:
    """Record the vendor's response and outcome and e-mail it back to the buyer."""
    if outcome not in OBJECTION_OUTCOMES:
        raise UnknownOutcome()
    if objection.responded_at is not None:
        raise AlreadyAnswered()
    objection.vendor_response = response[:MAX_REASONS]
    objection.outcome = outcome
    objection.responded_by_id = by.id
    objection.responded_at = utcnow()
    db.session.flush()
    audit.record("dpa.objection_answered", by=by, org=objection.vendor_org_id, obj=objection,
                 details={"outcome": outcome, "buyer_org_id": objection.buyer_org_id,
                          "dpa_version_id": objection.dpa_version_id})
    messages = dpa_notify.objection_answered(objection)
    db.session.commit()
    return messages


def dispatch(messages: list[OutboxMessage]) -> None:
    """Deliver queued messages after the commit (same as the other services)."""
    mail.dispatch(messages)


# ------------------------------------------------------------------- Annex I at acceptance

CONTROLLER_FIELDS = ("legal_name", "address", "contact_name", "contact_email", "dpo")


def record_controller(acceptance: Any, details: dict[str, Any]) -> DpaAcceptanceParty:
    """Record the controller's identity for Annex I of the accepted copy (caller commits)."""
    clean = {key: str(details.get(key) or "").strip() for key in CONTROLLER_FIELDS}
    party = DpaAcceptanceParty(acceptance_id=acceptance.id, dpo=clean.pop("dpo") or None, **clean)
    db.session.add(party)
    db.session.flush()
    return party


def controller_of(acceptance: Any) -> DpaAcceptanceParty | None:
    """Return the controller's identity recorded with an acceptance, if any."""
    return db.session.scalar(select(DpaAcceptanceParty).where(
        DpaAcceptanceParty.acceptance_id == acceptance.id))


def annex_i_controller(acceptance: Any, locale: str) -> dict[str, str]:
    """Return the controller's part of Annex I for an accepted copy, as plain texts in `locale`.

    Keys follow the templates' `controller_fields`. Acceptances recorded before Annex I was
    filled at acceptance only know the organisation's name, the signer and the date.
    """
    party = controller_of(acceptance)
    contact = ", ".join(part for part in (party.contact_name, party.contact_email) if part) \
        if party is not None else ""
    return {
        "legal_name": party.legal_name if party is not None else acceptance.buyer_org.name,
        "address": party.address if party is not None else "",
        "contact": contact,
        "dpo": (party.dpo or "") if party is not None else "",
        "signatory": ", ".join(v for v in (acceptance.signer_name, acceptance.signer_role) if v),
        "accepted_at": Formatter(locale).datetime(acceptance.accepted_at),  # UTC, labelled
    }
