"""Second factors: TOTP enrolment and login, replay, recovery codes, lockout, forced enrolment, reset."""

from __future__ import annotations

import re

import pyotp
import pytest
from sqlalchemy import select, update

from tests.factories.accounts import PASSWORD, make_org, make_user, membership_of
from tests.factories.mfa import make_totp
from tests.integration.conftest import outbox
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry, Organisation, User
from vendorcheck.models.mfa import RecoveryCode, TotpSecret

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def _password(client, email="ada@example.com", password=PASSWORD):
    return client.post("/auth/login", data={"email": email, "password": password},
                       headers={"User-Agent": FIREFOX})


def _code(client, code):
    return client.post("/auth/mfa/verify", data={"kind": "totp", "totp-code": code})


def _recovery(client, code):
    return client.post("/auth/mfa/verify", data={"kind": "recovery", "recovery-recovery_code": code})


def _logged_in(client) -> bool:
    return client.get("/auth/profile").status_code == 200


def _audit(app, action=None):
    with app.app_context():
        query = select(AuditEntry).order_by(AuditEntry.id)
        if action:
            query = query.where(AuditEntry.action == action)
        rows = list(db.session.scalars(query))
        for row in rows:
            db.session.expunge(row)
        return rows


@pytest.fixture
def ada(app):
    """Ada, admin of Acme, with a confirmed authenticator app; returns (user id, secret)."""
    with app.app_context():
        user = make_user("ada@example.com", org=make_org("Acme"))
        return user.id, make_totp(user)


# --- enrolment ----------------------------------------------------------------------------------

def test_enrolment_shows_a_qr_code_confirms_with_a_code_and_shows_ten_recovery_codes(app, client, login_as):
    with app.app_context():
        user = make_user("bob@example.com", org=make_org("Bobco"))
    login_as(user)
    assert client.post("/auth/mfa/totp/start").status_code == 302
    page = client.get("/auth/mfa/totp").get_data(as_text=True)
    assert "<svg" in page
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    with app.app_context():
        row = db.session.scalar(select(TotpSecret).where(TotpSecret.user_id == user.id))
        assert secret.encode() not in row.secret_encrypted, "the secret is stored encrypted"
        assert row.confirmed_at is None
    wrong = client.post("/auth/mfa/totp", data={"code": "12345x"})
    assert wrong.status_code == 422
    done = client.post("/auth/mfa/totp", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    codes = re.findall(r"<code>([0-9a-f]{5}-[0-9a-f]{5})</code>", done.get_data(as_text=True))
    assert len(set(codes)) == 10
    with app.app_context():
        hashes = list(db.session.scalars(
            select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)))
        assert len(hashes) == 10 and not set(codes) & set(hashes), "only hashes are stored"
    assert [e.action for e in _audit(app) if e.action.startswith("mfa.")] == [
        "mfa.totp_enrol_failed", "mfa.totp_enrolled"]


def test_removing_the_app_needs_a_current_code_or_the_password(app, client, ada, login_as):
    with app.app_context():
        login_as(db.session.get(User, ada[0]))
    assert client.post("/auth/mfa/totp/remove", data={"proof": "not-it"}).status_code == 422
    assert client.post("/auth/mfa/totp/remove", data={"proof": PASSWORD}).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(TotpSecret)) is None
    assert [e.action for e in _audit(app) if e.action.startswith("mfa.")] == [
        "mfa.totp_remove_failed", "mfa.totp_removed"]


# --- login with a second factor -----------------------------------------------------------------

def test_a_correct_password_is_not_a_login_until_the_code_passes(app, client, ada):
    response = _password(client)
    assert response.status_code == 302 and response.headers["Location"].endswith("/auth/mfa/verify")
    assert not _logged_in(client)
    assert _code(client, "000000" if pyotp.TOTP(ada[1]).now() != "000000" else "111111").status_code == 422
    assert not _logged_in(client)
    assert _code(client, pyotp.TOTP(ada[1]).now()).status_code == 302
    assert _logged_in(client)
    [failed] = _audit(app, "login_failed")
    assert failed.details == {"reason": "wrong_totp"}
    [login] = _audit(app, "login")
    assert login.details == {"method": "password+totp"}


def test_garbage_codes_are_a_clear_422(app, client, ada):
    _password(client)
    for garbage in ("", "abc", "1" * 40, "１２３４５６", "\x00\x01"):
        response = client.post("/auth/mfa/verify", data={"kind": "totp", "totp-code": garbage})
        assert response.status_code == 422, garbage
    assert client.post("/auth/mfa/verify", data={"kind": "nonsense"}).status_code == 422


def test_the_same_code_is_refused_the_second_time(app, ada):
    code = pyotp.TOTP(ada[1]).now()
    first, second = app.test_client(), app.test_client()
    _password(first)
    assert _code(first, code).status_code == 302
    _password(second)
    assert _code(second, code).status_code == 422, "a replayed code is refused within its window"
    assert not _logged_in(second)


def test_a_recovery_code_works_once(app, client, ada):
    with app.app_context():
        from vendorcheck.services import mfa

        codes = mfa.regenerate_recovery_codes(by=db.session.get(User, ada[0]))
    _password(client)
    assert _recovery(client, codes[0].upper()).status_code == 302, "case and dash do not matter"
    assert _logged_in(client)
    other = app.test_client()
    _password(other)
    assert _recovery(other, codes[0]).status_code == 422
    assert not _logged_in(other)
    methods = [e.details.get("method") for e in _audit(app, "login")]
    assert methods == ["recovery_code"]


