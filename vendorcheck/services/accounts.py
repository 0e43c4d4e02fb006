"""Accounts: sign-up, login, password reset and change, profile."""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from typing import NoReturn

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from werkzeug.security import check_password_hash, generate_password_hash

from vendorcheck import audit, mail
from vendorcheck.extensions import db
from vendorcheck.i18n import valid_timezone
from vendorcheck.models import Membership, Organisation, PasswordResetToken, Role, User, utcnow
from vendorcheck.services import login_throttle, sessions, sso_config
from vendorcheck.services.errors import (
    AccountLocked,
    DuplicateEmail,
    InvalidCredentials,
    TokenExpired,
    TokenInvalid,
    TokenUsed,
    ValidationFailed,
    WeakPassword,
    WrongPassword,
)

MIN_PASSWORD = 10
RESET_VALIDITY = timedelta(hours=1)
_DUMMY_HASH: dict[str, str] = {}


def normalise_email(email: str) -> str:
    """Return the e-mail address trimmed and lower-cased (addresses are unique this way)."""
    return email.strip().lower()


def new_token() -> tuple[str, str]:
    """Return a random URL-safe token and its sha256 (only the hash is stored)."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    """Return the hex sha256 of a token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def hash_password(password: str) -> str:
    """Hash a password with the configured werkzeug method (scrypt N=2^15, r=8, p=3)."""
    check_password_strength(password)
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def check_password_strength(password: str) -> None:
    """Refuse passwords shorter than 10 characters."""
    if len(password) < MIN_PASSWORD:
        raise WeakPassword()


def email_taken(email: str) -> bool:
    """Tell whether an account exists for this address."""
    return db.session.scalar(select(User.id).where(User.email == normalise_email(email))) is not None


