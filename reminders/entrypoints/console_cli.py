"""`reminders console` (the web console) and `reminders console-user` (its users and their
roles per municipality). User administration is done here, by whoever runs the installation,
and written to the console's activity log like any console action."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from reminders.adapters.crypto.passwords import Argon2Passwords
from reminders.bootstrap import console_transaction, open_engine, utc_now
from reminders.config import Settings, load_settings
from reminders.domain.console_access import Grant, Role
from reminders.entrypoints.options import ReportingGroup, checked_host, config_option
from reminders.errors import UsageError
from reminders.services import console_accounts
from reminders.services.ports import ConsoleTransaction


@click.command()
@config_option
@click.option(
    "--host",
    default=None,
    callback=checked_host,
    help="Address to listen on (default: [console] host).",
)
@click.option("--port", type=click.IntRange(1, 65_535), default=None, help="Port to listen on.")
def console(config_path: Path, host: str | None, port: int | None) -> None:
    """The web console for civil-affairs staff and auditors. It listens on 127.0.0.1 unless
    told otherwise; put a reverse proxy with TLS in front of it for other machines."""
    import uvicorn  # only this command serves HTTP

    from reminders.entrypoints.console.app import create_app

    settings = load_settings(config_path)
    app = create_app(settings)
    options = settings.console
    chosen_host, chosen_port = host or options.host, port or options.port
    click.echo(f"reminders console on http://{chosen_host}:{chosen_port}/ (Ctrl-C stops it)")
    # No access log: URLs carry document numbers; the console's activity log says who did what.
    uvicorn.run(
        app,
        host=chosen_host,
        port=chosen_port,
        access_log=False,
        log_level="warning",
        server_header=False,
    )


@click.group(name="console-user", cls=ReportingGroup)
def console_user() -> None:
    """The console's users and their roles per municipality (staff, auditor)."""


def _actor() -> str:
    return f"cli:{getpass.getuser()}"[:40]


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = click.prompt("Password", hide_input=True)
    if click.prompt("Password again", hide_input=True) != first:
        raise UsageError("the two passwords differ")
    return str(first)


_password_stdin = click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (scripts)."
)


@contextmanager
def _accounts(config_path: Path) -> Iterator[tuple[Settings, ConsoleTransaction]]:
    """The configuration, and transactions on its database's console tables."""
    settings = load_settings(config_path)
    engine = open_engine(settings.database_url)
    try:
        yield settings, console_transaction(engine)
    finally:
        engine.dispose()


@console_user.command()
@config_option
@click.argument("username")
@_password_stdin
def add(config_path: Path, username: str, password_stdin: bool) -> None:
    """Add a user (no roles yet: see `grant`)."""
    with _accounts(config_path) as (_, accounts):
        password = _read_password(password_stdin)
        console_accounts.add_user(
            accounts, Argon2Passwords(), username, password, by=_actor(), now=utc_now()
        )
    click.echo(f"Added console user {username}.")


@console_user.command()
@config_option
@click.argument("username")
@_password_stdin
def password(config_path: Path, username: str, password_stdin: bool) -> None:
    """Set a user's password; their sessions end."""
    with _accounts(config_path) as (_, accounts):
        new = _read_password(password_stdin)
        console_accounts.set_password(
            accounts, Argon2Passwords(), username, new, by=_actor(), now=utc_now()
        )
    click.echo(f"Set the password of {username}; their sessions have ended.")


@console_user.command()
@config_option
@click.argument("username")
@click.option("--municipality", "nis_code", required=True, help="The municipality (NIS code).")
@click.option("--role", type=click.Choice([role.value for role in Role]), required=True)
@click.option("--reveal", is_flag=True, help="An auditor who may reveal national numbers.")
def grant(config_path: Path, username: str, nis_code: str, role: str, reveal: bool) -> None:
    """Give a user a role in a municipality."""
    with _accounts(config_path) as (settings, accounts):
        municipality = settings.municipality(nis_code)
        console_accounts.grant_role(
            accounts,
            username,
            Grant(municipality.nis_code, Role(role), reveal),
            by=_actor(),
            now=utc_now(),
        )
    extra = " (may reveal national numbers)" if reveal else ""
    click.echo(f"{username} is {role} in {municipality.nis_code} {municipality.name}{extra}.")


@console_user.command()
@config_option
@click.argument("username")
@click.option("--municipality", "nis_code", required=True, help="The municipality (NIS code).")
@click.option("--role", type=click.Choice([role.value for role in Role]), required=True)
def revoke(config_path: Path, username: str, nis_code: str, role: str) -> None:
    """Take a role away; the user's sessions end."""
    with _accounts(config_path) as (_, accounts):
        console_accounts.revoke_role(
            accounts, username, nis_code, Role(role), by=_actor(), now=utc_now()
        )
    click.echo(f"{username} is no longer {role} in {nis_code}.")


@console_user.command()
@config_option
@click.argument("username")
@click.option("--enable", is_flag=True, help="Enable a disabled user again.")
def disable(config_path: Path, username: str, enable: bool) -> None:
    """Disable a user (their sessions end at once), or enable them again."""
    with _accounts(config_path) as (_, accounts):
        console_accounts.set_disabled(accounts, username, not enable, by=_actor(), now=utc_now())
    click.echo(f"{username} is {'enabled' if enable else 'disabled'}.")


@console_user.command(name="list")
@config_option
def list_users(config_path: Path) -> None:
    """The users and their roles."""
    with _accounts(config_path) as (_, accounts), accounts() as store:
        users = store.users()
    if not users:
        click.echo("No console users yet: add one with `reminders console-user add NAME`.")
    for user, grants in users:
        roles = ", ".join(
            f"{g.role} {g.municipality_nis}{' (reveal)' if g.may_reveal else ''}" for g in grants
        )
        state = " [disabled]" if user.disabled else ""
        click.echo(f"{user.username}{state}: {roles or 'no roles'}")
