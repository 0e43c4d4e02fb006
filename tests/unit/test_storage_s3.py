"""What only the S3 backend does: object names, encryption, multipart streaming, direct links, ping."""

from __future__ import annotations

import hashlib
import io
import tracemalloc
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.support import s3
from tests.unit.test_storage_contract import Noise
from vendorcheck.storage import CHUNK, Area
from vendorcheck.storage.s3 import PART_SIZE, BucketUnavailable, S3Store

MB = 1024 * 1024


class Requests:
    """Records the method, path and headers of every request a client sends."""

    def __init__(self, client: Any) -> None:
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        client.meta.events.register("before-send.s3", self.record)

    def record(self, request: Any, **_: Any) -> None:
        headers = {k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
        self.seen.append((request.method, request.url, headers))

    def named(self, fragment: str) -> list[dict[str, str]]:
        """Return the headers of the requests whose URL contains `fragment`."""
        return [headers for _method, url, headers in self.seen if fragment in url]



def _store(endpoint: str, tmp_path: Path, **options: Any) -> tuple[S3Store, Any, str]:
    client, bucket = s3.client(endpoint), s3.new_bucket(endpoint)
    return S3Store(client, bucket, spool_dir=str(tmp_path), **options), client, bucket


def test_objects_are_named_prefix_area_key(s3_endpoint: str, tmp_path: Path) -> None:
    store, client, bucket = _store(s3_endpoint, tmp_path, prefix="tenant-x/")
    stored = store.save(Area.CERTIFICATES, io.BytesIO(b"certificate"))
    listed = [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert listed == [f"tenant-x/certificates/{stored.key}"]
    assert client.get_object(Bucket=bucket, Key=listed[0])["Body"].read() == b"certificate"


@pytest.mark.parametrize(("options", "expected"), [
    ({"sse": "AES256"}, {"x-amz-server-side-encryption": "AES256"}),
    ({"sse": "aws:kms", "kms_key_id": "alias/vendorcheck"},
     {"x-amz-server-side-encryption": "aws:kms",
      "x-amz-server-side-encryption-aws-kms-key-id": "alias/vendorcheck"}),
])
def test_server_side_encryption_is_asked_for_on_every_upload(s3_endpoint: str, tmp_path: Path,
                                                             options: dict[str, str],
                                                             expected: dict[str, str]) -> None:
    store, client, bucket = _store(s3_endpoint, tmp_path, part_size=5 * MB, **options)
    sent = Requests(client)
    small = store.save(Area.REPORTS, io.BytesIO(b"report"))
    large = store.save(Area.PACKS, Noise(5 * MB + 1))  # type: ignore[arg-type]
    # The single PutObject and the CreateMultipartUpload both ask for the encryption.
    put = [h for method, url, h in sent.seen if method == "PUT" and url.endswith(f"reports/{small.key}")]
    create = [h for method, url, h in sent.seen if method == "POST" and url.endswith(f"{large.key}?uploads")]
    assert len(put) == len(create) == 1
    for headers in (put[0], create[0]):
        assert {name: headers.get(name) for name in expected} == expected
    head = client.head_object(Bucket=bucket, Key=f"packs/{large.key}")
    assert head["ServerSideEncryption"] == options["sse"]


def test_no_encryption_header_unless_configured(s3_endpoint: str, tmp_path: Path) -> None:
    store, client, _bucket = _store(s3_endpoint, tmp_path)
    sent = Requests(client)
    stored = store.save(Area.REPORTS, io.BytesIO(b"report"))
    assert all("x-amz-server-side-encryption" not in h for h in sent.named(stored.key))


@pytest.mark.parametrize("options", [{"sse": "AES-256"}, {"sse": "AES256", "kms_key_id": "k"}])
def test_bad_encryption_settings_are_refused(options: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="encryption|KMS"):
        S3Store(object(), "bucket", **options)  # type: ignore[arg-type]


@pytest.mark.slow
def test_a_30_mb_file_goes_up_in_parts_and_down_as_a_stream_in_little_memory(s3_endpoint: str,
                                                                              tmp_path: Path) -> None:
    store, client, bucket = _store(s3_endpoint, tmp_path)
    sent = Requests(client)
    size = 30 * MB + 7
    source = Noise(size)
    tracemalloc.start()
    try:
        stored = store.save(Area.EVIDENCE, source)  # type: ignore[arg-type]
        upload_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        digest, total = hashlib.sha256(), 0
        with store.open(Area.EVIDENCE, stored.key) as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
                total += len(chunk)
        download_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert stored.size == total == size
    assert stored.sha256 == digest.hexdigest() == source.digest.hexdigest()
    parts = [url for method, url, _h in sent.seen if method == "PUT" and "partNumber=" in url]
    assert len(parts) == -(-size // PART_SIZE) == 4
    assert client.head_object(Bucket=bucket, Key=f"evidence/{stored.key}")["ContentLength"] == size
    # A few chunks of 64 KiB, not the 30 MB file nor an 8 MB part.
    assert upload_peak < 2 * MB, f"upload peak {upload_peak} bytes"
    assert download_peak < 2 * MB, f"download peak {download_peak} bytes"
    assert list(tmp_path.iterdir()) == []  # the spooled copy is gone


def test_a_multipart_upload_that_fails_is_aborted_and_leaves_nothing(s3_endpoint: str,
                                                                     tmp_path: Path) -> None:
    store, client, bucket = _store(s3_endpoint, tmp_path, part_size=5 * MB)

    def refuse_second_part(request: Any, **_: Any) -> None:
        if "partNumber=2" in request.url:
            raise ConnectionError("the network went away")

    client.meta.events.register("before-send.s3", refuse_second_part)
    with pytest.raises(ConnectionError):
        store.save(Area.PACKS, Noise(11 * MB))  # type: ignore[arg-type]
    assert client.list_objects_v2(Bucket=bucket).get("Contents", []) == []
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert list(tmp_path.iterdir()) == []


def test_when_the_abort_fails_too_the_first_error_is_the_one_raised(s3_endpoint: str,
                                                                   tmp_path: Path) -> None:
    store, client, _bucket = _store(s3_endpoint, tmp_path, part_size=5 * MB)

    def refuse_second_part_and_abort(request: Any, **_: Any) -> None:
        if "partNumber=2" in request.url:
            raise ConnectionError("the network went away")
        if request.method == "DELETE":
            raise ClientError({"Error": {"Code": "InternalError"}}, "AbortMultipartUpload")

    client.meta.events.register("before-send.s3", refuse_second_part_and_abort)
    with pytest.raises(ConnectionError, match="went away"):
        store.save(Area.PACKS, Noise(11 * MB))  # type: ignore[arg-type]


def test_an_empty_file_is_stored_and_read_back(s3_endpoint: str, tmp_path: Path) -> None:
    store, _client, _bucket = _store(s3_endpoint, tmp_path)
    stored = store.save(Area.EVIDENCE, io.BytesIO(b""))
    assert stored.size == 0 and store.size(Area.EVIDENCE, stored.key) == 0
    with store.open(Area.EVIDENCE, stored.key) as handle:
        assert handle.read() == b""


def test_put_replaces_the_object_under_the_same_key(s3_endpoint: str, tmp_path: Path) -> None:
    store, _client, _bucket = _store(s3_endpoint, tmp_path)
    stored = store.save(Area.DPA, io.BytesIO(b"first"))
    again = store.put(Area.DPA, stored.key, io.BytesIO(b"second"))
    assert again.key == stored.key and again.sha256 == hashlib.sha256(b"second").hexdigest()
    with store.open(Area.DPA, stored.key) as handle:
        assert handle.read() == b"second"


def test_a_presigned_link_answers_with_the_apps_download_headers(s3_endpoint: str, tmp_path: Path) -> None:
    store, _client, _bucket = _store(s3_endpoint, tmp_path, presigned=True, expires_in=60)
    stored = store.save(Area.EVIDENCE, io.BytesIO(b"<html>not rendered</html>"))
    link = store.url(Area.EVIDENCE, stored.key, filename="politique de sécurité.txt",
                     content_type="text/plain; charset=utf-8")
    assert link is not None and link.startswith(s3_endpoint) and "X-Amz-Expires=60" in link
    with urllib.request.urlopen(link) as answer:  # noqa: S310 - the local test server
        body, headers = answer.read(), answer.headers
    assert body == b"<html>not rendered</html>"
    assert headers["Content-Disposition"] == (
        "attachment; filename=\"politique_de_securite.txt\"; "
        "filename*=UTF-8''politique%20de%20s%C3%A9curit%C3%A9.txt")
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert headers["Cache-Control"] == "private, no-store"


def test_without_presigning_the_app_sends_files_itself(s3_endpoint: str, tmp_path: Path) -> None:
    store, _client, _bucket = _store(s3_endpoint, tmp_path)
    stored = store.save(Area.PACKS, io.BytesIO(b"pack"))
    assert store.url(Area.PACKS, stored.key, filename="pack.pdf") is None


def test_ping_passes_on_a_bucket_and_names_a_missing_one(s3_endpoint: str, tmp_path: Path) -> None:
    store, client, _bucket = _store(s3_endpoint, tmp_path)
    store.ping()
    with pytest.raises(BucketUnavailable, match="S3 bucket 'no-such-bucket' cannot be used"):
        S3Store(client, "no-such-bucket").ping()


def test_ping_names_an_unreachable_service(s3_endpoint: str) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = boto3.session.Session().client(
        "s3", endpoint_url=f"http://127.0.0.1:{port}", region_name=s3.REGION,
        config=Config(retries={"max_attempts": 1}, connect_timeout=2))
    with pytest.raises(BucketUnavailable, match="cannot be reached"):
        S3Store(client, "bucket").ping()


def test_each_process_makes_its_own_client(s3_endpoint: str, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[Any] = []

    def make() -> Any:
        made.append(s3.client(s3_endpoint))
        return made[-1]

    store = S3Store(make, s3.new_bucket(s3_endpoint), spool_dir=str(tmp_path))
    assert made == []  # nothing at boot: a server may fork its workers after building the app
    stored = store.save(Area.REPORTS, io.BytesIO(b"report"))
    assert store.exists(Area.REPORTS, stored.key) and len(made) == 1
    monkeypatch.setattr("os.getpid", lambda: -1)  # as in a forked worker
    assert store.exists(Area.REPORTS, stored.key) and len(made) == 2
