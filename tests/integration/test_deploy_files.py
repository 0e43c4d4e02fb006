"""The files of the reference deployment (deploy/, docs/deploy.md) agree with the app and are valid."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import make_config
from vendorcheck import create_app, storage
from vendorcheck.cli import main
from vendorcheck.config import Config
from vendorcheck.gunicorn_conf import worker_timeout
from vendorcheck.storage import LocalStore

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
NGINX = (DEPLOY / "nginx" / "vendorcheck.conf").read_text()
UNITS = sorted((DEPLOY / "systemd").iterdir())

# Redis index 6 is shared by these modules: `make test` runs them on one pytest-xdist worker.
pytestmark = [pytest.mark.usefixtures("limiter_restored"), pytest.mark.xdist_group("redis-db-6")]


def _env_file() -> dict[str, str]:
    """Read deploy/vendorcheck.env.example as systemd does (single quotes taken literally)."""
    values = {}
    for line in (DEPLOY / "vendorcheck.env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _sep, value = line.partition("=")
            values[name] = shlex.split(value)[0] if value else ""
    return values


def test_nginx_takes_what_the_app_takes_and_waits_longer_than_gunicorn() -> None:
    size = re.search(r"client_max_body_size (\d+)m;", NGINX)
    assert size and int(size.group(1)) * 1024 * 1024 == Config.MAX_CONTENT_LENGTH
    read = re.search(r"proxy_read_timeout (\d+)s;", NGINX)
    assert read and int(read.group(1)) > worker_timeout({})
    for header in ("Host $host", "X-Forwarded-For $proxy_add_x_forwarded_for", "X-Forwarded-Proto $scheme"):
        assert f"proxy_set_header {header};" in NGINX
    log_format = NGINX.split("log_format")[1].split(";")[0]
    assert "$request " not in log_format and "$args" not in log_format and "$request_uri" not in log_format


def test_the_example_settings_start_in_production(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = _env_file()
    assert env["VENDORCHECK_ENV"] == "production" and env["VENDORCHECK_PROXY_COUNT"] == "1"
    assert env["VENDORCHECK_SQLALCHEMY_DATABASE_URI"].startswith("postgresql://")
    assert env["VENDORCHECK_REDIS_URL"]
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("VENDORCHECK_REDIS_URL", "redis://127.0.0.1:6379/6")  # this branch's Redis index
    monkeypatch.setenv("VENDORCHECK_INSTANCE_PATH", str(tmp_path / "state"))
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    monkeypatch.setitem(storage.BACKENDS, "local", lambda app: LocalStore.under(tmp_path / "state"))
    app = create_app()  # no database connection at boot: the URL's server need not exist
    assert app.config["TRUSTED_HOSTS"] == ["vendorcheck.example.com"]
    assert app.config["MAIL_SENDER"] == "vendorcheck <no-reply@vendorcheck.example.com>"
    assert app.config["WEB_CONCURRENCY"] == 4 and app.config["PROXY_COUNT"] == 1
    assert create_app(make_config(tmp_path, ENV="development"))  # and the test settings still win


@pytest.mark.parametrize("unit", [u for u in UNITS if u.suffix == ".service"], ids=lambda u: u.name)
def test_every_command_the_units_run_exists(unit: Path) -> None:
    lines = unit.read_text().splitlines()
    commands = [line.split("=", 1)[1] for line in lines if line.startswith("ExecStart=")]
    assert commands
    for command in commands:
        program, *args = shlex.split(command)
        assert program == "/opt/vendorcheck/venv/bin/vendorcheck"
        result = CliRunner().invoke(main, [*args, "--help"])
        assert result.exit_code == 0, (command, result.output)


def test_the_guide_installs_every_deploy_file() -> None:
    guide = (ROOT / "docs" / "deploy.md").read_text()
    for path in [*UNITS, DEPLOY / "nginx" / "vendorcheck.conf", DEPLOY / "vendorcheck.env.example",
                 DEPLOY / "vendorcheck-admin"]:
        assert str(path.relative_to(ROOT)) in guide or f"deploy/systemd/{path.name}" in guide, path.name


def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed")
    script = Path(sys.executable).parent / "vendorcheck"
    (tmp_path / "settings.env").write_text("VENDORCHECK_ENV=production\n")
    for unit in UNITS:  # paths of this machine, a user that exists: what verify checks
        text = (unit.read_text().replace("/opt/vendorcheck/venv/bin/vendorcheck", str(script))
                .replace("/etc/vendorcheck/vendorcheck.env", str(tmp_path / "settings.env"))
                .replace("/opt/vendorcheck/app", str(ROOT))
                .replace("User=vendorcheck", "User=root").replace("Group=vendorcheck", "Group=root"))
        (tmp_path / unit.name).write_text(text)
    units = sorted(str(path) for path in tmp_path.glob("vendorcheck*"))
    result = subprocess.run(["systemd-analyze", "verify", *units], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_nginx_accepts_the_site(tmp_path: Path) -> None:
    if not shutil.which("nginx") or not shutil.which("openssl"):
        pytest.skip("nginx or openssl is not installed")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=vendorcheck.example.com", "-keyout", str(tmp_path / "key.pem"),
                    "-out", str(tmp_path / "cert.pem")], capture_output=True, check=True)
    live = "/etc/letsencrypt/live/vendorcheck.example.com"
    site = (NGINX.replace(f"{live}/fullchain.pem", str(tmp_path / "cert.pem"))
            .replace(f"{live}/privkey.pem", str(tmp_path / "key.pem"))
            .replace("/var/log/nginx/", f"{tmp_path}/"))
    (tmp_path / "site.conf").write_text(site)
    temp = " ".join(f"{kind}_temp_path {tmp_path}/{kind};" for kind in ("client_body", "proxy", "fastcgi",
                                                                          "uwsgi", "scgi"))
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{ {temp} include {tmp_path}/site.conf; }}\n")
    result = subprocess.run(["nginx", "-t", "-c", str(tmp_path / "nginx.conf")], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stderr
