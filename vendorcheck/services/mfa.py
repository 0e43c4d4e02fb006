"""Second factors: TOTP enrolment and checks, one-time recovery codes, removal and an admin's reset.

The TOTP secret is stored encrypted (`signing.secret_box`), recovery codes as their sha256. A code is
accepted once: the 30-second step of the last accepted code is kept and only a later step passes, by one
conditional UPDATE (two requests racing with the same code cannot both win). Passkeys: services/passkeys.py.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass

import pyotp
import segno
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, exists, func, select, update
from werkzeug.security import check_password_hash

from vendorcheck import audit, mail
from vendorcheck.extensions import db
from vendorcheck.models import Membership, Organisation, User, utcnow
from vendorcheck.models.mfa import PasskeyCredential, RecoveryCode, TotpSecret
from vendorcheck.services.accounts import hash_token
from vendorcheck.services.errors import DomainError, ValidationFailed
from vendorcheck.services.signing import secret_box

ISSUER = "vendorcheck"
RECOVERY_CODES = 10
VALID_WINDOW = 1  # one 30-second step either side: clocks drift, people type slowly
_BOX = b"totp secret"


class WrongCode(ValidationFailed):
    default = _l("This code is not correct, or it was already used. Enter the current code from "
                 "your authenticator app.")


class NothingToConfirm(DomainError):
    status = 409
    default = _l("Start the set-up again: no authenticator app is waiting for confirmation.")


class MfaNeededFirst(DomainError):
    status = 409
    default = _l("Set up a second factor for your own account before requiring one from every member.")


@dataclass(frozen=True)
class Enrolment:
    """What the enrolment page shows: the secret (for typing) and its QR code as inline SVG."""

    secret: str
    uri: str
    qr_svg: str


# --- reading ------------------------------------------------------------------------------------

def totp_of(user: User) -> TotpSecret | None:
    """Return the user's TOTP row (confirmed or waiting for confirmation), if any."""
    return db.session.scalar(select(TotpSecret).where(TotpSecret.user_id == user.id))


def has_totp(user: User) -> bool:
    """Tell whether the user has a confirmed authenticator app."""
    row = totp_of(user)
    return row is not None and row.confirmed_at is not None


def passkeys_of(user: User) -> list[PasskeyCredential]:
    """Return the user's passkeys, oldest first."""
    return list(db.session.scalars(select(PasskeyCredential).where(PasskeyCredential.user_id == user.id)
                                   .order_by(PasskeyCredential.id)))


def has_mfa(user: User) -> bool:
    """Tell whether the user has any second factor (a confirmed authenticator app or a passkey)."""
    return has_totp(user) or db.session.scalar(
        select(exists().where(PasskeyCredential.user_id == user.id))) is True


