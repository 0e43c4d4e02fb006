"""Sessions that end: server-side records, copied cookies after logout, timeouts, revoking, lockout."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.conftest import make_config
from tests.factories.accounts import PASSWORD, make_org, make_session, make_user
from tests.integration.conftest import outbox
from vendorcheck import create_app
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry, LoginThrottle, User, UserSession, utcnow
from vendorcheck.services.sessions import device_summary
from vendorcheck.sessions import SEEN_EVERY, hash_secret

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
ENDED = "Your session has ended. Please log in again."


def _login(client, email="ada@example.com", password=PASSWORD, remember=False):
    data = {"email": email, "password": password}
    if remember:
        data["remember"] = "y"
    return client.post("/auth/login", data=data, headers={"User-Agent": FIREFOX})


def _logged_in(client) -> bool:
    return client.get("/auth/profile").status_code == 200


def _sessions(app, **where):
    with app.app_context():
        rows = list(db.session.scalars(select(UserSession).filter_by(**where).order_by(UserSession.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def _set(app, model, values, **where):
    with app.app_context():
        db.session.execute(update(model).filter_by(**where).values(**values))
        db.session.commit()


def _actions(app):
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


@pytest.fixture
def ada(app):
    with app.app_context():
        return make_user("ada@example.com", org=make_org("Acme")).id


# --- copied cookies after logout ------------------------------------------------------------------

def test_a_copied_session_cookie_stops_working_after_logout(app, client, ada):
    assert _login(client).status_code == 302
    copied = client.get_cookie("session").value
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert _logged_in(thief), "the copy works while the session lives"
    assert client.post("/auth/logout").status_code == 302
    assert not _logged_in(client)
    replay = app.test_client()
    replay.set_cookie("session", copied)
    response = replay.get("/auth/profile")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert ENDED in replay.get("/auth/login").get_data(as_text=True)
    [row] = _sessions(app)
    assert row.revoked_at is not None


def test_a_copied_remember_cookie_stops_working_after_logout(app, client, ada):
    assert _login(client, remember=True).status_code == 302
    remember = client.get_cookie("remember_token").value
    thief = app.test_client()
    thief.set_cookie("remember_token", remember)
    assert _logged_in(thief), "the remember cookie alone opens the session while it lives"
    assert client.post("/auth/logout").status_code == 302
    replay = app.test_client()
    replay.set_cookie("remember_token", remember)
    assert not _logged_in(replay)
    response = replay.get("/auth/profile")
    assert response.status_code == 302
    assert not _logged_in(thief), "the client that used it before is out too"


def test_logout_deletes_the_remember_cookie_and_says_only_that(app, client, ada):
    _login(client, remember=True)
    assert client.get_cookie("remember_token") is not None
    response = client.post("/auth/logout", follow_redirects=True)
    assert client.get_cookie("remember_token") is None
    page = response.get_data(as_text=True)
    assert "You are logged out." in page and ENDED not in page
    assert ENDED not in client.get("/").get_data(as_text=True)


def test_the_cookies_carry_the_session_not_the_user_and_only_a_hash_is_stored(app, client, ada):
    _login(client, remember=True)
    remember = client.get_cookie("remember_token").value
    user_part, secret_and_sig = remember.split(":", 1)
    secret = secret_and_sig.split("|", 1)[0]
    assert user_part == str(ada) and len(secret) >= 40
    [row] = _sessions(app)
    assert row.secret_hash == hash_secret(secret) and secret not in row.secret_hash
    assert row.device == "Firefox, Linux" and row.ip == "127.0.0.1" and row.remember


@pytest.mark.parametrize("value", ["{id}:0", "{id}:short", "abc", "{id}:" + "x" * 500, "", ":" * 30,
                                   "99999999999999999999999:" + "y" * 43])
def test_forged_or_old_session_ids_log_nobody_in(app, client, ada, value):
    with client.session_transaction() as sess:
        sess["_user_id"] = value.format(id=ada)
    assert not _logged_in(client)


# --- timeouts --------------------------------------------------------------------------------------

def test_an_idle_session_ends_and_says_so(app, client, ada):
    _login(client)
    [row] = _sessions(app)
    assert row.idle_minutes == 30 and not row.remember, "buyers: 30 minutes"
    _set(app, UserSession, {"last_seen_at": utcnow() - timedelta(minutes=31)}, id=row.id)
    response = client.get("/buyer/vendors")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert ENDED in page and "Please log in to see this page." not in page
    _set(app, UserSession, {"last_seen_at": utcnow()}, id=row.id)
    assert not _logged_in(client), "the browser forgot the ended session"


def test_activity_keeps_a_session_alive_but_is_written_at_most_once_a_minute(app, client, ada):
    _login(client)
    [row] = _sessions(app)
    for _ in range(3):
        assert _logged_in(client)
    assert _sessions(app)[0].last_seen_at == row.last_seen_at, "no write per request"
    earlier = utcnow() - SEEN_EVERY - timedelta(seconds=5)
    _set(app, UserSession, {"last_seen_at": earlier}, id=row.id)
    assert _logged_in(client)
    assert _sessions(app)[0].last_seen_at > earlier + SEEN_EVERY


def test_vendor_sessions_have_the_vendor_idle_timeout(app, client):
    with app.app_context():
        make_user("vera@vendor.example", org=make_org("Vendor Co", buyer=False, vendor=True))
    _login(client, "vera@vendor.example")
    [row] = _sessions(app)
    assert row.idle_minutes == app.config["SESSION_IDLE_MINUTES_VENDOR"] == 120
    _set(app, UserSession, {"last_seen_at": utcnow() - timedelta(minutes=60)}, id=row.id)
    assert _logged_in(client)


def test_a_session_ends_after_its_absolute_lifetime_whatever_the_activity(app, client, ada):
    _login(client)
    [row] = _sessions(app)
    assert row.expires_at - row.created_at == timedelta(hours=12)
    _set(app, UserSession, {"expires_at": utcnow() - timedelta(seconds=1)}, id=row.id)
    assert not _logged_in(client)


def test_remember_me_lasts_30_days_without_idle_limit_then_ends(app, client, ada):
    _login(client, remember=True)
    [row] = _sessions(app)
    assert row.idle_minutes is None and row.expires_at - row.created_at == timedelta(days=30)
    cookie = client.get_cookie("remember_token")
    assert cookie.expires is not None and cookie.expires <= utcnow() + timedelta(days=30, minutes=1)
    _set(app, UserSession, {"last_seen_at": utcnow() - timedelta(days=3)}, id=row.id)
    assert _logged_in(client)
    _set(app, UserSession, {"expires_at": utcnow() - timedelta(seconds=1)}, id=row.id)
    thief = app.test_client()
    thief.set_cookie("remember_token", cookie.value)
    assert not _logged_in(thief)


def test_an_inactive_account_loses_its_sessions(app, client, ada):
    _login(client)
    _set(app, User, {"is_active": False}, id=ada)
    assert not _logged_in(client)


@pytest.mark.parametrize(("setting", "value"), [
    ("REMEMBER_COOKIE_DURATION", timedelta(days=365)), ("REMEMBER_COOKIE_DURATION", 31 * 86400),
    ("REMEMBER_COOKIE_DURATION", 0), ("SESSION_IDLE_MINUTES", 0), ("SESSION_MAX_HOURS", -1),
])
def test_sessions_without_an_end_are_refused_at_boot(tmp_path, setting, value):
    with pytest.raises(RuntimeError, match=setting):
        create_app(make_config(tmp_path, **{setting: value}))


def test_remember_duration_from_the_environment_is_seconds(tmp_path, monkeypatch):
    monkeypatch.setenv("VENDORCHECK_REMEMBER_COOKIE_DURATION", "86400")
    other = create_app(make_config(tmp_path))
    assert other.config["REMEMBER_COOKIE_DURATION"] == timedelta(days=1)
    with other.app_context():
        db.engine.dispose()


# --- the profile: list, revoke one, log out everywhere ----------------------------------------------

def test_the_profile_lists_live_sessions_and_marks_this_one(app, client, ada):
    phone = app.test_client()
    phone.post("/auth/login", data={"email": "ada@example.com", "password": PASSWORD}, headers={
        "User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Version/17.0 Safari/604.1"})
    _login(client)
    with app.app_context():
        make_session(ada, device="Old, Gone")
    old = _sessions(app)[-1]
    _set(app, UserSession, {"revoked_at": utcnow()}, id=old.id)
    page = client.get("/auth/profile").get_data(as_text=True)
    assert "Safari, iOS" in page and "Firefox, Linux" in page and "Old, Gone" not in page
    assert page.count("(this session)") == 1
    assert "127.0.0.1" in page


def test_revoking_another_of_ones_sessions_logs_that_device_out(app, client, ada):
    phone = app.test_client()
    _login(phone)
    _login(client)
    phone_row, this_row = _sessions(app)
    confirm = client.get(f"/auth/sessions/{phone_row.id}/revoke")
    assert confirm.status_code == 200 and "Firefox, Linux" in confirm.get_data(as_text=True)
    assert _logged_in(phone), "the confirmation page ends nothing"
    response = client.post(f"/auth/sessions/{phone_row.id}/revoke")
    assert response.status_code == 302 and response.headers["Location"] == "/auth/profile"
    assert not _logged_in(phone)
    assert _logged_in(client)
    assert "session_revoked" in _actions(app)
    assert client.post(f"/auth/sessions/{phone_row.id}/revoke").status_code == 302, "twice is fine"


def test_revoking_this_session_logs_out(app, client, ada):
    _login(client)
    [row] = _sessions(app)
    response = client.post(f"/auth/sessions/{row.id}/revoke")
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"
    assert not _logged_in(client)


def test_another_users_session_answers_404_and_stays_alive(app, client, ada):
    with app.app_context():
        make_user("eve@example.com", org=make_org("Evil"))
    eve = app.test_client()
    _login(eve, "eve@example.com")
    [eve_row] = _sessions(app)
    _login(client)
    for method in ("GET", "POST"):
        assert client.open(f"/auth/sessions/{eve_row.id}/revoke", method=method).status_code == 404
    assert client.post("/auth/sessions/999999/revoke").status_code == 404
    assert _actions(app).count("access_denied") == 3, "tries at others' sessions are logged"
    assert _logged_in(eve)
    assert _sessions(app, id=eve_row.id)[0].revoked_at is None


def test_revoking_needs_a_csrf_token(app, ada, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    client = app.test_client()
    login_page = client.get("/auth/login").get_data(as_text=True)
    token = login_page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post("/auth/login", data={"email": "ada@example.com", "password": PASSWORD,
                                      "csrf_token": token})
    [row] = _sessions(app)
    assert client.post(f"/auth/sessions/{row.id}/revoke").status_code == 400
    assert client.post("/auth/sessions/revoke-all").status_code == 400
    assert _sessions(app)[0].revoked_at is None


def test_logging_out_everywhere_ends_every_session(app, client, ada):
    laptop, phone = app.test_client(), app.test_client()
    _login(laptop, remember=True)
    _login(phone)
    _login(client)
    assert client.get("/auth/sessions/revoke-all").status_code == 200
    response = client.post("/auth/sessions/revoke-all")
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"
    assert not any(_logged_in(c) for c in (client, laptop, phone))
    assert all(row.revoked_at is not None for row in _sessions(app))
    assert _actions(app)[-1] == "sessions_revoked_all"


def test_changing_the_password_revokes_the_other_sessions_on_the_server(app, client, ada):
    phone = app.test_client()
    _login(phone, remember=True)
    remember = phone.get_cookie("remember_token").value
    _login(client)
    client.post("/auth/password", data={"current": PASSWORD, "password": "another-long-password"})
    phone_row, this_row = _sessions(app)
    assert phone_row.revoked_at is not None and this_row.revoked_at is None
    replay = app.test_client()
    replay.set_cookie("remember_token", remember)
    assert not _logged_in(replay)
    assert _logged_in(client)


def test_a_password_reset_ends_every_session(app, client, ada):
    from tests.factories.accounts import make_reset_token

    _login(client)
    with app.app_context():
        token = make_reset_token(db.session.get(User, ada))
    app.test_client().post(f"/auth/reset/{token}", data={"password": "brand-new-password"})
    assert not _logged_in(client)


# --- lockout -----------------------------------------------------------------------------------------

def _fail(client, email, times):
    return [_login(client, email, "wrong-password-1") for _ in range(times)]


def test_five_failures_lock_the_account_which_is_audited_and_mailed(app, client, ada):
    _set(app, User, {"locale": "fr"}, id=ada)
    responses = _fail(client, "ada@example.com", 5)
    assert [r.status_code for r in responses] == [422] * 5
    assert all("Wrong e-mail address or password" in r.get_data(as_text=True) for r in responses)
    locked = _login(client)  # the right password, too late
    assert locked.status_code == 422 and "Try again later" in locked.get_data(as_text=True)
    assert not _logged_in(client)
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "auth.locked")).one()
        assert entry.user_id == ada and entry.details == {"failures": 5, "minutes": 1}
    [message] = outbox(app)
    assert message.template == "account_locked" and message.to_email == "ada@example.com"
    assert message.locale == "fr" and "1 minute" in message.body_text
    assert "bloqu" in message.subject.lower() or "suspendue" in message.subject.lower()
    assert app.config["BASE_URL"] + "/auth/reset" in message.body_text


def test_the_lock_doubles_up_to_an_hour_and_a_success_clears_it(app, client, ada):
    _fail(client, "ada@example.com", 5)
    for _ in range(7):  # each time the lock has passed, one more failure locks twice as long
        _set(app, LoginThrottle, {"locked_until": utcnow() - timedelta(seconds=1)})
        _fail(client, "ada@example.com", 1)
    with app.app_context():
        minutes = [e.details["minutes"] for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "auth.locked").order_by(AuditEntry.id))]
        row = db.session.scalars(select(LoginThrottle)).one()
        assert row.locked_until - utcnow() > timedelta(minutes=59)
    assert minutes == [1, 2, 4, 8, 16, 32, 60, 60]
    _set(app, LoginThrottle, {"locked_until": utcnow() - timedelta(seconds=1)})
    assert _login(client).status_code == 302
    with app.app_context():
        assert db.session.scalars(select(LoginThrottle)).all() == [], "success resets the counter"


def test_a_successful_login_resets_the_count(app, client, ada):
    _fail(client, "ada@example.com", 4)
    assert _login(client).status_code == 302
    client.post("/auth/logout")
    _fail(client, "ada@example.com", 4)
    assert _login(client).status_code == 302, "4 + 4 failures with a success between: no lock"


def test_a_lock_tells_nothing_about_which_addresses_have_accounts(app, client, ada):
    _fail(client, "ada@example.com", 5)
    _fail(client, "nobody@example.com", 5)
    known = _login(client, "ada@example.com").get_data(as_text=True)
    unknown = _login(client, "nobody@example.com").get_data(as_text=True)
    assert "Try again later" in known
    assert known.replace("ada@example.com", "X") == unknown.replace("nobody@example.com", "X")
    assert [m.to_email for m in outbox(app)] == ["ada@example.com"], "no mail for unknown addresses"
    with app.app_context():
        stored = [row.email_hash for row in db.session.scalars(select(LoginThrottle))]
    assert "nobody@example.com" not in str(stored), "tried addresses are kept hashed"


def test_the_lock_is_per_account_whatever_the_ip(app, client, ada):
    for n in range(5):
        client.post("/auth/login", data={"email": "ada@example.com", "password": "wrong-password-1"},
                    environ_base={"REMOTE_ADDR": f"10.0.0.{n}"})
    response = client.post("/auth/login", data={"email": "ADA@example.com ", "password": PASSWORD},
                           environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert "Try again later" in response.get_data(as_text=True)


def test_the_lock_is_shared_by_every_app_instance(app, client, ada, tmp_path):
    _fail(client, "ada@example.com", 5)
    other = create_app(make_config(tmp_path, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"]))
    try:
        response = _login(other.test_client())
        assert "Try again later" in response.get_data(as_text=True)
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def test_a_password_reset_lifts_the_lock(app, client, ada):
    from tests.factories.accounts import make_reset_token

    _fail(client, "ada@example.com", 5)
    with app.app_context():
        token = make_reset_token(db.session.get(User, ada))
    client.post(f"/auth/reset/{token}", data={"password": "brand-new-password"})
    assert _login(client, password="brand-new-password").status_code == 302


# --- devices -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("agent", "summary"), [
    (FIREFOX, "Firefox, Linux"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/126.0 Safari/537.36 Edg/126.0", "Edge, Windows"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari/605.1.15",
     "Safari, macOS"),
    ("Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36",
     "Chrome, Android"),
    ("curl/8.5.0", "curl"), ("", ""), (None, ""), ("<script>" * 500, ""),
])
def test_device_summary(agent, summary):
    assert device_summary(agent) == summary


def test_logging_in_again_in_the_same_browser_ends_the_previous_session(app, client, ada):
    _login(client, remember=True)
    _login(client)
    first, second = _sessions(app)
    assert first.revoked_at is not None and second.revoked_at is None
    assert _logged_in(client)


def test_a_live_remember_cookie_survives_an_ended_id_in_the_session(app, client, ada):
    _login(client, remember=True)
    with app.app_context():
        _row, stale = make_session(ada)
    _set(app, UserSession, {"revoked_at": utcnow()}, device="Firefox, Linux", remember=False)
    with client.session_transaction() as sess:
        sess["_user_id"] = stale
    assert _logged_in(client), "the remember cookie's live session logs the browser in"


def test_prune_deletes_long_ended_sessions_and_forgotten_failures(app, runner, ada):
    with app.app_context():
        live, _ = make_session(ada)
        revoked, _ = make_session(ada)
        expired, _ = make_session(ada, hours=-24 * 40)
        recent, _ = make_session(ada)
        db.session.add_all([
            LoginThrottle(email_hash="a" * 64, failures=2, last_failure_at=utcnow() - timedelta(days=2)),
            LoginThrottle(email_hash="b" * 64, failures=9, last_failure_at=utcnow() - timedelta(days=2),
                          locked_until=utcnow() + timedelta(minutes=30)),
            LoginThrottle(email_hash="c" * 64, failures=3, last_failure_at=utcnow())])
        db.session.commit()
    _set(app, UserSession, {"revoked_at": utcnow() - timedelta(days=31)}, id=revoked.id)
    _set(app, UserSession, {"revoked_at": utcnow() - timedelta(days=2)}, id=recent.id)
    result = runner.invoke(args=["sessions", "prune"])
    assert result.exit_code == 0, result.output
    assert "Deleted 2 ended session(s) and 1 old failed-login record(s)." in result.output
    assert [row.id for row in _sessions(app)] == [live.id, recent.id]
    with app.app_context():
        kept = sorted(row.email_hash[0] for row in db.session.scalars(select(LoginThrottle)))
    assert kept == ["b", "c"], "a running lock and recent failures stay"
