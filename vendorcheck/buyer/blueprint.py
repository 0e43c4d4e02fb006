"""The buyer's blueprint: every page under /buyer (vendors, assessments and their review, reports)."""

from __future__ import annotations

from flask import Blueprint

from vendorcheck.buyer.freshness import refresh_buyer_results

bp = Blueprint("buyer", __name__, url_prefix="/buyer")
bp.before_request(refresh_buyer_results)
