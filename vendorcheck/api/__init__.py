"""The REST API v1 (/api/v1/): flask-smorest blueprints over the same services as the web pages.

Only bearer tokens are accepted (`auth.py`); every error has one body
(`{"error": {"code", "message", "details"}}`, built in `errors.py`); the OpenAPI document is
generated from the schemas in `schemas.py` and served at /api/v1/openapi.json, with a reference
page at /api/v1/docs. See docs/api.md.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_smorest import Api

from vendorcheck.api.schemas import ErrorSchema


class VendorcheckApi(Api):  # type: ignore[misc]
    """flask-smorest's Api without its own error handlers: errors.py answers every error."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        """Leave errors to errors.py (one body for the whole API)."""


def init_app(app: Flask) -> Any:
    """Create the API on the app and register its blueprints and its reference page."""
    from vendorcheck.api import (
        answering,
        assessments,
        docs,
        dpa,
        exports,
        lifecycle,
        organisation,
        questionnaires,
        reports,
        vendors,
        webhooks,
    )
    api = VendorcheckApi(app, spec_kwargs={"components": {"securitySchemes": {
        "bearer": {"type": "http", "scheme": "bearer",
                   "description": "An API token: `Authorization: Bearer vc_…`"}}},
        "security": [{"bearer": []}]})
    for module in (organisation, vendors, questionnaires, assessments, lifecycle, answering, reports, exports,
                   dpa, webhooks):
        api.register_blueprint(module.blp)
    app.register_blueprint(docs.bp)
    app.extensions["vendorcheck_api"] = api
    return api
