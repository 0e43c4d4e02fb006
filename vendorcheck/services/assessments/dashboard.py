"""The buyer's dashboard: every vendor with its assessments, filtered, sorted and paginated.

One SELECT (plus the COUNT of the paginator) per page, whatever the number of rows: the results
are read from the cached columns of `assessment`, and the vendor comes from the same join.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, case, func, nulls_last, select

from vendorcheck.extensions import db
from vendorcheck.models import Organisation, Vendor
from vendorcheck.models.assessments import Assessment, AssessmentStatus
from vendorcheck.services.assessments.results import background_rescoring, refresh_stale

S = AssessmentStatus
TIERS = ("low", "medium", "high", "unacceptable")
OPEN_FOR_VENDOR = (S.SENT, S.IN_PROGRESS)
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 25
NOT_ASSESSED = "none"


class BadQuery(ValueError):
    """A query-string parameter is not acceptable; the message says which and why."""


def _tier_rank() -> Any:
    return case({t: n for n, t in enumerate(TIERS)}, value=Assessment.tier, else_=None)


SORTS: dict[str, Any] = {
    "vendor": lambda: func.lower(Vendor.legal_name),
    "status": lambda: Assessment.status,
    "progress": lambda: Assessment.progress,
    "score": lambda: Assessment.score,
    "tier": _tier_rank,
    "open_findings": lambda: Assessment.open_findings,
    "due_date": lambda: Assessment.due_date,
    "next_review_date": lambda: Assessment.next_review_date,
    "sent_at": lambda: Assessment.sent_at,
}


@dataclass(frozen=True)
class DashboardQuery:
    """What the dashboard shows: validated query-string values."""

    status: str | None = None
    tier: str | None = None
    overdue: bool = False
    q: str | None = None
    archived: bool = False  # archived vendors are hidden unless asked for
    sort: str = "vendor"
    descending: bool = False
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    def args(self, **changes: Any) -> dict[str, Any]:
        """Return the query string that reproduces this view (for links and pagination)."""
        values = {"status": self.status, "tier": self.tier, "overdue": "1" if self.overdue else None,
                  "archived": "1" if self.archived else None,
                  "q": self.q, "sort": ("-" if self.descending else "") + self.sort,
                  "per_page": self.per_page if self.per_page != DEFAULT_PER_PAGE else None}
        values.update(changes)
        return {k: v for k, v in values.items() if v not in (None, "")}


def _int(args: Mapping[str, str], name: str, default: int) -> int:
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or len(raw) > 9 or int(raw) < 1:
        raise BadQuery(_("%(name)s must be a whole number of at least 1.", name=name))
    return int(raw)


def parse_query(args: Mapping[str, str]) -> DashboardQuery:
    """Validate the query string; raise BadQuery with a clear message."""
    status = args.get("status") or None
    if status is not None and status not in {s.value for s in S} | {NOT_ASSESSED}:
        raise BadQuery(_("Unknown status filter."))
    tier = args.get("tier") or None
    if tier is not None and tier not in TIERS:
        raise BadQuery(_("Unknown tier filter."))
    sort = args.get("sort") or "vendor"
    descending = sort.startswith("-")
    if sort.lstrip("-") not in SORTS:
        raise BadQuery(_("Unknown sort field."))
    q = (args.get("q") or "").strip()[:200] or None
    return DashboardQuery(status=status, tier=tier, overdue=args.get("overdue") in ("1", "on"),
                          q=q, archived=args.get("archived") in ("1", "on"),
                          sort=sort.lstrip("-"), descending=descending,
                          page=_int(args, "page", 1),
                          per_page=min(_int(args, "per_page", DEFAULT_PER_PAGE), MAX_PER_PAGE))


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def dashboard_select(org: Organisation, query: DashboardQuery,
                     today: date | None = None) -> Any:
    """Return (vendor, assessment or None) rows: vendors without an assessment appear once."""
    stmt = (select(Vendor, Assessment)
            .outerjoin(Assessment, and_(Assessment.vendor_id == Vendor.id,
                                        Assessment.buyer_org_id == org.id))
            .where(Vendor.buyer_org_id == org.id))
    if not query.archived:
        stmt = stmt.where(Vendor.archived_at.is_(None))
    if query.status == NOT_ASSESSED:
        stmt = stmt.where(Assessment.id.is_(None))
    elif query.status:
        stmt = stmt.where(Assessment.status == S(query.status))
    if query.tier:
        stmt = stmt.where(Assessment.tier == query.tier)
    if query.overdue:
        stmt = stmt.where(Assessment.status.in_(OPEN_FOR_VENDOR),
                          Assessment.due_date < (today or date.today()))
    if query.q:
        stmt = stmt.where(func.lower(Vendor.legal_name).like(_like(query.q), escape="\\"))
    column = SORTS[query.sort]()
    order = column.desc() if query.descending else column.asc()
    return stmt.order_by(nulls_last(order), func.lower(Vendor.legal_name), Vendor.id,
                         Assessment.id.desc())


def is_overdue(assessment: Assessment | None, today: date | None = None) -> bool:
    """Tell whether the vendor is late: still answering after the due date."""
    return (assessment is not None and assessment.due_date is not None
            and assessment.status in OPEN_FOR_VENDOR
            and assessment.due_date < (today or date.today()))


@dataclass(frozen=True)
class DashboardPage:
    """One page of a buyer's assessments, with the total the filters match."""

    rows: list[tuple[Vendor, Assessment | None, bool]]  # vendor, its assessment, overdue
    total: int
    has_vendors: bool


def dashboard_page(org: Organisation, query: DashboardQuery, today: date | None = None) -> DashboardPage:
    """Run the page query (one SELECT + one COUNT).

    With a worker, results an autosave left stale are shown as last scored (the page says they
    are being updated: the worker re-scores them within seconds), so the page's statements do not
    grow with the number of stale assessments. Without one, they are re-scored here first.
    """
    if not background_rescoring():
        refresh_stale(org.id)
    stmt = dashboard_select(org, query)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = db.session.execute(stmt.limit(query.per_page).offset((query.page - 1) * query.per_page)).all()
    today = today or date.today()
    items = [(row[0], row[1], is_overdue(row[1], today)) for row in rows]
    has_vendors = bool(total) or db.session.scalar(
        select(Vendor.id).where(Vendor.buyer_org_id == org.id).limit(1)) is not None
    return DashboardPage(items, total, has_vendors)
