"""Bad input gets a clear 4xx and changes nothing stored."""

from __future__ import annotations

import pytest
from werkzeug.test import encode_multipart

from vendorcheck.extensions import db
from vendorcheck.models import Vendor


def test_oversized_form_field_is_413_and_nothing_changes(app, client, world, login_as,
                                                        fingerprint):
    login_as(world.user("a.admin"))
    before = fingerprint()
    boundary, body = encode_multipart({"legal_name": "x", "services": "y" * 600_000})
    response = client.post(f"/buyer/vendors/{world['a'].vendor.id}/edit", data=body,
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 413
    assert "Nothing was saved" in response.get_data(as_text=True)
    assert fingerprint() == before


def test_oversized_body_is_413_and_nothing_changes(app, client, world, login_as, fingerprint,
                                                  monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024 * 1024)
    login_as(world.user("a.admin"))
    before = fingerprint()
    response = client.post(f"/buyer/vendors/{world['a'].vendor.id}/edit",
                           data={"legal_name": "x", "services": "y" * (1024 * 1024 + 1)})
    assert response.status_code == 413
    assert fingerprint() == before


@pytest.mark.parametrize(("field", "value", "message"), [
    ("legal_name", "", "This field is required"),
    ("legal_name", "A\x00B", "invalid characters"),
    ("legal_name", "x" * 201, "longer than 200"),
    ("website", "javascript:alert(1)", "https://"),
    ("country", "FRA", "two-letter"),
    ("criticality", "extreme", "Not a valid choice"),
    ("owner_id", "999999", "Not a valid choice"),
    ("services", "tab\tok but bell\x07 not", "invalid characters"),
])
def test_vendor_form_refuses_bad_values(app, client, world, login_as, fingerprint, field, value,
                                        message):
    login_as(world.user("a.assessor"))
    data = {"legal_name": "Fine Name", "criticality": "low",
            "owner_id": str(world.user("a.assessor").id), field: value}
    before = fingerprint()
    response = client.post(f"/buyer/vendors/{world['a'].vendor.id}/edit", data=data)
    assert response.status_code in (400, 422)
    if response.status_code == 422:
        assert message in response.get_data(as_text=True)
    assert fingerprint() == before


@pytest.mark.parametrize("path", [
    "/buyer/vendors/99999999999999999999", "/buyer/vendors/12345678",
    "/org/members/99999999999999999999/remove", "/buyer/vendors/1/invitations/99999999999999999999/revoke",
])
def test_unknown_and_huge_ids_are_404(client, world, login_as, path):
    login_as(world.user("a.admin"))
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("query", ["page=-1", "page=abc", "page=0", "page=" + "9" * 30])
def test_bad_page_numbers_are_400(client, world, login_as, query):
    login_as(world.user("a.admin"))
    response = client.get(f"/buyer/vendors?{query}")
    assert response.status_code == 400
    assert "page number" in response.get_data(as_text=True)


def test_search_and_pagination(app, client, world, login_as):
    with app.app_context():
        for i in range(30):
            db.session.add(Vendor(buyer_org_id=world["a"].buyer.id, legal_name=f"Supplier {i:02d}"))
        db.session.commit()
    login_as(world.user("a.legal"))
    first = client.get("/buyer/vendors").get_data(as_text=True)
    assert "Page 1 of 2" in first and "CANARY-B" not in first
    found = client.get("/buyer/vendors?q=supplier 0").get_data(as_text=True)
    assert "Supplier 05" in found and "Supplier 15" not in found
    assert "No vendor matches" in client.get("/buyer/vendors?q=%25_nothing").get_data(as_text=True)
    assert client.get("/buyer/vendors?page=2&q=supplier").status_code == 200
