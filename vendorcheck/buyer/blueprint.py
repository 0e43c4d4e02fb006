"""The buyer's blueprint: every page under /buyer (vendors, assessments and their review, reports)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("buyer", __name__, url_prefix="/buyer")
