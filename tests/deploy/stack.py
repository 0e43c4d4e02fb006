"""A production-shaped stack on 127.0.0.1 for the deployment test.

nginx (TLS) in front of two app instances (gunicorn, two workers each), one RQ worker, PostgreSQL (a
database of its own, dropped at the end), Redis (one database index, emptied before and after) and an S3
API server (moto). Every process binds 127.0.0.1 and is stopped when the stack closes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

from benchmarks import stack as parts
from benchmarks.stack import BIN, ROOT, free_port

PG_ADMIN_URL = os.environ.get("VENDORCHECK_DEPLOY_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("VENDORCHECK_DEPLOY_REDIS_URL", "redis://127.0.0.1:6379/13")
__all__ = ["Stack", "free_port", "running_stack", "sql"]


@dataclass
class Stack:
    """The running stack: ports, the environment every process shares, and its processes."""

    tmp: Path
    env: dict[str, str]
    database_url: str
    cafile: Path
    proxy: int  # nginx, balancing over both instances
    only: dict[str, int]  # nginx ports that reach one instance only ("a", "b")
    instances: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run a `vendorcheck` command with the stack's settings."""
        return subprocess.run([str(BIN / "vendorcheck"), *args], cwd=ROOT, env=self.env, text=True,
                              capture_output=True, timeout=300)

    def kill(self, name: str) -> None:
        """Kill an app instance at once, master and workers (kill -9)."""
        proc = self.instances[name]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def alive(self, name: str) -> bool:
        """Return whether an app instance still runs."""
        return self.instances[name].poll() is None


# --- the parts (certificate, database, processes and nginx come from benchmarks/stack.py) ----------




def _environment(database_url: str, redis_url: str, s3_endpoint: str, bucket: str, proxy: int,
                 tmp: Path) -> dict[str, str]:
    """Return the settings every process of the stack shares (production mode)."""
    from tests.support.s3 import CREDENTIALS

    return {**os.environ, **CREDENTIALS,
            "VENDORCHECK_ENV": "production",
            "VENDORCHECK_SECRET_KEY": uuid.uuid4().hex + uuid.uuid4().hex,
            "VENDORCHECK_SQLALCHEMY_DATABASE_URI": database_url,
            "VENDORCHECK_REDIS_URL": redis_url,
            "VENDORCHECK_STORAGE_BACKEND": "s3",
            "VENDORCHECK_STORAGE_S3_BUCKET": bucket,
            "VENDORCHECK_STORAGE_S3_ENDPOINT_URL": s3_endpoint,
            "VENDORCHECK_STORAGE_S3_ADDRESSING_STYLE": "path",
            "VENDORCHECK_BASE_URL": f"https://127.0.0.1:{proxy}",
            "VENDORCHECK_PROXY_COUNT": "1",
            "VENDORCHECK_INSTANCES": "2",
            "VENDORCHECK_REPORT_WORKERS": "1",
            "VENDORCHECK_INSTANCE_PATH": str(tmp / "instance"),
            "PYTHONUNBUFFERED": "1"}


def _seed(env: dict[str, str]) -> None:
    """Create the schema through the migrations, then a buyer, a vendor and an in-progress assessment."""
    subprocess.run([str(BIN / "vendorcheck"), "init-db"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=300)
    script = ("from vendorcheck import create_app\n"
              "from benchmarks.seed import seed_journey\n"
              "print(seed_journey(create_app()).assessment_id)\n")
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True, capture_output=True,
                   timeout=300)


@contextmanager
def running_stack(tmp: Path) -> Iterator[Stack]:
    """Start the whole stack in `tmp`; yield it; stop everything and drop its data."""
    from tests.support.s3 import CREDENTIALS, new_bucket, serve_s3

    with ExitStack() as stack:
        stack.enter_context(mock.patch.dict(os.environ, CREDENTIALS))  # this process talks to S3 too
        database_url = stack.enter_context(parts.database(PG_ADMIN_URL, "vc_deploy"))
        redis_url = stack.enter_context(parts.emptied_redis(REDIS_URL))
        s3_endpoint = stack.enter_context(serve_s3())
        bucket = new_bucket(s3_endpoint)
        cert, key = parts.certificate(tmp)
        ports = {"a": free_port(), "b": free_port()}
        proxy, only = free_port(), {"a": free_port(), "b": free_port()}
        env = _environment(database_url, redis_url, s3_endpoint, bucket, proxy, tmp)
        _seed(env)
        running = Stack(tmp, env, database_url, cert, proxy, only)
        for name, port in ports.items():
            log = tmp / f"app-{name}.log"
            proc = stack.enter_context(parts.process(_serve_command(port), env, log))
            running.instances[name] = proc
            parts.wait_http(port, proc, log)
        worker_log = tmp / "worker.log"
        stack.enter_context(parts.process([str(BIN / "vendorcheck"), "worker"], env, worker_log))
        stack.enter_context(parts.nginx(tmp, env, cert, key, *_nginx_routes(ports, proxy, only)))
        yield running


def _nginx_routes(ports: dict[str, int], proxy: int, only: dict[str, int]
                  ) -> tuple[dict[str, str], list[tuple[int, str]]]:
    """Return nginx's upstreams (both instances balanced, and each alone) and its TLS servers."""
    balanced = " ".join(f"server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;" for p in ports.values())
    upstreams = {"app": balanced, **{name: f"server 127.0.0.1:{port};" for name, port in ports.items()}}
    return upstreams, [(proxy, "app"), *[(only[name], name) for name in ports]]


def _serve_command(port: int) -> list[str]:
    """Return the documented production command for one app instance (two workers)."""
    return [str(BIN / "vendorcheck"), "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"]


def sql(stack: Stack, query: str, **params: Any) -> list[Any]:
    """Run one read query on the stack's database."""
    from sqlalchemy import create_engine, text

    engine = create_engine(stack.database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(query), params))
    finally:
        engine.dispose()
