"""Factories for DPA subscriptions, acceptances and objections (call inside an app context)."""

from __future__ import annotations

import hashlib
import io
from typing import Any

from tests.factories.assessments import make_art28_assessment
from tests.factories.dpa import MAILER, NEWCO, OVH, publish_dpa
from vendorcheck.extensions import db
from vendorcheck.models import Organisation, User, Vendor, utcnow
from vendorcheck.models.dpa import DpaVersion
from vendorcheck.models.dpa_relations import DpaAcceptance, DpaObjection, DpaSubscription
from vendorcheck.services import dpa_acceptance, dpa_changes, dpa_notify


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


def add_dpa_relation_world(world: Any) -> None:
    """Vendor A publishes v1 (OVH) and v2 (adds Mailer, in force); buyer A accepted v1 and
    objected to v2; v3 (adds NewCo) is announced and not in force yet.

    Also a confirmed subscriber to vendor A and an open art28 assessment of vendor A.
    Ids and tokens go to `world.extra` under "dpa_*".
    """
    vendor_org = db.session.get(Organisation, world["a"].vendor_org.id)
    buyer = db.session.get(Organisation, world["a"].buyer.id)
    admin = db.session.get(User, world.user("a.admin").id)
    assert vendor_org is not None and buyer is not None and admin is not None
    v1 = publish_dpa(None, vendor_org, subprocessors=[OVH])
    acceptance = accept_version(v1, buyer, admin)
    v2 = publish_dpa(None, vendor_org, subprocessors=[OVH, MAILER])
    objection = object_to(v2, acceptance, admin)
    v3 = publish_dpa(None, vendor_org, subprocessors=[OVH, MAILER, NEWCO], apply_change=False)
    proposal = dpa_changes.proposal_of_version(v3.id)
    assert proposal is not None
    subscription, token = subscribe(vendor_org.id, "watcher@example.org")
    art28 = make_art28_assessment(buyer, db.session.get(Vendor, world["a"].vendor.id))
    world.extra.update({
        "dpa_slug_a": v2.profile.slug, "dpa_v2_sha_a": v2.sha256,
        "dpa_acceptance_a": acceptance.id, "dpa_objection_a": objection.id, "dpa_v1_id_a": v1.id,
        "dpa_v2_id_a": v2.id, "dpa_proposal_a": proposal.id,
        "dpa_confirm_token": token, "dpa_art28_assessment_a": art28.id,
        "dpa_unsubscribe_token": dpa_notify.unsubscribe_token(subscription)})
