"""The S3 backend: every area under `<prefix><area>/<key>` in one bucket of any S3-compatible service.

An upload is spooled to a local temporary file while its SHA-256 and size are computed, then sent from
that file: one PutObject up to a part's size, a multipart upload above it. Every read botocore makes of
the file (checksums, signature, the request body) gets at most CHUNK bytes, so memory stays small whatever
the size, and a stream that fails half-way leaves nothing in the bucket (a failed multipart upload is
aborted). Downloads stream the object's body. Credentials come from boto3's usual chain.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tempfile
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, cast

from botocore.exceptions import BotoCoreError, ClientError

from vendorcheck.storage.base import (
    CHUNK,
    Area,
    FileMissing,
    Store,
    StoredFile,
    StoreUnavailable,
    area_of,
    attachment_disposition,
    check_key,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# What S3 can encrypt objects with on its side: its own keys, or a KMS key.
SSE_MODES = ("AES256", "aws:kms")
MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
SPOOL_PREFIX = ".s3-upload-"
PART_SIZE = 8 * 1024 * 1024  # bytes per part of a multipart upload (S3's minimum is 5 MiB)
MAX_PARTS = 10_000  # S3's limit: bigger files get bigger parts
ADDRESSING_STYLES = ("auto", "virtual", "path")  # "path" for most self-hosted services (MinIO, Ceph...)


def make_client(*, endpoint_url: str | None = None, region: str | None = None,
                addressing_style: str = "auto") -> S3Client:
    """Return an S3 client; credentials come from boto3's chain (AWS_* variables, profile, role)."""
    import boto3
    from botocore.config import Config

    if addressing_style not in ADDRESSING_STYLES:
        raise ValueError(f"addressing style must be one of {', '.join(ADDRESSING_STYLES)}")
    style = cast(Literal["auto", "virtual", "path"], addressing_style)
    config = Config(signature_version="s3v4", retries={"mode": "standard", "max_attempts": 5},
                    connect_timeout=10, read_timeout=60, s3={"addressing_style": style})
    return boto3.session.Session().client("s3", endpoint_url=endpoint_url, region_name=region, config=config)


class BucketUnavailable(StoreUnavailable):
    """The bucket cannot be reached or used (wrong name, endpoint, credentials or rights)."""


