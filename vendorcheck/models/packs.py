"""Evidence pack jobs: one signed PDF of an assessment (or all of a vendor's), built in the background."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vendorcheck.extensions import db
from vendorcheck.models.accounts import User
from vendorcheck.models.base import UTCDateTime, enum_type, utcnow


class PackStatus(enum.StrEnum):
    """Where a pack job is."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class PackJob(db.Model):
    """A request to build an evidence pack, its progress and, once done, the stored file."""

    __tablename__ = "pack_job"
    __table_args__ = (Index("ix_pack_job_buyer_created", "buyer_org_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    # Exactly one of the two is set: one assessment, or every assessment of a vendor.
    assessment_id: Mapped[int | None] = mapped_column(
        ForeignKey("assessment.id", ondelete="CASCADE"), index=True
    )
    vendor_id: Mapped[int | None] = mapped_column(
        ForeignKey("vendor.id", ondelete="CASCADE"), index=True
    )
    locale: Mapped[str] = mapped_column(String(5), default="en")
    status: Mapped[PackStatus] = mapped_column(
        enum_type(PackStatus, "pack_status"), default=PackStatus.QUEUED
    )
    progress: Mapped[int] = mapped_column(default=0)
    message: Mapped[str] = mapped_column(String(300), default="")
    storage_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    size: Mapped[int | None] = mapped_column()
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Written by the worker every JOB_HEARTBEAT_EVERY seconds while the job runs (and at each
    # progress step): a running job whose heartbeat is older than JOB_DEAD_AFTER lost its worker.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The run's working folder under instance/tmp (a name, no path): it identifies the run, so a
    # worker that was given up on cannot finish a job that was retried, and it is removed on cleanup.
    work_dir: Mapped[str | None] = mapped_column(String(64))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)

    created_by: Mapped[User | None] = relationship()


__all__ = ["PackJob", "PackStatus"]
