"""Whatever is typed, the console and the command line answer with a page or a message: no
HTTP 500, no traceback, the security headers on every response, and only the documented exit
statuses (0, 1, 2, 3). Hypothesis throws arbitrary strings and integers at every console
route's path and query parameters (as staff and as auditor) and at every command's options
(through click's CliRunner), on SQLite and PostgreSQL (issue 18, item 3).

One registry per engine and module (imported, run once, with the console's users), so the
examples cost milliseconds; each test draws a modest number of them. The console's signer
(`reminders console-signer`, which the console starts as a child process for each answer that
signs the log) runs in this process: the same command on the same request, read back the same
way, without a Python start per example.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import click
import httpx2
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from reminders.adapters.db.engine import make_engine
from reminders.bootstrap import console_transaction
from reminders.domain.console_access import Grant, Role
from reminders.entrypoints.cli import main
from reminders.entrypoints.console import signer_child
from reminders.entrypoints.console.run_launcher import RunLauncher
from reminders.services.console_accounts import add_user, grant_role
from tests.conftest import ENGINES, REPO, empty_database, example_config
from tests.console_support import (
    BRUSSELS,
    GENT,
    PASSWORD,
    add_users,
    cheap_passwords,
    console_app,
    csrf_of,
    log_in,
    night_clock,
)
from tests.e2e.test_print_volumes import HOLDINGS, RUN_DATE, registry_files, with_print

EXAMPLES = 8  # per console route
SECURITY_HEADERS = ("content-security-policy", "x-frame-options", "x-content-type-options")
EXIT_STATUSES = {0, 1, 2, 3}
STAFF, AUDITOR = "staff.gent", "audit.gent"  # the console's users (tests/console_support.py)
APPROVER = "approve.gent"  # added here: an approver of Gent (issue 21)

# -- what is thrown -----------------------------------------------------------------------------

# Any text but surrogates, which no URL or command line can carry (HTTP clients refuse to
# encode them; argv is bytes decoded by the OS).
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
# Mostly beyond a database's integers, either way.
INTEGERS = st.one_of(st.integers(2**31, 2**80), st.integers(-(2**80), 2**31)).map(str)
DATES = st.builds(
    "{:04d}-{:02d}-{:02d}".format,
    st.integers(0, 9999),
    st.integers(0, 13),
    st.integers(0, 32),
)
# What has broken such code before: digits int() refuses, numbers and dates out of range,
# characters a database refuses.
NUMBERISH = st.one_of(
    st.integers(2**31, 2**63).map(str),  # beyond PostgreSQL's INTEGER
    st.integers(2**63, 2**90).map(str),  # beyond SQLite's
    st.integers(-(2**80), -1).map(str),
    st.sampled_from(
        ["²", "٣", "0", "2147483647", "9999999999999999999999999", "nan", "inf", "1e3", "0x10",
         "1_000", " 7 ", "", "\x00"]
    ),
    TEXT,
)  # fmt: skip
DATEISH = st.one_of(
    st.sampled_from(["9999-12-31", "0001-01-01"]),  # where date arithmetic overflows
    st.sampled_from(
        ["1899-12-31", "1900-01-01", "2199-12-31", "2200-01-01", "2026-02-30", "20261125",
         "2026-W48-3", "2026-11-25T10:00", "", "\x00"]
    ),
    DATES,
    TEXT,
)  # fmt: skip
OTHER = st.one_of(
    TEXT,
    INTEGERS,
    DATES,
    st.sampled_from(["\x00", "a\nb", "x" * 300, "", " ", RUN_DATE, GENT, BRUSSELS, "eid"]),
)
NUMBER_NAMES = {
    *("run", "before", "volume_id", "run_id", "volume"),  # the console's
    *("persons", "seed", "port", "concurrency", "wait_seconds", "volume_ids"),  # command line's
}
DATE_NAMES = {"from", "to", "date", "started", "as_of", "now_text"}


def thrown_at(name: str) -> st.SearchStrategy[str]:
    """Arbitrary values for parameter ``name``, most of them of the shape it expects."""
    if name in NUMBER_NAMES:
        return NUMBERISH
    if name in DATE_NAMES:
        return DATEISH
    return OTHER


# -- one registry per engine and module --------------------------------------------------------


@dataclass(slots=True)
class World:
    folder: Path
    config_file: Path
    database_url: str
    reference: str  # a letter's reference, for `audit prove`
    proof: Path
    public_key: Path
    clients: dict[str, tuple[TestClient, str]]  # user: a logged-in client and its CSRF token


def cli(world: World, args: list[str], stdin: str | None = None) -> Result:
    return CliRunner().invoke(
        main, args, env={"REMINDERS_DATABASE_URL": world.database_url}, input=stdin
    )


@pytest.fixture(scope="module", params=ENGINES)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("world")
    config_file = example_config(folder)
    with_print(config_file, "workers = 1")  # a handful of letters: no render processes
    shutil.copytree(REPO / "jobs", folder / "jobs")  # for `scheduler --once`
    persons, documents = registry_files()
    (folder / "persons.csv").write_text(persons, encoding="utf-8")
    (folder / "documents.csv").write_text(documents, encoding="utf-8")
    with empty_database(request, folder) as database_url, pytest.MonkeyPatch.context() as patch:
        world = World(folder, config_file, database_url, "", folder / "proof.json", Path(), {})
        config = ["--config", str(config_file)]
        for args in (
            ["init", *config],
            ["import", "persons", str(folder / "persons.csv"), *config],
            ["import", "documents", str(folder / "documents.csv"), *config],
            ["run", "--date", RUN_DATE, *config],
            ["audit", "export", "--format", "jsonl", "--out", str(folder / "log.jsonl"), *config],
        ):
            result = cli(world, args)
            assert result.exit_code == 0, result.output
        exported = (folder / "log.jsonl").read_text(encoding="utf-8").splitlines()
        rows = [json.loads(line) for line in exported]
        world.reference = next(row["reference"] for row in rows if row["event"] == "letter")
        prove = ["audit", "prove", "--letter", world.reference, "--out", str(world.proof)]
        assert cli(world, [*prove, *config]).exit_code == 0
        world.public_key = folder / "var/keys/dispatch-log.pub"
        add_users(database_url, cheap_passwords())
        add_approver(database_url)
        # A run started from the console is not launched: the examples only need the answer.
        patch.setattr(
            RunLauncher, "start", lambda *_a: SimpleNamespace(process=SimpleNamespace(pid=0))
        )
        patch.setattr(signer_child, "subprocess", SignerInThisProcess)
        app = console_app(config_file, database_url, night_clock(RUN_DATE))
        with TestClient(app, follow_redirects=False) as anonymous:
            for user in (STAFF, AUDITOR, APPROVER):
                client = TestClient(app, follow_redirects=False)
                world.clients[user] = (client, log_in_once(client, user))
            world.clients["anonymous"] = (anonymous, "")
            yield world


class SignerInThisProcess:
    """What signer_child.py runs its child with (``subprocess.run``), running `reminders
    console-signer` in this process (click's CliRunner): the same command, request (stdin)
    and environment; its stdout, stderr and exit status handed back to SignerChild as a
    child's, an escaped exception as Python's traceback on stderr and exit 1 (a 500 page).
    The start of Python and of the application, 1.5 s of CPU, was most of each signing
    answer's time (the POST routes: two thirds of this module's). The child process itself is
    tested by tests/e2e/test_console*.py and tests/unit/test_signer_child.py."""

    @staticmethod
    def run(
        command: list[str], *, input: bytes, env: Mapping[str, str], **_options: object
    ) -> subprocess.CompletedProcess[bytes]:
        assert command[1:3] == ["-m", "reminders"], command
        result = CliRunner().invoke(main, command[3:], input=input, env=dict(env))
        stderr = result.stderr_bytes
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            stderr += "".join(traceback.format_exception(result.exception)).encode()
        return subprocess.CompletedProcess(command, result.exit_code, result.stdout_bytes, stderr)


def add_approver(database_url: str) -> None:
    """A console user with the approver role in Gent (the pages after the print)."""
    engine = make_engine(database_url)
    try:
        transaction = console_transaction(engine)
        now = datetime(2027, 1, 1, tzinfo=UTC)
        add_user(transaction, cheap_passwords(), APPROVER, PASSWORD, by="cli:test", now=now)
        grant_role(transaction, APPROVER, Grant(GENT, Role.APPROVER), by="cli:test", now=now)
    finally:
        engine.dispose()


def log_in_once(client: TestClient, user: str) -> str:
    client.follow_redirects = True
    try:
        return log_in(client, user)
    finally:
        client.follow_redirects = False


# -- the console ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str  # with {nis} and the route's own {parameters}
    user: str  # whose role the page needs (the other user is refused, which is tried too)
    fields: tuple[str, ...] = ()  # query parameters (GET) or form fields (POST)

    @property
    def thrown_at(self) -> tuple[str, ...]:
        """Every parameter: the municipality, the path's own, the query's or the form's."""
        own = tuple(name for name in ("volume_id", "run_id") if f"{{{name}}}" in self.path)
        return ("nis", *own, *self.fields) if "{nis}" in self.path else self.fields