class S3Store(Store):
    """Files as objects of one bucket, each area under its own prefix."""

    def __init__(self, client: S3Client | Callable[[], S3Client], bucket: str, *, prefix: str = "",
                 sse: str | None = None, kms_key_id: str | None = None, presigned: bool = False,
                 expires_in: int = 300, part_size: int = PART_SIZE, spool_dir: str | None = None) -> None:
        if sse not in (None, *SSE_MODES):
            raise ValueError(f"server-side encryption must be one of {', '.join(SSE_MODES)}, not {sse!r}")
        if kms_key_id and sse != "aws:kms":
            raise ValueError("a KMS key is used only with server-side encryption 'aws:kms'")
        self._make_client = client if callable(client) else (lambda: client)
        self._clients: dict[int, S3Client] = {}
        self._bucket, self._prefix = bucket, prefix
        self._sse, self._kms_key_id = sse, kms_key_id
        self._presigned, self._expires_in = presigned, expires_in
        self._part_size, self._spool_dir = part_size, spool_dir

    @property
    def _client(self) -> S3Client:
        """Return this process's client: a forked worker never shares its parent's connections."""
        pid = os.getpid()
        if pid not in self._clients:
            self._clients = {pid: self._make_client()}
        return self._clients[pid]

    @property
    def bucket(self) -> str:
        """The bucket's name."""
        return self._bucket

    def object_name(self, area: Area | str, key: str) -> str:
        """Return the object's name of a key: `<prefix><area>/<key>`; InvalidKey for a bad key."""
        area = area_of(area)
        return f"{self._prefix}{area.value}/{check_key(area, key)}"

    def put(self, area: Area | str, key: str, stream: BinaryIO) -> StoredFile:
        """Spool the stream to disk (hashing it), then upload the file in one request or in parts."""
        name = self.object_name(area, key)
        digest, size = hashlib.sha256(), 0
        with tempfile.NamedTemporaryFile(dir=self._spool_dir, prefix=SPOOL_PREFIX) as spool:
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                spool.write(chunk)
            spool.flush()
            if size <= self._part_size:
                with Section(spool.name, 0, size) as body:
                    self._client.put_object(Bucket=self._bucket, Key=name, Body=cast(BinaryIO, body),
                                            ContentLength=size, **self.upload_args())  # type: ignore[arg-type]
            else:
                self._upload_in_parts(name, spool.name, size)
        return StoredFile(key, digest.hexdigest(), size)

    def _upload_in_parts(self, name: str, path: str, size: int) -> None:
        """Send a file as a multipart upload, part by part from disk; abort it if anything fails."""
        upload_id = self._client.create_multipart_upload(
            Bucket=self._bucket, Key=name, **self.upload_args())["UploadId"]  # type: ignore[arg-type]
        try:
            part_size = max(self._part_size, -(-size // MAX_PARTS))
            parts: list[dict[str, Any]] = []
            for number, offset in enumerate(range(0, size, part_size), start=1):
                length = min(part_size, size - offset)
                with Section(path, offset, length) as body:
                    answer = self._client.upload_part(Bucket=self._bucket, Key=name, UploadId=upload_id,
                                                      PartNumber=number, Body=cast(BinaryIO, body),
                                                      ContentLength=length)
                # The ETag, plus the part's checksum when botocore sent one (S3 then requires it back).
                parts.append({"PartNumber": number, "ETag": answer["ETag"],
                              **{k: v for k, v in answer.items() if k.startswith("Checksum")
                                 and k != "ChecksumType"}})
            self._client.complete_multipart_upload(Bucket=self._bucket, Key=name, UploadId=upload_id,
                                                   MultipartUpload={"Parts": parts})  # type: ignore[typeddict-item]
        except BaseException:
            with contextlib.suppress(ClientError, BotoCoreError):  # the first error is the one to report
                self._client.abort_multipart_upload(Bucket=self._bucket, Key=name, UploadId=upload_id)
            raise

    def upload_args(self) -> dict[str, str]:
        """Return the extra arguments of every upload: content type and server-side encryption."""
        args = {"ContentType": "application/octet-stream"}
        if self._sse:
            args["ServerSideEncryption"] = self._sse
        if self._kms_key_id:
            args["SSEKMSKeyId"] = self._kms_key_id
        return args

    def open(self, area: Area | str, key: str) -> BinaryIO:
        """Return the object's body, a stream read from the network as the caller reads."""
        name = self.object_name(area, key)
        try:
            response = self._client.get_object(Bucket=self._bucket, Key=name)
        except ClientError as error:
            raise _missing_or(error, key) from None
        # botocore's StreamingBody is an io.IOBase with read(amt) and close(): a binary stream.
        return cast(BinaryIO, response["Body"])

    def delete(self, area: Area | str, key: str) -> None:
        self._client.delete_object(Bucket=self._bucket, Key=self.object_name(area, key))

    def exists(self, area: Area | str, key: str) -> bool:
        try:
            self._head(area, key)
        except FileMissing:
            return False
        return True

    def size(self, area: Area | str, key: str) -> int:
        return int(self._head(area, key)["ContentLength"])

    def url(self, area: Area | str, key: str, *, filename: str | None = None,
            content_type: str | None = None) -> str | None:
        """Return a presigned link when STORAGE_S3_PRESIGNED is on, else None (the app sends the file).

        The link asks the bucket to answer with the app's attachment disposition, content type and
        no-store; a bucket cannot add `nosniff` or a sandbox CSP (see docs/storage.md).
        """
        name = self.object_name(area, key)
        if not self._presigned:
            return None
        params = {"Bucket": self._bucket, "Key": name,
                  "ResponseContentDisposition": attachment_disposition(filename or key),
                  "ResponseContentType": content_type or "application/octet-stream",
                  "ResponseCacheControl": "private, no-store"}
        return self._client.generate_presigned_url("get_object", Params=params, ExpiresIn=self._expires_in)

    def ping(self) -> None:
        """Raise BucketUnavailable if the bucket cannot be reached with these credentials."""
        try:
            self._client.head_bucket(Bucket=self._bucket)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "?")
            raise BucketUnavailable(f"S3 bucket '{self._bucket}' cannot be used (error {code}).") from error
        except BotoCoreError as error:
            raise BucketUnavailable(f"S3 bucket '{self._bucket}' cannot be reached: {error}") from error

    def _head(self, area: Area | str, key: str) -> dict[str, Any]:
        """Return the object's metadata; FileMissing if there is no such object."""
        name = self.object_name(area, key)
        try:
            return cast(dict[str, Any], self._client.head_object(Bucket=self._bucket, Key=name))
        except ClientError as error:
            raise _missing_or(error, key) from None


class Section(io.RawIOBase):
    """A seekable window on part of a file whose reads never return more than CHUNK bytes.

    botocore reads a request body several times (checksum, signature, sending) and asks for up to 1 MiB a
    read: capping each read keeps the memory of an upload at a few chunks.
    """

    def __init__(self, path: str, offset: int, length: int) -> None:
        super().__init__()
        self._file = open(path, "rb")  # noqa: SIM115 - closed with the section
        self._offset, self._length, self._position = offset, length, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        """Return at most min(size, CHUNK) bytes from the current position; everything left if no size."""
        left = self._length - self._position
        wanted = left if size is None or size < 0 else min(left, size, CHUNK)
        data = os.pread(self._file.fileno(), wanted, self._offset + self._position)
        self._position += len(data)
        return data

    def readall(self) -> bytes:
        return self.read(-1)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._position, os.SEEK_END: self._length}[whence]
        self._position = max(0, min(self._length, base + offset))
        return self._position

    def tell(self) -> int:
        return self._position

    def __len__(self) -> int:
        return self._length

    def close(self) -> None:
        self._file.close()
        super().close()


def _missing_or(error: ClientError, key: str) -> Exception:
    """Return FileMissing for a 'no such object' answer, else the error itself."""
    code = str(error.response.get("Error", {}).get("Code", ""))
    return FileMissing(key) if code in MISSING_CODES else error
