"""Passkeys (WebAuthn, the `webauthn` package): register, list, remove, and check a sign-in answer.

The relying party is the app's BASE_URL: its host name is the RP id, its scheme, host and port the only
accepted origin. Challenges are made here and kept by the caller (the signed session) until the answer.
A passkey asks for user verification (PIN, fingerprint), so it is a second factor by itself: it can follow
a password or replace it ("Sign in with a passkey").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from vendorcheck import audit
from vendorcheck.extensions import db
from vendorcheck.models import User, utcnow
from vendorcheck.models.mfa import PasskeyCredential, RecoveryCode
from vendorcheck.services import mfa
from vendorcheck.services.errors import DomainError, ValidationFailed

MAX_ANSWER = 64 * 1024  # a WebAuthn answer is a few kilobytes; anything far larger is not one
MAX_PASSKEYS = 20


class PasskeyRefused(DomainError):
    """The browser's answer did not verify (forged, replayed, another site's, unknown credential)."""

    status = 400
    default = _l("The passkey could not be verified. Try again, or use another way to sign in.")


class PasskeyNotFound(DomainError):
    status = 404
    default = _l("This passkey does not exist.")


@dataclass(frozen=True)
class RelyingParty:
    """Who the passkeys are for: the RP id (a host name) and the one accepted origin."""

    id: str
    origin: str
    name: str = "vendorcheck"


def relying_party() -> RelyingParty:
    """Return the relying party from BASE_URL (WEBAUTHN_RP_ID may name a parent domain)."""
    base = urlsplit(current_app.config["BASE_URL"])
    origin = f"{base.scheme}://{base.netloc}"
    return RelyingParty(id=current_app.config.get("WEBAUTHN_RP_ID") or base.hostname or "localhost",
                        origin=origin)


def user_handle(user: User) -> bytes:
    """Return the opaque WebAuthn user handle of a user (their id; no e-mail address in it)."""
    return f"vc-user-{user.id}".encode("ascii")


def _transports(row: PasskeyCredential) -> list[AuthenticatorTransport]:
    """Return the stored transport hints that the library knows."""
    known = {t.value: t for t in AuthenticatorTransport}
    return [known[t] for t in row.transports.split(",") if t in known]


def _descriptor(row: PasskeyCredential) -> PublicKeyCredentialDescriptor:
    """Describe a stored credential for allow/exclude lists."""
    return PublicKeyCredentialDescriptor(id=row.credential_id, transports=_transports(row))


def registration_options(user: User) -> tuple[str, str]:
    """Return (options as JSON for navigator.credentials.create, the challenge to keep)."""
    rp = relying_party()
    options = generate_registration_options(
        rp_id=rp.id, rp_name=rp.name, user_id=user_handle(user), user_name=user.email,
        user_display_name=user.name,
        exclude_credentials=[_descriptor(row) for row in mfa.passkeys_of(user)],
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED))
    return options_to_json(options), bytes_to_base64url(options.challenge)


def authentication_options(user: User | None) -> tuple[str, str]:
    """Return (options as JSON for navigator.credentials.get, the challenge to keep).

    With a user (second factor) only their passkeys are allowed; without (password-less sign-in) the
    browser offers the passkeys it holds for this site.
    """
    rp = relying_party()
    allowed = [_descriptor(row) for row in mfa.passkeys_of(user)] if user is not None else None
    options = generate_authentication_options(
        rp_id=rp.id, allow_credentials=allowed,
        user_verification=UserVerificationRequirement.REQUIRED)
    return options_to_json(options), bytes_to_base64url(options.challenge)


def _answer(raw: str | bytes | None) -> dict[str, Any]:
    """Parse the browser's answer (JSON) into a dict, or refuse it."""
    if not raw or len(raw) > MAX_ANSWER:
        raise PasskeyRefused()
    try:
        answer = json.loads(raw)
    except ValueError:
        raise PasskeyRefused() from None
    if not isinstance(answer, dict) or not isinstance(answer.get("rawId", answer.get("id")), str):
        raise PasskeyRefused()
    return answer