# What each parameter expects, for those an example does not throw at.
EXPECTED_FIELDS: Mapping[str, tuple[str, ...]] = {
    "nis": (GENT,),
    "volume_id": ("1",),
    "run_id": ("1",),
    "run": ("1",),
    "before": ("1", "100"),
    "event": ("letter", "skip", "run"),
    "document": (HOLDINGS[0].number,),
    "number": (HOLDINGS[0].number,),
    "stage": ("first", "second"),
    "reason": ("deceased",),
    "from": (RUN_DATE,),
    "to": (RUN_DATE,),
    "date": (RUN_DATE,),
    "started": (RUN_DATE,),
    "kind": ("eid",),
    "outcome": ("letter", "skip"),
    "language": ("nl",),
    "format": ("csv", "jsonl"),
    "confirm": ("yes",),
    "next": ("/", f"/m/{GENT}/log"),
    "reference": (f"{GENT}-000001-000001", f"{GENT}-000001-000001-R1"),
    "volume": ("1",),
    "note": ("lost in the post",),
    "decide_again": ("yes",),
}
LOG_FIELDS = ("event", "run", "document", "stage", "reason", "from", "to", "before")
PREVIEW_FIELDS = ("kind", "number", "stage", "date")
DUE_FIELDS = ("kind", "stage", "outcome", "reason", "language", "number")
ROUTES = (
    Route("GET", "/", STAFF, ("next",)),
    Route("GET", "/login", STAFF, ("next",)),
    Route("GET", "/m/{nis}/configuration", STAFF),
    Route("GET", "/m/{nis}/letters-due", STAFF, DUE_FIELDS),
    Route("GET", "/m/{nis}/preview", STAFF, PREVIEW_FIELDS),
    Route("GET", "/m/{nis}/preview.pdf", STAFF, PREVIEW_FIELDS),
    Route("GET", "/m/{nis}/preview.png", STAFF, PREVIEW_FIELDS),
    Route("GET", "/m/{nis}/runs", STAFF, ("started",)),
    Route("GET", "/m/{nis}/runs/start", STAFF, ("date",)),
    Route("POST", "/m/{nis}/runs/start", STAFF, ("date", "confirm")),
    Route("GET", "/m/{nis}/volumes/{volume_id}", STAFF),
    Route("GET", "/m/{nis}/log", AUDITOR, LOG_FIELDS),
    Route("POST", "/m/{nis}/log", AUDITOR, LOG_FIELDS),
    Route("GET", "/m/{nis}/verification", AUDITOR),
    Route("POST", "/m/{nis}/verification", AUDITOR),
    Route("GET", "/m/{nis}/checkpoint.txt", AUDITOR),
    Route("GET", "/m/{nis}/export", AUDITOR, ("format", "run")),
    Route("POST", "/m/{nis}/export", AUDITOR, ("format", "run")),
    Route("GET", "/m/{nis}/runs/{run_id}/report.pdf", AUDITOR),
    Route("GET", "/m/{nis}/activity", AUDITOR),
    Route("GET", "/m/{nis}/release", APPROVER, ("number",)),
    Route("POST", "/m/{nis}/release/{volume_id}", APPROVER),
    Route("POST", "/m/{nis}/cancel", APPROVER, ("reference", "volume", "note", "decide_again")),
    Route("POST", "/m/{nis}/deliver", APPROVER),
    Route("GET", "/m/{nis}/reprint", STAFF, ("reference",)),
    Route("POST", "/m/{nis}/reprint", STAFF, ("reference", "note")),
    Route("GET", "/m/{nis}/returned", STAFF),
    Route("GET", "/m/{nis}/returned.csv", STAFF),
    Route("GET", "/m/{nis}/letter", AUDITOR, ("reference",)),
)


