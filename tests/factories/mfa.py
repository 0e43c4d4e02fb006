"""Second factors for tests: a confirmed authenticator app, a stored passkey row."""

from __future__ import annotations

import pyotp

from vendorcheck.extensions import db
from vendorcheck.models import User, utcnow
from vendorcheck.models.mfa import PasskeyCredential, TotpSecret
from vendorcheck.services.signing import secret_box


def make_totp(user: User) -> str:
    """Give the user a confirmed authenticator app; return its secret (for pyotp codes)."""
    secret = pyotp.random_base32()
    db.session.add(TotpSecret(user_id=user.id, secret_encrypted=secret_box(b"totp secret").encrypt(
        secret.encode("ascii")), confirmed_at=utcnow(), last_step=0))
    db.session.commit()
    return secret


def make_passkey(user: User, credential_id: bytes, name: str = "Laptop") -> PasskeyCredential:
    """Store a passkey row for the user (its key is not a real one: for refusal tests)."""
    row = PasskeyCredential(user_id=user.id, credential_id=credential_id, public_key=b"\x00" * 77,
                            sign_count=0, name=name, transports="internal")
    db.session.add(row)
    db.session.commit()
    db.session.refresh(row)
    return row
