"""Single sign-on settings: an organisation's identity provider, its domains, roles and "SSO required"."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
from cryptography.fernet import InvalidToken, MultiFernet
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as parse_xml
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from vendorcheck import audit
from vendorcheck.access import roles_for
from vendorcheck.extensions import db
from vendorcheck.models import Membership, Organisation, Role, User
from vendorcheck.models.sso import SsoConfig, SsoProtocol
from vendorcheck.services.errors import InvalidCredentials, ValidationFailed
from vendorcheck.services.signing import fernets_for

SECRET_PURPOSE = b"sso client secret"
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
MAX_METADATA_BYTES = 512 * 1024
MD = "{urn:oasis:names:tc:SAML:2.0:metadata}"


class SsoRequired(InvalidCredentials):
    """A password login of a member whose organisation signs in through its identity provider."""

    default = _l("Your organisation signs in with single sign-on: use \"Continue with single "
                 "sign-on\" with your work e-mail address. Your password is not accepted here.")


class SsoSettingsInvalid(ValidationFailed):
    default = _l("These single sign-on settings cannot be saved.")


@dataclass
class SsoSettings:
    """What the organisation's SSO page submits (the secret empty: keep the stored one)."""

    protocol: SsoProtocol
    enabled: bool
    allowed_domains: list[str]
    role_claim: str = ""
    role_map: dict[str, str] = field(default_factory=dict)
    default_role: Role = Role.ASSESSOR
    jit_provisioning: bool = False
    sso_required: bool = False
    break_glass_user_id: int | None = None
    issuer: str = ""
    client_id: str = ""
    client_secret: str = ""
    idp_metadata_xml: str = ""
    idp_metadata_url: str = ""


def config_of(org_id: int) -> SsoConfig | None:
    """Return an organisation's SSO configuration, if it has one."""
    return db.session.scalar(select(SsoConfig).where(SsoConfig.organisation_id == org_id))


def config_for_email(email: str) -> SsoConfig | None:
    """Return the enabled configuration whose allowed domains hold this address's domain."""
    domain = email.strip().lower().rpartition("@")[2]
    if not domain:
        return None
    configs = db.session.scalars(select(SsoConfig).where(SsoConfig.enabled.is_(True)))
    return next((cfg for cfg in configs if domain in cfg.allowed_domains), None)


def config_for_slug(slug: str) -> SsoConfig | None:
    """Return the configuration of the organisation with this slug (None if it has none)."""
    return db.session.scalar(select(SsoConfig).join(SsoConfig.organisation)
                             .where(Organisation.slug == slug))


def _box() -> MultiFernet:
    """Return the Fernet that keeps client secrets (derived from SECRET_KEY, like certificates)."""
    return MultiFernet(fernets_for(SECRET_PURPOSE))


def client_secret(cfg: SsoConfig) -> str:
    """Return the decrypted OIDC client secret ("" when none or no configured key opens it)."""
    if not cfg.client_secret_encrypted:
        return ""
    try:
        return _box().decrypt(cfg.client_secret_encrypted).decode("utf-8")
    except InvalidToken:
        current_app.logger.warning("SSO client secret of organisation %s cannot be decrypted",
                                   cfg.organisation_id)
        return ""


def parse_domains(text: str) -> list[str]:
    """Return the lower-case domains of a comma- or line-separated list; refuse one that is not a domain."""
    domains: list[str] = []
    for raw in re.split(r"[\s,;]+", text.strip().lower()):
        name = raw.lstrip("@")
        if not name:
            continue
        if not DOMAIN.match(name):
            raise SsoSettingsInvalid(_l("\"%(domain)s\" is not an e-mail domain.", domain=name[:80]))
        if name not in domains:
            domains.append(name)
    return domains


def parse_role_map(text: str, org: Organisation) -> dict[str, str]:
    """Return value -> role from lines "value = role"; refuse a role this organisation does not have."""
    allowed = {role.value for role in roles_for(org)}
    mapping: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        value, sep, role = line.rpartition("=")
        value, role = value.strip(), role.strip().lower()
        if not sep or not value or role not in allowed:
            raise SsoSettingsInvalid(_l(
                "Role mapping, line %(number)s: write \"value = role\" with one of the roles "
                "%(roles)s.", number=number, roles=", ".join(sorted(allowed))))
        mapping[value[:200]] = role
    return mapping


def check_url(url: str, what: str) -> str:
    """Return the URL if https (http only on 127.0.0.1 when SSO_ALLOW_HTTP_LOOPBACK), else refuse."""
    parts = urlsplit(url.strip())
    loopback = parts.scheme == "http" and parts.hostname == "127.0.0.1" and bool(
        current_app.config.get("SSO_ALLOW_HTTP_LOOPBACK"))
    if not parts.netloc or not (parts.scheme == "https" or loopback):
        raise SsoSettingsInvalid(_l("The address %(url)s must start with https://.", url=url.strip()[:100]))
    return url.strip().rstrip("/") if what == "issuer" else url.strip()


def metadata_text(data: bytes) -> str:
    """Return uploaded IdP metadata as text once it reads as an identity provider's ("" for none)."""
    if not data:
        return ""
    if len(data) > MAX_METADATA_BYTES:
        raise SsoSettingsInvalid(_l("The metadata file is larger than 512 KB."))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SsoSettingsInvalid(_l("The metadata file is not UTF-8 XML.")) from exc
    idp_entity_id(text)
    return text


