"""Two app instances behind nginx, one RQ worker, PostgreSQL, Redis and S3: the production shape, tested.

A journey through the proxy (log in, autosave, evidence uploaded on one instance and downloaded through the
other, an evidence pack built by the worker), then one instance killed with SIGKILL during a burst of
autosaves: no acknowledged save is lost, the other instance keeps serving, and the audit chain verifies.
Run by `make test-deploy` (in CI); it needs nginx, PostgreSQL and Redis on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from benchmarks.seed import BUYER_EMAIL, PASSWORD, QUESTIONNAIRE, VENDOR_EMAIL
from tests.deploy.https import Browser
from tests.deploy.stack import Stack, running_stack, sql

pytestmark = [pytest.mark.deploy, pytest.mark.slow]

PACK_TIMEOUT = 300.0  # seconds the worker may take for a one-assessment pack on a busy machine
BURST_CLIENTS = 4
KILL_AFTER_ACKS = 60  # acknowledged saves before instance "a" is killed
ACKS_AFTER_KILL = 100  # acknowledged saves wanted after it (the other instance must serve them)
MAX_SAVES = 1000  # per client: numbers saved must stay within their item's range
BURST_LIMIT = 120.0  # seconds: an upper bound, the burst normally ends within seconds


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole stack, once for this module."""
    with running_stack(tmp_path_factory.mktemp("deploy")) as running:
        yield running


@pytest.fixture(scope="module")
def assessment_id(stack: Stack) -> int:
    """The seeded in-progress assessment."""
    (row,) = sql(stack, "SELECT id FROM assessment ORDER BY id LIMIT 1")
    return int(row[0])


def _vendor(stack: Stack) -> Browser:
    browser = Browser(stack.cafile)
    browser.log_in(stack.proxy, VENDOR_EMAIL, PASSWORD)
    return browser


def _section_path(assessment_id: int) -> str:
    return f"/vendor/assessments/{assessment_id}"


def test_health_and_readiness_through_the_proxy(stack: Stack) -> None:
    browser = Browser(stack.cafile)
    assert browser.get(stack.proxy, "/healthz").status == 200
    ready = browser.get(stack.proxy, "/readyz")
    assert ready.status == 200, ready.text
    assert ready.json()["status"] == "ok"


def test_journey_across_instances(stack: Stack, assessment_id: int) -> None:
    vendor = _vendor(stack)
    csrf = vendor.csrf(stack.proxy, _section_path(assessment_id))
    saved = vendor.post_json(stack.proxy, f"/vendor/assessments/{assessment_id}/autosave",
                             {"item_id": "vendor_legal_name", "value": "Deployed GmbH",
                              "request_id": uuid.uuid4().hex, "version": None}, csrf)
    assert saved.status == 200, saved.text

    content = _pdf()
    upload_path = f"/vendor/assessments/{assessment_id}/items/dpa_document/evidence"
    upload = vendor.post_file(stack.only["a"], upload_path, {"csrf_token": csrf}, "dpa.pdf", content,
                              "application/pdf")
    assert upload.status == 303, upload.text
    (evidence_id, key) = sql(stack, "SELECT id, storage_key FROM evidence ORDER BY id DESC LIMIT 1")[0]
    got = vendor.get(stack.only["b"], f"/vendor/assessments/{assessment_id}/evidence/{evidence_id}")
    assert got.status == 200
    assert got.body == content
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"].startswith("attachment")
    assert key and not (stack.tmp / "instance" / "evidence").exists()  # in the bucket, not on a disk


def _pdf() -> bytes:
    """Return a one-page PDF with a unique title."""
    import io

    import pikepdf

    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.docinfo["/Title"] = f"Deployment test {uuid.uuid4().hex}"
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def test_pack_is_built_by_the_worker(stack: Stack, assessment_id: int) -> None:
    buyer = Browser(stack.cafile)
    buyer.log_in(stack.proxy, BUYER_EMAIL, PASSWORD)
    csrf = buyer.csrf(stack.proxy, f"/buyer/assessments/{assessment_id}")
    asked = buyer.post_form(stack.proxy, f"/buyer/packs/assessments/{assessment_id}", {"csrf_token": csrf})
    assert asked.status in (302, 303), asked.text
    job_path = asked.headers["location"].split("://", 1)[-1].split("/", 1)[-1]
    status = _wait_pack(buyer, stack, "/" + job_path)
    assert status["status"] == "done", status
    pdf = buyer.get(stack.proxy, f"/{job_path}/download")
    assert pdf.status == 200 and pdf.body.startswith(b"%PDF")
    assert "pack-" in (stack.tmp / "worker.log").read_text()  # the RQ worker ran it, not a web thread