def test_every_console_route_is_thrown_at() -> None:
    """The table above covers every route of the console (a new one needs a line)."""
    from reminders.entrypoints.console import after_print_pages, audit_pages, staff_pages

    served = {
        (method, route.path)
        for route in (*staff_pages.routes, *audit_pages.routes, *after_print_pages.routes)
        for method in route.methods or ()
    }
    thrown = {(route.method, route.path) for route in ROUTES}
    assert {(m, p) for m, p in served if m != "HEAD"} <= thrown


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_console_routes_answer_any_input_with_a_page(world: World, route: Route) -> None:
    @examples(EXAMPLES)
    @given(data=st.data())
    def thrown(data: st.DataObject) -> None:
        # One parameter gets an arbitrary value, the others are left out or get one the
        # route expects, so that the first refusal does not hide what the others would do.
        other = AUDITOR if route.user != AUDITOR else STAFF
        user = data.draw(st.sampled_from([route.user] * 3 + [other]), label="user")
        client, csrf = world.clients[user]
        target = data.draw(st.sampled_from(route.thrown_at), label="thrown at")
        given: dict[str, str | None] = {}
        for name in route.thrown_at:
            expected = st.sampled_from(EXPECTED_FIELDS[name])
            if name == target:
                given[name] = data.draw(thrown_at(name), label=name)
            elif name in ("nis", "volume_id", "run_id"):
                given[name] = data.draw(expected, label=name)
            else:
                given[name] = data.draw(st.one_of(st.none(), expected), label=name)
        path = route.path.replace("{nis}", quote(given.pop("nis", None) or GENT, safe=""))
        for name in ("volume_id", "run_id"):
            if name in given:
                path = path.replace(f"{{{name}}}", quote(given.pop(name) or "1", safe=""))
        fields = {name: value for name, value in given.items() if value is not None}
        if route.method == "POST":
            response = client.post(path, data={**fields, "csrf_token": csrf})
        else:
            response = client.get(path, params=fields)
        assert_a_page(response, {200, 204, 303, 400, 403, 404})

    thrown()


