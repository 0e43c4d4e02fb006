"""The backup and restore procedure of docs/deploy.md, run for real on scratch PostgreSQL databases.

`vendorcheck init-db` on a new database, data and stored files, scripts/backup.sh, scripts/restore.sh into a
second new database and instance folder, then `vendorcheck audit verify` and a table-by-table comparison.
Runs with VENDORCHECK_TEST_DATABASE_URL (make test-postgres); both scratch databases are dropped after.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import URL, make_url

from tests.conftest import TEST_DB_URL, make_config
from tests.factories.world import add_assessment_world, make_world
from vendorcheck import audit, create_app
from vendorcheck.extensions import db
from vendorcheck.models.assessments import Evidence
from vendorcheck.storage import Area, current_store

ROOT = Path(__file__).resolve().parents[2]
VENDORCHECK = str(Path(sys.executable).parent / "vendorcheck")

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def scratch() -> Iterator[tuple[URL, URL]]:
    """Two new, empty databases on the test server (source and restore target), dropped afterwards."""
    if not TEST_DB_URL or not TEST_DB_URL.startswith("postgresql"):
        pytest.skip("needs VENDORCHECK_TEST_DATABASE_URL (PostgreSQL)")
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("needs pg_dump and pg_restore (postgresql-client)")
    server = make_url(TEST_DB_URL)
    names = [f"vc_backup_{role}_{secrets.token_hex(4)}" for role in ("source", "target")]
    admin = create_engine(server.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=names[0]), server.set(database=names[1])
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _env(url: URL, instance: Path) -> dict[str, str]:
    """The production-like environment the commands of the procedure run in."""
    return {**os.environ, "VENDORCHECK_SQLALCHEMY_DATABASE_URI": url.render_as_string(hide_password=False),
            "VENDORCHECK_INSTANCE_PATH": str(instance),
            "VENDORCHECK_SECRET_KEY": "backup-restore-test-secret-0123456789"}


def _run(command: list[str], env: dict[str, str] | None = None) -> str:
    result = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{command[0]} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _app(url: URL, instance: Path) -> Flask:
    """An app on a scratch database whose stored files live in `instance`."""
    env = _env(url, instance)
    app = create_app(make_config(instance, SQLALCHEMY_DATABASE_URI=env["VENDORCHECK_SQLALCHEMY_DATABASE_URI"],
                                 SECRET_KEY=env["VENDORCHECK_SECRET_KEY"]))
    app.instance_path = str(instance)
    return app


def _snapshot(url: URL, instance: Path) -> dict[str, object]:
    """Row counts of every table and the SHA-256 of every stored evidence file."""
    app = _app(url, instance)
    try:
        with app.app_context():
            counts = {table.name: db.session.scalar(select(func.count()).select_from(table))
                      for table in db.metadata.sorted_tables}
            store = current_store()
            files = {row.storage_key: store.sha256(Area.EVIDENCE, row.storage_key)
                     for row in db.session.scalars(select(Evidence))}
            return {"counts": counts, "files": files}
    finally:
        with app.app_context():
            db.engine.dispose()


def test_a_backup_restores_into_an_empty_database(scratch: tuple[URL, URL], tmp_path: Path) -> None:
    source, target = scratch
    source_instance, target_instance = tmp_path / "source-instance", tmp_path / "target-instance"
    _run([VENDORCHECK, "init-db"], _env(source, source_instance))  # the real schema, from the migrations

    env = _env(source, source_instance)
    app = _app(source, source_instance)
    with app.app_context():
        world = make_world()
        add_assessment_world(world)  # tenants, users, invitations, assessments, evidence files
        for action in ("backup.test.first", "backup.test.second"):
            audit.record(action, email="ops@example.org", details={"step": action})
        db.session.commit()
        db.engine.dispose()
    before = _snapshot(source, source_instance)
    assert before["files"] and before["counts"]["audit_entry"]  # type: ignore[index]

    name = _run(["sh", "scripts/backup.sh", env["VENDORCHECK_SQLALCHEMY_DATABASE_URI"], str(source_instance),
                 str(tmp_path / "backups")]).strip()
    assert sorted(p.name for p in (tmp_path / "backups").iterdir()) == [
        f"{name}.dump", f"{name}.files.tar.gz", f"{name}.sha256"]

    target_env = _env(target, target_instance)
    _run(["sh", "scripts/restore.sh", target_env["VENDORCHECK_SQLALCHEMY_DATABASE_URI"],
          str(target_instance), str(tmp_path / "backups"), name])
    assert "Audit log intact" in _run([VENDORCHECK, "audit", "verify"], target_env)
    assert _snapshot(target, target_instance) == before


def test_restore_refuses_a_damaged_backup(scratch: tuple[URL, URL], tmp_path: Path) -> None:
    source, target = scratch
    instance = tmp_path / "instance"
    _run([VENDORCHECK, "init-db"], _env(source, instance))
    url = source.render_as_string(hide_password=False)
    name = _run(["sh", "scripts/backup.sh", url, str(instance), str(tmp_path / "backups")]).strip()
    with (tmp_path / "backups" / f"{name}.dump").open("ab") as dump:
        dump.write(b"tampered")
    result = subprocess.run(["sh", "scripts/restore.sh", target.render_as_string(hide_password=False),
                             str(tmp_path / "restored"), str(tmp_path / "backups"), name],
                            cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert not (tmp_path / "restored").exists()  # nothing was restored from it