def unique_slug(name: str) -> str:
    """Return a URL slug for an organisation name that no other organisation uses."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:60] or "org"
    slug, n = base, 1
    while db.session.scalar(select(Organisation.id).where(Organisation.slug == slug)) is not None:
        n += 1
        slug = f"{base}-{n}"
    return slug


@dataclass(frozen=True)
class SignupData:
    """What the sign-up form collects."""

    org_name: str
    country: str | None
    name: str
    email: str
    password: str
    locale: str = "en"


def signup_buyer(data: SignupData) -> User:
    """Create a buyer organisation and its first user, an admin."""
    email = normalise_email(data.email)
    if email_taken(email):
        raise DuplicateEmail()
    org = Organisation(name=data.org_name.strip(), slug=unique_slug(data.org_name),
                       country=data.country or None, is_buyer=True)
    user = User(email=email, name=data.name.strip(), password_hash=hash_password(data.password),
                locale=data.locale)
    db.session.add_all([org, user, Membership(user=user, organisation=org, role=Role.ADMIN)])
    db.session.flush()
    audit.record("signup", by=user, org=org, obj=org)
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> User:
    """Return the user for valid credentials and record the login; raise InvalidCredentials."""
    user = check_password(email, password)
    login_throttle.clear(user.email)
    audit.record("login", by=user, details={"method": "password"})
    db.session.commit()
    return user


def check_password(email: str, password: str) -> User:
    """Return the user for valid credentials, recording failures; raise InvalidCredentials.

    A locked address (login_throttle) is refused before the password is looked at, with AccountLocked.
    Success is not yet a login (a second factor may follow): the caller records it and clears the count.
    """
    address = normalise_email(email)[:254]
    if login_throttle.is_locked(address):
        audit.record("login_failed", email=address, details={"reason": "locked"})
        db.session.commit()
        raise AccountLocked()
    user = db.session.scalar(select(User).where(User.email == address))
    if user is None or not user.is_active:
        # Same work for unknown accounts, so timing does not tell which addresses exist.
        check_password_hash(_dummy_hash(), password)
        audit.record("login_failed", email=address, details={"reason": "unknown_or_inactive"})
        _fail(address, None)
    if not check_password_hash(user.password_hash, password):
        audit.record("login_failed", by=user, details={"reason": "wrong_password"})
        _fail(address, user)
    if not sso_config.password_login_allowed(user):
        # Checked after the password, so the refusal tells nothing to someone who does not know it.
        audit.record("login_failed", by=user, details={"reason": "sso_required"})
        db.session.commit()
        raise sso_config.SsoRequired()
    if not user.password_hash.startswith(current_app.config["PASSWORD_HASH_METHOD"] + "$"):
        user.password_hash = generate_password_hash(
            password, method=current_app.config["PASSWORD_HASH_METHOD"])
        db.session.commit()
    return user


def _fail(address: str, user: User | None) -> NoReturn:
    """Count the failure (maybe locking the address), commit, send the lock e-mail, refuse."""
    message = login_throttle.record_failure(address, user)
    db.session.commit()
    if message is not None:
        mail.dispatch([message])
    raise InvalidCredentials()


def _dummy_hash() -> str:
    """Return a hash with the current parameters to check unknown accounts against."""
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _DUMMY_HASH:
        _DUMMY_HASH[method] = generate_password_hash(secrets.token_hex(16), method=method)
    return _DUMMY_HASH[method]


def request_password_reset(email: str) -> None:
    """E-mail a one-hour reset link if an account exists; say nothing either way."""
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)[:254]))
    if user is None or not user.is_active:
        return
    token, token_hash = new_token()
    db.session.add(PasswordResetToken(user_id=user.id, token_hash=token_hash,
                                      expires_at=utcnow() + RESET_VALIDITY))
    message = mail.queue("password_reset", to=user.email, locale=user.locale, context={
        "name": user.name, "link": mail.external_url("auth.reset_password", token=token),
        "hours": 1,
    })
    audit.record("password_reset_requested", by=user)
    db.session.commit()
    mail.dispatch([message])


def check_reset_token(token: str) -> PasswordResetToken:
    """Return the reset token row for a raw token, or raise why it cannot be used."""
    row = db.session.scalar(
        select(PasswordResetToken).where(PasswordResetToken.token_hash == hash_token(token)))
    if row is None:
        raise TokenInvalid()
    if row.used_at is not None:
        raise TokenUsed()
    if row.expires_at <= utcnow():
        raise TokenExpired()
    return row


def reset_password(token: str, new_password: str) -> User:
    """Set a new password through a reset link (single use, atomic) and end other sessions."""
    row = check_reset_token(token)
    password_hash = hash_password(new_password)
    now = utcnow()
    result = db.session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.id == row.id, PasswordResetToken.used_at.is_(None),
               PasswordResetToken.expires_at > now)
        .values(used_at=now).execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        db.session.rollback()
        raise TokenUsed()
    user = row.user
    user.password_hash = password_hash
    sessions.revoke_others(user, keep=None)  # whoever held a session may have known the old password
    login_throttle.clear(user.email)  # the mailbox answered: the address may log in again
    audit.record("password_reset", by=user)
    db.session.commit()
    return user


def change_password(current: str, new: str, *, by: User, keep_session: int | None) -> None:
    """Change the user's own password; every other session of the user ends, `keep_session` continues."""
    if not check_password_hash(by.password_hash, current):
        raise WrongPassword()
    by.password_hash = hash_password(new)
    ended = sessions.revoke_others(by, keep=keep_session)
    audit.record("password_changed", by=by, details={"sessions_ended": ended})
    db.session.commit()


def update_profile(name: str, locale: str, *, by: User, timezone: str | None = None) -> None:
    """Change the user's display name, preferred language and time zone (None: the browser's)."""
    if timezone is not None and not valid_timezone(timezone):
        raise ValidationFailed(_l("Unknown time zone."))
    changes: dict[str, object] = {}
    if by.name != name.strip():
        changes["name"] = True
    if by.locale != locale:
        changes["locale"] = locale
    if by.timezone != timezone:
        changes["timezone"] = timezone or "automatic"
    by.name, by.locale, by.timezone = name.strip(), locale, timezone
    audit.record("profile_updated", by=by, details=changes)
    db.session.commit()
