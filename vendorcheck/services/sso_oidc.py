"""OpenID Connect sign-in (Authlib's requests client): authorization code flow with PKCE, state and nonce.

`begin` returns where to send the browser and what the browser's session must remember; `finish` checks the
answer (state, then the code exchanged with the verifier, then the ID token: signature by a key of the
provider's JWKS, issuer, audience, expiry, nonce) and hands the verified address to `sso_login.sign_in`.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import asdict, dataclass
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from vendorcheck.models import User
from vendorcheck.models.sso import SsoConfig, SsoProtocol
from vendorcheck.services import sso_config
from vendorcheck.services.sso_login import as_values, refuse, sign_in

TIMEOUT = 10  # seconds for each call to the provider
LEEWAY = 60  # seconds of clock difference accepted on exp, iat and nbf
PENDING_FOR = 600  # seconds a started sign-in may take
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
SCOPES = ["openid", "email", "profile"]


@dataclass(frozen=True)
class Pending:
    """What the browser's session keeps between the redirect to the provider and its answer."""

    org_id: int
    state: str
    nonce: str
    code_verifier: str
    started: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _get_json(url: str, cfg: SsoConfig) -> dict[str, Any]:
    """GET a JSON document from the provider; refuse (audited) when it cannot be had."""
    try:
        response = requests.get(sso_config.check_url(url, "provider URL"), timeout=TIMEOUT)
        response.raise_for_status()
        data = response.json()
    except (requests.RequestException, ValueError) as exc:
        refuse("provider_unreachable", cfg, url=url[:200], error=type(exc).__name__)
    if not isinstance(data, dict):
        refuse("provider_unreachable", cfg, url=url[:200], error="not an object")
    return data


def discovery(cfg: SsoConfig) -> dict[str, Any]:
    """Return the provider's discovery document, whose issuer must be the configured one."""
    meta = _get_json(cfg.issuer + "/.well-known/openid-configuration", cfg)
    needed = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
    if any(not isinstance(meta.get(key), str) for key in needed) or meta["issuer"].rstrip("/") != cfg.issuer:
        refuse("provider_unreachable", cfg, error="discovery document does not match the issuer")
    return meta


def _client(cfg: SsoConfig, redirect_uri: str, scopes: list[str]) -> OAuth2Session:
    """Return Authlib's client for this organisation's provider (PKCE with S256)."""
    return OAuth2Session(cfg.client_id, sso_config.client_secret(cfg), scope=" ".join(scopes),
                         redirect_uri=redirect_uri, code_challenge_method="S256")


def _scopes(cfg: SsoConfig, meta: dict[str, Any]) -> list[str]:
    """Return the scopes asked for: openid, email, profile, and the role claim when it is a scope."""
    supported = meta.get("scopes_supported") or []
    extra = [cfg.role_claim] if cfg.role_claim and cfg.role_claim in supported else []
    return SCOPES + extra


def begin(cfg: SsoConfig, *, redirect_uri: str, login_hint: str) -> tuple[str, Pending]:
    """Return the provider's authorization URL and what to remember until it answers."""
    meta = discovery(cfg)
    pending = Pending(org_id=cfg.organisation_id, state=generate_token(32), nonce=generate_token(32),
                      code_verifier=generate_token(64), started=time.time())
    url, _state = _client(cfg, redirect_uri, _scopes(cfg, meta)).create_authorization_url(
        meta["authorization_endpoint"], state=pending.state, code_verifier=pending.code_verifier,
        nonce=pending.nonce, login_hint=login_hint)
    return url, pending


def pending_from(data: Any) -> Pending | None:
    """Return the remembered sign-in from the session (None when absent or not one)."""
    try:
        return Pending(**data) if isinstance(data, dict) else None
    except TypeError:
        return None


def finish(pending: Pending | None, args: dict[str, str], *, redirect_uri: str) -> User:
    """Check the provider's answer and return the member it signs in (or refuse, audited)."""
    cfg = sso_config.config_of(pending.org_id) if pending is not None else None
    if pending is None or cfg is None:
        refuse("state_mismatch", cfg)
    if not cfg.enabled or cfg.protocol != SsoProtocol.OIDC:
        refuse("disabled", cfg)
    state = args.get("state") or ""
    if not hmac.compare_digest(state.encode(), pending.state.encode()):
        refuse("state_mismatch", cfg)
    if time.time() - pending.started > PENDING_FOR:
        refuse("state_mismatch", cfg, why="expired")
    if args.get("error") or not args.get("code"):
        refuse("idp_error", cfg, error=(args.get("error") or "no code")[:100])
    meta = discovery(cfg)
    try:
        token = _client(cfg, redirect_uri, []).fetch_token(
            meta["token_endpoint"], code=args["code"], code_verifier=pending.code_verifier,
            timeout=TIMEOUT)
    except (requests.RequestException, ValueError, AuthlibBaseError) as exc:  # OAuthError: an error answer
        refuse("provider_unreachable", cfg, error=type(exc).__name__, step="token")
    claims = validate_id_token(cfg, meta, token.get("id_token"), nonce=pending.nonce)
    return sign_in(cfg, email=str(claims.get("email") or ""), name=str(claims.get("name") or ""),
                   role_values=as_values(claims.get(cfg.role_claim)) if cfg.role_claim else [],
                   method="oidc")


def validate_id_token(cfg: SsoConfig, meta: dict[str, Any], id_token: Any, *, nonce: str) -> dict[str, Any]:
    """Return the ID token's claims once its signature (provider's JWKS), issuer, audience, expiry and
    nonce are right, and its e-mail is not marked unverified; refuse (audited) otherwise."""
    if not isinstance(id_token, str):
        refuse("invalid_token", cfg, why="no id_token")
    try:
        keys = KeySet.import_key_set(_get_json(meta["jwks_uri"], cfg))  # type: ignore[arg-type]
        token = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
        jwt.JWTClaimsRegistry(
            leeway=LEEWAY, iss={"essential": True, "value": cfg.issuer},
            aud={"essential": True, "value": cfg.client_id}, exp={"essential": True},
            sub={"essential": True}, nonce={"essential": True, "value": nonce},
        ).validate(token.claims)
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        refuse("invalid_token", cfg, why=type(exc).__name__, detail=str(exc)[:200])
    claims = dict(token.claims)
    azp = claims.get("azp")
    if isinstance(claims.get("aud"), list) and len(claims["aud"]) > 1 and azp != cfg.client_id:
        refuse("invalid_token", cfg, why="azp")
    if claims.get("email_verified") is False:
        refuse("no_email", cfg, why="email not verified")
    return claims
