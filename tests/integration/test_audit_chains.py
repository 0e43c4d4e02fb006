"""One audit chain per organisation: each verified on its own, checkpointed, and locked alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from tests.conftest import TEST_DB_URL
from vendorcheck import audit
from vendorcheck.audit_checkpoints import checkpoint_key
from vendorcheck.extensions import db
from vendorcheck.models import SYSTEM_CHAIN, AuditChainHead, AuditEntry, utcnow

ORG_A, ORG_B = 101, 202  # audit entries name organisations by id only (no foreign key)


@pytest.fixture(autouse=True)
def _instance(app, tmp_path, monkeypatch):
    """Checkpoints go to the store of a fresh instance folder (nothing left for other tests)."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))


def _append(app, org: int | None, n: int) -> None:
    with app.test_request_context():
        for i in range(n):
            audit.record("test_event", org=org, email=f"user{i}@x.example", details={"i": i})
            db.session.commit()


def _chain(app, chain: int) -> list[AuditEntry]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry).where(AuditEntry.chain_id == chain)
                                       .order_by(AuditEntry.seq)))


def _sql(app, statement: str) -> None:
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text(statement))


def test_each_organisation_has_its_own_chain_and_the_rest_go_to_the_system_chain(app):
    _append(app, ORG_A, 2)
    _append(app, None, 1)
    _append(app, ORG_B, 1)
    _append(app, ORG_A, 1)
    a, b, system = _chain(app, ORG_A), _chain(app, ORG_B), _chain(app, SYSTEM_CHAIN)
    assert [e.seq for e in a] == [1, 2, 3] and [e.seq for e in b] == [1] and len(system) == 1
    assert a[0].prev_hash == b[0].prev_hash == system[0].prev_hash == audit.GENESIS
    assert a[2].prev_hash == a[1].hash  # chained to its own organisation's entry, not B's
    assert {e.organisation_id for e in a} == {ORG_A} and system[0].organisation_id is None
    with app.app_context():
        heads = {h.chain_id: (h.seq, h.hash) for h in db.session.scalars(select(AuditChainHead))}
        assert heads == {ORG_A: (3, a[2].hash), ORG_B: (1, b[0].hash),
                         SYSTEM_CHAIN: (1, system[0].hash)}
        assert audit.verify() == []
        assert audit.head_hash(ORG_A) == a[2].hash and audit.head_hash(999) == audit.GENESIS


def test_tampering_is_reported_in_the_chain_it_happened_in(app, runner):
    _append(app, ORG_A, 3)
    _append(app, ORG_B, 3)
    _append(app, None, 2)
    _sql(app, f"UPDATE audit_entry SET action = 'forged' WHERE chain_id = {ORG_B} AND seq = 2")
    _sql(app, f"DELETE FROM audit_entry WHERE chain_id = {ORG_A} AND seq = 1")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"organisation {ORG_A}, entry 2: prev_hash mismatch",
        f"organisation {ORG_B}, entry 2: hash mismatch",
    ] + [line for line in result.output.splitlines() if line.startswith("Warning")]


def test_an_entry_moved_into_another_organisations_chain_is_reported(app):
    _append(app, ORG_A, 1)
    _sql(app, f"UPDATE audit_entry SET chain_id = {ORG_B} WHERE chain_id = {ORG_A}")
    with app.app_context():
        assert audit.verify() == [f"organisation {ORG_B}, entry 1: logged under organisation "
                                  f"{ORG_A}"]


def test_verify_reports_every_chain(app, runner):
    _append(app, ORG_A, 2)
    _append(app, ORG_B, 1)
    _append(app, None, 1)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "Audit log intact: 4 entries" in result.output and "2 organisation chains" in result.output


def test_a_checkpoint_signs_the_head_of_every_chain(app, runner):
    _append(app, ORG_A, 3)
    _append(app, ORG_B, 2)
    _append(app, None, 1)
    written = runner.invoke(args=["audit", "checkpoint"])
    assert written.exit_code == 0 and "2 organisation chains" in written.output
    path = Path(app.instance_path) / "audit_checkpoints" / f"{checkpoint_key(utcnow().date(), 0)}.json"
    body = json.loads(path.read_text())
    a = _chain(app, ORG_A)
    assert body["version"] == 2 and body["last_seq"] == 1 and body["count"] == 1
    assert body["chains"][str(ORG_A)] == [3, a[2].id, a[2].hash, 3]
    _append(app, ORG_A, 1)  # entries after the checkpoint are fine
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    _sql(app, f"DELETE FROM audit_entry WHERE chain_id = {ORG_B} AND seq = 2")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"organisation {ORG_B}, missing entries 2: the checkpoint of" in result.output
    assert f"organisation {ORG_A}" not in result.output  # the other chains still match


def test_deleting_a_whole_organisation_chain_after_a_checkpoint_is_detected(app, runner):
    _append(app, ORG_A, 2)
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    _sql(app, f"DELETE FROM audit_entry WHERE chain_id = {ORG_A}")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"organisation {ORG_A}, missing entries 1-2" in result.output


def test_the_org_log_lists_entries_newest_first_across_the_old_and_new_chains(app):
    """Entries from before the chains (system chain, seq 3) come after the organisation's new ones."""
    _append(app, None, 3)
    _sql(app, f"UPDATE audit_entry SET organisation_id = {ORG_A}, action = 'legacy' WHERE seq = 3")
    _append(app, ORG_A, 2)
    with app.app_context():
        query = audit.org_entries_query(ORG_A, audit.AuditFilter())
        assert [(e.chain_id, e.seq) for e in db.session.scalars(query)] == \
            [(ORG_A, 2), (ORG_A, 1), (SYSTEM_CHAIN, 3)]


@pytest.mark.skipif(not TEST_DB_URL, reason="SQLite has a single writer; PostgreSQL only")
def test_an_organisation_appends_while_another_organisations_append_is_uncommitted(app):
    """Org A's append holds its transaction open: org B's append (and the system chain's) do not
    wait on it, org A's next append does (a lock timeout, not a timer, tells)."""
    _append(app, ORG_A, 1)
    with app.test_request_context():
        audit.record("holds_a", org=ORG_A, email="a@x.example")  # uncommitted: A's head locked
        with app.app_context():  # a second app context: its own session and connection
            db.session.execute(text("SET LOCAL lock_timeout = '5s'"))
            audit.record("while_a_is_open", org=ORG_B, email="b@x.example")
            audit.record("system_while_a_is_open", email="s@x.example")
            db.session.commit()
            db.session.execute(text("SET LOCAL lock_timeout = '200ms'"))
            with pytest.raises(OperationalError, match="lock timeout"):
                audit.record("waits_for_a", org=ORG_A, email="a2@x.example")
            db.session.rollback()
        db.session.commit()
    assert [e.action for e in _chain(app, ORG_A)] == ["test_event", "holds_a"]
    assert [e.action for e in _chain(app, ORG_B)] == ["while_a_is_open"]
    with app.app_context():
        assert audit.verify() == []
