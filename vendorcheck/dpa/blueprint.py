"""The public DPA blueprint: published versions, their feeds and subscriptions (/dpa)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("dpa", __name__, url_prefix="/dpa")
