"""`vendorcheck serve` (gunicorn with our settings) and `vendorcheck worker` (RQ): the production processes.

Both build the app once first, so a setting production refuses stops them with one clear line instead of
a worker's traceback. See docs/deploy.md.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

import click
from flask import Flask

APP_SPEC = "vendorcheck:create_app()"  # gunicorn calls the factory in each worker (preload is off)
GUNICORN_CONF = "python:vendorcheck.gunicorn_conf"  # also what the top-level gunicorn.conf.py reads


def gunicorn_argv(*, bind: str | None = None, workers: int | None = None) -> list[str]:
    """Return the gunicorn command line: our settings file, then what the options override."""
    argv = [sys.executable, "-m", "gunicorn", "--config", GUNICORN_CONF]
    if bind:
        argv += ["--bind", bind]
    if workers:
        argv += ["--workers", str(workers)]
    return [*argv, APP_SPEC]


def serve_environment(environ: Mapping[str, str], workers: int | None) -> dict[str, str]:
    """Return the environment gunicorn runs in: WEB_CONCURRENCY says how many workers there will be."""
    from vendorcheck.gunicorn_conf import worker_count

    env = dict(environ)
    env["WEB_CONCURRENCY"] = str(workers or worker_count(environ))
    return env


def _build_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app as a worker will, turning a refused setting into one line on stderr."""
    from vendorcheck import create_app

    try:
        return create_app(config)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None


@click.command("serve")
@click.option("--bind", metavar="ADDRESS", default=None,
              help="host:port or unix:PATH to listen on (default: VENDORCHECK_BIND, else 127.0.0.1:8000).")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Worker processes (default: WEB_CONCURRENCY, else 2 x cores + 1, at most 8).")
def serve_command(bind: str | None, workers: int | None) -> None:
    """Serve the app with gunicorn and vendorcheck/gunicorn_conf.py (production)."""
    try:
        env = serve_environment(os.environ, workers)
    except RuntimeError as exc:  # a WEB_CONCURRENCY that is not a number
        raise click.ClickException(str(exc)) from None
    _build_app({"WEB_CONCURRENCY": int(env["WEB_CONCURRENCY"])})  # checked as the workers will be
    argv = gunicorn_argv(bind=bind, workers=workers)
    # gunicorn takes this process's place (and its pid, for systemd); argv is ours, not user input.
    os.execve(argv[0], argv, env)  # noqa: S606


def build_worker(app: Flask, connection: Any = None) -> Any:
    """Return an RQ worker on every queue the app enqueues on, running its jobs in `app`."""
    from redis import Redis
    from rq import Worker

    from vendorcheck import jobs

    jobs.use_app(app)
    redis = connection if connection is not None else Redis.from_url(app.config["REDIS_URL"])
    return Worker(list(jobs.queue_names()), connection=redis)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop once the queues are empty (instead of waiting for jobs).")
def worker_command(burst: bool) -> None:
    """Run background jobs (mail, reminders, evidence packs) from Redis, with RQ's scheduler."""
    app = _build_app()
    if not app.config.get("REDIS_URL"):
        raise click.ClickException(
            "VENDORCHECK_REDIS_URL is not set: the worker takes its jobs from Redis. Without Redis the web "
            "processes send mail and build packs themselves, and no worker is needed.")
    try:
        worker = build_worker(app)
        worker.connection.ping()
    except Exception as exc:  # a wrong URL or Redis down: one clear line, no traceback
        raise click.ClickException(f"Cannot reach Redis at VENDORCHECK_REDIS_URL: {exc}") from None
    click.echo(f"Worker on queues {', '.join(worker.queue_names())}.")
    worker.work(burst=burst, with_scheduler=True)