def assert_a_page(response: httpx2.Response, statuses: set[int]) -> None:
    assert response.status_code in statuses, response.text[:500]
    assert "Traceback" not in response.text
    for header in SECURITY_HEADERS:
        assert header in response.headers


def examples(count: int) -> settings:
    return settings(max_examples=count, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_the_login_form_answers_any_input_with_a_page(world: World) -> None:
    client, _ = world.clients["anonymous"]

    @examples(EXAMPLES)
    @given(username=OTHER, password=OTHER, after=OTHER)
    def thrown(username: str, password: str, after: str) -> None:
        token = csrf_of(client.get("/login").text)
        form = {"username": username, "password": password, "next": after, "csrf_token": token}
        assert_a_page(client.post("/login", data=form), {401})

    thrown()


# -- the command line ----------------------------------------------------------------------------


def subcommand(group: click.Group, name: str) -> click.Command:
    """As click finds it when it runs: `reminders` imports most of its commands on demand."""
    command = group.get_command(click.Context(group), name)
    assert command is not None, name
    return command


def leaf_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name in group.list_commands(click.Context(group)):
        command = subcommand(group, name)
        if isinstance(command, click.Group):
            yield from leaf_commands(command, (*prefix, name))
        else:
            yield (*prefix, name)


def command_of(path: tuple[str, ...]) -> click.Command:
    command: click.Command = main
    for name in path:
        assert isinstance(command, click.Group)
        command = subcommand(command, name)
    return command


COMMANDS = tuple(leaf_commands(main))


def paths(world: World) -> dict[str, st.SearchStrategy[str]]:
    """Files and folders for options that take a path: real ones, missing ones, folders, files
    that are not what is expected, and new names in the world's folder. Never an arbitrary path:
    a command asked to write there would."""
    folder = world.folder
    (folder / "empty.txt").write_text("", encoding="utf-8")
    (folder / "binary.bin").write_bytes(bytes(range(256)))
    existing = [
        str(folder / name)
        for name in ("persons.csv", "documents.csv", "proof.json", "empty.txt", "binary.bin")
    ]
    # Wrong ones stay in the test's folder too: a command that makes folders (init DIR,
    # templates copy) would make a missing one anywhere else.
    wrong = [str(folder / "missing" / "x"), str(folder), str(folder / "empty.txt" / "x"), "", "-"]
    new_names = st.text("abcdefghij.-_", max_size=12).map(lambda name: str(folder / f"new{name}"))
    return {
        "input": st.sampled_from([*existing, str(world.public_key), *wrong]),
        "output": st.one_of(new_names, st.sampled_from(wrong)),
        "config": st.sampled_from([str(world.config_file), *existing, *wrong]),
    }


# Values each option expects, drawn among arbitrary ones; and which options are paths.
EXPECTED: Mapping[str, tuple[str, ...]] = {
    "nis_code": (GENT, BRUSSELS),
    "as_of": (RUN_DATE, "2199-12-31"),
    "run_id": ("1",),
    "document": (f"eid:{HOLDINGS[0].number}",),
    "stage": ("first",),
    "kind": ("persons", "documents"),
    "role": ("staff", "auditor", "approver"),
    "volume_ids": ("1",),
    "volume_id": ("1",),
    "note": ("lost in the post",),
    "fmt": ("csv", "jsonl"),
    "log_format": ("json", "text"),
    "loglevel": ("info",),
    "now_text": ("2027-03-01T01:00:00+01:00",),
    "wait_seconds": ("0",),
    "campaign_id": ("paper-licences-2033",),
    "username": ("new.user", "nobody"),  # not the console's test users, whom pages use
    "seed": ("1",),
    "host": ("127.0.0.1",),
    "port": ("8765",),
    "concurrency": ("1",),
    "hostname": ("render@here",),
    "started_by": ("cli",),
}
INPUT_PATHS = {"file", "proof_file", "checkpoint_files", "public_key_paths", "from_dir"}
OUTPUT_PATHS = {"out", "folder", "target"}  # files and folders a command writes: never anywhere
# Options whose valid values would make the command take long: bounded to a quick demo.
QUICK: Mapping[tuple[tuple[str, ...], str], st.SearchStrategy[str]] = {
    (("demo",), "persons"): st.one_of(
        st.integers(max_value=99).map(str), st.just("100"), st.integers(10**7 + 1).map(str), OTHER
    ),
}


def arguments(
    world: World, path: tuple[str, ...], data: st.DataObject
) -> tuple[list[str], str | None]:
    """Arguments for the command at ``path`` and what standard input holds. One parameter
    gets an arbitrary value; the others are left out (when optional) or get one the command
    expects, so that the first refusal does not hide what the others would do."""
    files = paths(world)
    params = command_of(path).params
    valued = [p for p in params if not (isinstance(p, click.Option) and p.is_flag)]
    target = data.draw(st.sampled_from([p.name for p in valued]), label="thrown at")
    options: list[str] = [*path]
    positional: list[str] = []
    for param in params:
        name = param.name or ""
        if path == ("scheduler",) and name == "once":
            options.append("--once")  # without it the scheduler serves until stopped
            continue
        if isinstance(param, click.Option) and param.is_flag:
            if data.draw(st.booleans(), label=name):
                options.append(param.opts[0])
            continue
        if isinstance(param.type, click.Path):  # a command could write there: no arbitrary one
            assert name in {"config_path", *INPUT_PATHS, *OUTPUT_PATHS}, f"{path}: {name}"
        if name == "config_path":
            choice = files["config"] if name == target else st.just(str(world.config_file))
        elif name in INPUT_PATHS:
            choice = files["input"]
        elif name in OUTPUT_PATHS:
            choice = files["output"]
        elif (path, name) in QUICK:
            choice = QUICK[(path, name)]
        elif name == target:
            choice = thrown_at(name)
        else:
            choice = st.sampled_from(EXPECTED.get(name, (world.reference,)))
        if name != target and not param.required and data.draw(st.booleans(), label=f"no {name}"):
            continue
        value = data.draw(choice, label=name).replace("\x00", "")  # argv cannot carry NUL
        if isinstance(param, click.Argument):
            positional.append(value)
        else:
            options += [param.opts[0], value]
    stdin = data.draw(st.one_of(st.none(), TEXT.map(lambda text: text + "\n")), label="stdin")
    return [*options, "--", *positional] if positional else options, stdin


@pytest.fixture
def quiet_commands(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """What would outlive an example (the console serving: its engine is closed instead; the
    scheduler taking over the process's logging), write beside the tests (relative --out
    paths land in the world's folder), or take long (Argon2 at production cost)."""
    monkeypatch.chdir(world.folder)
    monkeypatch.setattr("uvicorn.run", lambda app, **_: app.state.console.engine.dispose())
    monkeypatch.setattr("reminders.entrypoints.scheduler_cli.configure_logging", lambda **_: None)
    monkeypatch.setattr("reminders.entrypoints.console_cli.Argon2Passwords", cheap_passwords)
    monkeypatch.setattr("reminders.entrypoints.console.app.Argon2Passwords", cheap_passwords)


CLI_EXAMPLES = 5  # per command: most give one option an arbitrary value, the others sense
# Commands whose valid options do real work (a night, a demo registry, every template) take
# fewer examples.
EXAMPLES_OF: dict[tuple[str, ...], int] = {
    ("demo",): 2,
    ("check",): 3,
    ("run",): 4,
    ("scheduler",): 3,
    ("preview",): 3,
}
# Commands that do not read the configured database: thrown at on one engine only.
DATABASE_FREE = {("demo",), ("check",), ("audit", "check-proof"), ("render-worker",), ("console",)}


def throw_at_command(world: World, path: tuple[str, ...]) -> None:
    @examples(EXAMPLES_OF.get(path, CLI_EXAMPLES))
    @given(data=st.data())
    def thrown(data: st.DataObject) -> None:
        args, stdin = arguments(world, path, data)
        result = cli(world, args, stdin)
        escaped = result.exception is not None and not isinstance(result.exception, SystemExit)
        assert not escaped, (args, repr(result.exception))
        assert result.exit_code in EXIT_STATUSES, (args, result.output)
        assert "Traceback" not in result.output

    thrown()


@pytest.mark.usefixtures("quiet_commands")
@pytest.mark.parametrize("path", sorted(set(COMMANDS) - DATABASE_FREE), ids=" ".join)
def test_commands_answer_any_option_with_a_message(world: World, path: tuple[str, ...]) -> None:
    throw_at_command(world, path)


@pytest.mark.usefixtures("quiet_commands")
@pytest.mark.parametrize("world", ["sqlite"], indirect=True)
@pytest.mark.parametrize("path", sorted(DATABASE_FREE), ids=" ".join)
def test_commands_without_the_database_answer_any_option_with_a_message(
    world: World, path: tuple[str, ...]
) -> None:
    throw_at_command(world, path)
