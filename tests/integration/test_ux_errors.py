"""Issue 16: error pages that name the file and the limit, lead back, and offer the next step."""

from __future__ import annotations

import io
import re
from urllib.parse import quote

import pytest

from tests.factories.accounts import make_invitation, make_org, make_user
from tests.integration.test_vendor_uploads import env  # noqa: F401
from vendorcheck.extensions import db
from vendorcheck.models import Organisation, Role, User

SECTION = "/vendor/assessments/{aid}/sections/main"


def _upload(client, aid, data: bytes, name: str, query: str = "", **headers):
    return client.post(f"/vendor/assessments/{aid}/items/has_dpa/evidence{query}",
                       data={"file": (io.BytesIO(data), name), "section": "main"},
                       content_type="multipart/form-data", headers=headers)


def _buttons(page: str) -> list[str]:
    return re.findall(r'<a class="button[^"]*" href="([^"]*)"', page)


def test_a_refused_upload_names_the_file_and_the_limit_and_leads_back(client, login_as, env):  # noqa: F811
    login_as(env.user)
    back = SECTION.format(aid=env.a) + "#q-has_dpa"
    response = _upload(client, env.a, b"%PDF-1.4\n" + b"0" * 300_000, "contract.pdf",
                       query=f"?back={quote(back)}")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "“contract.pdf” was not uploaded" in page and "0.2 MB" in page
    assert back in _buttons(page)


def test_the_way_back_comes_from_this_site_only(client, login_as, env):  # noqa: F811
    login_as(env.user)
    for query, referrer in (("?back=https://evil.example/x", "https://evil.example/y"),
                            ("?back=//evil.example/x", "http://evil.example/z")):
        page = _upload(client, env.a, b"", "empty.pdf", query=query,
                       Referer=referrer).get_data(as_text=True)
        assert "evil.example" not in page
    page = _upload(client, env.a, b"", "empty.pdf",
                   Referer="http://localhost" + SECTION.format(aid=env.a)).get_data(as_text=True)
    assert SECTION.format(aid=env.a) in _buttons(page)


def test_too_large_names_the_limit_the_file_and_leads_back(app, client, login_as, env, monkeypatch):  # noqa: F811
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024 * 1024)
    login_as(env.user)
    back = SECTION.format(aid=env.a)
    # A body built by hand: the test client would spool a large form to a temporary file.
    body = (b'--b\r\nContent-Disposition: form-data; name="file"; filename="huge.pdf"\r\n\r\n'
            + b"0" * (1024 * 1024 + 10) + b"\r\n--b--\r\n")
    response = client.post(f"/vendor/assessments/{env.a}/items/has_dpa/evidence"
                           f"?back={back}&file=huge.pdf", data=body,
                           content_type="multipart/form-data; boundary=b")
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "“huge.pdf” is too large: one upload may be at most 1 MB" in page
    assert back in _buttons(page)


def test_the_upload_form_carries_the_way_back(client, login_as, env):  # noqa: F811
    login_as(env.user)
    page = client.get(SECTION.format(aid=env.a)).get_data(as_text=True)
    assert "evidence?back=/vendor/assessments/" in page and "%23q-has_dpa" in page
    assert "js/upload.js" in page


@pytest.fixture
def inviter(app):
    with app.app_context():
        org = make_org("Acme Buyer SA", slug="acme")
        user = make_user("ada@acme.example", org=org, role=Role.ADMIN, name="Ada Admin")
        return org.id, user.id


@pytest.mark.parametrize(("lang", "words"), [
    ("en", ("already used", "log in to continue", "Log in")),
    ("fr", ("déjà été utilisé", "connectez-vous", "Se connecter")),
])
def test_a_used_invitation_of_an_existing_account_offers_to_log_in(app, client, inviter, lang,
                                                                   words):
    with app.app_context():
        org, user = (db.session.get(Organisation, inviter[0]), db.session.get(User, inviter[1]))
        make_user("claire@nuage.example", org=make_org("Nuage", slug="nuage"))
        _inv, token = make_invitation(org, "claire@nuage.example", by=user, used=True)
    response = client.get(f"/auth/invitations/{token}?lang={lang}")
    assert response.status_code == 410
    page = response.get_data(as_text=True)
    assert all(word in page for word in words)
    assert "/auth/login" in _buttons(page)


def test_a_replaced_invitation_without_account_says_whom_to_ask(app, client, inviter):
    with app.app_context():
        org, user = (db.session.get(Organisation, inviter[0]), db.session.get(User, inviter[1]))
        _inv, token = make_invitation(org, "newbie@nuage.example", by=user, revoked=True)
    response = client.get(f"/auth/invitations/{token}?lang=en")
    assert response.status_code == 410
    page = response.get_data(as_text=True)
    assert "replaced by a newer one" in page and "ask Ada Admin for a new invitation" in page
    assert "/auth/login" not in _buttons(page)


def test_an_expired_invitation_says_when(app, client, inviter):
    with app.app_context():
        org, user = (db.session.get(Organisation, inviter[0]), db.session.get(User, inviter[1]))
        _inv, token = make_invitation(org, "late@nuage.example", by=user, days=-1)
    page = client.get(f"/auth/invitations/{token}?lang=en").get_data(as_text=True)
    assert "expired on" in page and "Acme Buyer SA" in page
