"""The public blueprint: the start page, questionnaire previews, /verify (no login)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("public", __name__)
