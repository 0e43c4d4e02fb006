"""Access rules in one place: the active membership, pure predicates, and the view decorator.

Anonymous users are sent to login; a member without the right answers 403; another
organisation's object answers 404 (so ids cannot be enumerated).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar, cast

from flask import Flask, abort, current_app, g, session, url_for
from flask_login import current_user
from sqlalchemy import bindparam, inspect, select
from sqlalchemy.orm import contains_eager

from vendorcheck.extensions import db, login_manager
from vendorcheck.models import BUYER_ROLES, VENDOR_ROLES, Membership, Organisation, Role, User

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M")

# Permission → (side of the organisation, roles allowed). Side "any" works in buyer and vendor orgs.
PERMISSIONS: dict[str, tuple[str, frozenset[Role]]] = {
    "vendors.view": ("buyer", BUYER_ROLES),
    "vendors.edit": ("buyer", frozenset({Role.ADMIN, Role.ASSESSOR})),
    "members.view": ("any", BUYER_ROLES | VENDOR_ROLES),
    "members.manage": ("any", frozenset({Role.ADMIN})),
    "audit.view": ("any", frozenset({Role.ADMIN})),
    "outbox.view": ("any", frozenset({Role.ADMIN})),
    # Outgoing webhooks: their URLs and signing secrets are an administrator's matter.
    "webhooks.manage": ("any", frozenset({Role.ADMIN})),
    # API tokens (issue 19): every member may hold personal tokens; organisation tokens need an admin.
    "tokens.use": ("any", BUYER_ROLES | VENDOR_ROLES),
    "assessments.view": ("buyer", BUYER_ROLES),
    "assessments.manage": ("buyer", frozenset({Role.ADMIN, Role.ASSESSOR})),
    "reports.download": ("buyer", BUYER_ROLES),
    "certificate.manage": ("buyer", frozenset({Role.ADMIN})),
    "sso.manage": ("any", frozenset({Role.ADMIN})),
    "assessments.answer": ("vendor", VENDOR_ROLES),
    "dpa.manage": ("vendor", VENDOR_ROLES),
    "dpa.publish": ("vendor", frozenset({Role.ADMIN})),
    # DPA relations (issue 8): admins and legal accept and object for the buyer; assessors only read.
    "dpa.accepted.view": ("buyer", BUYER_ROLES),
    "dpa.accept": ("buyer", frozenset({Role.ADMIN, Role.LEGAL})),
    "dpa.object": ("buyer", frozenset({Role.ADMIN, Role.LEGAL})),
    # Written authorisation of a proposed sub-processor change (specific authorisation).
    "dpa.authorise": ("buyer", frozenset({Role.ADMIN, Role.LEGAL})),
    "dpa.attach": ("buyer", BUYER_ROLES),
    "dpa.objections.view": ("vendor", VENDOR_ROLES),
    "dpa.objections.respond": ("vendor", frozenset({Role.ADMIN})),
    # The compliance kit (issue 21): every vendor member reads and exports, admins edit it.
    "kit.view": ("vendor", VENDOR_ROLES),
    "kit.manage": ("vendor", frozenset({Role.ADMIN})),
}


# --- pure predicates ---------------------------------------------------------------------------

def side_matches(org: Organisation, side: str) -> bool:
    """Tell whether an organisation is of the kind a permission needs."""
    return side == "any" or (side == "buyer" and org.is_buyer) or (
        side == "vendor" and org.is_vendor)


def roles_for(org: Organisation) -> list[Role]:
    """Return the roles that exist in an organisation of this kind, in display order."""
    roles: list[Role] = [Role.ADMIN]
    if org.is_buyer:
        roles += [Role.ASSESSOR, Role.LEGAL]
    if org.is_vendor:
        roles.append(Role.CONTRIBUTOR)
    return roles


def can(membership: Membership | None, permission: str) -> bool:
    """Tell whether a membership grants a permission (pure: no request, no database)."""
    if membership is None:
        return False
    side, roles = PERMISSIONS[permission]
    return side_matches(membership.organisation, side) and membership.role in roles


def owns(membership: Membership | None, org_id: int | None) -> bool:
    """Tell whether an object with this organisation id belongs to the member's organisation."""
    return membership is not None and org_id is not None and membership.organisation_id == org_id


