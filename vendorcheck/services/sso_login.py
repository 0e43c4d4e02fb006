"""Signing in through an organisation's identity provider: who may, with which role, and the refusals.

The protocols (sso_oidc, sso_saml) prove who the person is; `sign_in` decides what that means here: the
address's domain must be allowed, the account active and a member of that organisation (or created just in
time when the organisation allows it), and the role follows the provider's claim when one maps.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any, NoReturn

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from vendorcheck import audit
from vendorcheck.extensions import db
from vendorcheck.models import Membership, Role, User
from vendorcheck.models.sso import SsoConfig
from vendorcheck.services import sso_config
from vendorcheck.services.accounts import normalise_email
from vendorcheck.services.errors import DomainError

# reason -> (status, message). Each message says what happened and what to do next.
REASONS: dict[str, tuple[int, Any]] = {
    "no_provider": (404, _l("No single sign-on is set up for this e-mail domain. Log in with your "
                            "password, or ask your organisation's administrator.")),
    "disabled": (404, _l("Single sign-on is switched off for this organisation. Log in with your "
                         "password, or ask your organisation's administrator.")),
    "provider_unreachable": (400, _l("Your identity provider could not be reached or gave an answer "
                                     "we cannot read. Try again in a moment; if it keeps failing, "
                                     "tell your organisation's administrator.")),
    "state_mismatch": (400, _l("This sign-in was started in another browser tab, has expired or "
                               "was already used. Start again from the login page.")),
    "idp_error": (400, _l("Your identity provider did not sign you in. Try again, or ask your "
                          "organisation's administrator.")),
    "invalid_token": (403, _l("Your identity provider's answer could not be verified (signature, "
                              "issuer, audience, nonce or expiry), so nobody was signed in. Start "
                              "again from the login page; if it happens again, tell your "
                              "organisation's administrator.")),
    "invalid_assertion": (403, _l("The SAML answer of your identity provider was refused (it must "
                                  "be signed, meant for this service and still valid), so nobody "
                                  "was signed in. Start again from the login page; if it happens "
                                  "again, tell your organisation's administrator.")),
    "replayed_assertion": (403, _l("This SAML answer was already used once and cannot sign in "
                                   "again. Start again from the login page.")),
    "no_email": (403, _l("Your identity provider did not send a verified e-mail address, which "
                         "vendorcheck needs to find your account. Ask your organisation's "
                         "administrator to release the e-mail claim.")),
    "domain_not_allowed": (403, _l("Your e-mail address is not in a domain your organisation "
                                   "signs in with. Use your work address, or ask your "
                                   "organisation's administrator to allow this domain.")),
    "other_organisation": (403, _l("This account belongs to another organisation, so it cannot "
                                   "sign in through this identity provider. Log in the way that "
                                   "organisation uses, or ask for an invitation.")),
    "account_disabled": (403, _l("This account is disabled. Ask your organisation's "
                                 "administrator.")),
    "no_account": (403, _l("There is no vendorcheck account for this address, and your organisation "
                           "does not create accounts at first sign-in. Ask your organisation's "
                           "administrator for an invitation.")),
}


class SsoRefused(DomainError):
    """A single sign-on that did not sign anyone in; `reason` is the key of REASONS."""

    def __init__(self, reason: str) -> None:
        status, message = REASONS[reason]
        super().__init__(message, links=((str(_l("Back to the login page")), url_for("auth.login")),))
        self.status = status
        self.reason = reason


def refuse(reason: str, cfg: SsoConfig | None, *, email: str | None = None, user: User | None = None,
           **details: Any) -> NoReturn:
    """Write the failed sign-in to the audit log (committed), then raise SsoRefused."""
    db.session.rollback()  # nothing half-done goes in with the audit entry
    audit.record("sso.login_failed", by=user, email=email,
                 org=cfg.organisation_id if cfg is not None else None,
                 details={"reason": reason, "protocol": str(cfg.protocol) if cfg else None, **details})
    db.session.commit()
    raise SsoRefused(reason)


def provider_for(email: str) -> SsoConfig:
    """Return the enabled provider of the address's domain; refuse (audited) when there is none."""
    cfg = sso_config.config_for_email(email)
    if cfg is None:
        refuse("no_provider", None, email=normalise_email(email)[:254])
    return cfg


def mapped_role(cfg: SsoConfig, values: Iterable[str]) -> Role | None:
    """Return the strongest role the provider's values map to (admin first), or None."""
    found = {cfg.role_map[value] for value in values if value in cfg.role_map}
    order = [Role.ADMIN, Role.LEGAL, Role.ASSESSOR, Role.CONTRIBUTOR]
    return next((role for role in order if role.value in found), None)


def as_values(raw: Any) -> list[str]:
    """Return a claim or attribute as a list of strings (a single value, a list, nothing)."""
    if raw is None:
        return []
    if isinstance(raw, list | tuple):
        return [str(item) for item in raw]
    return [str(raw)]


def sign_in(cfg: SsoConfig, *, email: str, name: str, role_values: list[str], method: str) -> User:
    """Return the member the provider vouched for (creating them if allowed), recording the login."""
    address = normalise_email(email)[:254]
    if not address or "@" not in address:
        refuse("no_email", cfg, method=method)
    if address.rpartition("@")[2] not in cfg.allowed_domains:
        refuse("domain_not_allowed", cfg, email=address, method=method)
    user = db.session.scalar(select(User).where(User.email == address))
    if user is not None and not user.is_active:
        refuse("account_disabled", cfg, user=user, method=method)
    role = mapped_role(cfg, role_values)
    if user is None:
        if not cfg.jit_provisioning:
            refuse("no_account", cfg, email=address, method=method)
        user = _provision(cfg, address, name, role or cfg.default_role, method)
    else:
        membership = _membership(cfg, user)
        if membership is None:
            refuse("other_organisation", cfg, user=user, method=method)
        if role is not None and role != membership.role and not _last_admin(membership):
            audit.record("sso.role_changed", by=user, org=cfg.organisation_id, obj=membership,
                         details={"from": str(membership.role), "to": str(role), "method": method})
            membership.role = role
    audit.record("login", by=user, org=cfg.organisation_id, details={"method": method})
    db.session.commit()
    return user


def _membership(cfg: SsoConfig, user: User) -> Membership | None:
    """Return the user's membership in the configuration's organisation."""
    return next((m for m in user.memberships if m.organisation_id == cfg.organisation_id), None)


def _last_admin(membership: Membership) -> bool:
    """Tell whether this is the organisation's only administrator (the provider never demotes them)."""
    if membership.role != Role.ADMIN:
        return False
    admins = db.session.scalar(select(func.count(Membership.id)).where(
        Membership.organisation_id == membership.organisation_id, Membership.role == Role.ADMIN))
    return (admins or 0) <= 1


def _provision(cfg: SsoConfig, address: str, name: str, role: Role, method: str) -> User:
    """Create the account and membership of a first sign-in (just-in-time provisioning)."""
    # No usable password: werkzeug's check refuses a hash without "$"; a reset link can set one.
    user = User(email=address, name=(name.strip() or address.partition("@")[0])[:200],
                password_hash="sso!" + secrets.token_hex(8))
    db.session.add_all([user, Membership(user=user, organisation_id=cfg.organisation_id, role=role)])
    db.session.flush()
    audit.record("sso.user_provisioned", by=user, org=cfg.organisation_id, obj=user,
                 details={"role": str(role), "method": method})
    return user
