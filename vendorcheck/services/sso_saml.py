"""SAML 2.0 sign-in (pysaml2 with xmlsec1): SP metadata, the AuthnRequest, and the checked response.

pysaml2 verifies the signature of the assertion (required), its audience (our entity id), its recipient and
destination (our ACS URL), its validity window (NotBefore/NotOnOrAfter, a minute of clock difference) and that
it answers a request this browser made (no unsolicited responses). We add the replay check: an assertion id is
kept until its NotOnOrAfter and refused the second time.

pysaml2 is imported inside the functions that use it: it takes seconds to import (its XML schemas), and the
app, the command line and the pages that never see SAML start without it.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from vendorcheck import mail
from vendorcheck.extensions import db
from vendorcheck.models import User, utcnow
from vendorcheck.models.sso import SamlSeenAssertion, SsoConfig, SsoProtocol
from vendorcheck.services.sso_login import as_values, refuse, sign_in

CLOCK_SKEW = 60  # seconds accepted between our clock and the provider's
ASSERTION_KEEP = timedelta(hours=1)  # how long an id without NotOnOrAfter is remembered
EMAIL_ATTRIBUTES = ("email", "mail", "emailaddress", "emailAddress",
                    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress")
NAME_ATTRIBUTES = ("displayName", "name", "cn", "http://schemas.microsoft.com/identity/claims/displayname")


def sp_entity_id(cfg: SsoConfig) -> str:
    """Return our entity id for this organisation: the stable URL of its SP metadata."""
    return mail.external_url("auth.saml_metadata", slug=cfg.organisation.slug)


def acs_url(cfg: SsoConfig) -> str:
    """Return the assertion consumer service URL of this organisation."""
    return mail.external_url("auth.saml_acs", slug=cfg.organisation.slug)


def _sp_config(cfg: SsoConfig, *, with_idp: bool = True) -> Any:
    """Return pysaml2's SP configuration for this organisation (IdP from its stored metadata)."""
    from saml2 import BINDING_HTTP_POST
    from saml2.config import SPConfig
    from saml2.saml import NAMEID_FORMAT_EMAILADDRESS

    settings: dict[str, Any] = {
        "entityid": sp_entity_id(cfg),
        "xmlsec_binary": shutil.which("xmlsec1") or "/usr/bin/xmlsec1",
        "accepted_time_diff": CLOCK_SKEW,
        "allow_unknown_attributes": True,
        "service": {"sp": {
            "endpoints": {"assertion_consumer_service": [(acs_url(cfg), BINDING_HTTP_POST)]},
            "want_assertions_signed": True,
            "want_response_signed": False,
            "authn_requests_signed": False,
            "allow_unsolicited": False,
            "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
        }},
    }
    if with_idp and cfg.idp_metadata_xml:
        settings["metadata"] = {"inline": [cfg.idp_metadata_xml]}
    config = SPConfig()
    config.load(settings)
    return config


def sp_metadata(cfg: SsoConfig) -> str:
    """Return our SP metadata (entity id, ACS, wanted signed assertions) as XML."""
    from saml2.metadata import entity_descriptor

    return str(entity_descriptor(_sp_config(cfg, with_idp=False)))


def _client(cfg: SsoConfig) -> Any:
    """Return pysaml2's Saml2Client, or refuse when the stored metadata cannot be loaded."""
    from saml2.client import Saml2Client

    if not cfg.enabled or cfg.protocol != SsoProtocol.SAML or not cfg.idp_metadata_xml:
        refuse("disabled", cfg)
    try:
        return Saml2Client(config=_sp_config(cfg))
    except Exception as exc:  # pysaml2 raises many kinds on bad metadata
        refuse("provider_unreachable", cfg, error=type(exc).__name__, step="metadata")


def begin(cfg: SsoConfig) -> tuple[str, str]:
    """Return the IdP URL carrying our AuthnRequest, and the request id to remember."""
    from saml2 import BINDING_HTTP_REDIRECT

    request_id, info = _client(cfg).prepare_for_authenticate(
        entityid=cfg.idp_entity_id, binding=BINDING_HTTP_REDIRECT)
    location = dict(info["headers"])["Location"]
    return location, request_id


def finish(cfg: SsoConfig, saml_response: str, *, request_id: str | None) -> User:
    """Check the IdP's response to our request and return the member it signs in (or refuse, audited)."""
    from saml2 import BINDING_HTTP_POST

    client = _client(cfg)
    outstanding = {request_id: "/"} if request_id else {}
    try:
        response = client.parse_authn_request_response(saml_response, BINDING_HTTP_POST,
                                                       outstanding=outstanding)
    except Exception as exc:  # pysaml2 signals each failed check with its own exception
        refuse("invalid_assertion", cfg, why=type(exc).__name__, detail=str(exc)[:200])
    if response is None or response.assertion is None or not _assertion_signed(response):
        refuse("invalid_assertion", cfg, why="no signed assertion")
    _refuse_replay(cfg, response.assertion)
    attributes = response.get_identity() or {}
    email = _first(attributes, EMAIL_ATTRIBUTES) or _name_id_email(response)
    role_values = as_values(attributes.get(cfg.role_claim)) if cfg.role_claim else []
    return sign_in(cfg, email=email, name=_first(attributes, NAME_ATTRIBUTES), role_values=role_values,
                   method="saml")


def _assertion_signed(response: Any) -> bool:
    """Tell whether the assertion itself carried a signature (pysaml2 verified it when present)."""
    return getattr(response.assertion, "signature", None) is not None


def _refuse_replay(cfg: SsoConfig, assertion: Any) -> None:
    """Remember the assertion id until it expires; refuse it if it was seen before."""
    db.session.execute(delete(SamlSeenAssertion).where(SamlSeenAssertion.expires_at < utcnow()))
    assertion_id = str(assertion.id)[:300]
    if db.session.scalar(select(SamlSeenAssertion.id).where(
            SamlSeenAssertion.assertion_id == assertion_id)) is not None:
        refuse("replayed_assertion", cfg, assertion_id=assertion_id)
    db.session.add(SamlSeenAssertion(assertion_id=assertion_id, organisation_id=cfg.organisation_id,
                                     expires_at=_not_on_or_after(assertion)))
    db.session.flush()


def _not_on_or_after(assertion: Any) -> datetime:
    """Return until when the assertion is valid (its conditions, else an hour from now)."""
    conditions = getattr(assertion, "conditions", None)
    text = getattr(conditions, "not_on_or_after", None)
    if text:
        try:
            return datetime.fromisoformat(str(text).replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            pass
    return utcnow() + ASSERTION_KEEP


def _first(attributes: dict[str, Any], names: tuple[str, ...]) -> str:
    """Return the first value of the first attribute present among `names` ("" when none)."""
    for name in names:
        values = as_values(attributes.get(name))
        if values:
            return values[0]
    return ""


def _name_id_email(response: Any) -> str:
    """Return the NameID when it is an e-mail address ("" otherwise)."""
    name_id = getattr(response, "name_id", None)
    text = str(getattr(name_id, "text", "") or "")
    return text if "@" in text else ""
