"""The steps of a login after the first proof: is a second factor needed, did it pass, is this a new device.

`after_password` is the one place that decides "password ok → what next?"; another first step (a passkey,
an identity provider) calls `finish` with its own method name. The login counts as done (audit `login` with
its method, the failure count cleared) only in `finish`.
"""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l

from vendorcheck import audit, mail
from vendorcheck.extensions import db
from vendorcheck.models import User, utcnow
from vendorcheck.services import login_throttle, mfa
from vendorcheck.services.errors import AccountLocked, InvalidCredentials


class Next(enum.StrEnum):
    """What a login needs after a correct password."""

    DONE = "done"  # no second factor: logged in
    SECOND_FACTOR = "second_factor"  # an authenticator code, a recovery code or a passkey
    ENROL = "enrol"  # logged in, but an organisation requires a second factor the user has not set up


class WrongSecondFactor(InvalidCredentials):
    default = _l("This code is not correct, or it was already used.")


def after_password(user: User) -> Next:
    """Decide what a correct password leads to for this user."""
    if mfa.has_mfa(user):
        return Next.SECOND_FACTOR
    if mfa.mfa_required_for(user):
        return Next.ENROL
    return Next.DONE


def finish(user: User, method: str) -> None:
    """Record a completed login (`login`, with how) and forget the address's failures."""
    login_throttle.clear(user.email)
    audit.record("login", by=user, details={"method": method})
    db.session.commit()


def second_factor(user: User, code: str, *, recovery: bool) -> str:
    """Check an authenticator or recovery code for a pending login; return the login method.

    Wrong codes count like wrong passwords (login_throttle), so a known password does not open
    unlimited guessing; a locked address is refused before the code is looked at.
    """
    if login_throttle.is_locked(user.email):
        audit.record("login_failed", by=user, details={"reason": "locked", "step": "second_factor"})
        db.session.commit()
        raise AccountLocked()
    if recovery:
        ok, method, reason = mfa.use_recovery_code(user, code), "recovery_code", "wrong_recovery_code"
    else:
        ok, method, reason = mfa.check_totp(user, code), "password+totp", "wrong_totp"
    if not ok:
        audit.record("login_failed", by=user, details={"reason": reason})
        message = login_throttle.record_failure(user.email, user)
        db.session.commit()
        if message is not None:
            mail.dispatch([message])
        raise WrongSecondFactor()
    finish(user, method)
    return method


def second_factor_failed(user: User, reason: str) -> None:
    """Count a failed second factor that was not a code (a passkey answer that did not verify)."""
    audit.record("login_failed", by=user, details={"reason": reason})
    message = login_throttle.record_failure(user.email, user)
    db.session.commit()
    if message is not None:
        mail.dispatch([message])


def passkey_login_failed() -> None:
    """Record a password-less sign-in whose passkey answer did not verify (no account to count against)."""
    audit.record("login_failed", details={"reason": "passkey_refused", "step": "passkey"})
    db.session.commit()


def new_device(user: User, device: str, ip: str | None) -> None:
    """E-mail the user that their account was used from a browser it had not seen (audit it too)."""
    message = mail.queue("new_device", to=user.email, locale=user.locale, context={
        "name": user.name, "device": device, "ip": ip or "", "when": utcnow(),
        "sessions_link": mail.external_url("auth.profile"),
        "reset_link": mail.external_url("auth.reset_request")})
    audit.record("login.new_device", by=user, details={"device": device})
    db.session.commit()
    mail.dispatch([message])
