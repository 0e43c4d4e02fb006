"""Public views: the start page and the read-only preview of a questionnaire version."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from flask import Response, abort, current_app, render_template

from vendorcheck.public.blueprint import bp
from vendorcheck.public.preview import build_preview
from vendorcheck.questionnaire import Catalogue


def catalogue() -> Catalogue:
    """Return the questionnaire catalogue loaded at boot."""
    return current_app.extensions["questionnaires"]  # type: ignore[no-any-return]


@bp.get("/")
def index() -> str:
    """Show what vendorcheck does and list the available questionnaires."""
    return render_template("public/index.html", questionnaires=catalogue().questionnaires)


@bp.get("/favicon.ico")
def favicon() -> Response:
    """Serve the icon browsers ask for at the root, whatever page (or PDF) they came from."""
    response = Response(_favicon_bytes(current_app.static_folder or "static"),
                        mimetype="image/vnd.microsoft.icon")
    response.cache_control.public = True
    response.cache_control.max_age = 7 * 24 * 3600
    return response


@cache
def _favicon_bytes(static_folder: str) -> bytes:
    """Read the 3 KB icon once per process."""
    return (Path(static_folder) / "img" / "favicon.ico").read_bytes()


@bp.get("/questionnaires/<qid>/<version>")
def questionnaire(qid: str, version: str) -> str:
    """Show a read-only preview of one questionnaire version."""
    try:
        q = catalogue().get(qid, version)
    except KeyError:
        abort(404)
    return render_template("public/questionnaire.html", q=q, preview=build_preview(q))
