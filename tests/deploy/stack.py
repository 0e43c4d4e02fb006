"""A production-shaped stack on 127.0.0.1 for the deployment test.

nginx (TLS) in front of two app instances (gunicorn, two workers each), one RQ worker, PostgreSQL (a
database of its own, dropped at the end), Redis (one database index, emptied before and after) and an S3
API server (moto). Every process binds 127.0.0.1 and is stopped when the stack closes.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PG_ADMIN_URL = os.environ.get("VENDORCHECK_DEPLOY_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("VENDORCHECK_DEPLOY_REDIS_URL", "redis://127.0.0.1:6379/13")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
MAX_BODY = "26m"  # MAX_CONTENT_LENGTH (25 MB) plus the multipart envelope
START_TIMEOUT = 90.0  # seconds a server may take to answer for the first time


def free_port() -> int:
    """Return a port nobody listens on at 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


# --- the parts -------------------------------------------------------------------------------------


def _certificate(tmp: Path) -> tuple[Path, Path]:
    """Write a self-signed certificate for 127.0.0.1; return (certificate, key) paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp / "proxy.crt", tmp / "proxy.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@contextmanager
def _database() -> Iterator[str]:
    """Create a PostgreSQL database of our own; yield its URL; drop it afterwards."""
    import psycopg

    name = f"vc_deploy_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def _redis() -> Iterator[str]:
    """Yield the Redis URL of an emptied database index; empty it again afterwards."""
    from redis import Redis

    client = Redis.from_url(REDIS_URL)
    client.flushdb()
    try:
        yield REDIS_URL
    finally:
        client.flushdb()
        client.close()


@contextmanager
def _process(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Start a process in a session of its own (so its children can be stopped with it); stop it after."""
    with log.open("wb") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _wait_http(port: int, proc: subprocess.Popen[bytes], log: Path, *, tls: Path | None = None,
               path: str = "/healthz") -> None:
    """Wait until a server answers 200 on `path`; fail with its log if it died or never did."""
    import http.client

    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        if tls is not None:
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                "127.0.0.1", port, timeout=5, context=ssl.create_default_context(cafile=str(tls)))
        else:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.2)
    raise RuntimeError(f"{proc.args[0]} did not answer on port {port}:\n{log.read_text()[-3000:]}")


def _nginx_conf(tmp: Path, cert: Path, key: Path, ports: dict[str, int], proxy: int,
                only: dict[str, int]) -> Path:
    """Write nginx's configuration: TLS, forwarded headers, one balanced server and one per instance."""
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read the temp folders we own
    upstreams = "".join(
        f"  upstream {name} {{ {servers} }}\n"
        for name, servers in [("app", " ".join(f"server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;"
                                               for p in ports.values())),
                              *[(n, f"server 127.0.0.1:{p};") for n, p in ports.items()]])
    servers = "".join(_nginx_server(port, upstream, cert, key)
                      for port, upstream in [(proxy, "app"), *[(only[n], n) for n in ports]])
    conf = tmp / "nginx.conf"
    conf.write_text(f"""{user}worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 512; }}
http {{
  access_log {tmp}/nginx-access.log;
  client_body_temp_path {tmp}/nginx-body;
  proxy_temp_path {tmp}/nginx-proxy;
  fastcgi_temp_path {tmp}/nginx-fastcgi;
  uwsgi_temp_path {tmp}/nginx-uwsgi;
  scgi_temp_path {tmp}/nginx-scgi;
  client_max_body_size {MAX_BODY};
{upstreams}{servers}}}
""")
    return conf


def _nginx_server(port: int, upstream: str, cert: Path, key: Path) -> str:
    """Return one TLS server block that proxies to an upstream, as docs/deploy.md describes."""
    return f"""  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    location / {{
      proxy_pass http://{upstream};
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $http_host;
      proxy_next_upstream error timeout;
      proxy_read_timeout 120s;
    }}
  }}
"""


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
        database_url = stack.enter_context(_database())
        redis_url = stack.enter_context(_redis())
        s3_endpoint = stack.enter_context(serve_s3())
        bucket = new_bucket(s3_endpoint)
        cert, key = _certificate(tmp)
        ports = {"a": free_port(), "b": free_port()}
        proxy, only = free_port(), {"a": free_port(), "b": free_port()}
        env = _environment(database_url, redis_url, s3_endpoint, bucket, proxy, tmp)
        _seed(env)
        running = Stack(tmp, env, database_url, cert, proxy, only)
        for name, port in ports.items():
            log = tmp / f"app-{name}.log"
            proc = stack.enter_context(_process(_serve_command(port), env, log))
            running.instances[name] = proc
            _wait_http(port, proc, log)
        worker_log = tmp / "worker.log"
        stack.enter_context(_process([str(BIN / "vendorcheck"), "worker"], env, worker_log))
        conf = _nginx_conf(tmp, cert, key, ports, proxy, only)
        nginx_log = tmp / "nginx-error.log"
        nginx_command = [NGINX, "-c", str(conf), "-p", str(tmp)]
        nginx = stack.enter_context(_process(nginx_command, env, tmp / "nginx.out"))
        _wait_http(proxy, nginx, nginx_log, tls=cert)
        yield running


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
