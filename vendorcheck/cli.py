"""The `vendorcheck` command line (a FlaskGroup, so `flask ...` works from the repo root too).

Every command is registered on `main` itself and builds the app only when it runs (`with_appcontext`),
so `vendorcheck --help` and `vendorcheck <group> --help` start in Flask's import time, not the app's.
"""

from __future__ import annotations

import copy
import functools
import os
import pkgutil
from gettext import gettext
from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup, run_command

from vendorcheck.commands import APP_COMMANDS
from vendorcheck.commands.serving import serve_command, worker_command

# Commands our extensions add to `app.cli` (Flask-Migrate, flask-smorest) or to every Flask command line
# (Flask-Limiter's plugin), with their one-line help. Importing them loads Alembic and SQLAlchemy, marshmallow
# or rich, so `--help` lists them by this help and imports one only when it is run or asked for (a test
# checks the text against theirs).
EXTENSION_COMMANDS: dict[str, tuple[str, str]] = {
    "db": ("flask_migrate.cli:db", "Perform database migrations."),
    "limiter": ("flask_limiter.commands:cli", "Flask-Limiter maintenance & utility commands"),
    "openapi": ("flask_smorest.spec:openapi_cli", "OpenAPI commands."),
}


def init_app(app: Flask) -> None:
    """Register every area's commands on the app's CLI too, for `flask ...` (FLASK_APP=wsgi.py)."""
    for command in APP_COMMANDS:
        app.cli.add_command(command)


def _create_app() -> Flask:
    """Build the app for the console script."""
    from vendorcheck import create_app

    return create_app()


class CommandGroup(FlaskGroup):
    """Flask's command group, listing and finding the commands it knows without building the app."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Name every command: ours, Flask's and the extensions' (the app adds no other)."""
        return sorted({*self.commands, *EXTENSION_COMMANDS})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        """Return a known command, importing an extension's on first use; ask the app only for others."""
        if name not in self.commands and name in EXTENSION_COMMANDS:
            self.add_command(pkgutil.resolve_name(EXTENSION_COMMANDS[name][0]), name)
        if name in self.commands:
            return self.commands[name]
        return super().get_command(ctx, name)  # a name we do not know: Flask builds the app to look

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands as Click does, an extension's not yet imported by its known one-line help."""
        listed = [(name, self._listed_command(ctx, name)) for name in self.list_commands(ctx)]
        shown = [(name, command) for name, command in listed if command is not None and not command.hidden]
        if not shown:
            return
        limit = formatter.width - 6 - max(len(name) for name, _command in shown)
        with formatter.section(gettext("Commands")):  # Click's own title, in Click's translation domain
            formatter.write_dl([(name, command.get_short_help_str(limit)) for name, command in shown])

    def _listed_command(self, ctx: click.Context, name: str) -> click.Command | None:
        """The command itself once imported, else a stand-in carrying an extension command's help."""
        if name not in self.commands and name in EXTENSION_COMMANDS:
            return click.Command(name, help=EXTENSION_COMMANDS[name][1])
        return self.get_command(ctx, name)


@click.group(cls=CommandGroup, create_app=_create_app)
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
# Each builds the app when it runs (with_appcontext); questionnaires and score never do, so a broken
# questionnaire file can still be diagnosed.
for _command in APP_COMMANDS:
    main.add_command(_command)
# The production processes build the app themselves (serve: once to check it, then in each gunicorn worker).
main.add_command(serve_command)
main.add_command(worker_command)
