"""The command line, one module per area; `vendorcheck.cli` registers them all from here."""

from __future__ import annotations

import click

from vendorcheck.commands.audit import audit_group
from vendorcheck.commands.database import init_db
from vendorcheck.commands.demo import demo_command
from vendorcheck.commands.dpa import dpa_group
from vendorcheck.commands.mail import mail_group
from vendorcheck.commands.questionnaires import questionnaires_group, score_command
from vendorcheck.commands.reminders import reminders_group
from vendorcheck.commands.reports import report_group
from vendorcheck.commands.scale import seed_scale_command
from vendorcheck.commands.sessions import sessions_group
from vendorcheck.commands.storage import storage_group
from vendorcheck.commands.tokens import tokens_group
from vendorcheck.commands.webhooks import webhooks_group

# Every area's command, on `main` and app.cli; all but questionnaires and score build the app when run.
APP_COMMANDS: tuple[click.Command, ...] = (
    questionnaires_group, score_command, init_db, demo_command, mail_group, audit_group, report_group,
    reminders_group, dpa_group, storage_group, sessions_group, webhooks_group, tokens_group,
    seed_scale_command,
)