def _wait_pack(buyer: Browser, stack: Stack, job_path: str) -> dict[str, object]:
    """Poll the pack's status until it ends (bounded)."""
    deadline = time.monotonic() + PACK_TIMEOUT
    while time.monotonic() < deadline:
        status = buyer.get(stack.proxy, f"{job_path}/status.json").json()
        if status["status"] in ("done", "failed"):
            return status
        time.sleep(1)
    raise AssertionError(f"the pack did not finish in {PACK_TIMEOUT} s")


@dataclass
class Client:
    """One autosaving client: its item, and the newest value the server acknowledged."""

    item_id: str
    numeric: bool
    acked: int = -1
    acked_after_kill: int = 0
    failures: dict[str, int] = field(default_factory=dict)


def _items(count: int) -> list[tuple[str, bool]]:
    """Return always-visible free-text items and number items allowing 0 to 1,000, with whether numeric."""
    from vendorcheck.questionnaire import load_catalogue

    catalogue = load_catalogue(Path(__file__).resolve().parents[2] / "questionnaires")
    q = catalogue.get(QUESTIONNAIRE, catalogue.versions(QUESTIONNAIRE)[-1])
    items = [i for i in q.items if i.visible_if is None and (
        i.type in ("text", "long_text") or (i.type == "number" and not i.min and (i.max or 0) >= MAX_SAVES))]
    assert len(items) >= count
    return [(i.id, i.type == "number") for i in items[:count]]


def _burst(stack: Stack, assessment_id: int, client: Client, killed: threading.Event,
           stop: threading.Event) -> None:
    """Autosave numbered values of one item until told to stop; remember what was acknowledged."""
    vendor = _vendor(stack)
    csrf = vendor.csrf(stack.proxy, _section_path(assessment_id))
    version: int | None = None
    n = 0
    while not stop.is_set() and n < MAX_SAVES:
        try:
            value = n if client.numeric else f"burst {n}"
            reply = vendor.post_json(stack.proxy, f"/vendor/assessments/{assessment_id}/autosave",
                                     {"item_id": client.item_id, "value": value,
                                      "request_id": uuid.uuid4().hex, "version": version}, csrf)
        except OSError as exc:
            client.failures[type(exc).__name__] = client.failures.get(type(exc).__name__, 0) + 1
            n += 1
            continue
        if reply.status == 200:
            version, client.acked = reply.json()["version"], n
            client.acked_after_kill += killed.is_set()
        elif reply.status == 409:  # a save whose answer was lost with the instance: take the stored version
            version = reply.json()["version"]
        else:
            client.failures[str(reply.status)] = client.failures.get(str(reply.status), 0) + 1
        n += 1


def test_killing_an_instance_loses_no_acknowledged_save(stack: Stack, assessment_id: int) -> None:
    anchored = stack.cli("audit", "checkpoint")  # a signed chain head in the bucket before the burst
    assert anchored.returncode == 0, anchored.stdout + anchored.stderr
    clients = [Client(item, numeric) for item, numeric in _items(BURST_CLIENTS)]
    killed, stop = threading.Event(), threading.Event()
    threads = [threading.Thread(target=_burst, args=(stack, assessment_id, c, killed, stop)) for c in clients]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + BURST_LIMIT
    try:
        _wait_until(lambda: sum(c.acked + 1 for c in clients) >= KILL_AFTER_ACKS, deadline)
        stack.kill("a")
        killed.set()
        _wait_until(lambda: sum(c.acked_after_kill for c in clients) >= ACKS_AFTER_KILL, deadline)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)

    assert not stack.alive("a") and stack.alive("b")
    stored = dict(sql(stack, "SELECT item_id, value FROM answer WHERE assessment_id = :a", a=assessment_id))
    for client in clients:
        value = stored[client.item_id]
        assert int(float(str(value).removeprefix("burst "))) >= client.acked, (client, value)
    assert Browser(stack.cafile).get(stack.proxy, "/healthz").status == 200

    verify = stack.cli("audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "checkpoint" in verify.stdout.lower()


def _wait_until(condition: object, deadline: float) -> None:
    """Poll a condition until it holds; fail at the deadline."""
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("the burst did not reach its count in time")
        time.sleep(0.05)


def test_files_are_identical_in_the_bucket(stack: Stack) -> None:
    rows = sql(stack, "SELECT storage_key, sha256 FROM evidence")
    assert rows
    from tests.support.s3 import client as s3_client

    s3 = s3_client(stack.env["VENDORCHECK_STORAGE_S3_ENDPOINT_URL"])
    for key, sha in rows:
        body = s3.get_object(Bucket=stack.env["VENDORCHECK_STORAGE_S3_BUCKET"], Key=f"evidence/{key}")["Body"]
        assert hashlib.sha256(body.read()).hexdigest() == sha
