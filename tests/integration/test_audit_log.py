"""The hash-chained audit log: append, verify, tamper detection, the admin page."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text

from tests.conftest import TEST_DB_URL
from vendorcheck import audit
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry, AuditLogImmutable


def _append(app, n, action="test_event"):
    with app.test_request_context():
        for i in range(n):
            audit.record(action, email=f"user{i}@x.example", details={"i": i, "é": "ü"})
            db.session.commit()


def test_entries_chain_by_hash(app):
    _append(app, 3)
    with app.app_context():
        entries = list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
        assert [e.seq for e in entries] == [1, 2, 3]
        assert entries[0].prev_hash == audit.GENESIS
        assert entries[1].prev_hash == entries[0].hash
        assert audit.compute_hash(entries[2].prev_hash, entries[2]) == entries[2].hash
        assert audit.verify() == []


def test_verify_command_passes_on_an_intact_log(app, runner):
    _append(app, 2)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "intact: 2 entries" in result.output


def test_editing_a_row_is_detected(app, runner):
    _append(app, 4)
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_entry SET action = 'forged' WHERE seq = 2"))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == "entry 2: hash mismatch"


def test_deleting_a_row_is_detected(app, runner):
    _append(app, 4)
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE seq = 2"))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == "entry 3: prev_hash mismatch"


def test_the_orm_refuses_to_update_or_delete_entries(app):
    _append(app, 1)
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry)).one()
        entry.action = "changed"
        with pytest.raises(AuditLogImmutable):
            db.session.commit()
        db.session.rollback()
        db.session.delete(db.session.scalars(select(AuditEntry)).one())
        with pytest.raises(AuditLogImmutable):
            db.session.commit()
        db.session.rollback()


@pytest.mark.skipif(not TEST_DB_URL, reason="SQLite has a single writer; PostgreSQL only")
def test_concurrent_appends_keep_the_chain(app):
    errors = []

    def worker():
        try:
            _append(app, 5)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with app.app_context():
        assert list(db.session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq))) == \
            list(range(1, 21))
        assert audit.verify() == []


def test_admin_sees_only_their_organisation_filtered_and_paginated(app, client, world, login_as):
    a_org, b_org = world["a"].buyer.id, world["b"].buyer.id
    with app.test_request_context():
        for i in range(60):
            audit.record("vendor_updated", org=a_org, email="assessor@a.example",
                         details={"i": i})
        audit.record("vendor_created", org=a_org, email="admin@a.example")
        audit.record("vendor_created", org=b_org, email="admin@b.example",
                     details={"x": "CANARY-B"})
        db.session.commit()
    login_as(world.user("a.admin"))
    page1 = client.get("/org/audit").get_data(as_text=True)
    assert "CANARY-B" not in page1 and "Page 1 of 2" in page1
    page2 = client.get("/org/audit?page=2")
    assert page2.status_code == 200
    only = client.get("/org/audit?action=vendor_created").get_data(as_text=True)
    assert "admin@a.example" in only and "vendor_updated</code>" not in only
    by_user = client.get("/org/audit?user=admin@a.example").get_data(as_text=True)
    assert "assessor@a.example" not in by_user
    future = client.get("/org/audit?since=2999-01-01").get_data(as_text=True)
    assert "No entries match" in future
    assert client.get("/org/audit?page=abc").status_code == 400
    assert client.get("/org/audit?page=0").status_code == 400
    assert client.get("/org/audit?since=not-a-date").status_code == 200


def test_state_changes_are_logged_with_ip_and_user(app, client, world, login_as):
    login_as(world.user("a.assessor"))
    client.post("/buyer/vendors/new", data={"legal_name": "Logged Vendor", "criticality": "low",
                                            "owner_id": world.user("a.assessor").id})
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.action == "vendor_created" and entry.user_email == "assessor@a.example"
    assert entry.organisation_id == world["a"].buyer.id and entry.ip == "127.0.0.1"
    assert entry.object_type == "vendor"