def idp_entity_id(xml: str) -> str:
    """Return the entity id of the identity provider the metadata describes, or refuse it."""
    try:
        root = parse_xml(xml.encode("utf-8"))
    except (ET.ParseError, DefusedXmlException, ValueError) as exc:
        raise SsoSettingsInvalid(_l("The metadata is not readable XML.")) from exc
    entity = root if root.tag == MD + "EntityDescriptor" else root.find(MD + "EntityDescriptor")
    if entity is None or entity.find(MD + "IDPSSODescriptor") is None or not entity.get("entityID"):
        raise SsoSettingsInvalid(_l("The metadata does not describe a SAML identity provider "
                                    "(no EntityDescriptor with an IDPSSODescriptor)."))
    return str(entity.get("entityID"))


def fetch_metadata(url: str) -> str:
    """Download IdP metadata from its URL (https), or refuse with the reason."""
    try:
        response = requests.get(check_url(url, "metadata URL"), timeout=10)
        response.raise_for_status()
    except requests.RequestException as exc:
        raise SsoSettingsInvalid(_l("The metadata could not be downloaded from this URL.")) from exc
    return metadata_text(response.content)


def _check(settings: SsoSettings, org: Organisation) -> None:
    """Refuse settings that cannot work: no domain, a domain of another organisation, a missing field."""
    if settings.enabled and not settings.allowed_domains:
        raise SsoSettingsInvalid(_l("Give at least one e-mail domain that signs in here."))
    for other in db.session.scalars(select(SsoConfig).where(SsoConfig.organisation_id != org.id)):
        taken = set(other.allowed_domains) & set(settings.allowed_domains)
        if taken:
            raise SsoSettingsInvalid(_l("The domain %(domain)s already signs in with another "
                                        "organisation.", domain=sorted(taken)[0]))
    if settings.protocol == SsoProtocol.OIDC:
        settings.issuer = check_url(settings.issuer, "issuer")
        if not settings.client_id.strip():
            raise SsoSettingsInvalid(_l("Give the client id your identity provider issued."))
    if settings.protocol == SsoProtocol.SAML and not settings.idp_metadata_xml and settings.idp_metadata_url:
        settings.idp_metadata_xml = fetch_metadata(settings.idp_metadata_url)
    if settings.default_role.value not in {role.value for role in roles_for(org)}:
        raise SsoSettingsInvalid(_l("Choose a default role this organisation has."))
    if settings.break_glass_user_id is not None and _admin(org, settings.break_glass_user_id) is None:
        raise SsoSettingsInvalid(_l("The break-glass account must be an administrator of this "
                                    "organisation."))


def _admin(org: Organisation, user_id: int) -> Membership | None:
    """Return the user's membership in the organisation if they are one of its administrators."""
    return db.session.scalar(select(Membership).where(
        Membership.organisation_id == org.id, Membership.user_id == user_id,
        Membership.role == Role.ADMIN))


def save(org: Organisation, settings: SsoSettings, *, by: User) -> SsoConfig:
    """Create or change the organisation's SSO configuration, audited (the secret never in the log)."""
    _check(settings, org)
    cfg = config_of(org.id)
    created = cfg is None
    if cfg is None:
        cfg = SsoConfig(organisation_id=org.id)
        db.session.add(cfg)
    before = _summary(cfg) if not created else {}
    cfg.protocol, cfg.enabled = settings.protocol, settings.enabled
    cfg.allowed_domains, cfg.role_claim = settings.allowed_domains, settings.role_claim.strip()[:200]
    cfg.role_map, cfg.default_role = settings.role_map, settings.default_role
    cfg.jit_provisioning, cfg.sso_required = settings.jit_provisioning, settings.sso_required
    cfg.break_glass_user_id = settings.break_glass_user_id
    cfg.issuer, cfg.client_id = settings.issuer, settings.client_id.strip()[:300]
    secret_changed = bool(settings.client_secret)
    if secret_changed:
        cfg.client_secret_encrypted = _box().encrypt(settings.client_secret.encode("utf-8"))
    if settings.idp_metadata_xml:
        cfg.idp_metadata_xml = settings.idp_metadata_xml
        cfg.idp_entity_id = idp_entity_id(settings.idp_metadata_xml)[:500]
    if cfg.protocol == SsoProtocol.SAML and cfg.enabled and not cfg.idp_metadata_xml:
        raise SsoSettingsInvalid(_l("Upload the identity provider's metadata or give its URL."))
    cfg.idp_metadata_url = settings.idp_metadata_url.strip()[:500]
    db.session.flush()
    after = _summary(cfg)
    changed = sorted(key for key in after if before.get(key) != after[key])
    audit.record("sso.configured" if created else "sso.changed", by=by, org=org, obj=cfg,
                 details={"changed": changed, "secret_changed": secret_changed, **after})
    db.session.commit()
    return cfg


def _summary(cfg: SsoConfig) -> dict[str, object]:
    """Return what the audit log keeps of a configuration (no secret, no metadata text)."""
    return {"protocol": str(cfg.protocol), "enabled": cfg.enabled, "domains": list(cfg.allowed_domains),
            "role_claim": cfg.role_claim, "role_map": dict(cfg.role_map),
            "default_role": str(cfg.default_role), "jit": cfg.jit_provisioning,
            "sso_required": cfg.sso_required, "break_glass_user_id": cfg.break_glass_user_id,
            "issuer": cfg.issuer, "client_id": cfg.client_id, "idp_entity_id": cfg.idp_entity_id,
            "idp_metadata_url": cfg.idp_metadata_url}


def password_login_allowed(user: User) -> bool:
    """Tell whether the user may log in with a password: no organisation of theirs requires SSO,
    or they are its break-glass administrator."""
    org_ids = [m.organisation_id for m in user.memberships]
    if not org_ids:
        return True
    required = db.session.scalars(select(SsoConfig).where(
        SsoConfig.organisation_id.in_(org_ids), SsoConfig.enabled.is_(True),
        SsoConfig.sso_required.is_(True)))
    return all(cfg.break_glass_user_id == user.id for cfg in required)
