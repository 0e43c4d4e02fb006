"""Sending an assessment and the buyer's dashboard (filters, sort, search, pages, query count)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import event, select

from benchmarks.sqlcount import count_queries
from tests.factories.accounts import make_vendor
from tests.factories.assessments import make_contact, make_scored_assessment
from tests.factories.questionnaires import HIGH, UNACCEPTABLE, shipped_questionnaire
from tests.integration.conftest import outbox
from vendorcheck.extensions import db
from vendorcheck.models.assessments import Assessment, AssessmentStatus

S = AssessmentStatus


@pytest.fixture
def contact_a(app, world):
    with app.app_context():
        contact = make_contact(world["a"].vendor, "contact@vendor-a.example", "Contact A")
        return contact.id


def test_send_pins_the_questionnaire_and_queues_mail(app, client, world, login_as, contact_a):
    login_as(world.user("a.assessor"))
    vendor_id = world["a"].vendor.id
    page = client.get(f"/buyer/assessments/new?vendor_id={vendor_id}")
    assert page.status_code == 200
    assert "Contact A" in page.get_data(as_text=True)
    due = (date.today() + timedelta(days=20)).isoformat()
    response = client.post("/buyer/assessments/new", data={
        "vendor_id": vendor_id, "questionnaire": "art28-processor-audit", "due_date": due,
        "contacts": [contact_a], "message": "Please answer before the audit."})
    assert response.status_code == 302
    with app.app_context():
        a = db.session.scalars(select(Assessment)).one()
        q = shipped_questionnaire()
        assert (a.questionnaire_id, a.questionnaire_version, a.questionnaire_sha256) == (
            q.id, q.version, q.sha256)
        assert a.status is S.SENT and a.due_date.isoformat() == due
        assert [r.contact_id for r in a.recipients] == [contact_a]
    assert any(m.to_email == "contact@vendor-a.example" for m in outbox(app))


def test_send_without_contact_is_a_form_error(app, client, world, login_as, contact_a):
    login_as(world.user("a.admin"))
    response = client.post("/buyer/assessments/new", data={
        "vendor_id": world["a"].vendor.id, "questionnaire": "art28-processor-audit"})
    assert response.status_code == 422
    assert "Choose at least one contact" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(Assessment)).first() is None


def test_send_refuses_another_tenants_contact(app, client, world, login_as):
    with app.app_context():
        other = make_contact(world["b"].vendor, "x@vendor-b.example").id
    login_as(world.user("a.admin"))
    response = client.post("/buyer/assessments/new", data={
        "vendor_id": world["a"].vendor.id, "questionnaire": "art28-processor-audit",
        "contacts": [other]})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalars(select(Assessment)).first() is None


def _seed(app, world, count, *, start=0):
    with app.app_context():
        buyer = world["a"].buyer
        for n in range(start, start + count):
            vendor = make_vendor(buyer, f"Seed vendor {n:03d}")
            make_scored_assessment(buyer, vendor, answers=None, status=S.IN_PROGRESS,
                                   due_date=date.today() + timedelta(days=n - count // 2))


def test_dashboard_lists_vendors_and_assessments(app, client, world, login_as):
    with app.app_context():
        make_scored_assessment(world["a"].buyer, world["a"].vendor, answers=HIGH)
    login_as(world.user("a.legal"))
    body = client.get("/buyer/assessments").get_data(as_text=True)
    assert "Vendor record A" in body and "High" in body and "Submitted" in body
    assert "CANARY-B" not in body


def test_dashboard_empty_state_says_what_to_do(client, world, login_as):
    login_as(world.user("a.admin"))
    body = client.get("/buyer/assessments?q=nothing-like-this").get_data(as_text=True)
    assert "Nothing matches these filters" in body


def test_dashboard_vendor_without_assessment_offers_sending(client, world, login_as):
    login_as(world.user("a.admin"))
    body = client.get("/buyer/assessments").get_data(as_text=True)
    assert "Not assessed yet" in body and "/buyer/assessments/new?vendor_id=" in body


def test_dashboard_filters_by_status_tier_overdue_and_search(app, client, world, login_as):
    with app.app_context():
        buyer = world["a"].buyer
        late = make_vendor(buyer, "Late Ltd")
        make_scored_assessment(buyer, late, answers=None, status=S.IN_PROGRESS,
                               due_date=date.today() - timedelta(days=3))
        make_scored_assessment(buyer, make_vendor(buyer, "Risky SA"), answers=UNACCEPTABLE)
    login_as(world.user("a.assessor"))
    overdue = client.get("/buyer/assessments?overdue=1").get_data(as_text=True)
    assert "Late Ltd" in overdue and "Risky SA" not in overdue and "overdue" in overdue
    worst = client.get("/buyer/assessments?tier=unacceptable").get_data(as_text=True)
    assert "Risky SA" in worst and "Late Ltd" not in worst
    submitted = client.get("/buyer/assessments?status=submitted").get_data(as_text=True)
    assert "Risky SA" in submitted and "Late Ltd" not in submitted
    search = client.get("/buyer/assessments?q=risky").get_data(as_text=True)
    assert "Risky SA" in search and "Late Ltd" not in search
    none = client.get("/buyer/assessments?status=none").get_data(as_text=True)
    assert "Vendor record A" in none and "Risky SA" not in none


def test_dashboard_sorts_on_allowlisted_columns(app, client, world, login_as):
    _seed(app, world, 3)
    login_as(world.user("a.admin"))
    body = client.get("/buyer/assessments?sort=-vendor").get_data(as_text=True)
    assert body.index("Seed vendor 002") < body.index("Seed vendor 000")
    body = client.get("/buyer/assessments?sort=due_date").get_data(as_text=True)
    assert body.index("Seed vendor 000") < body.index("Seed vendor 002")
    for key in ("status", "progress", "score", "tier", "open_findings", "next_review_date",
                "sent_at"):
        assert client.get(f"/buyer/assessments?sort=-{key}").status_code == 200, key


@pytest.mark.parametrize(("query", "message"), [
    ("page=-1", "page must be a whole number"), ("page=abc", "page must be a whole number"),
    ("page=0", "page must be a whole number"), ("per_page=x", "per_page must be"),
    ("sort=password_hash", "Unknown sort field"), ("sort=-created_by_id", "Unknown sort field"),
    ("status=hacked", "Unknown status"), ("tier=superb", "Unknown tier"),
])
def test_dashboard_bad_input_answers_400(client, world, login_as, query, message):
    login_as(world.user("a.admin"))
    response = client.get(f"/buyer/assessments?{query}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_dashboard_paginates_and_clamps_per_page(app, client, world, login_as):
    _seed(app, world, 30)
    login_as(world.user("a.admin"))
    first = client.get("/buyer/assessments?per_page=10").get_data(as_text=True)
    assert "Seed vendor 009" in first and "Seed vendor 010" not in first
    assert "Page 1 of 4" in first
    third = client.get("/buyer/assessments?per_page=10&page=3").get_data(as_text=True)
    assert "Seed vendor 020" in third and "Seed vendor 019" not in third
    huge = client.get("/buyer/assessments?per_page=100000")
    assert huge.status_code == 200 and "Seed vendor 029" in huge.get_data(as_text=True)
    beyond = client.get("/buyer/assessments?page=99")
    assert beyond.status_code == 200


def _count_queries(app, client, url):
    seen = []

    def hook(conn, cursor, statement, *args):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", hook)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", hook)
    return len(seen)


def test_dashboard_query_count_does_not_grow_with_rows(app, client, world, login_as):
    login_as(world.user("a.admin"))
    _seed(app, world, 5)
    small = _count_queries(app, client, "/buyer/assessments?per_page=100")
    _seed(app, world, 55, start=5)
    large = _count_queries(app, client, "/buyer/assessments?per_page=100")
    assert small == large
    assert large <= 8


@pytest.fixture
def big_buyer(app, client):
    """A buyer seeded as `vendorcheck seed-scale` does (several assessments per vendor, blanks,
    ties), with two vendors of the same name and one never assessed; its admin logged in."""
    from tests.factories.accounts import make_vendor as vendor
    from vendorcheck.models import Organisation
    from vendorcheck.services.scale_seed import seed_scale

    with app.app_context():
        seeded = seed_scale(12, 40, email="big@scale.example", password="big-horse-battery",
                            force=True)
        buyer = db.session.get(Organisation, seeded.buyer_org_id)
        for _ in range(2):
            vendor(buyer, "Twin Vendor")
        vendor(buyer, "Never Assessed")
    assert client.post("/auth/login", data={"email": "big@scale.example",
                                            "password": "big-horse-battery"}).status_code == 302
    return seeded


_ROW = re.compile(r'href="/buyer/assessments/(\d+)"|href="/buyer/assessments/new\?vendor_id=(\d+)"')
_NEXT = re.compile(r'<a rel="next" href="([^"]+)"')
_PREV = re.compile(r'<a rel="prev" href="([^"]+)"')


def _rows(html: str) -> list[str]:
    return [f"a{a}" if a else f"v{v}" for a, v in _ROW.findall(html)]


def _walk(client, url: str, link: re.Pattern[str]) -> tuple[list[list[str]], list[int]]:
    """Follow next (or previous) links from `url`; return each page's rows and statements."""
    pages, statements = [], []
    while url:
        with count_queries(client.application) as seen:
            response = client.get(url.replace("&amp;", "&"))
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        pages.append(_rows(html))
        statements.append(len(seen))
        found = link.search(html)
        url = found.group(1) if found else ""
    return pages, statements


