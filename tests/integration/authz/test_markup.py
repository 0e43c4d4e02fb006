"""Markup every page shares: no attribute rendered from a Python None."""

from __future__ import annotations

import re

import pytest

from tests.integration.authz.matrix import MATRIX, OK, expected

# WTForms renders attr=None as attr="None"; for boolean attributes that switches them ON.
NONE_ATTRIBUTE = re.compile(r'\s[a-z-]+="None"')


@pytest.mark.parametrize("actor", ["anon", "a.admin", "a.legal", "a.vendor"])
def test_no_page_renders_a_none_attribute(app, client, world, login_as, actor):
    login_as(None if actor == "anon" else world.user(actor))
    checked = 0
    for endpoint, route in MATRIX.items():
        if "GET" not in route.allow or expected(route, "GET", actor) != "ok":
            continue
        response = client.get(route.path(world))
        if response.status_code not in OK or response.mimetype != "text/html":
            continue
        found = NONE_ATTRIBUTE.findall(response.get_data(as_text=True))
        assert not found, f"{endpoint}: {found[:3]}"
        checked += 1
    assert checked >= 5, "the crawl reached too few pages to mean anything"
