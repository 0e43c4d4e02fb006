"""Public views: the start page and the read-only preview of a questionnaire version."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template

from vendorcheck.public.preview import build_preview
from vendorcheck.questionnaire import Catalogue

bp = Blueprint("public", __name__)


def catalogue() -> Catalogue:
    """Return the questionnaire catalogue loaded at boot."""
    return current_app.extensions["questionnaires"]  # type: ignore[no-any-return]


@bp.get("/")
def index() -> str:
    """Show what vendorcheck does and list the available questionnaires."""
    return render_template("public/index.html", questionnaires=catalogue().questionnaires)


@bp.get("/questionnaires/<qid>/<version>")
def questionnaire(qid: str, version: str) -> str:
    """Show a read-only preview of one questionnaire version."""
    try:
        q = catalogue().get(qid, version)
    except KeyError:
        abort(404)
    return render_template("public/questionnaire.html", q=q, preview=build_preview(q))
