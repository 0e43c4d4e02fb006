"""Factories for DPA subscriptions, acceptances and objections (call inside an app context)."""

from __future__ import annotations

import hashlib
import io

from vendorcheck.extensions import db
from vendorcheck.models import Organisation, User, utcnow
from vendorcheck.models.dpa import DpaVersion
from vendorcheck.models.dpa_relations import DpaAcceptance, DpaObjection, DpaSubscription
from vendorcheck.services import dpa_acceptance, dpa_notify


def blank_pdf() -> bytes:
    """Return a one-page PDF, fast to make (stands in for a certificate where signing is not tested)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def accept_version(version: DpaVersion, buyer: Organisation, user: User, *,
                   signed: bool = False) -> DpaAcceptance:
    """Record a buyer's acceptance; `signed` renders the real certificate (slow), else a blank PDF."""
    if signed:
        return dpa_acceptance.accept(version, buyer, by=user, signer_name=user.name,
                                     signer_role="General counsel", authorised=True,
                                     seen_sha256=version.sha256)
    pdf = blank_pdf()
    acceptance = DpaAcceptance(
        dpa_version_id=version.id, buyer_org_id=buyer.id, user_id=user.id,
        signer_name=user.name, signer_role="General counsel", accepted_at=utcnow(),
        version_sha256=version.sha256, certificate_sha256=hashlib.sha256(pdf).hexdigest(),
        certificate_storage_key=dpa_acceptance._write_certificate(pdf))
    db.session.add(acceptance)
    db.session.commit()
    return acceptance


def subscribe(vendor_org_id: int, email: str, *, confirmed: bool = True, locale: str = "en",
              unsubscribed: bool = False) -> tuple[DpaSubscription, str]:
    """Add a subscription; return it and a fresh confirmation token."""
    subscription = DpaSubscription(vendor_org_id=vendor_org_id, email=email, locale=locale,
                                   token_hash="")
    db.session.add(subscription)
    db.session.flush()
    token = dpa_notify.confirm_token(subscription, locale)
    if confirmed:
        subscription.confirmed_at = utcnow()
    if unsubscribed:
        subscription.unsubscribed_at = utcnow()
    db.session.commit()
    return subscription, token


def object_to(version: DpaVersion, acceptance: DpaAcceptance, user: User,
              reasons: str = "The new recipient is outside the EEA.") -> DpaObjection:
    """Record an objection of the acceptance's buyer to a version (no mail)."""
    objection = DpaObjection(dpa_version_id=version.id, buyer_org_id=acceptance.buyer_org_id,
                             vendor_org_id=version.vendor_org_id, raised_by_id=user.id,
                             reasons=reasons, raised_at=utcnow())
    db.session.add(objection)
    db.session.commit()
    return objection
