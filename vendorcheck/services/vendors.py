"""Vendor records kept by a buyer organisation."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from sqlalchemy import Select, func, or_, select

from vendorcheck import audit
from vendorcheck.extensions import db
from vendorcheck.models import Criticality, Membership, Organisation, User, Vendor

DATA_CATEGORIES = (
    "identification", "contact", "financial", "hr", "customer", "usage", "location",
    "health", "special", "children", "criminal",
)


@dataclass
class VendorData:
    """The editable fields of a vendor record."""

    legal_name: str
    country: str | None = None
    website: str | None = None
    services: str = ""
    data_categories: list[str] = field(default_factory=list)
    criticality: Criticality = Criticality.MEDIUM
    owner_id: int | None = None


def search_query(org: Organisation, q: str | None) -> Select[tuple[Vendor]]:
    """Return the query for an organisation's vendors, optionally filtered by name or website."""
    query = select(Vendor).where(Vendor.buyer_org_id == org.id)
    if q:
        pattern = "%" + q.strip().lower().replace("\\", "\\\\").replace("%", "\\%") \
            .replace("_", "\\_") + "%"
        query = query.where(or_(func.lower(Vendor.legal_name).like(pattern, escape="\\"),
                                func.lower(Vendor.website).like(pattern, escape="\\")))
    return query.order_by(func.lower(Vendor.legal_name), Vendor.id)


def owner_choices(org: Organisation) -> list[User]:
    """Return the users who may own a vendor record (members of the buyer organisation)."""
    query = (select(User).join(Membership).where(Membership.organisation_id == org.id)
             .order_by(User.name))
    return list(db.session.scalars(query))


def _check_owner(org: Organisation, owner_id: int | None) -> int | None:
    """Keep an owner only if they belong to the organisation."""
    if owner_id is None:
        return None
    ok = db.session.scalar(select(Membership.id).where(
        Membership.organisation_id == org.id, Membership.user_id == owner_id))
    return owner_id if ok is not None else None


def create_vendor(org: Organisation, data: VendorData, *, by: User) -> Vendor:
    """Register a vendor for a buyer organisation."""
    values = asdict(data)
    values["owner_id"] = _check_owner(org, data.owner_id) or by.id
    vendor = Vendor(buyer_org_id=org.id, **values)
    db.session.add(vendor)
    db.session.flush()
    audit.record("vendor_created", by=by, org=org, obj=vendor,
                 details={"legal_name": vendor.legal_name})
    db.session.commit()
    return vendor


def update_vendor(vendor: Vendor, data: VendorData, *, by: User) -> Vendor:
    """Edit a vendor record; the audit entry lists the changed fields."""
    values = asdict(data)
    values["owner_id"] = _check_owner(vendor.buyer_org, data.owner_id)
    changed = sorted(k for k, v in values.items() if getattr(vendor, k) != v)
    for key, value in values.items():
        setattr(vendor, key, value)
    audit.record("vendor_updated", by=by, org=vendor.buyer_org_id, obj=vendor,
                 details={"fields": changed})
    db.session.commit()
    return vendor
