"""Pages show the last computed results with their age; the review page refreshes one on request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from benchmarks.sqlcount import count_queries
from tests.factories.accounts import make_user
from tests.integration import test_vendor_answering as answering
from vendorcheck.extensions import db
from vendorcheck.i18n import age_text
from vendorcheck.models import Role
from vendorcheck.models.assessments import Assessment

env = answering.env  # a buyer, its vendor's user and an assessment being answered
_autosave = answering._autosave
COMPUTED = datetime(2026, 12, 5, 6, 26, tzinfo=UTC)


def _get(app, aid: int) -> Assessment:
    with app.app_context():
        a = db.session.get(Assessment, aid)
        db.session.expunge(a)
        return a


def _set(app, aid: int, **values: object) -> None:
    with app.app_context():
        db.session.execute(update(Assessment).where(Assessment.id == aid).values(**values))
        db.session.commit()


def _member(app, env, role: Role, email: str, org_id: int | None = None):
    from vendorcheck.models import Organisation

    with app.app_context():
        org = db.session.get(Organisation, org_id or env.buyer)
        return answering._ref(make_user(email, org=org, role=role))


def _made_stale(app, client, login_as, env) -> Assessment:
    """The vendor answers "no DPA": the results go stale, the re-score waits in the queue."""
    login_as(env.vuser)
    assert _autosave(client, env.a, "has_dpa", "no").status_code == 200
    stale = _get(app, env.a)
    assert stale.results_stale
    return stale


def test_a_rescore_records_when_the_results_were_computed(app, client, login_as, env):
    _set(app, env.a, results_computed_at=None)
    _made_stale(app, client, login_as, env)
    with app.app_context():
        from vendorcheck.services.assessments import results

        assert results.drain_rescores() == 1
    computed = _get(app, env.a).results_computed_at
    assert computed is not None and abs(datetime.now(UTC) - computed) < timedelta(minutes=1)


def test_opening_the_review_page_no_longer_rescores(app, client, login_as, env):
    before = _made_stale(app, client, login_as, env)
    _set(app, env.a, results_computed_at=COMPUTED)
    login_as(env.admin)
    html = client.get(f"/buyer/assessments/{env.a}").get_data(as_text=True)
    after = _get(app, env.a)
    assert after.results_stale and after.tier == before.tier and after.open_findings == before.open_findings
    assert "Results computed Dec 5, 2026, 07:26 (Paris time) — <strong>being updated" in html
    assert "Refresh results now" in html


def test_the_review_page_says_when_results_were_computed_in_the_viewers_zone_and_language(
        app, client, login_as, env):
    _set(app, env.a, results_computed_at=COMPUTED)
    login_as(env.admin)
    client.set_cookie("tz", "America/New_York")
    html = client.get(f"/buyer/assessments/{env.a}").get_data(as_text=True)
    assert "Results computed Dec 5, 2026, 01:26 (New York time)" in html and "being updated" not in html
    html = client.get(f"/buyer/assessments/{env.a}?lang=fr").get_data(as_text=True)
    assert "Résultats calculés le 5 déc. 2026 à 01:26 (heure de New York)" in html
    assert "Recalculer les résultats maintenant" in html


def _review_statements(app, client, aid: int) -> int:
    with count_queries(app) as statements:
        assert client.get(f"/buyer/assessments/{aid}").status_code == 200
    return len(statements)


def test_the_review_page_runs_as_many_statements_whether_results_are_stale_or_not(
        app, client, login_as, env):
    login_as(env.admin)
    _review_statements(app, client, env.a)  # warm: the session's first request loads more
    fresh = _review_statements(app, client, env.a)
    _set(app, env.a, results_stale=True)
    stale = _review_statements(app, client, env.a)
    assert fresh == stale, (fresh, stale)
    assert _get(app, env.a).results_stale  # and nothing re-scored it


def test_refresh_results_now_recomputes_the_assessment(app, client, login_as, env):
    before = _made_stale(app, client, login_as, env)
    _set(app, env.a, results_computed_at=COMPUTED)
    login_as(env.admin)
    response = client.post(f"/buyer/assessments/{env.a}/refresh-results")
    assert response.status_code == 302 and response.location.endswith(f"/buyer/assessments/{env.a}")
    after = _get(app, env.a)
    assert not after.results_stale and after.results_computed_at > COMPUTED
    assert (after.tier, after.open_findings) == ("high", 1) != (before.tier, before.open_findings)
    html = client.get(f"/buyer/assessments/{env.a}").get_data(as_text=True)
    assert "being updated" not in html


def test_refresh_from_a_section_goes_back_to_the_section(app, client, login_as, env):
    login_as(env.admin)
    response = client.post(f"/buyer/assessments/{env.a}/refresh-results", data={"section": "main"})
    assert response.status_code == 302 and response.location.endswith(f"/assessments/{env.a}/sections/main")


def test_legal_may_refresh_the_vendor_may_not_and_another_buyer_gets_404(app, client, login_as, env):
    _made_stale(app, client, login_as, env)
    assert client.post(f"/buyer/assessments/{env.a}/refresh-results").status_code == 403  # the vendor
    login_as(_member(app, env, Role.ADMIN, "admin@buyer-two.example", env.buyer2))
    assert client.post(f"/buyer/assessments/{env.a}/refresh-results").status_code == 404
    assert _get(app, env.a).results_stale
    login_as(_member(app, env, Role.LEGAL, "legal@buyer.example"))
    assert client.post(f"/buyer/assessments/{env.a}/refresh-results").status_code == 302
    assert not _get(app, env.a).results_stale


def test_the_dashboard_gives_the_age_of_stale_results_only(app, client, login_as, env):
    login_as(env.admin)
    _set(app, env.a, results_stale=False, results_computed_at=datetime.now(UTC) - timedelta(minutes=5))
    assert "computed 5 minutes ago" not in client.get("/buyer/assessments").get_data(as_text=True)
    _set(app, env.a, results_stale=True)
    html = client.get("/buyer/assessments").get_data(as_text=True)
    assert "being updated · computed 5 minutes ago" in html


def test_the_age_is_written_in_the_viewers_language(app):
    now = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
    with app.test_request_context("/?lang=fr"):
        assert age_text(now - timedelta(hours=2), now=now) == "il y a 2 heures"
    with app.test_request_context("/"):
        assert age_text(now - timedelta(minutes=5), now=now) == "5 minutes ago"
        assert age_text(now + timedelta(seconds=3), now=now) == "1 second ago"  # a clock a little ahead
        assert age_text(None) == ""
