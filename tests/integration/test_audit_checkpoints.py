"""Audit-log checkpoints in the store: the newest entries deleted are detected, forged checkpoints refused."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from vendorcheck import audit, audit_checkpoints
from vendorcheck.audit_checkpoints import checkpoint_key
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry, utcnow


@pytest.fixture(autouse=True)
def _instance(app, tmp_path, monkeypatch):
    """Checkpoints go to the store of a fresh instance folder (nothing left for other tests)."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))


def _append(app, n: int) -> None:
    with app.test_request_context():
        for i in range(n):
            audit.record("test_event", email=f"user{i}@x.example", details={"i": i})
            db.session.commit()


def _checkpoint_file(app, day=None, n: int = 0) -> Path:
    day = day or utcnow().date()
    return Path(app.instance_path) / "audit_checkpoints" / f"{checkpoint_key(day, n)}.json"


def _delete(app, where: str) -> None:
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text(f"DELETE FROM audit_entry WHERE {where}"))  # noqa: S608 - test constants


def test_an_intact_log_matches_its_checkpoint(app, runner):
    _append(app, 3)
    written = runner.invoke(args=["audit", "checkpoint"])
    assert written.exit_code == 0, written.output
    assert "Wrote audit checkpoint" in written.output and "entry 3, 3 entries" in written.output
    body = json.loads(_checkpoint_file(app).read_text())
    assert body["last_seq"] == 3 and body["count"] == 3 and len(body["mac"]) == 64
    _append(app, 2)  # entries after the checkpoint are fine
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "Audit log intact: 5 entries" in result.output
    assert "Matches checkpoint" in result.output and "entry 3, 3 entries" in result.output


def test_deleting_the_newest_entry_after_a_checkpoint_is_detected(app, runner):
    _append(app, 4)
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    _delete(app, "seq = 4")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "missing entries 4: the checkpoint of" in result.output
    assert "has entry 4 as the head" in result.output and "the table now ends at entry 3" in result.output


def test_deleting_the_newest_entries_and_the_rows_written_since_is_detected(app, runner):
    _append(app, 6)
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    _append(app, 1)
    _delete(app, "seq >= 4")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "missing entries 4-6" in result.output


def test_emptying_the_whole_table_is_detected(app, runner):
    _append(app, 2)
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    _delete(app, "1 = 1")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "missing entries 1-2" in result.output


def test_a_rewritten_chain_is_detected_although_it_links_up(app, runner):
    """Someone with database write access edits entry 2 and recomputes every hash after it."""
    _append(app, 3)
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    with app.app_context():
        rows = list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
        prev, names = rows[0].hash, list(AuditEntry.__table__.columns.keys())
        for row in rows[1:]:
            payload_row = AuditEntry(**{name: getattr(row, name) for name in names})
            if row.seq == 2:
                payload_row.action = "forged"
            new_hash = audit.compute_hash(prev, payload_row)
            with db.engine.begin() as conn:
                conn.execute(AuditEntry.__table__.update().where(AuditEntry.seq == row.seq).values(
                    action=payload_row.action, prev_hash=prev, hash=new_hash))
            prev = new_hash
        db.session.expunge_all()
        assert audit.verify() == []  # the chain alone cannot tell
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "entry 3: hash differs from the checkpoint" in result.output


def test_an_edited_checkpoint_is_refused(app, runner):
    _append(app, 4)
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    path = _checkpoint_file(app)
    body = json.loads(path.read_text())
    body["last_seq"], body["count"] = 3, 3  # make the truncation of entry 4 look expected
    path.write_text(json.dumps(body))
    _delete(app, "seq = 4")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "refused: the signature does not match" in result.output
    refused = runner.invoke(args=["audit", "checkpoint"])
    assert refused.exit_code == 1 and "Nothing was written" in refused.output


def test_a_checkpoint_copied_under_another_name_is_refused(app, runner):
    """An old, validly signed checkpoint copied under a newer name does not vouch for the present."""
    _append(app, 2)
    yesterday = utcnow() - timedelta(days=1)
    with app.app_context():
        audit_checkpoints.write_checkpoint(now=yesterday)
    _append(app, 2)
    old = _checkpoint_file(app, yesterday.date())
    _checkpoint_file(app).write_bytes(old.read_bytes())
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "stored under another name" in result.output


def test_a_corrupt_checkpoint_is_refused(app, runner):
    _append(app, 1)
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    _checkpoint_file(app).write_bytes(b"\x00not json")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "unreadable or not a checkpoint" in result.output


def test_checkpoints_signed_before_a_key_rotation_still_verify(app, runner, monkeypatch):
    _append(app, 2)
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    old_key = app.config["SECRET_KEY"]
    monkeypatch.setitem(app.config, "SECRET_KEY", "a-brand-new-secret-key-after-rotation")
    assert runner.invoke(args=["audit", "verify"]).exit_code == 1
    monkeypatch.setitem(app.config, "SECRET_KEY_FALLBACKS", [old_key])
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output


def test_without_a_checkpoint_verify_warns_but_passes(app, runner):
    _append(app, 2)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0
    assert "Warning: no audit checkpoint in the last 400 days" in result.output


def test_an_old_newest_checkpoint_is_reported(app, runner):
    _append(app, 2)
    with app.app_context():
        audit_checkpoints.write_checkpoint(now=utcnow() - timedelta(days=5))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "Warning: the newest checkpoint is from" in result.output


def test_a_checkpoint_is_refused_over_a_truncated_log_unless_forced(app, runner):
    """After restoring a backup the loss stays reported until a checkpoint is forced."""
    _append(app, 3)
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    _delete(app, "seq = 3")
    refused = runner.invoke(args=["audit", "checkpoint"])
    assert refused.exit_code == 1 and "missing entries 3" in refused.output
    assert not _checkpoint_file(app, n=1).exists()
    forced = runner.invoke(args=["audit", "checkpoint", "--force"])
    assert forced.exit_code == 0 and "#1" in forced.output
    assert json.loads(_checkpoint_file(app, n=1).read_text())["forced"] is True
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_the_daily_run_writes_a_checkpoint(app, monkeypatch):
    from vendorcheck.services import reminders

    monkeypatch.setattr(reminders, "schedule_daily", lambda: None)
    _append(app, 1)
    with app.app_context():
        reminders.daily_run()
    assert json.loads(_checkpoint_file(app).read_text())["last_seq"] == 1
