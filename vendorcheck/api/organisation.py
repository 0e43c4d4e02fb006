"""The token's organisation and its members (read only)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from sqlalchemy import select

from vendorcheck.access import active_org
from vendorcheck.api import paging
from vendorcheck.api.auth import READ, allows
from vendorcheck.api.common import api_blueprint
from vendorcheck.api.schemas import MemberPage, OrganisationSchema, Strict
from vendorcheck.models import Membership, Organisation

blp = api_blueprint("organisation", "/organisation", "The organisation a token belongs to, and its members.")


class MemberQuery(paging.PageArgs, Strict):
    """Members take the common page arguments."""


@blp.route("")
class OrganisationView(MethodView):
    @allows("members.view", READ)
    @blp.etag
    @blp.response(200, OrganisationSchema)
    def get(self) -> Organisation:
        """Read the token's organisation."""
        return active_org()


@blp.route("/members")
class MembersView(MethodView):
    @allows("members.view", READ)
    @blp.arguments(MemberQuery, location="query", unknown="raise")
    @blp.response(200, MemberPage)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List the organisation's members and their roles."""
        query = select(Membership).where(Membership.organisation_id == active_org().id)
        return paging.page_body(query, Membership, args)
