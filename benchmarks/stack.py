"""Parts of a production-shaped stack on 127.0.0.1, shared by the proxy bench and tests/deploy.

A self-signed certificate, a PostgreSQL database of our own (created, then dropped), processes started
in a session of their own (stopped with their children), waiting for a server to answer, and nginx's
TLS configuration as docs/deploy.md describes it. Every process binds 127.0.0.1.
"""

from __future__ import annotations

import datetime as dt
import http.client
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
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
MAX_BODY = "26m"  # MAX_CONTENT_LENGTH (25 MB) plus the multipart envelope
START_TIMEOUT = 90.0  # seconds a server may take to answer for the first time
STOP_WAIT = 10.0  # seconds a stopped process may take before it is killed


def free_port() -> int:
    """Return a port nobody listens on at 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def certificate(tmp: Path) -> tuple[Path, Path]:
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
def database(admin_url: str, prefix: str) -> Iterator[str]:
    """Create a PostgreSQL database named `prefix` + a random tail; yield its URL; drop it afterwards."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def emptied_redis(url: str) -> Iterator[str]:
    """Yield the URL of an emptied Redis database index; empty it again afterwards."""
    from redis import Redis

    client = Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


@contextmanager
def process(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
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
                proc.wait(timeout=STOP_WAIT)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def wait_http(port: int, proc: subprocess.Popen[bytes], log: Path, *, tls: Path | None = None,
              path: str = "/healthz") -> None:
    """Wait until a server answers 200 on `path`; fail with its log if it died or never did."""
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


def nginx_conf(tmp: Path, cert: Path, key: Path, upstreams: dict[str, str],
               servers: list[tuple[int, str]]) -> Path:
    """Write nginx's configuration: TLS servers (port, upstream name) proxying to the named upstreams.

    `upstreams` maps a name to its `server ...;` lines.
    """
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read the temp folders we own
    blocks = "".join(f"  upstream {name} {{ {lines} }}\n" for name, lines in upstreams.items())
    blocks += "".join(nginx_server(port, upstream, cert, key) for port, upstream in servers)
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
{blocks}}}
""")
    return conf


def nginx_server(port: int, upstream: str, cert: Path, key: Path) -> str:
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


@contextmanager
def nginx(tmp: Path, env: dict[str, str], cert: Path, key: Path, upstreams: dict[str, str],
          servers: list[tuple[int, str]]) -> Iterator[subprocess.Popen[bytes]]:
    """Run nginx with that configuration until the first server answers /healthz over TLS; stop it after."""
    conf = nginx_conf(tmp, cert, key, upstreams, servers)
    with process([NGINX, "-c", str(conf), "-p", str(tmp)], env, tmp / "nginx.out") as proc:
        wait_http(servers[0][0], proc, tmp / "nginx-error.log", tls=cert)
        yield proc
