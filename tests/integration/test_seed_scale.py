"""`vendorcheck seed-scale` bulk-inserts a large buyer for measurements (here at a tiny size)."""

from __future__ import annotations

from sqlalchemy import func, select

from vendorcheck.extensions import db
from vendorcheck.models import Organisation, Vendor
from vendorcheck.models.assessments import Assessment, AssessmentStatus


def _seed(runner, *extra: str):
    return runner.invoke(args=["seed-scale", "--vendors", "20", "--assessments", "90",
                               "--password", "scale-horse-battery", *extra])


def test_seeds_vendors_with_several_mixed_assessments_and_the_admin_logs_in(app, runner, client):
    result = _seed(runner, "--stale-share", "0.5")
    assert result.exit_code == 0, result.output
    assert "Seeded 20 vendor(s) and 90 assessment(s)" in result.output
    with app.app_context():
        buyer = db.session.scalar(select(Organisation.id).where(Organisation.slug == "scale-buyer"))
        assert db.session.scalar(select(func.count(Vendor.id)).where(Vendor.buyer_org_id == buyer)) == 20
        rows = db.session.execute(select(Assessment.vendor_id, Assessment.status, Assessment.tier,
                                         Assessment.results_stale)
                                  .where(Assessment.buyer_org_id == buyer)).all()
        assert len(rows) == 90
        per_vendor = db.session.execute(select(func.count()).select_from(Assessment)
                                        .group_by(Assessment.vendor_id)).scalars().all()
        assert max(per_vendor) > 1  # several rounds per vendor
        assert len({r.status for r in rows}) >= 4 and len({r.tier for r in rows}) >= 4
        stale = sum(r.results_stale for r in rows)
        assert 0 < stale < 90  # stale and fresh mixed
        assert not any(r.results_stale for r in rows if r.status is AssessmentStatus.SENT)
    assert client.post("/auth/login", data={"email": "scale-admin@scale.example",
                                            "password": "scale-horse-battery"}).status_code == 302
    assert client.get("/buyer/assessments").status_code == 200


def test_refuses_a_database_that_is_not_empty_unless_forced(app, runner):
    assert _seed(runner).exit_code == 0
    again = _seed(runner, "--email", "second@scale.example", "--slug", "second")
    assert again.exit_code != 0 and "not empty" in again.output and "--force" in again.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Vendor.id))) == 20  # nothing added
    forced = _seed(runner, "--email", "second@scale.example", "--slug", "second", "--force")
    assert forced.exit_code == 0, forced.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Vendor.id))) == 40


def test_bad_values_are_refused_with_a_message(runner):
    result = runner.invoke(args=["seed-scale", "--vendors", "0"])
    assert result.exit_code == 2 and "--vendors" in result.output
    result = runner.invoke(args=["seed-scale", "--stale-share", "1.5"])
    assert result.exit_code == 2 and "--stale-share" in result.output


def test_flags_each_vendors_newest_assessment_as_its_latest(app, runner):
    assert _seed(runner).exit_code == 0
    with app.app_context():
        rows = db.session.execute(select(Assessment.vendor_id, Assessment.id, Assessment.is_latest)
                                  .order_by(Assessment.id)).all()
    newest = {vendor_id: assessment_id for vendor_id, assessment_id, _flag in rows}
    assert {a for _v, a, flag in rows if flag} == set(newest.values())
