"""The `vendorcheck` command line (a FlaskGroup, so `flask ...` works from the repo root too)."""

from __future__ import annotations

import copy
import functools
import os
from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup, run_command

from vendorcheck.commands.questionnaires import questionnaires_group, score_command
from vendorcheck.commands.serving import serve_command, worker_command


def init_app(app: Flask) -> None:
    """Register every area's commands on the app's CLI (the app-free ones are on `main` too)."""
    from vendorcheck.commands import APP_COMMANDS

    for command in APP_COMMANDS:
        app.cli.add_command(command)


def _create_app() -> Flask:
    """Build the app for the console script."""
    from vendorcheck import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app)
def main() -> None:
    """vendorcheck: GDPR processor due diligence."""


def dev_origin(host: str, port: int) -> str:
    """Return the URL a browser on this machine uses for a development server on host:port."""
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - naming the wildcard, not binding to it
        host = "127.0.0.1"  # listening everywhere: e-mailed links still need one reachable name
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _run_with_base_url() -> click.Command:
    """Flask's `run`, whose BASE_URL (mailed links, certificate name) follows --host/--port when unset."""
    command = copy.copy(run_command)
    serve = command.callback
    assert serve is not None

    @functools.wraps(serve)
    def run(*args: Any, **kwargs: Any) -> Any:
        os.environ.setdefault("VENDORCHECK_BASE_URL", dev_origin(kwargs["host"], kwargs["port"]))
        return serve(*args, **kwargs)

    command.callback = run
    return command


main.add_command(_run_with_base_url(), "run")
# These work without building the app, so a broken questionnaire file can still be diagnosed.
main.add_command(questionnaires_group)
main.add_command(score_command)
# The production processes build the app themselves (serve: once to check it, then in each gunicorn worker).
main.add_command(serve_command)
main.add_command(worker_command)