def test_wrong_codes_lock_the_address_like_wrong_passwords(app, client, ada):
    _password(client)
    for _ in range(app.config["LOGIN_LOCK_AFTER"]):
        _code(client, "999999" if pyotp.TOTP(ada[1]).now() != "999999" else "888888")
    response = _code(client, pyotp.TOTP(ada[1]).now())
    assert response.status_code == 422
    assert "Too many failed attempts" in response.get_data(as_text=True)
    assert not _logged_in(client)
    assert _audit(app, "auth.locked")


def test_a_stale_pending_login_starts_again(app, client, ada):
    _password(client)
    with client.session_transaction() as sess:
        sess["mfa_pending"] = {**sess["mfa_pending"], "at": sess["mfa_pending"]["at"] - 3600}
    response = _code(client, pyotp.TOTP(ada[1]).now())
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert not _logged_in(client)


# --- new device ---------------------------------------------------------------------------------

def test_the_first_login_from_a_browser_mails_the_user_and_the_next_does_not(app, client):
    with app.app_context():
        make_user("cy@example.com", org=make_org("Cyco"), locale="fr")
    _password(client, "cy@example.com")
    [message] = [m for m in outbox(app) if m.template == "new_device"]
    assert message.to_email == "cy@example.com" and "Firefox, Linux" in message.body_text
    assert "Nouvelle connexion" in message.subject
    client.post("/auth/logout")
    _password(client, "cy@example.com")
    assert len([m for m in outbox(app) if m.template == "new_device"]) == 1
    _password(app.test_client(), "cy@example.com")
    assert len([m for m in outbox(app) if m.template == "new_device"]) == 2
    assert len(_audit(app, "login.new_device")) == 2


# --- organisation: MFA required, admin reset ----------------------------------------------------

def test_members_without_mfa_must_enrol_before_anything_else(app, client, world, login_as):
    with app.app_context():
        db.session.execute(update(Organisation).where(Organisation.id == world["a"].buyer.id)
                           .values(mfa_required=True))
        db.session.commit()
    _password(client, "assessor@a.example")
    response = client.get("/buyer/vendors")
    assert response.status_code == 302 and response.headers["Location"].endswith("/auth/mfa")
    assert client.get("/auth/mfa").status_code == 200
    client.post("/auth/mfa/totp/start")
    page = client.get("/auth/mfa/totp").get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    assert client.post("/auth/mfa/totp", data={"code": pyotp.TOTP(secret).now()}).status_code == 200
    assert client.get("/buyer/vendors").status_code == 200


def test_requiring_mfa_needs_the_admin_to_have_it_first(app, client, world, login_as):
    login_as(world.user("a.admin"))
    assert client.post("/org/security", data={"mfa_required": "y"}).status_code == 409
    with app.app_context():
        make_totp(db.session.get(User, world.user("a.admin").id))
    assert client.post("/org/security", data={"mfa_required": "y"}).status_code == 302
    [entry] = _audit(app, "org.mfa_required")
    assert entry.details == {"required": True}


def test_an_admin_resets_a_members_mfa_with_a_reason(app, client, world, login_as):
    legal = world.user("a.legal")
    with app.app_context():
        make_totp(db.session.get(User, legal.id))
    membership_id = world.extra["legal_membership_a"]
    login_as(world.user("a.admin"))
    assert client.post(f"/org/members/{membership_id}/reset-mfa", data={"reason": "  "}).status_code == 422
    assert client.post(f"/org/members/{membership_id}/reset-mfa",
                       data={"reason": "Lost phone"}).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(TotpSecret).where(TotpSecret.user_id == legal.id)) is None
    [entry] = _audit(app, "mfa.reset")
    assert entry.details == {"member": legal.email, "reason": "Lost phone"}
    assert entry.user_id == world.user("a.admin").id
    [message] = [m for m in outbox(app) if m.template == "mfa_reset"]
    assert message.to_email == legal.email and "Lost phone" in message.body_text


def test_resetting_another_tenants_member_answers_404(app, client, world, login_as):
    with app.app_context():
        victim = membership_of(db.session.get(User, world.user("a.legal").id),
                               db.session.get(Organisation, world["a"].buyer.id))
        make_totp(victim.user)
        victim_id = victim.id
    login_as(world.user("b.admin"))
    assert client.post(f"/org/members/{victim_id}/reset-mfa", data={"reason": "x"}).status_code == 404
    with app.app_context():
        assert db.session.scalar(select(TotpSecret)) is not None


def test_vendor_admins_get_the_same_settings(app, client, world, login_as):
    login_as(world.user("a.vendor"))
    page = client.get("/org/security")
    assert page.status_code == 200 and "Contact A" in page.get_data(as_text=True)


def test_a_login_restored_from_the_remember_cookie_must_enrol_too(app, world):
    client = app.test_client()
    client.post("/auth/login", data={"email": "legal@a.example", "password": PASSWORD, "remember": "y"})
    assert client.get("/buyer/vendors").status_code == 200, "nothing required yet"
    with app.app_context():
        db.session.execute(update(Organisation).where(Organisation.id == world["a"].buyer.id)
                           .values(mfa_required=True))
        db.session.commit()
    remember = client.get_cookie("remember_token").value
    restored = app.test_client()
    restored.set_cookie("remember_token", remember)
    response = restored.get("/buyer/vendors")
    assert response.status_code == 302 and response.headers["Location"].endswith("/auth/mfa")
