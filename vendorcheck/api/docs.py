"""The API's interactive reference: Swagger UI, served from our own static files, reading openapi.json."""

from __future__ import annotations

from flask import Blueprint, Response, make_response, render_template

bp = Blueprint("api_reference", __name__, url_prefix="/api/v1")

# Swagger UI sets style attributes from its script: this page alone allows inline styles.
DOCS_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


@bp.get("/docs")
def reference() -> Response:
    """Show the interactive API reference (public: it documents, it reads no data)."""
    response = make_response(render_template("api/docs.html"))
    response.headers["Content-Security-Policy"] = DOCS_CSP
    return response
