"""Issue 16: numbers that agree with each other (the report's category table uses the overrides)."""

from __future__ import annotations

from tests.factories.accounts import make_org, make_user, make_vendor
from tests.factories.assessments import make_scored_assessment
from tests.factories.questionnaires import HIGH
from vendorcheck.models import Role
from vendorcheck.pdf.report import build_report_context
from vendorcheck.services import reports, review


def test_report_category_table_uses_the_reviewer_overrides(app):
    with app.app_context():
        buyer = make_org("Acme Buyer SA", slug="acme")
        user = make_user("reviewer@acme.example", org=buyer, role=Role.ADMIN, name="Alice")
        vendor = make_vendor(buyer, "Cloudy Inc.", owner=user)
        assessment = make_scored_assessment(buyer, vendor, answers=HIGH, by=user)
        computed = review.result_of(assessment).computed
        entry = next(i for i in computed.items if i.maximum > 0 and i.earned == 0)
        review.override_item_points(assessment, entry.item_id, float(entry.maximum),
                                    "Evidence shows it is done.", by=user)
        reviewed = review.result_of(assessment)
        q = app.extensions["questionnaires"].get(assessment.questionnaire_id,
                                                 assessment.questionnaire_version)
        context = build_report_context(q, reports.report_data(assessment), "en", base_url="x")
    table = {row["id"]: row["score"] for row in context["summary"]["categories"]}
    expected = {c.id: f"{c.score:.1f}" for c in reviewed.categories if c.score is not None}
    before = {c.id: f"{c.score:.1f}" for c in computed.categories if c.score is not None}
    assert expected != before  # the override moved at least one category
    for cat_id, score in expected.items():
        assert table[cat_id] == score


# --- times: the viewer's zone, named; public pages in UTC -----------------------------------------

from datetime import UTC, datetime  # noqa: E402

import pytest  # noqa: E402

from tests.factories.dpa import publish_dpa  # noqa: E402
from tests.integration.test_vendor_answering import _autosave, env  # noqa: E402, F401
from vendorcheck.extensions import db  # noqa: E402
from vendorcheck.models.dpa import DpaVersion  # noqa: E402
from vendorcheck.services import dpa as dpa_svc  # noqa: E402


@pytest.mark.parametrize(("cookie", "lang", "label"), [
    (None, "en", "(Paris time)"),                     # the instance default, named
    ("America/New_York", "en", "(New York time)"),    # the browser's zone
    ("America%2FNew_York", "fr", "(heure de New York)"),  # as the script writes it, in French
    ("Mars/Olympus_Mons", "en", "(Paris time)"),      # not a zone: the default
])
def test_saved_at_names_the_viewers_time_zone(client, login_as, env, cookie, lang, label):  # noqa: F811
    login_as(env.vuser)
    if cookie:
        client.set_cookie("tz", cookie)
    with client.session_transaction() as sess:
        sess["lang"] = lang
    message = _autosave(client, env.a, "has_dpa", "yes").get_json()["message"]
    assert message.endswith(label)


def test_public_change_log_is_in_utc_and_says_so(app, client, world):
    with app.app_context():
        version = publish_dpa(None, world["a"].vendor_org)
        version.published_at = datetime(2026, 12, 5, 20, 0, 40, tzinfo=UTC)
        db.session.commit()
        slug = dpa_svc.profile_of(db.session.get(DpaVersion, version.id).vendor_org).slug
    client.set_cookie("tz", "America/New_York")  # a reader's zone does not change public pages
    page = client.get(f"/dpa/{slug}/versions?lang=en").get_data(as_text=True)
    assert "December 5, 2026, 20:00 UTC" in page
    assert "21:00" not in page and "15:00" not in page and "9:00:40 PM" not in page


def test_audit_log_times_name_the_zone(app, client, login_as, world):
    from vendorcheck import audit

    with app.app_context():
        audit.record("test.event", by=None, org=world["a"].buyer.id)
        db.session.commit()
    login_as(world.user("a.admin"))
    client.set_cookie("tz", "Asia/Tokyo")
    page = client.get("/org/audit?lang=en").get_data(as_text=True)
    assert "(Tokyo time)" in page
