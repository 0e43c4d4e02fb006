"""The token's (vendor) organisation's own published DPA versions and its sub-processors (read only).

The public pages and feeds under /dpa/<slug> stay public; these give an integration the same data
with the organisation's token, without knowing the public slug.
"""

from __future__ import annotations

from typing import Any

from flask import abort, url_for
from flask.views import MethodView
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from vendorcheck.access import active_org
from vendorcheck.agreement.assemble import SUBPROCESSOR_FIELDS
from vendorcheck.api import paging
from vendorcheck.api.auth import READ, allows
from vendorcheck.api.common import api_blueprint
from vendorcheck.api.schemas import Strict
from vendorcheck.models.dpa import DpaProfile, DpaVersion
from vendorcheck.services import dpa as svc
from vendorcheck.services import dpa_changes

blp = api_blueprint("dpa", "/dpa", "The organisation's own published DPA versions and sub-processors.")

PERM = "dpa.manage"
MAX_NUMBER = 2**31 - 1


class SubprocessorSchema(Schema):
    name = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    country = fields.String(allow_none=True)
    activity = fields.String(allow_none=True)
    location = fields.String(allow_none=True)
    transfer_tool = fields.String(allow_none=True)


class DpaVersionSchema(Schema):
    id = fields.Integer(required=True)
    number = fields.Integer(required=True)
    slug = fields.String(required=True, attribute="profile.slug")
    published_at = fields.DateTime(required=True)
    sha256 = fields.String(required=True)
    objection_days = fields.Integer(required=True)
    questionnaire_id = fields.String(required=True)
    questionnaire_version = fields.String(required=True)
    processor_name = fields.Method("_processor_name", required=True, metadata={"type": "string"})
    public_url = fields.Method("_public_url", required=True, metadata={"type": "string"})

    def _processor_name(self, version: DpaVersion) -> str:
        return str(version.content.get("parties", {}).get("processor_name") or version.vendor_org.name)

    def _public_url(self, version: DpaVersion) -> str:
        return url_for("dpa.version", slug=version.profile.slug, number=version.number, _external=True)


class DpaVersionPage(paging.PageSchema):
    items = fields.List(fields.Nested(DpaVersionSchema), required=True)


class DpaVersionDetail(DpaVersionSchema):
    subprocessors = fields.List(fields.Nested(SubprocessorSchema), required=True,
                                attribute="content.subprocessors", dump_default=list)


class SubprocessorList(Schema):
    version = fields.Integer(required=True, metadata={"description": "The version in force."})
    published_at = fields.DateTime(required=True)
    sha256 = fields.String(required=True)
    subprocessors = fields.List(fields.Nested(SubprocessorSchema), required=True)


class VersionQuery(paging.PageArgs, Strict):
    sort = fields.String(load_default="-id", validate=validate.OneOf(("id", "-id")),
                         metadata={"description": "Order: `-id` (newest first, the default) or `id`."})


def _profile() -> DpaProfile | None:
    """Return the organisation's DPA profile with the changes now due in force, if it has one."""
    profile = svc.profile_of(active_org())
    if profile is not None:
        dpa_changes.apply_due(profile_id=profile.id)  # as the DPA page does: the daily job may be late
    return profile


def _rows(version: DpaVersion) -> list[dict[str, Any]]:
    return [{key: row.get(key) for key in SUBPROCESSOR_FIELDS}
            for row in version.content.get("subprocessors") or []]


@blp.route("/versions")
class VersionsView(MethodView):
    @allows(PERM, READ)
    @blp.arguments(VersionQuery, location="query", unknown="raise")
    @blp.response(200, DpaVersionPage)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List the organisation's published DPA versions (also those whose change is not in force yet)."""
        profile = _profile()
        if profile is None:
            return {"items": [], "next_cursor": None}
        query = select(DpaVersion).where(DpaVersion.profile_id == profile.id)
        return paging.page_body(query, DpaVersion, args)


@blp.route("/versions/<int:number>")
class VersionView(MethodView):
    @allows(PERM, READ)
    @blp.etag
    @blp.response(200, DpaVersionDetail)
    def get(self, number: int) -> DpaVersion:
        """Read one published version (by its number) with its sub-processors."""
        profile = _profile()
        version = svc.version_of(profile, number) if profile is not None and 0 < number <= MAX_NUMBER \
            else None
        if version is None:
            abort(404)
        return version


@blp.route("/subprocessors")
class SubprocessorsView(MethodView):
    @allows(PERM, READ)
    @blp.etag
    @blp.response(200, SubprocessorList)
    def get(self) -> dict[str, Any]:
        """Read the sub-processors of the version in force (404 before the first publication)."""
        profile = _profile()
        version = svc.latest_version(profile) if profile is not None else None
        if version is None:
            abort(404)
        return {"version": version.number, "published_at": version.published_at,
                "sha256": version.sha256, "subprocessors": _rows(version)}
