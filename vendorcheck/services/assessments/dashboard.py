"""The buyer's dashboard: every vendor with its latest assessment (or, switched to the history,
with all its assessments), filtered, sorted and paginated.

The default view shows one row per vendor, its latest assessment (`Assessment.is_latest`, kept by
the model on every send, cancellation and deletion), so a page sorts the buyer's vendors, not every
assessment they ever had; `history=1` lists every assessment.

One SELECT plus one capped COUNT per page, whatever the number of rows: the results are read from
the cached columns of `assessment`, and the vendor comes from the same join. Pages follow a
cursor (keyset: the sort keys of the page's last or first row, with the vendor and assessment
ids as tie-breakers), so a deep page costs what the first does; `page=N` alone still works
(OFFSET, for old links). The COUNT stops at COUNT_CAP rows: beyond, the page says "more than".
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import (
    String,
    and_,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    true,
    type_coerce,
    union_all,
)

from vendorcheck.extensions import db
from vendorcheck.models import Organisation, Vendor
from vendorcheck.models.assessments import Assessment, AssessmentStatus

S = AssessmentStatus
TIERS = ("low", "medium", "high", "unacceptable")
OPEN_FOR_VENDOR = (S.SENT, S.IN_PROGRESS)
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 25
NOT_ASSESSED = "none"
COUNT_CAP = 1000  # rows counted at most: the page says "more than 1,000" rather than scan them all


class BadQuery(ValueError):
    """A query-string parameter is not acceptable; the message says which and why."""


def _tier_rank() -> Any:
    return case({t: n for n, t in enumerate(TIERS)}, value=Assessment.tier, else_=None)


SORTS: dict[str, Any] = {
    "vendor": lambda: func.lower(Vendor.legal_name),
    "status": lambda: type_coerce(Assessment.status, String(32)),  # compared as the stored text
    "progress": lambda: Assessment.progress,
    "score": lambda: Assessment.score,
    "tier": _tier_rank,
    "open_findings": lambda: Assessment.open_findings,
    "due_date": lambda: Assessment.due_date,
    "next_review_date": lambda: Assessment.next_review_date,
    "sent_at": lambda: Assessment.sent_at,
}


# What a missing value (a vendor without assessment, no score yet...) is replaced with in the sort key,
# after a first key that puts missing values last: a plain value of the column's type.
_BLANK: dict[str, Any] = {"status": "", "progress": 0, "score": 0.0, "tier": 0, "open_findings": 0,
                          "due_date": date(1970, 1, 1), "next_review_date": date(1970, 1, 1),
                          "sent_at": datetime(1970, 1, 1, tzinfo=UTC)}


@dataclass(frozen=True)
class DashboardQuery:
    """What the dashboard shows: validated query-string values."""

    status: str | None = None
    tier: str | None = None
    overdue: bool = False
    q: str | None = None
    archived: bool = False  # archived vendors are hidden unless asked for
    history: bool = False  # every assessment of each vendor, not only its latest
    sort: str = "vendor"
    descending: bool = False
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    after: tuple[Any, ...] | None = None  # the sort keys of the previous page's last row
    before: tuple[Any, ...] | None = None  # the sort keys of the next page's first row

    def args(self, **changes: Any) -> dict[str, Any]:
        """Return the query string that reproduces this view's filters and sort (links, pages)."""
        values = {"status": self.status, "tier": self.tier, "overdue": "1" if self.overdue else None,
                  "archived": "1" if self.archived else None,
                  "history": "1" if self.history else None,
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
    after, before = _cursor(args, "after"), _cursor(args, "before")
    if after is not None and before is not None:
        raise BadQuery(_("Give either after or before, not both."))
    query = DashboardQuery(status=status, tier=tier, overdue=args.get("overdue") in ("1", "on"),
                           q=q, archived=args.get("archived") in ("1", "on"),
                           history=args.get("history") in ("1", "on"),
                           sort=sort.lstrip("-"), descending=descending,
                           page=_int(args, "page", 1),
                           per_page=min(_int(args, "per_page", DEFAULT_PER_PAGE), MAX_PER_PAGE),
                           after=after, before=before)
    cursor = after if after is not None else before
    if cursor is not None:
        keys = sort_keys(query)
        if len(cursor) != len(keys) or not all(
                _fits(key, value) for (key, _d), value in zip(keys, cursor, strict=True)) or (
                query.sort != "vendor" and cursor[0] not in (0, 1)):  # the "missing" key
            raise BadQuery(_("The page link is damaged; go back to the first page."))
    return query


def encode_cursor(keys: tuple[Any, ...]) -> str:
    """Return a row's sort keys as a URL-safe cursor (dates and times tagged, the rest JSON)."""
    tagged = [["d", v.isoformat()] if isinstance(v, date) and not isinstance(v, datetime)
              else ["t", v.isoformat()] if isinstance(v, datetime)
              else ["v", v] for v in keys]
    raw = json.dumps(tagged, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _cursor(args: Mapping[str, str], name: str) -> tuple[Any, ...] | None:
    """Decode a cursor parameter; raise BadQuery if it is not one this page made."""
    raw = args.get(name)
    if not raw:
        return None
    try:
        tagged = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        if not isinstance(tagged, list) or not 3 <= len(tagged) <= 6:
            raise ValueError(name)
        return tuple(_untag(tag, value) for tag, value in tagged)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise BadQuery(_("The page link is damaged; go back to the first page.")) from None


def _untag(tag: str, value: Any) -> Any:
    """Return one cursor value as the database compares it."""
    if tag == "d":
        return date.fromisoformat(value)
    if tag == "t":
        moment = datetime.fromisoformat(value)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if tag != "v" or not isinstance(value, str | int | float | None):
        raise ValueError(tag)
    return value


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def lists_history(query: DashboardQuery) -> bool:
    """Tell whether the page lists assessments, every one of each vendor (the history), rather
    than vendors with their latest (never-assessed vendors have no history: `status=none` lists
    them in either view)."""
    return query.history and query.status != NOT_ASSESSED


def sort_keys(query: DashboardQuery) -> list[tuple[Any, bool]]:
    """Return the page order as (expression, descending) keys, none of them NULL, ending with ids
    so that every row has a place of its own (what a cursor names): the vendor's and the
    assessment's, or in the history sorted on an assessment column the assessment's alone (the
    order of ix_assessment_buyer_<column>: see _history_page)."""
    name = func.lower(Vendor.legal_name)
    tail = [(name, False), (Vendor.id, False), (func.coalesce(Assessment.id, 0), True)]
    if query.sort == "vendor":  # served in order by ix_vendor_buyer_name
        return [(name, query.descending), *tail[1:]]
    column = SORTS[query.sort]()
    blank = literal(_BLANK[query.sort], type_=column.type)
    missing = case((column.is_(None), 1), else_=0)  # missing values last, either way
    if lists_history(query):
        tail = [(Assessment.id, query.descending)]
    return [(missing, False), (func.coalesce(column, blank), query.descending), *tail]


def _narrow(org: Organisation, query: DashboardQuery, today: date | None) -> Any:
    """Return the unordered (vendor id, assessment id or None, *sort keys) rows the filters keep."""
    keys = sort_keys(query)
    columns = (Vendor.id.label("vid"), Assessment.id.label("aid"),
               *(key.label(f"k{at}") for at, (key, _desc) in enumerate(keys)))
    if lists_history(query):
        stmt = (select(*columns).join(Vendor, Vendor.id == Assessment.vendor_id)
                .where(Assessment.buyer_org_id == org.id))
    else:
        # The latest (also for status=none in the history: no latest means no assessment at all).
        stmt = select(*columns).outerjoin(Assessment, and_(
            Assessment.vendor_id == Vendor.id, Assessment.buyer_org_id == org.id,
            Assessment.is_latest))
    stmt = stmt.where(Vendor.buyer_org_id == org.id)
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
    return stmt


def dashboard_select(org: Organisation, query: DashboardQuery,
                     today: date | None = None) -> Any:
    """Return (vendor id, assessment id or None, *sort keys k0, k1...) rows in page order: vendors
    without an assessment appear once, but not in the history. Narrow rows: the page's 25 full rows
    are read after."""
    keys = sort_keys(query)
    stmt = _narrow(org, query, today)
    backwards = query.before is not None
    cursor = query.before if backwards else query.after
    if cursor is not None:
        stmt = stmt.where(_beyond(keys, cursor, backwards))
    return stmt.order_by(*((key.desc() if desc != backwards else key.asc()) for key, desc in keys))


def _history_page(org: Organisation, query: DashboardQuery, today: date | None, *, limit: int,
                  offset: int) -> Any:
    """Return a history page sorted on an assessment column: narrow rows in page order.

    Read from ix_assessment_buyer_<column> (buyer, column, id) rather than by sorting every
    assessment of the buyer: the rows with a value in (column, id) order, then the rows without
    one (the index keeps NULLs together, in id order); tiers, ranked, are one range per tier in
    id order. Each range the cursor has not passed yields at most offset + limit rows, and only
    those are sorted by the page's keys.
    """
    keys = sort_keys(query)
    backwards = query.before is not None
    cursor = query.before if backwards else query.after
    reverse = query.descending != backwards
    parts = []
    for position, where, order in _ranges(query):
        beyond = true() if cursor is None else _range_beyond(query, position, order, cursor,
                                                             backwards=backwards, reverse=reverse)
        if beyond is None:
            continue  # the cursor is past this whole range (never the range holding it)
        part = (_narrow(org, query, today).where(where, beyond)
                .order_by(*(c.desc() if reverse else c.asc() for c in order))
                .limit(offset + limit))
        parts.append(select(part.subquery()))
    rows = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    columns = [rows.c[f"k{at}"] for at in range(len(keys))]
    return (select(rows.c.vid, rows.c.aid, *columns)
            .order_by(*((c.desc() if desc != backwards else c.asc())
                        for c, (_key, desc) in zip(columns, keys, strict=True)))
            .offset(offset).limit(limit))


def _ranges(query: DashboardQuery) -> list[tuple[tuple[int, int | None], Any, list[Any]]]:
    """Return the history's index ranges for the sort column as (position, condition, order):
    position is (1 if the range holds the rows without a value, else 0; the tier's rank or None)."""
    if query.sort == "tier":
        ranges: list[tuple[tuple[int, int | None], Any, list[Any]]] = [
            ((0, rank), Assessment.tier == tier, [Assessment.id]) for rank, tier in enumerate(TIERS)]
        blank = or_(Assessment.tier.is_(None), Assessment.tier.not_in(TIERS))
    else:
        column = SORTS[query.sort]()
        ranges = [((0, None), column.is_not(None), [column, Assessment.id])]
        blank = column.is_(None)
    return [*ranges, ((1, None), blank, [Assessment.id])]


def _range_beyond(query: DashboardQuery, position: tuple[int, int | None], order: list[Any],
                  cursor: tuple[Any, ...], *, backwards: bool, reverse: bool) -> Any:
    """Return the condition "after the cursor" (before it, backwards) within one range: all of
    it, part of it (the range holding the cursor's row), or None (none of it)."""
    missing, rank = position
    if missing != cursor[0]:  # rows without a value come last, either way
        after = missing > cursor[0]
    elif rank is not None and rank != cursor[1]:
        after = rank < cursor[1] if query.descending else rank > cursor[1]
    else:
        return _within(order, (cursor[1], cursor[2])[-len(order):], reverse)
    return true() if after != backwards else None


def _within(order: list[Any], values: tuple[Any, ...], reverse: bool) -> Any:
    """Return "after these values in this order" (in reverse order: before them)."""
    column, value = order[0], bindparam(None, values[0], type_=order[0].type)
    later = column < value if reverse else column > value
    if len(order) == 1:
        return later
    # The first condition repeats what the second implies, as an index range to start from.
    return and_(column <= value if reverse else column >= value,
                or_(later, and_(column == value, _within(order[1:], values[1:], reverse))))


def _full_rows(narrow: Any, query: DashboardQuery) -> Any:
    """Return (vendor, assessment or None, *sort keys) for the rows of a narrow page, in its order
    (sorting 100,000 narrow rows costs less than sorting them with every column)."""
    page = narrow.subquery()
    keys = sort_keys(query)
    backwards = query.before is not None
    columns = [page.c[f"k{at}"] for at in range(len(keys))]
    return (select(Vendor, Assessment, *columns)
            .join(page, Vendor.id == page.c.vid)
            .outerjoin(Assessment, Assessment.id == page.c.aid)
            .order_by(*((column.desc() if desc != backwards else column.asc())
                        for column, (_key, desc) in zip(columns, keys, strict=True))))


def _fits(key: Any, value: Any) -> bool:
    """Tell whether a cursor value has the type its sort key compares (never NULL)."""
    expected = key.type.python_type
    if expected is float:
        expected = (int, float)
    return isinstance(value, expected) and not isinstance(value, bool) and \
        (expected is not date or not isinstance(value, datetime))


def _beyond(keys: list[tuple[Any, bool]], cursor: tuple[Any, ...], backwards: bool) -> Any:
    """Return the condition "after the cursor's row in this order" (before it, backwards)."""
    alternatives = []
    for at, (key, desc) in enumerate(keys):
        value = bindparam(None, cursor[at], type_=key.type)
        later = key < value if desc != backwards else key > value
        same = [k == bindparam(None, cursor[i], type_=k.type) for i, (k, _d) in enumerate(keys[:at])]
        alternatives.append(and_(*same, later))
    return or_(*alternatives)


def is_overdue(assessment: Assessment | None, today: date | None = None) -> bool:
    """Tell whether the vendor is late: still answering after the due date."""
    return (assessment is not None and assessment.due_date is not None
            and assessment.status in OPEN_FOR_VENDOR
            and assessment.due_date < (today or date.today()))


@dataclass(frozen=True)
class DashboardPage:
    """One page of a buyer's assessments, with the total the filters match (capped)."""

    rows: list[tuple[Vendor, Assessment | None, bool]]  # vendor, its assessment, overdue
    total: int  # at most COUNT_CAP + 1
    has_vendors: bool
    has_prev: bool = False
    has_next: bool = False
    first_cursor: str | None = None  # the "previous page" link's `before`
    last_cursor: str | None = None  # the "next page" link's `after`
    cap: int = COUNT_CAP

    @property
    def total_exact(self) -> bool:
        """Tell whether `total` is the real number of rows (not capped)."""
        return self.total <= self.cap


def dashboard_page(org: Organisation, query: DashboardQuery, today: date | None = None) -> DashboardPage:
    """Run the page query (one SELECT + one COUNT capped at COUNT_CAP + 1 rows).

    Results an autosave left stale are shown as last scored (the page says they are being
    updated: the RQ worker, or this process's own queue without Redis, re-scores them within
    seconds), so the page's statements do not grow with the number of stale assessments.
    """
    cap = COUNT_CAP
    total = db.session.scalar(select(func.count()).select_from(
        _narrow(org, query, today).limit(cap + 1).subquery())) or 0
    keyed = query.after is not None or query.before is not None
    offset = 0 if keyed else (query.page - 1) * query.per_page
    if lists_history(query) and query.sort != "vendor":
        stmt = _history_page(org, query, today, limit=query.per_page + 1, offset=offset)
    else:
        stmt = dashboard_select(org, query, today).offset(offset).limit(query.per_page + 1)
    rows = db.session.execute(_full_rows(stmt, query)).all()
    more = len(rows) > query.per_page
    rows = rows[:query.per_page]
    if query.before is not None:
        rows.reverse()
    width = len(sort_keys(query))
    today = today or date.today()
    items = [(row[0], row[1], is_overdue(row[1], today)) for row in rows]
    has_vendors = bool(total) or db.session.scalar(
        select(Vendor.id).where(Vendor.buyer_org_id == org.id).limit(1)) is not None
    return DashboardPage(
        items, total, has_vendors, cap=cap,
        has_prev=more if query.before is not None else (keyed or query.page > 1),
        has_next=True if query.before is not None else more,
        first_cursor=encode_cursor(tuple(rows[0][2:2 + width])) if rows else None,
        last_cursor=encode_cursor(tuple(rows[-1][2:2 + width])) if rows else None)
