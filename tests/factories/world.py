"""The two-tenant world of the integration and authorization tests, and what the authz matrix adds to it.

Call inside an app context. The fixtures that build it (`world`, and the authz `world` that extends it)
live in the conftest files; ids the matrix needs go to `world.extra`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pikepdf

from tests.factories.accounts import (
    make_invitation,
    make_org,
    make_reset_token,
    make_user,
    make_vendor,
    membership_of,
)
from tests.factories.assessments import (
    make_art28_assessment,
    make_assessment,
    make_clarification,
    make_contact,
)
from tests.factories.dpa import MAILER, NEWCO, OVH, publish_dpa
from tests.factories.dpa_relations import accept_version, object_to, subscribe
from tests.factories.evidence import make_evidence
from tests.factories.links import make_answer_link
from tests.factories.remediation import make_remediation
from vendorcheck.extensions import db
from vendorcheck.link_access import find_link
from vendorcheck.models import Invitation, Organisation, Role, User, Vendor
from vendorcheck.models.packs import PackJob, PackStatus
from vendorcheck.services import dpa_notify, dpa_proposals


@dataclass
class Tenant:
    """One buyer with its users, one vendor organisation with a contact, and open items."""

    buyer: Organisation
    vendor_org: Organisation
    users: dict[str, User]
    vendor: Vendor
    vendor_invitation: Invitation
    vendor_token: str
    colleague_invitation: Invitation
    colleague_token: str


@dataclass
class World:
    """Tenants "a" and "b"; actors are named like "a.admin" or "b.vendor"."""

    tenants: dict[str, Tenant]
    reset_token: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, tenant: str) -> Tenant:
        return self.tenants[tenant]

    def user(self, actor: str) -> User:
        tenant, role = actor.split(".")
        return self.tenants[tenant].users[role]

    def org_of(self, actor: str) -> Organisation:
        tenant, role = actor.split(".")
        t = self.tenants[tenant]
        return t.vendor_org if role == "vendor" else t.buyer


def make_world() -> World:
    """Build tenants A and B (B's text carries CANARY-B); objects come back detached, ids usable."""
    w = World({"a": _make_tenant("a", "CANARY-A"), "b": _make_tenant("b", "CANARY-B")})
    w.reset_token = make_reset_token(w.user("a.admin"))
    # keep plain ids usable after the app context closes
    for tenant in w.tenants.values():
        for obj in [tenant.buyer, tenant.vendor_org, tenant.vendor, tenant.vendor_invitation,
                    tenant.colleague_invitation, *tenant.users.values()]:
            db.session.refresh(obj)
            db.session.expunge(obj)
    w.extra["legal_membership_a"] = membership_of(w.user("a.legal"), w["a"].buyer).id
    w.extra["assessor_membership_a"] = membership_of(w.user("a.assessor"), w["a"].buyer).id
    return w


def _make_tenant(key: str, canary: str) -> Tenant:
    """Build one tenant; every name carries the tenant's canary."""
    buyer = make_org(f"Buyer {key.upper()} {canary}", slug=f"buyer-{key}")
    vendor_org = make_org(f"Vendor {key.upper()} {canary}", buyer=False, vendor=True,
                          slug=f"vendor-{key}")
    users = {role.value: make_user(f"{role.value}@{key}.example", org=buyer, role=role,
                                   name=f"{role.value.title()} {key.upper()} {canary}")
             for role in (Role.ADMIN, Role.ASSESSOR, Role.LEGAL)}
    users["vendor"] = make_user(f"contact@vendor-{key}.example", org=vendor_org, role=Role.ADMIN,
                                name=f"Contact {key.upper()} {canary}")
    vendor = make_vendor(buyer, f"Vendor record {key.upper()} {canary}", vendor_org=vendor_org,
                         owner=users["assessor"])
    inv, token = make_invitation(buyer, f"new-contact@vendor-{key}.example", vendor=vendor,
                                 role=Role.CONTRIBUTOR, by=users["assessor"])
    cinv, ctoken = make_invitation(buyer, f"colleague@{key}.example", role=Role.ASSESSOR,
                                   by=users["admin"])
    return Tenant(buyer, vendor_org, users, vendor, inv, token, cinv, ctoken)


def add_assessment_world(world: World) -> None:
    """Give each tenant an assessment, an evidence file, a clarification and a remediation request."""
    for key, tenant in world.tenants.items():
        buyer = db.session.get(Organisation, tenant.buyer.id)
        vendor = db.session.get(Vendor, tenant.vendor.id)
        assert buyer is not None and vendor is not None
        assessment = make_assessment(buyer, vendor, by=db.session.get(User, tenant.users["admin"].id))
        evidence = make_evidence(assessment, name=f"evidence-{key}.txt")
        clarification = make_clarification(assessment, "has_dpa")
        contact = make_contact(vendor, f"link-{key}@vendor.example", f"Link Holder {key.upper()}")
        token = make_answer_link(assessment, contact)
        world.extra[f"link_token_{key}"] = token
        world.extra[f"contact_{key}"] = contact.id
        world.extra[f"link_{key}"] = find_link(token).id  # type: ignore[union-attr]
        world.extra[f"assessment_{key}"] = assessment.id
        world.extra[f"evidence_{key}"] = evidence.id
        world.extra[f"clarification_{key}"] = clarification.id
        remediation = make_remediation(assessment)
        world.extra[f"remediation_{key}"] = remediation.id
        world.extra[f"remediation_file_{key}"] = remediation.events[-1].id


def add_pack_world(world: World, folder: Path) -> None:
    """Give each tenant's assessment a finished evidence pack, its PDF written to the packs `folder`."""
    folder.mkdir(parents=True)
    for key, tenant in world.tenants.items():
        path = folder / f"{key * 64}.pdf"
        with pikepdf.new() as pdf:
            pdf.add_blank_page()
            pdf.save(path)
        job = PackJob(buyer_org_id=tenant.buyer.id, assessment_id=world.extra[f"assessment_{key}"],
                      status=PackStatus.DONE, progress=100, storage_key=key * 64,
                      sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                      size=path.stat().st_size)
        db.session.add(job)
        db.session.commit()
        world.extra[f"pack_{key}"] = job.id


def add_dpa_relation_world(world: World) -> None:
    """Vendor A publishes v1 (OVH) and v2 (adds Mailer, in force); buyer A accepted v1 and
    objected to v2; v3 (adds NewCo) is announced and not in force yet.

    Also a confirmed subscriber to vendor A and an open art28 assessment of vendor A.
    Ids and tokens go to `world.extra` under "dpa_*".
    """
    vendor_org = db.session.get(Organisation, world["a"].vendor_org.id)
    buyer = db.session.get(Organisation, world["a"].buyer.id)
    admin = db.session.get(User, world.user("a.admin").id)
    vendor = db.session.get(Vendor, world["a"].vendor.id)
    assert vendor_org is not None and buyer is not None and admin is not None and vendor is not None
    v1 = publish_dpa(None, vendor_org, subprocessors=[OVH])
    acceptance = accept_version(v1, buyer, admin)
    v2 = publish_dpa(None, vendor_org, subprocessors=[OVH, MAILER])
    objection = object_to(v2, acceptance, admin)
    v3 = publish_dpa(None, vendor_org, subprocessors=[OVH, MAILER, NEWCO], apply_change=False)
    proposal = dpa_proposals.proposal_of_version(v3.id)
    assert proposal is not None
    subscription, token = subscribe(vendor_org.id, "watcher@example.org")
    art28 = make_art28_assessment(buyer, vendor)
    world.extra.update({
        "dpa_slug_a": v2.profile.slug, "dpa_v2_sha_a": v2.sha256,
        "dpa_acceptance_a": acceptance.id, "dpa_objection_a": objection.id, "dpa_v1_id_a": v1.id,
        "dpa_v2_id_a": v2.id, "dpa_proposal_a": proposal.id,
        "dpa_confirm_token": token, "dpa_art28_assessment_a": art28.id,
        "dpa_unsubscribe_token": dpa_notify.unsubscribe_token(subscription)})


def add_kit_world(world: World) -> None:
    """Vendor A's compliance kit: a register version, a controller added by hand and a published
    charter (needs add_dpa_relation_world first). Ids go to `world.extra` under "kit_*"."""
    from vendorcheck.services import kit_charter, kit_register

    vendor_org = db.session.get(Organisation, world["a"].vendor_org.id)
    user = db.session.get(User, world.user("a.vendor").id)
    assert vendor_org is not None and user is not None
    row = kit_register.add_controller(vendor_org, {
        "name": "Hand Controller SA", "address": "2 rue M, Paris", "contact_name": "Hand DPO",
        "contact_email": "dpo@hand.example"}, by=user)
    version = kit_register.refresh(vendor_org, by=user)
    charter = kit_charter.publish(vendor_org, by=user, confirmed=True)
    world.extra.update({"kit_controller_a": row.id, "kit_version_a": version.id,
                        "kit_charter_a": charter.id})
