"""The app on STORAGE_BACKEND=s3 against a real S3 API server: settings, uploads, downloads, direct links."""

from __future__ import annotations

import io
import urllib.request
from types import SimpleNamespace
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from tests.conftest import make_config
from tests.factories.accounts import make_org, make_user, make_vendor
from tests.factories.assessments import make_assessment
from tests.factories.evidence import add_every_kind
from tests.factories.questionnaires import install_questionnaire
from tests.factories.reports import make_reviewed_assessment
from tests.support import s3
from vendorcheck import create_app
from vendorcheck.extensions import db
from vendorcheck.models import Role
from vendorcheck.models.assessments import Evidence
from vendorcheck.models.packs import PackJob, PackStatus
from vendorcheck.services import packs, verification
from vendorcheck.storage import EXTENSION, Area, current_store, s3_store
from vendorcheck.storage.s3 import S3Store


def s3_settings(endpoint: str, bucket: str, **more: object) -> dict[str, object]:
    """Return the settings of an app storing its files in `bucket` of the test server."""
    return {"STORAGE_BACKEND": "s3", "STORAGE_S3_BUCKET": bucket, "STORAGE_S3_ENDPOINT_URL": endpoint,
            "STORAGE_S3_REGION": s3.REGION, "STORAGE_S3_ADDRESSING_STYLE": "path",
            "STORAGE_S3_PREFIX": "vendorcheck/", **more}


@pytest.fixture
def bucket(app, s3_endpoint, monkeypatch, tmp_path) -> Any:
    """Switch the session app to a fresh bucket; evidence and the instance folder point at empty folders."""
    name = s3.new_bucket(s3_endpoint)
    for setting, value in s3_settings(s3_endpoint, name).items():
        monkeypatch.setitem(app.config, setting, value)
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path / "evidence"))
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    (tmp_path / "instance").mkdir()
    monkeypatch.setitem(app.extensions, EXTENSION, s3_store(app))
    client = s3.client(s3_endpoint)

    def objects(area: Area) -> list[str]:
        listed = client.list_objects_v2(Bucket=name, Prefix=f"vendorcheck/{area.value}/")
        return [o["Key"].rsplit("/", 1)[1] for o in listed.get("Contents", [])]

    return SimpleNamespace(name=name, objects=objects, disk=tmp_path)


def presign(app, monkeypatch) -> None:
    """Turn direct links on for the app's store."""
    monkeypatch.setitem(app.config, "STORAGE_S3_PRESIGNED", True)
    monkeypatch.setitem(app.extensions, EXTENSION, s3_store(app))


def test_an_s3_app_builds_its_store_from_the_settings_without_network(tmp_path):
    application = create_app(make_config(tmp_path, **s3_settings("http://127.0.0.1:9", "files",
                                                                 STORAGE_S3_SSE="aws:kms",
                                                                 STORAGE_S3_KMS_KEY_ID="alias/x")))
    with application.app_context():
        store = current_store()
    assert isinstance(store, S3Store) and store.bucket == "files"
    assert store.object_name(Area.CERTIFICATES, "a" * 64) == f"vendorcheck/certificates/{'a' * 64}"
    assert store.upload_args()["SSEKMSKeyId"] == "alias/x"


def test_the_s3_settings_are_read_from_vendorcheck_variables(tmp_path, monkeypatch):
    variables = {"STORAGE_BACKEND": "s3", "STORAGE_S3_BUCKET": "files", "STORAGE_S3_PREFIX": "vc/",
                 "STORAGE_S3_ENDPOINT_URL": "https://objects.example", "STORAGE_S3_REGION": "eu-west-3",
                 "STORAGE_S3_SSE": "AES256", "STORAGE_S3_PRESIGNED": "true",
                 "STORAGE_S3_PRESIGNED_EXPIRES": "120"}
    for name, value in variables.items():
        monkeypatch.setenv(f"VENDORCHECK_{name}", value)
    for name, value in s3.CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    with create_app(make_config(tmp_path)).app_context():
        store = current_store()
    assert isinstance(store, S3Store) and store.upload_args()["ServerSideEncryption"] == "AES256"
    link = store.url(Area.PACKS, "b" * 64, filename="pack.pdf", content_type="application/pdf")
    assert link is not None and link.startswith(f"https://objects.example/files/vc/packs/{'b' * 64}?")
    assert "X-Amz-Expires=120" in link and "eu-west-3" in link


@pytest.mark.parametrize(("settings", "message"), [
    ({"STORAGE_S3_BUCKET": ""}, "needs STORAGE_S3_BUCKET"),
    ({"STORAGE_S3_SSE": "yes"}, "server-side encryption must be one of AES256, aws:kms"),
    ({"STORAGE_S3_KMS_KEY_ID": "alias/x"}, "only with server-side encryption 'aws:kms'"),
    ({"STORAGE_S3_ADDRESSING_STYLE": "dns"}, "addressing style must be one of"),
])
def test_bad_s3_settings_stop_the_app_at_boot(tmp_path, settings, message):
    config = make_config(tmp_path, **{**s3_settings("http://127.0.0.1:9", "files"), **settings})
    with pytest.raises(RuntimeError, match=message):
        create_app(config)


