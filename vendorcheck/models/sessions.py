"""Server-side login sessions and the per-address login throttle."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vendorcheck.extensions import db
from vendorcheck.models.accounts import User
from vendorcheck.models.base import UTCDateTime, utcnow


class UserSession(db.Model):
    """One login on one device; the browser holds only its id and secret, the secret's sha256 is kept."""

    __tablename__ = "user_session"
    __table_args__ = (Index("ix_user_session_user_revoked", "user_id", "revoked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)  # absolute end, whatever the activity
    idle_minutes: Mapped[int | None] = mapped_column()  # None: no idle limit (remembered device)
    device: Mapped[str] = mapped_column(String(100), default="")  # "Firefox, Linux"; never the raw UA
    ip: Mapped[str | None] = mapped_column(String(45))
    remember: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def ended(self, now: datetime) -> bool:
        """Tell whether the session is over: revoked, past its absolute end, or idle too long."""
        if self.revoked_at is not None or now >= self.expires_at:
            return True
        if self.idle_minutes is None:
            return False
        return (now - self.last_seen_at).total_seconds() >= self.idle_minutes * 60


class LoginThrottle(db.Model):
    """Failed logins for one e-mail address (its sha256), known account or not, shared by every process."""

    __tablename__ = "login_throttle"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_hash: Mapped[str] = mapped_column(String(64), unique=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


__all__ = ["LoginThrottle", "UserSession"]