@pytest.mark.parametrize("view", ["", "&history=1"])
@pytest.mark.parametrize("sort", ["vendor", "-vendor", "status", "-progress", "score", "-score",
                                  "tier", "-tier", "open_findings", "due_date", "-next_review_date",
                                  "sent_at", "-sent_at"])
def test_dashboard_pages_follow_a_cursor_through_every_row_once_in_order(client, big_buyer, sort,
                                                                         view):
    whole = _rows(client.get(f"/buyer/assessments?per_page=100&sort={sort}{view}")
                  .get_data(as_text=True))
    assert len(set(whole)) == len(whole)
    if view:  # the history: the 40 assessments, nothing for the vendors never assessed
        assert len(whole) == 40 and all(row.startswith("a") for row in whole)
    else:  # one row per vendor: 15 vendors, 3 of them never assessed
        assert len(whole) == 15
    forward, statements = _walk(client, f"/buyer/assessments?per_page=7&sort={sort}{view}", _NEXT)
    assert [row for page in forward for row in page] == whole  # every row once, same order
    assert max(statements) <= 8 and len(set(statements[1:])) == 1  # deep pages cost the same
    old_link = client.get(f"/buyer/assessments?per_page=7&sort={sort}{view}&page=3")  # OFFSET
    assert _rows(old_link.get_data(as_text=True)) == forward[2]
    last = f"/buyer/assessments?per_page=7&sort={sort}{view}&page=1"
    for _ in forward[1:]:  # reach the last page through the cursors, then walk back
        html = client.get(last.replace("&amp;", "&")).get_data(as_text=True)
        last = _NEXT.search(html).group(1)
    backward, _statements = _walk(client, last, _PREV)
    assert [row for page in reversed(backward) for row in page] == whole