@pytest.fixture
def people(app, bucket):
    """A vendor user with an assessment to answer, and the buyer's assessor who reads it."""
    with app.app_context():
        install_questionnaire()
        buyer = make_org("Buyer S", slug="buyer-s")
        vorg = make_org("Vendor S", buyer=False, vendor=True, slug="vendor-s")
        assessor = make_user("assessor@buyer.example", org=buyer, role=Role.ASSESSOR)
        supplier = make_user("s@vendor.example", org=vorg)
        assessment = make_assessment(buyer, make_vendor(buyer, "S", vendor_org=vorg))
        return SimpleNamespace(assessment=assessment.id,
                               supplier=SimpleNamespace(id=supplier.id, session_epoch=0),
                               assessor=SimpleNamespace(id=assessor.id, session_epoch=0))


def _upload(client, people, data: bytes, name: str) -> Evidence:
    response = client.post(f"/vendor/assessments/{people.assessment}/items/docs/evidence",
                           data={"file": (io.BytesIO(data), name), "section": "subs_section"},
                           content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)
    with client.application.app_context():
        evidence = db.session.scalars(select(Evidence)).one()
        db.session.expunge(evidence)
        return evidence


def test_evidence_goes_into_the_bucket_and_comes_back_through_the_app(app, client, login_as, people,
                                                                      bucket):
    login_as(people.supplier)
    data = b"retention policy\n" * 5000
    evidence = _upload(client, people, data, "politique.txt")
    assert bucket.objects(Area.EVIDENCE) == [evidence.storage_key]
    assert not (bucket.disk / "evidence").exists()  # nothing on the local disk
    login_as(people.assessor)
    response = client.get(f"/buyer/assessments/{people.assessment}/evidence/{evidence.id}")
    assert response.status_code == 200 and response.get_data() == data
    assert response.headers["Content-Length"] == str(len(data))
    assert response.headers["Content-Disposition"].startswith('attachment; filename="politique.txt"')
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert response.headers["Cache-Control"] == "private, no-store"
    login_as(people.supplier)
    removed = client.post(f"/vendor/assessments/{people.assessment}/evidence/{evidence.id}/remove",
                          data={"section": "subs_section"})
    assert removed.status_code == 302 and bucket.objects(Area.EVIDENCE) == []


def test_with_direct_links_evidence_downloads_redirect_to_a_link_with_the_same_headers(
        app, client, login_as, people, bucket, monkeypatch):
    login_as(people.supplier)
    evidence = _upload(client, people, b"<script>alert(1)</script>", "notes.txt")
    presign(app, monkeypatch)
    login_as(people.assessor)
    response = client.get(f"/buyer/assessments/{people.assessment}/evidence/{evidence.id}")
    assert response.status_code == 302
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    with urllib.request.urlopen(response.headers["Location"]) as answer:  # noqa: S310 - local server
        assert answer.read() == b"<script>alert(1)</script>"
        assert answer.headers["Content-Disposition"].startswith('attachment; filename="notes.txt"')
        assert answer.headers["Content-Type"] == evidence.content_type
        assert answer.headers["Cache-Control"] == "private, no-store"


def test_a_missing_evidence_object_answers_404_not_a_link(app, client, login_as, people, bucket,
                                                          monkeypatch):
    login_as(people.supplier)
    evidence = _upload(client, people, b"plain\n", "notes.txt")
    with app.app_context():
        current_store().delete(Area.EVIDENCE, evidence.storage_key)
    presign(app, monkeypatch)
    login_as(people.assessor)
    assert client.get(f"/buyer/assessments/{people.assessment}/evidence/{evidence.id}").status_code == 404


@pytest.fixture
def decided(app, bucket) -> dict[str, Any]:
    """A decided assessment with evidence of every kind, stored in the bucket."""
    with app.app_context():
        buyer = make_org("Acme Buyer SA", slug="acme")
        legal = make_user("legal@acme.example", org=buyer, role=Role.LEGAL, name="Lea Legal")
        vendor = make_vendor(buyer, "Cloudy Inc.", owner=legal)
        assessment = make_reviewed_assessment(buyer, vendor, by=legal)
        add_every_kind(assessment)
        return {"legal": SimpleNamespace(id=legal.id, session_epoch=legal.session_epoch),
                "assessment": assessment.id}


@pytest.mark.slow
def test_a_pack_is_built_from_evidence_in_the_bucket_stored_there_and_downloaded(
        app, client, login_as, decided, bucket, monkeypatch):
    login_as(decided["legal"])
    response = client.post(f"/buyer/packs/assessments/{decided['assessment']}", data={"locale": "en"})
    assert response.status_code == 303
    packs.wait_for_threads()
    with app.app_context():
        job = db.session.scalars(select(PackJob)).one()
        assert job.status is PackStatus.DONE, job.error
        job_id, key = job.id, job.storage_key
    assert bucket.objects(Area.PACKS) == [key]
    assert not (bucket.disk / "instance" / "packs").exists()
    download = client.get(f"/buyer/packs/{job_id}/download")
    body = download.get_data()
    download.close()
    assert download.status_code == 200 and len(body) == int(download.headers["Content-Length"])
    assert "policy.docx" in PdfReader(io.BytesIO(body)).attachments
    with app.app_context():
        assert verification.check_report(body).ok
    presign(app, monkeypatch)
    redirect = client.get(f"/buyer/packs/{job_id}/download")
    assert redirect.status_code == 302
    with urllib.request.urlopen(redirect.headers["Location"]) as answer:  # noqa: S310 - local server
        assert answer.read() == body
        assert answer.headers["Content-Disposition"].startswith(
            f'attachment; filename="vendorcheck-evidence-pack-{job_id}-en.pdf"')
        assert answer.headers["Content-Type"] == "application/pdf"