def is_dev_environment() -> bool:
    """Tell whether dev-only pages (the outbox viewer) may be shown."""
    return current_app.config.get("ENV") == "development" or bool(current_app.config.get("TESTING"))


# --- the request's membership ------------------------------------------------------------------

# Built once: it runs on every request of a logged-in user.
MEMBERSHIPS = (
    select(Membership).join(Membership.organisation)
    .where(Membership.user_id == bindparam("user_id"))
    .options(contains_eager(Membership.organisation))  # the join fills it: no second SELECT
    .order_by(Organisation.is_buyer.desc(), Organisation.name, Membership.id)
)


def memberships_of(user: User) -> list[Membership]:
    """Return a user's memberships, buyers first, then by organisation name."""
    return list(db.session.scalars(MEMBERSHIPS, {"user_id": user.id}))


def _loaded_memberships(user: User) -> list[Membership] | None:
    """Return the memberships the session's query loaded with the user (sessions.live_session),
    in `memberships_of` order; None when they were not loaded (then they are queried)."""
    if "memberships" in inspect(user).unloaded:
        return None
    return sorted(user.memberships, key=lambda m: (not m.organisation.is_buyer, m.organisation.name, m.id))


def current_membership() -> Membership | None:
    """Return the membership of the organisation the user is acting for (session choice)."""
    if "membership" in g:
        return cast(Membership | None, g.membership)
    found: Membership | None = None
    if current_user.is_authenticated:
        user = current_user._get_current_object()  # the proxy cannot be inspected
        loaded = _loaded_memberships(user)
        memberships = loaded if loaded is not None else memberships_of(user)
        chosen = session.get("org_id")
        found = next((m for m in memberships if m.organisation_id == chosen), None)
        found = found or (memberships[0] if memberships else None)
    g.membership = found
    return found


def current_org() -> Organisation | None:
    """Return the organisation the user is acting for."""
    membership = current_membership()
    return membership.organisation if membership else None


def active_org() -> Organisation:
    """Return the organisation of a view behind @requires (which guarantees there is one)."""
    membership = current_membership()
    assert membership is not None
    return membership.organisation


def requires(permission: str) -> Callable[[F], F]:
    """Decorate a view: login required, then the permission in the active organisation (403)."""
    if permission not in PERMISSIONS:
        raise KeyError(permission)

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not can(current_membership(), permission):
                deny(403, permission)
            return view(*args, **kwargs)

        return cast(F, wrapped)

    return decorator


def get_owned_or_404(model: type[M], object_id: int, org_id_attr: str = "organisation_id") -> M:
    """Load an object of the active organisation, or answer 404 (missing or another tenant's)."""
    obj = db.session.get(model, object_id)
    if obj is None:
        abort(404)
    if not owns(current_membership(), getattr(obj, org_id_attr)):
        deny(404, f"{getattr(model, '__tablename__', model)}:{object_id}")
    return obj


def deny(status: int, what: str) -> NoReturn:
    """Record a refused access in the audit log, then abort."""
    from vendorcheck import audit

    db.session.rollback()
    membership = current_membership()
    audit.record("access_denied", by=current_user, org=membership.organisation_id if membership
                 else None, details={"status": status, "target": what})
    db.session.commit()
    abort(status)


def home_url() -> str:
    """Return where a logged-in user lands: buyers' vendor list, vendors' questionnaires, else members."""
    membership = current_membership()
    if can(membership, "vendors.view"):
        return url_for("buyer.vendors")
    if can(membership, "assessments.answer"):
        return url_for("supplier.assessments")
    if membership is not None:
        return url_for("org.members")
    return url_for("auth.profile")


def init_app(app: Flask) -> None:
    """Expose the access helpers to templates."""
    app.jinja_env.globals.update(current_membership=current_membership, can=can,
                                 current_org=current_org)