def test_dashboard_cursor_links_keep_filters_and_number_the_pages(client, big_buyer):
    html = client.get("/buyer/assessments?per_page=2&sort=-score&tier=high&history=1").get_data(
        as_text=True)
    url = _NEXT.search(html).group(1).replace("&amp;", "&")
    assert "after=" in url and "tier=high" in url and "sort=-score" in url and "page=2" in url
    assert "history=1" in url
    second = client.get(url).get_data(as_text=True)
    assert "Page 2 of" in second and 'rel="prev"' in second


def test_dashboard_count_stops_at_the_cap(client, big_buyer, monkeypatch):
    from vendorcheck.services.assessments import dashboard

    monkeypatch.setattr(dashboard, "COUNT_CAP", 10)
    html = client.get("/buyer/assessments?per_page=5").get_data(as_text=True)
    assert "More than 10 rows" in html and "Page 1" in html and "Page 1 of" not in html
    assert 'rel="next"' in html
    french = client.get("/buyer/assessments?per_page=5&lang=fr").get_data(as_text=True)
    assert "Plus de 10 lignes" in french and "Page 1 sur" not in french
    damaged = client.get("/buyer/assessments?after=x&lang=fr").get_data(as_text=True)
    assert "Le lien de cette page est abîmé" in damaged


@pytest.mark.parametrize("cursor", ["x", "eyJhIjoxfQ", "W1sidiIsMV1d", "W1sidCIsIm5vdC1hLWRhdGUiXV0",
                                    "W1siZCIsIjIwMjYtMDEtMDEiXSxbInYiLCJhIl0sWyJ2IiwxXV0"])
def test_dashboard_damaged_cursor_answers_400(client, big_buyer, cursor):
    for name in ("after", "before"):
        response = client.get(f"/buyer/assessments?{name}={cursor}")
        assert response.status_code == 400
        assert "page link is damaged" in response.get_data(as_text=True)
