"""The supplier's blueprint: every page under /vendor (answering questionnaires, the DPA)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("supplier", __name__, url_prefix="/vendor")
