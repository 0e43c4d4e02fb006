"""The vendor register export streams from one query: same content as the row-by-row ORM export."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from benchmarks.sqlcount import count_queries
from vendorcheck import exports
from vendorcheck.extensions import db
from vendorcheck.models import Vendor
from vendorcheck.models.assessments import Assessment, AssessmentStatus
from vendorcheck.services.scale_seed import seed_scale

PASSWORD = "register-horse-battery"


def _reference_rows(buyer_org_id: int) -> list[dict[str, object]]:
    """The register built row by row from ORM objects: per vendor, its newest assessment that is not
    cancelled (its newest if all are), as the dashboard shows it."""
    vendors = db.session.scalars(select(Vendor).where(Vendor.buyer_org_id == buyer_org_id)
                                 .order_by(Vendor.legal_name, Vendor.id))
    latest: dict[int, Assessment] = {}
    for a in db.session.scalars(select(Assessment).where(Assessment.buyer_org_id == buyer_org_id)
                                .order_by(Assessment.created_at, Assessment.id)):
        kept = latest.get(a.vendor_id)
        cancelled = AssessmentStatus.CANCELLED
        if kept is None or a.status != cancelled or kept.status == cancelled:
            latest[a.vendor_id] = a
    rows = []
    for vendor in vendors:
        a = latest.get(vendor.id)
        rows.append({
            "vendor": vendor.legal_name, "country": vendor.country or "",
            "criticality": vendor.criticality.value, "services": vendor.services or "",
            "status": a.status.value if a else "", "tier": (a.tier or "") if a else "",
            "score": a.score if a else None, "decision": a.decision.value if a and a.decision else "",
            "decided_at": a.decided_at.date().isoformat() if a and a.decided_at else "",
            "next_review": a.next_review_date.isoformat() if a and a.next_review_date else "",
            "archived": vendor.archived_at.date().isoformat() if vendor.archived_at else ""})
    return rows


@pytest.fixture
def register(app, client):
    """A buyer with 30 vendors and 90 assessments (several per vendor, some vendors without),
    one with a name a spreadsheet would read as a formula; its admin logged in."""
    with app.app_context():
        seeded = seed_scale(30, 90, email="register@scale.example", password=PASSWORD, force=True)
        db.session.add(Vendor(buyer_org_id=seeded.buyer_org_id, legal_name='=HYPERLINK("http://x")',
                              services="@SUM(1)", data_categories=[]))
        db.session.commit()
    assert client.post("/auth/login", data={"email": "register@scale.example",
                                            "password": PASSWORD}).status_code == 302
    return seeded


def _labels() -> dict[str, str]:
    from vendorcheck.buyer.reports import export_labels

    return export_labels()


def test_csv_is_the_same_as_the_row_by_row_export(app, client, register):
    response = client.get("/buyer/vendors/export.csv")
    assert response.status_code == 200 and response.is_streamed
    assert response.headers["Content-Disposition"] == 'attachment; filename="vendor-register.csv"'
    with app.test_request_context():
        expected = exports.to_csv(exports.register_sheet(_reference_rows(register.buyer_org_id),
                                                         _labels()))
    assert response.data == expected
    assert "'=HYPERLINK" in response.data.decode("utf-8-sig")


def test_xlsx_has_the_same_cells_as_the_row_by_row_export(app, client, register):
    response = client.get("/buyer/vendors/export.xlsx")
    assert response.status_code == 200
    with app.test_request_context():
        expected = exports.to_xlsx([exports.register_sheet(_reference_rows(register.buyer_org_id),
                                                           _labels())])

    def cells(body: bytes) -> tuple[object, ...]:
        ws = load_workbook(io.BytesIO(body)).worksheets[0]
        return (ws.title, ws.freeze_panes, ws.column_dimensions["J"].width,
                [[(c.value, c.data_type, bool(c.font.b)) for c in row] for row in ws.iter_rows()])

    assert cells(response.data) == cells(expected)
    assert len(cells(response.data)[3]) == 32  # header + 31 vendors, one row each


def test_statements_do_not_grow_with_the_vendors(app, client, register):
    def statements(url: str) -> int:
        with count_queries(app) as seen:
            assert client.get(url).status_code == 200
        return len(seen)

    before = {fmt: statements(f"/buyer/vendors/export.{fmt}") for fmt in ("csv", "xlsx")}
    with app.app_context():
        seed_scale(60, 200, email="second@scale.example", password=PASSWORD, slug="second",
                   force=True)  # another buyer: not in this register
        db.session.add_all([Vendor(buyer_org_id=register.buyer_org_id, legal_name=f"More {n}",
                                   data_categories=[]) for n in range(40)])
        db.session.commit()
    after = {fmt: statements(f"/buyer/vendors/export.{fmt}") for fmt in ("csv", "xlsx")}
    assert after == before and max(after.values()) <= 6, (before, after)


def test_the_register_shows_the_dashboards_latest_and_keeps_archived_vendors(app, register):
    from tests.factories.assessments import make_scored_assessment
    from vendorcheck.models import Organisation, User
    from vendorcheck.services import reports
    from vendorcheck.services.review import cancel_assessment
    from vendorcheck.services.vendors import archive_vendor

    with app.test_request_context():  # cancelling e-mails the vendor's contacts, with links
        buyer = db.session.get(Organisation, register.buyer_org_id)
        admin = db.session.scalar(select(User).where(User.email == "register@scale.example"))
        vendor = Vendor(buyer_org_id=buyer.id, legal_name="Zeta Withdrawn SAS", data_categories=[])
        db.session.add(vendor)
        db.session.commit()
        make_scored_assessment(buyer, vendor, status=AssessmentStatus.DECIDED)
        mistaken = make_scored_assessment(buyer, vendor, status=AssessmentStatus.SENT)
        cancel_assessment(mistaken, "Sent to the wrong contact.", by=admin)
        archive_vendor(vendor, by=admin)
        row = next(r for r in reports.register_rows(buyer) if r["vendor"] == "Zeta Withdrawn SAS")
        archived_on = vendor.archived_at.date().isoformat()
    assert row["status"] == "decided", "a withdrawn re-assessment does not replace the round before"
    assert row["archived"] == archived_on