def _challenge(kept: str | None) -> bytes:
    """Return the challenge the session kept, or refuse (none asked, or already used)."""
    if not kept:
        raise PasskeyRefused(_l("This passkey request has expired. Try again."))
    return base64url_to_bytes(kept)


def register(raw_answer: str | bytes | None, kept_challenge: str | None, name: str, *,
             by: User) -> PasskeyCredential:
    """Verify a registration answer and store the new passkey under a name."""
    name = (name or "").strip()[:100]
    if not name:
        raise ValidationFailed(_l("Give the passkey a name, e.g. the device it is on."))
    if len(mfa.passkeys_of(by)) >= MAX_PASSKEYS:
        raise ValidationFailed(_l("You have too many passkeys; remove one first."))
    answer, rp = _answer(raw_answer), relying_party()
    try:
        verified = verify_registration_response(
            credential=answer, expected_challenge=_challenge(kept_challenge), expected_rp_id=rp.id,
            expected_origin=rp.origin, require_user_verification=True)
    except Exception:  # forged answers make the parsers raise many kinds of error
        audit.record("mfa.passkey_add_failed", by=by)
        db.session.commit()
        raise PasskeyRefused() from None
    taken = db.session.scalar(select(PasskeyCredential.id).where(
        PasskeyCredential.credential_id == verified.credential_id))
    if taken is not None:
        raise PasskeyRefused(_l("This passkey is already registered."))
    transports = answer.get("response", {}).get("transports") or []
    row = PasskeyCredential(
        user_id=by.id, credential_id=verified.credential_id, public_key=verified.credential_public_key,
        sign_count=verified.sign_count, name=name,
        transports=",".join(str(t) for t in transports if isinstance(t, str))[:200])
    db.session.add(row)
    db.session.flush()
    audit.record("mfa.passkey_added", by=by, obj=row, details={"name": name})
    db.session.commit()
    return row


def verify(raw_answer: str | bytes | None, kept_challenge: str | None,
           user: User | None) -> tuple[User, PasskeyCredential]:
    """Check a sign-in answer; return its user and passkey (no commit, the login step records it).

    For a second factor `user` is the one who gave the password: another user's credential is refused.
    """
    answer, rp = _answer(raw_answer), relying_party()
    try:
        credential_id = base64url_to_bytes(answer.get("rawId") or answer["id"])
    except (ValueError, TypeError):
        raise PasskeyRefused() from None
    row = db.session.scalar(select(PasskeyCredential).where(PasskeyCredential.credential_id == credential_id))
    if row is None or (user is not None and row.user_id != user.id) or not row.user.is_active:
        raise PasskeyRefused()
    try:
        verified = verify_authentication_response(
            credential=answer, expected_challenge=_challenge(kept_challenge), expected_rp_id=rp.id,
            expected_origin=rp.origin, credential_public_key=row.public_key,
            credential_current_sign_count=row.sign_count, require_user_verification=True)
    except Exception:  # forged answers make the parsers raise many kinds of error
        raise PasskeyRefused() from None
    row.sign_count = verified.new_sign_count
    row.last_used_at = utcnow()
    return row.user, row


def own_passkey(passkey_id: int, *, by: User) -> PasskeyCredential:
    """Return one of the user's own passkeys; anyone else's (or none) is PasskeyNotFound (404)."""
    row = db.session.get(PasskeyCredential, passkey_id)
    if row is None or row.user_id != by.id:
        raise PasskeyNotFound()
    return row


def remove(row: PasskeyCredential, *, by: User) -> None:
    """Remove one of the user's passkeys (recovery codes go when no second factor is left)."""
    name = row.name
    db.session.delete(row)
    db.session.flush()
    if not mfa.has_mfa(by):
        db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == by.id))
    audit.record("mfa.passkey_removed", by=by, details={"name": name})
    db.session.commit()