def recovery_codes_left(user: User) -> int:
    """Return how many recovery codes the user has not used."""
    return int(db.session.scalar(select(func.count(RecoveryCode.id)).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0)


def mfa_required_for(user: User) -> bool:
    """Tell whether any organisation of the user requires a second factor."""
    return db.session.scalar(select(exists().where(
        Membership.user_id == user.id, Membership.organisation_id == Organisation.id,
        Organisation.mfa_required.is_(True)))) is True


def must_enrol(user: User) -> bool:
    """Tell whether the user must set up a second factor before using the app."""
    return mfa_required_for(user) and not has_mfa(user)


# --- TOTP ---------------------------------------------------------------------------------------

def _secret_of(row: TotpSecret) -> str:
    """Decrypt a stored TOTP secret."""
    return secret_box(_BOX).decrypt(row.secret_encrypted).decode("ascii")


def start_totp(*, by: User) -> Enrolment:
    """Create (or replace) the unconfirmed secret of an enrolment and return what the page shows."""
    row = totp_of(by)
    if row is not None and row.confirmed_at is not None:
        raise DomainError(_l("An authenticator app is already set up; remove it first."))
    secret = pyotp.random_base32()
    if row is None:
        row = TotpSecret(user_id=by.id)
        db.session.add(row)
    row.secret_encrypted = secret_box(_BOX).encrypt(secret.encode("ascii"))
    row.last_step = 0
    db.session.commit()
    return enrolment_view(row, by)


def enrolment_view(row: TotpSecret, user: User) -> Enrolment:
    """Return the secret, its otpauth:// URI and the QR code (SVG, no external service)."""
    secret = _secret_of(row)
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    qr = segno.make(uri, error="m")
    svg = qr.svg_inline(scale=4, title=str(_l("QR code to scan with your authenticator app")))
    return Enrolment(secret=secret, uri=uri, qr_svg=svg)


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """Return the time step a 6-digit code belongs to (within the window), or None."""
    code = (code or "").strip().replace(" ", "")
    if len(code) != 6 or not (code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    moment = time.time() if now is None else now
    current = int(moment // totp.interval)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _claim_step(row: TotpSecret, step: int) -> bool:
    """Record a step as used unless it (or a later one) already was; True when this call won."""
    result = db.session.execute(update(TotpSecret).where(TotpSecret.id == row.id, TotpSecret.last_step < step)
                                .values(last_step=step).execution_options(synchronize_session=False))
    won = result.rowcount == 1  # type: ignore[attr-defined]
    if won:
        row.last_step = step
    return won


def check_totp(user: User, code: str) -> bool:
    """Tell whether a code is the user's current one and unused (marking it used). The caller commits."""
    row = totp_of(user)
    if row is None or row.confirmed_at is None:
        return False
    step = matching_step(_secret_of(row), code)
    return step is not None and _claim_step(row, step)


def confirm_totp(code: str, *, by: User) -> list[str]:
    """Confirm an enrolment with a first code; return new recovery codes (shown once)."""
    row = totp_of(by)
    if row is None or row.confirmed_at is not None:
        raise NothingToConfirm()
    step = matching_step(_secret_of(row), code)
    if step is None or not _claim_step(row, step):
        audit.record("mfa.totp_enrol_failed", by=by)
        db.session.commit()
        raise WrongCode()
    row.confirmed_at = utcnow()
    codes = _new_recovery_codes(by)
    audit.record("mfa.totp_enrolled", by=by)
    db.session.commit()
    return codes


def remove_totp(code_or_password: str, *, by: User) -> None:
    """Remove the authenticator app, proven by a current code or the password."""
    row = totp_of(by)
    if row is None:
        return
    proof = (code_or_password or "")[:256]
    if not (check_totp(by, proof) or check_password_hash(by.password_hash, proof)):
        audit.record("mfa.totp_remove_failed", by=by)
        db.session.commit()
        raise ValidationFailed(_l("Enter a current code from your authenticator app, or your password."))
    db.session.delete(row)
    if not passkeys_of(by):
        db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == by.id))
    audit.record("mfa.totp_removed", by=by)
    db.session.commit()


# --- recovery codes -----------------------------------------------------------------------------

def normalise_code(code: str) -> str:
    """Return a recovery code as stored before hashing: lower case, without spaces or dashes."""
    return "".join(ch for ch in (code or "")[:64].lower() if ch.isalnum())


def _new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes with ten new ones; return them formatted (no commit)."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [secrets.token_hex(5) for _ in range(RECOVERY_CODES)]  # 40 bits each
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=hash_token(code)) for code in codes)
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def regenerate_recovery_codes(*, by: User) -> list[str]:
    """Give the user ten new recovery codes (the old ones stop working)."""
    if not has_mfa(by):
        raise NothingToConfirm()
    codes = _new_recovery_codes(by)
    audit.record("mfa.recovery_codes_regenerated", by=by)
    db.session.commit()
    return codes


def use_recovery_code(user: User, code: str) -> bool:
    """Spend one unused recovery code (atomically: once only). The caller commits."""
    wanted = normalise_code(code)
    if len(wanted) != 10:
        return False
    result = db.session.execute(
        update(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None),
                                   RecoveryCode.code_hash == hash_token(wanted))
        .values(used_at=utcnow()).execution_options(synchronize_session=False))
    return result.rowcount == 1  # type: ignore[attr-defined]


# --- organisation settings and an administrator's reset -----------------------------------------

def set_required(org: Organisation, required: bool, *, by: User) -> None:
    """Require (or no longer require) a second factor from every member of the organisation."""
    if required and not has_mfa(by):
        raise MfaNeededFirst()
    if org.mfa_required != required:
        org.mfa_required = required
        audit.record("org.mfa_required", by=by, org=org, obj=org, details={"required": required})
    db.session.commit()


def reset_member(membership: Membership, reason: str, *, by: User) -> None:
    """Remove every second factor of a member (lost phone), with a reason; the member is e-mailed."""
    member = membership.user
    reason = reason.strip()[:500]
    if not reason:
        raise ValidationFailed(_l("Say why the second factor is reset."))
    db.session.execute(delete(TotpSecret).where(TotpSecret.user_id == member.id))
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == member.id))
    db.session.execute(delete(PasskeyCredential).where(PasskeyCredential.user_id == member.id))
    audit.record("mfa.reset", by=by, org=membership.organisation_id, obj=member,
                 details={"member": member.email, "reason": reason})
    message = mail.queue("mfa_reset", to=member.email, locale=member.locale,
                         org_id=membership.organisation_id, context={
                             "name": member.name, "org": membership.organisation.name,
                             "admin": by.name, "reason": reason,
                             "link": mail.external_url("auth.mfa_settings")})
    db.session.commit()
    mail.dispatch([message])
