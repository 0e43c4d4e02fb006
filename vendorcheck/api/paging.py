"""Cursor pagination: an opaque, signed cursor names the last row seen; pages never skip or repeat rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadData, URLSafeSerializer
from marshmallow import Schema, fields, validate
from sqlalchemy import Select, and_, or_

from vendorcheck.errors import abort_with
from vendorcheck.extensions import db

MAX_LIMIT = 100
SORTS = ("created_at", "-created_at", "id", "-id")


class PageArgs(Schema):
    """The query parameters every list takes."""

    limit = fields.Integer(load_default=50, validate=validate.Range(1, MAX_LIMIT),
                           metadata={"description": f"Items per page (1–{MAX_LIMIT})."})
    cursor = fields.String(validate=validate.Length(max=500),
                           metadata={"description": "The `next_cursor` of the previous page."})
    sort = fields.String(load_default="id", validate=validate.OneOf(SORTS),
                         metadata={"description": "Order: `id`, `created_at`, descending with `-`."})


class PageSchema(Schema):
    """One page: its items and the cursor of the next page (null on the last)."""

    next_cursor = fields.String(allow_none=True, required=True)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="vendorcheck-api-cursor")


def _bad_cursor() -> None:
    abort_with(400, _("This cursor is not valid: use the next_cursor of a page, unchanged, with the "
                      "same sort."))


def read_cursor(cursor: str, sort: str) -> tuple[Any, int]:
    """Return the (sort value, id) a cursor names; a forged or foreign cursor answers 400."""
    try:
        data = _serializer().loads(cursor)
    except BadData:
        _bad_cursor()
    if not (isinstance(data, list) and len(data) == 3 and data[0] == sort and isinstance(data[2], int)):
        _bad_cursor()
    value = data[1]
    if sort.lstrip("-") == "created_at":
        try:
            value = datetime.fromisoformat(str(value))
        except ValueError:
            _bad_cursor()
    return value, data[2]


def page_body(query: Select[Any], model: Any, args: dict[str, Any]) -> dict[str, Any]:
    """Return one page of `query` as the list answers it: its items and the next page's cursor."""
    items, cursor = page(query, model, args)
    return {"items": items, "next_cursor": cursor}


def page(query: Select[Any], model: Any, args: dict[str, Any]) -> tuple[list[Any], str | None]:
    """Return one page of `query` (rows of `model`) and the cursor of the next page."""
    sort, limit = args["sort"], args["limit"]
    descending, name = sort.startswith("-"), sort.lstrip("-")
    column, key = getattr(model, name), model.id
    if args.get("cursor"):
        value, last_id = read_cursor(args["cursor"], sort)
        if name == "id":
            query = query.where(key < last_id if descending else key > last_id)
        elif descending:
            query = query.where(or_(column < value, and_(column == value, key < last_id)))
        else:
            query = query.where(or_(column > value, and_(column == value, key > last_id)))
    order = (column.desc(), key.desc()) if descending else (column, key)
    rows = list(db.session.scalars(query.order_by(*order).limit(limit + 1)))
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    value = getattr(last, name)
    value = value.isoformat() if isinstance(value, datetime) else value
    return rows[:limit], str(_serializer().dumps([sort, value, last.id]))
