"""A real S3 API server for the tests: moto's standalone server in a child process on 127.0.0.1.

It runs in its own process so that what it holds never counts in the tests' memory measurements, listens
on a free port the OS picks, and stops when the tests close its standard input (or when they die).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# Started with `python -c`: prints the port, then serves until stdin closes.
SERVER = """
import sys
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()
server.stop()
"""

# moto accepts any credentials; the app reads them from the standard AWS variables, like in production.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
               "AWS_DEFAULT_REGION": "us-east-1"}
REGION = "us-east-1"


@contextmanager
def serve_s3() -> Iterator[str]:
    """Run moto's S3 server on 127.0.0.1; yield its endpoint URL."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    child = subprocess.Popen([sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, env=env, text=True)
    assert child.stdin is not None and child.stdout is not None
    try:
        port = int(child.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        child.stdin.close()
        child.stdout.close()
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def client(endpoint: str) -> Any:
    """Return a boto3 S3 client of the test server (path-style, like most self-hosted services)."""
    from vendorcheck.storage.s3 import make_client

    return make_client(endpoint_url=endpoint, region=REGION, addressing_style="path")


def new_bucket(endpoint: str) -> str:
    """Create an empty bucket with a fresh name, so tests never see each other's objects."""
    name = f"test-{uuid.uuid4().hex[:20]}"
    client(endpoint).create_bucket(Bucket=name)
    return name
