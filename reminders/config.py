"""config.toml → frozen Settings; the only module that reads TOML (interfaces.md §2).

Every problem is reported with the file and the key path (``municipalities[1].nis_code``), and
paths inside the file are resolved relative to the file, never to the working directory.
"""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from types import UnionType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from reminders.domain.campaign import (
    CAMPAIGN_ID,
    CAMPAIGN_ID_MAX,
    EVERY_DAY,
    WEEKDAYS,
    Campaign,
    Selection,
)
from reminders.domain.model import DocumentKind, Language, LetterLanguageRule
from reminders.domain.policy import (
    InvalidOffsetError,
    Offset,
    ReminderPolicy,
    Stage,
    parse_offset,
)
from reminders.errors import ConfigError

DATABASE_URL_VARIABLE = "REMINDERS_DATABASE_URL"
DEFAULT_DATABASE = "sqlite:///var/reminders.sqlite3"
DEFAULT_SIGNING_KEY = "var/keys/dispatch-log.key"  # relative to config.toml, like the database
NIS_CODE = re.compile(r"^[1-9]\d{4}$")
_POSTAL_CODE = re.compile(r"^[1-9]\d{3}$")
_STAGE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")  # used in template file names and the log
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_WEB_ADDRESS = re.compile(r"^https?://\S+$")


@dataclass(frozen=True, slots=True)
class Sender:
    """The civil-affairs department a municipality's letters come from."""

    department: str
    street: str
    house_number: str
    postal_code: str
    locality: str
    phone: str | None = None
    email: str | None = None
    appointment_url: str | None = None  # the online appointment page, printed in letters


@dataclass(frozen=True, slots=True)
class AddressWindow:
    """Where the envelope's window shows the sheet: the recipient's address must fit inside.

    Millimetres on the unfolded A4 sheet, from its left and top edges. The default is the
    address field of DIN 5008 form B (DIN 676 B), which a DIN 680 left window on a DL or
    C5/6 envelope shows after a fold at 105 and 210 mm (domain.md §4.5).
    """

    left_mm: float = 20.0
    top_mm: float = 45.0
    width_mm: float = 85.0
    height_mm: float = 45.0


@dataclass(frozen=True, slots=True)
class QueueOptions:
    """Volumes rendered by `reminders render-worker`s on other machines, through a message
    broker (``[print.queue]`` in config.toml; adapters/printing/render_queue.py)."""

    broker_url: str  # RabbitMQ: amqp:// or amqps://
    result_backend: str = "rpc://"  # results come back to the run over the broker, never stored
    queue: str = "reminders-render"
    volumes_ahead: int = 8  # volumes in flight beyond the one being recorded: 2 per worker
    time_limit_seconds: float = 300.0  # a worker stops a volume that takes longer (a hang)
    wait_seconds: float = 900.0  # the run gives up on a volume after this: are workers running?


@dataclass(frozen=True, slots=True)
class PrintOptions:
    """How a run's letters become print volumes (``[print]`` in config.toml)."""

    volume_max_letters: int = 1000  # a volume stays small enough to reprint and to hold in memory
    split_by_language: bool = False  # one volume series per letter language
    duplex: bool = False  # printed on both sides: every letter starts on a recto
    window: AddressWindow = AddressWindow()
    workers: int = 0  # processes rendering a run's volumes; 0: one per core, 1: the run's own
    queue: QueueOptions | None = None  # set: workers on other machines render, not processes here


@dataclass(frozen=True, slots=True)
class AuditOptions:
    """The dispatch log's signing key (``[audit]`` in config.toml): the private key signs
    each run's checkpoint; auditors verify with the public key alone."""

    signing_key: Path  # Ed25519, PKCS#8 PEM; `reminders init` makes one when none exists
    public_key: Path  # its public half (PEM), the file an auditor is given
    key_name: str = "reminders"  # the signer's name in the signed checkpoints


@dataclass(frozen=True, slots=True)
class ConsoleOptions:
    """`reminders console`: where it listens and how long a login lasts ([console])."""

    host: str = "127.0.0.1"  # the municipality's network only through a reverse proxy (TLS)
    port: int = 8765
    session_idle_minutes: int = 30  # a session unused this long ends
    session_max_hours: int = 10  # and any session ends after this: one working day
    secure_cookies: bool = False  # true behind HTTPS: the session cookie is never sent in clear
    max_failed_logins: int = 5  # failed logins for one name in 15 minutes before it is refused


@dataclass(frozen=True, slots=True)
class Municipality:
    """A municipality served by this installation, identified by its NIS (REFNIS) code."""

    nis_code: str
    name: str
    languages: tuple[Language, ...]  # official language(s); the first is the default
    letter_language: LetterLanguageRule
    sender: Sender


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything config.toml says, checked and typed."""

    path: Path
    sha256: str  # of the file as read: a run records which configuration decided it
    database_url: str
    output_dir: Path
    timezone: ZoneInfo
    nightly_at: time
    municipalities: tuple[Municipality, ...]
    policies: Mapping[DocumentKind, ReminderPolicy]
    templates_dir: Path = Path("templates/letters")
    jobs_dir: Path = Path("jobs")  # the scheduler's jobs, one TOML file each
    print_options: PrintOptions = PrintOptions()
    audit: AuditOptions = AuditOptions(
        Path(DEFAULT_SIGNING_KEY), Path(DEFAULT_SIGNING_KEY).with_suffix(".pub")
    )
    campaigns: tuple[Campaign, ...] = ()  # [campaigns.<id>], in the file's order
    console: ConsoleOptions = ConsoleOptions()

    def municipality(self, nis_code: str) -> Municipality:
        """The configured municipality with that NIS code, or a ConfigError naming it."""
        for municipality in self.municipalities:
            if municipality.nis_code == nis_code:
                return municipality
        known = ", ".join(m.nis_code for m in self.municipalities)
        raise ConfigError(self.path, f"no municipality with NIS code {nis_code!r} (known: {known})")


class _Table:
    """A TOML table being read: remembers its key path and rejects keys nobody asked for."""

    def __init__(self, path: Path, key: str, data: object) -> None:
        if not isinstance(data, dict):
            raise ConfigError(path, f"expected a table, got {_type_name(data)}", key=key or None)
        self.path, self.key, self.data = path, key, data
        self._read: set[str] = set()

    def _child(self, name: str) -> str:
        return f"{self.key}.{name}" if self.key else name

    def error(self, name: str, problem: str) -> ConfigError:
        return ConfigError(self.path, problem, key=self._child(name), value=self.data.get(name))

    def _get(self, name: str, expected: type | UnionType, required: bool) -> Any:
        self._read.add(name)
        if name not in self.data:
            if required:
                raise ConfigError(self.path, "missing required key", key=self._child(name))
            return None
        value = self.data[name]
        if not isinstance(value, expected) or (expected is not bool and isinstance(value, bool)):
            raise self.error(
                name, f"expected {_type_name(expected)}, got {_type_name(value)} {value!r}"
            )
        return value

    def text(self, name: str, *, required: bool = True) -> str | None:
        value: str | None = self._get(name, str, required)
        if value is not None and not value.strip():
            raise self.error(name, "must not be empty")
        return value

    def required_text(self, name: str) -> str:
        value = self.text(name)
        assert value is not None  # noqa: S101 - required=True raised otherwise
        return value

    def flag(self, name: str) -> bool | None:
        value: bool | None = self._get(name, bool, False)
        return value

    def number(self, name: str, *, minimum: float, maximum: float) -> float | None:
        value = self._get(name, int | float, False)
        if value is not None and not minimum <= value <= maximum:
            expected = f"a number from {minimum:g} to {maximum:g}"
            raise self.error(name, f"expected {expected}, got {value}")
        return None if value is None else float(value)

    def whole_number(self, name: str, *, minimum: int, maximum: int) -> int | None:
        """A count: a number from ``minimum`` to ``maximum`` without a fraction (3 or 3.0)."""
        value = self.number(name, minimum=minimum, maximum=maximum)
        if value is not None and value != int(value):
            raise self.error(name, f"expected a whole number, got {value}")
        return None if value is None else int(value)

    def day(self, name: str, *, required: bool = False) -> date | None:
        """A date, written as a TOML date (2031-01-06) or a string "2031-01-06"."""
        value = self._get(name, str | date, required)
        if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise self.error(name, f"expected a date like 2031-01-06, got {value!r}")

    def array(self, name: str, *, required: bool = True) -> list[Any] | None:
        value: list[Any] | None = self._get(name, list, required)
        return value

    def table(self, name: str, *, required: bool = True) -> _Table | None:
        self._read.add(name)
        if name not in self.data:
            if required:
                raise ConfigError(self.path, "missing required table", key=self._child(name))
            return None
        return _Table(self.path, self._child(name), self.data[name])

    def finish(self) -> None:
        """Reject keys that were never read: a typo must not be silently ignored."""
        for name in self.data:
            if name not in self._read:
                raise self.error(name, "unknown key")


def _type_name(value: object) -> str:
    if isinstance(value, UnionType):
        return "a date" if date in value.__args__ else "a number"  # str | date, int | float
    kind = value if isinstance(value, type) else type(value)
    names = {str: "a string", int: "an integer", bool: "a boolean", list: "an array"}
    return {**names, dict: "a table", float: "a number"}.get(kind, kind.__name__)


def load_settings(path: Path, *, environ: Mapping[str, str] | None = None) -> Settings:
    """Read and check config.toml; ``REMINDERS_DATABASE_URL`` overrides the database."""
    environ = os.environ if environ is None else environ
    try:
        raw = path.read_bytes()
    except FileNotFoundError as err:
        raise ConfigError(path, "no such file (pass --config PATH)") from err
    except OSError as err:
        raise ConfigError(path, f"cannot be read: {err.strerror}") from err
    try:
        text = raw.decode("utf-8")
        document = tomllib.loads(text)
    except UnicodeDecodeError as err:
        raise ConfigError(path, "is not UTF-8 text") from err
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(path, f"not valid TOML: {err}") from err
    try:
        return _settings(path, raw, document, environ)
    except ConfigError as err:
        line = None if err.key is None else _line_of(text.splitlines(), err.key, err.value)
        if line is None or err.line is not None:
            raise
        raise ConfigError(path, err.problem, key=err.key, line=line, value=err.value) from err


def _settings(
    path: Path, raw: bytes, document: dict[str, Any], environ: Mapping[str, str]
) -> Settings:
    root = _Table(path, "", document)
    base = path.resolve().parent
    installation = root.table("installation")
    assert installation is not None  # noqa: S101 - required
    database = installation.text("database", required=False) or DEFAULT_DATABASE
    override = environ.get(DATABASE_URL_VARIABLE)
    database_url = (
        _checked_url(path, DATABASE_URL_VARIABLE, override, Path.cwd())
        if override
        else _checked_url(path, "installation.database", database, base)
    )
    output_dir = base / (installation.text("output_dir", required=False) or "var/out")
    timezone = _timezone(installation)
    installation.finish()

    nightly_at = time(1, 30)  # outside 02:00-03:00, the hour DST skips or repeats (domain.md §7.1)
    jobs_dir = base / "jobs"
    schedule = root.table("schedule", required=False)
    if schedule is not None:
        nightly_at = _clock(schedule, "nightly_at") or nightly_at
        jobs_dir = base / (schedule.text("jobs", required=False) or "jobs")
        schedule.finish()

    municipalities = _municipalities(root)
    policies = _policies(root)
    templates_dir = base / "templates/letters"
    letters = root.table("letters", required=False)
    if letters is not None:
        templates_dir = base / (letters.text("templates", required=False) or "templates/letters")
        letters.finish()
    print_options = _print_options(root)
    audit = _audit_options(root, base)
    campaigns = _campaigns(root, municipalities)
    console = _console_options(root)
    root.finish()
    return Settings(
        path=path,
        sha256=hashlib.sha256(raw).hexdigest(),
        database_url=database_url,
        output_dir=output_dir,
        timezone=timezone,
        nightly_at=nightly_at,
        municipalities=municipalities,
        policies=policies,
        templates_dir=templates_dir,
        jobs_dir=jobs_dir,
        print_options=print_options,
        audit=audit,
        campaigns=campaigns,
        console=console,
    )


def _checked_url(path: Path, key: str, value: str, base: Path) -> str:
    """The database URL, with a relative SQLite file resolved against ``base``."""
    try:
        url: URL = make_url(value)
    except ArgumentError as err:
        raise ConfigError(path, f"not a database URL: {value!r}", key=key, value=value) from err
    backend = url.get_backend_name()
    if backend == "sqlite":
        database = url.database or ""
        if database and database != ":memory:" and not Path(database).is_absolute():
            url = url.set(database=str(base / database))
        return url.render_as_string(hide_password=False)
    if backend == "postgresql":
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")  # psycopg 3 is the driver we ship
        return url.render_as_string(hide_password=False)
    raise ConfigError(
        path, f"expected a sqlite:/// or postgresql:// URL, got {backend!r}", key=key, value=value
    )


def _timezone(table: _Table) -> ZoneInfo:
    name = table.text("timezone", required=False) or "Europe/Brussels"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise table.error("timezone", f"unknown time zone {name!r}") from err


def _clock(table: _Table, name: str) -> time | None:
    value = table.text(name, required=False)
    if value is None:
        return None
    match = _CLOCK.match(value)
    if match is None:
        raise table.error(name, f'expected a time like "01:30", got {value!r}')
    return time(int(match[1]), int(match[2]))


def _municipalities(root: _Table) -> tuple[Municipality, ...]:
    entries = root.array("municipalities")
    assert entries is not None  # noqa: S101 - required
    if not entries:
        raise root.error("municipalities", "at least one municipality is needed")
    result: list[Municipality] = []
    for index, entry in enumerate(entries):
        table = _Table(root.path, f"municipalities[{index}]", entry)
        nis_code = table.required_text("nis_code")
        if not NIS_CODE.match(nis_code):
            raise table.error("nis_code", f"expected a 5-digit NIS code, got {nis_code!r}")
        if any(m.nis_code == nis_code for m in result):
            raise table.error("nis_code", f"NIS code {nis_code!r} is configured twice")
        languages = _languages(table)
        result.append(
            Municipality(
                nis_code=nis_code,
                name=table.required_text("name"),
                languages=languages,
                letter_language=_letter_language(table, languages),
                sender=_sender(table),
            )
        )
        table.finish()
    return tuple(result)


def _languages(table: _Table) -> tuple[Language, ...]:
    values = table.array("languages")
    assert values is not None  # noqa: S101 - required
    allowed = ", ".join(language.value for language in Language)
    languages: list[Language] = []
    for value in values:
        if not isinstance(value, str) or value not in Language.__members__.values():
            raise table.error("languages", f"expected languages among {allowed}, got {value!r}")
        if Language(value) in languages:
            raise table.error("languages", f"language {value!r} is listed twice")
        languages.append(Language(value))
    if not 1 <= len(languages) <= 2:
        raise table.error("languages", "expected one or two official languages")
    return tuple(languages)


def _letter_language(table: _Table, languages: tuple[Language, ...]) -> LetterLanguageRule:
    value = table.text("letter_language", required=False)
    if value is None:
        return (
            LetterLanguageRule.MUNICIPALITY
            if len(languages) == 1
            else LetterLanguageRule.CITIZEN_OR_BILINGUAL
        )
    try:
        rule = LetterLanguageRule(value)
    except ValueError as err:
        allowed = ", ".join(rule.value for rule in LetterLanguageRule)
        raise table.error("letter_language", f"expected one of {allowed}, got {value!r}") from err
    if rule is LetterLanguageRule.CITIZEN_OR_BILINGUAL and len(languages) < 2:
        raise table.error("letter_language", "citizen_or_bilingual needs two languages")
    return rule


def _sender(table: _Table) -> Sender:
    sender = table.table("sender")
    assert sender is not None  # noqa: S101 - required
    postal_code = sender.required_text("postal_code")
    if not _POSTAL_CODE.match(postal_code):
        raise sender.error("postal_code", f"expected a 4-digit postal code, got {postal_code!r}")
    result = Sender(
        department=sender.required_text("department"),
        street=sender.required_text("street"),
        house_number=sender.required_text("house_number"),
        postal_code=postal_code,
        locality=sender.required_text("locality"),
        phone=sender.text("phone", required=False),
        email=sender.text("email", required=False),
        appointment_url=sender.text("appointment_url", required=False),
    )
    if result.appointment_url is not None and not _WEB_ADDRESS.match(result.appointment_url):
        raise sender.error("appointment_url", "expected a web address starting with https://")
    sender.finish()
    return result


def _audit_options(root: _Table, base: Path) -> AuditOptions:
    table = root.table("audit", required=False)
    signing_key, public_key, key_name = DEFAULT_SIGNING_KEY, None, "reminders"
    if table is not None:
        signing_key = table.text("signing_key", required=False) or signing_key
        public_key = table.text("public_key", required=False)
        key_name = table.text("key_name", required=False) or key_name
        if not key_name.isprintable() or " " in key_name or "+" in key_name:
            raise table.error("key_name", "expected one word without spaces or '+'")
        table.finish()
    private = base / signing_key
    # By default the public key sits beside the private one: dispatch-log.key -> .pub
    public = base / public_key if public_key else private.with_suffix(".pub")
    if public == private:
        raise ConfigError(root.path, "must differ from audit.signing_key", key="audit.public_key")
    return AuditOptions(private, public, key_name)


def _console_options(root: _Table) -> ConsoleOptions:
    table = root.table("console", required=False)
    if table is None:
        return ConsoleOptions()
    defaults = ConsoleOptions()
    host = table.text("host", required=False) or defaults.host
    port = table.whole_number("port", minimum=1, maximum=65_535)
    idle = table.whole_number("session_idle_minutes", minimum=1, maximum=24 * 60)
    longest = table.whole_number("session_max_hours", minimum=1, maximum=24)
    failures = table.whole_number("max_failed_logins", minimum=1, maximum=100)
    secure = table.flag("secure_cookies")
    table.finish()
    return ConsoleOptions(
        host=host,
        port=defaults.port if port is None else port,
        session_idle_minutes=defaults.session_idle_minutes if idle is None else idle,
        session_max_hours=defaults.session_max_hours if longest is None else longest,
        secure_cookies=defaults.secure_cookies if secure is None else secure,
        max_failed_logins=defaults.max_failed_logins if failures is None else failures,
    )


def _print_options(root: _Table) -> PrintOptions:
    table = root.table("print", required=False)
    if table is None:
        return PrintOptions()
    defaults = PrintOptions()
    largest = table.whole_number("volume_max_letters", minimum=1, maximum=100_000)
    window = defaults.window
    window_table = table.table("window", required=False)
    if window_table is not None:
        window = AddressWindow(
            *(
                _millimetres(window_table, name, default, maximum)
                for name, default, maximum in (
                    ("left_mm", window.left_mm, 150.0),
                    ("top_mm", window.top_mm, 200.0),
                    ("width_mm", window.width_mm, 150.0),
                    ("height_mm", window.height_mm, 100.0),
                )
            )
        )
        window_table.finish()
        if window.left_mm + window.width_mm > 200 or window.height_mm < 25:
            raise table.error("window", "the window must lie on the A4 sheet and hold 5 lines")
        if window.top_mm + window.height_mm > 95:
            raise table.error("window", "the window must end above the subject line at 98.5 mm")
    flags = {name: table.flag(name) for name in ("split_by_language", "duplex")}
    workers = table.whole_number("workers", minimum=0, maximum=256)
    queue = _print_queue(table, largest)
    table.finish()
    return PrintOptions(
        volume_max_letters=defaults.volume_max_letters if largest is None else largest,
        split_by_language=bool(flags["split_by_language"]),
        duplex=bool(flags["duplex"]),
        window=window,
        workers=defaults.workers if workers is None else workers,
        queue=queue,
    )


_BROKER_SCHEMES = ("amqp", "amqps", "pyamqp")  # RabbitMQ, the broker tested and documented
_QUEUED_VOLUME_MAX_LETTERS = 3000  # about 10 MB a message, bilingual letters included
_QUEUE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


def _print_queue(print_table: _Table, volume_max_letters: int | None) -> QueueOptions | None:
    """``[print.queue]``: absent, volumes render in processes on this machine."""
    table = print_table.table("queue", required=False)
    if table is None:
        return None
    if (volume_max_letters or PrintOptions().volume_max_letters) > _QUEUED_VOLUME_MAX_LETTERS:
        raise print_table.error(
            "volume_max_letters",
            f"at most {_QUEUED_VOLUME_MAX_LETTERS} with [print.queue]: a rendered volume comes "
            "back as one broker message, some 3.5 KB a letter, and RabbitMQ refuses messages "
            "over 16 MiB by default",
        )
    defaults = QueueOptions(broker_url="")
    broker = table.required_text("broker")
    scheme, _, rest = broker.partition("://")
    if scheme not in _BROKER_SCHEMES or not rest.split("/")[0].rpartition("@")[2]:
        raise table.error(
            "broker", 'expected a RabbitMQ URL like "amqp://user:password@host:5672//"'
        )
    backend = table.text("result_backend", required=False) or defaults.result_backend
    if backend != "rpc://":
        raise table.error(
            "result_backend",
            'expected "rpc://": results travel back to the run over the broker and are never '
            "stored (a run that dies renders its unrecorded volumes again)",
        )
    queue = table.text("queue", required=False) or defaults.queue
    if not _QUEUE_NAME.match(queue):
        raise table.error("queue", "expected a name of letters, digits, '_', '.' or '-'")
    ahead = table.whole_number("volumes_ahead", minimum=1, maximum=1024)
    limit = table.number("time_limit_seconds", minimum=1, maximum=86_400)
    wait = table.number("wait_seconds", minimum=1, maximum=86_400)
    if (wait or defaults.wait_seconds) <= (limit or defaults.time_limit_seconds):
        blamed = "wait_seconds" if wait is not None else "time_limit_seconds"
        raise table.error(
            blamed,
            "wait_seconds must be longer than time_limit_seconds: the run would give up on a "
            "volume a worker may still be rendering",
        )
    table.finish()
    return QueueOptions(
        broker_url=broker,
        result_backend=backend,
        queue=queue,
        volumes_ahead=defaults.volumes_ahead if ahead is None else ahead,
        time_limit_seconds=defaults.time_limit_seconds if limit is None else limit,
        wait_seconds=defaults.wait_seconds if wait is None else wait,
    )


def _millimetres(table: _Table, name: str, default: float, maximum: float) -> float:
    value = table.number(name, minimum=0, maximum=maximum)
    return default if value is None else value


def _policies(root: _Table) -> dict[DocumentKind, ReminderPolicy]:
    documents = root.table("documents", required=False)
    if documents is None:
        return {}
    policies: dict[DocumentKind, ReminderPolicy] = {}
    for name in list(documents.data):
        try:
            kind = DocumentKind(name)
        except ValueError as err:
            allowed = ", ".join(kind.value for kind in DocumentKind)
            raise documents.error(name, f"unknown document kind (expected {allowed})") from err
        policy = documents.table(name)
        assert policy is not None  # noqa: S101 - the key exists
        policies[kind] = ReminderPolicy(kind, _stages(policy))
        policy.finish()
    documents.finish()
    return policies


def _stages(policy: _Table) -> tuple[Stage, ...]:
    entries = policy.array("stages")
    assert entries is not None  # noqa: S101 - required
    if not entries:
        raise policy.error("stages", "at least one stage is needed")
    stages: list[Stage] = []
    for index, entry in enumerate(entries):
        table = _Table(policy.path, f"{policy.key}.stages[{index}]", entry)
        name = table.required_text("name")
        if not _STAGE_NAME.match(name):
            raise table.error(
                "name", f'expected a lower-case word like "first" or "expired", got {name!r}'
            )
        if any(stage.name == name for stage in stages):
            raise table.error("name", f"stage name {name!r} is used twice")
        offset = _offset(table, "offset")
        grace = _offset(table, "final_grace") if "final_grace" in table.data else None
        if grace is not None and index != len(entries) - 1:
            raise table.error("final_grace", "only the final stage may have a final_grace")
        if grace is not None and grace.amount < 0:
            raise table.error("final_grace", f"must not be negative, got {grace}")
        if stages and not _is_later(offset, stages[-1].offset):
            raise table.error(
                "offset", f"stages must be in order: {offset} is not after {stages[-1].offset}"
            )
        stages.append(Stage(name=name, offset=offset, final_grace=grace))
        table.finish()
    return tuple(stages)


def _campaigns(root: _Table, municipalities: Sequence[Municipality]) -> tuple[Campaign, ...]:
    """``[campaigns.<id>]`` tables: one-off letters in waves (domain/campaign.py)."""
    table = root.table("campaigns", required=False)
    if table is None:
        return ()
    configured = [m.nis_code for m in municipalities]
    campaigns = []
    for campaign_id in list(table.data):
        if len(campaign_id) > CAMPAIGN_ID_MAX or not CAMPAIGN_ID.match(campaign_id):
            raise ConfigError(
                root.path,
                "expected a campaign id of lower-case words joined by hyphens, like "
                f"paper-licences-2033, at most {CAMPAIGN_ID_MAX} characters",
                key=f"campaigns.{campaign_id}",
            )
        entry = table.table(campaign_id)
        assert entry is not None  # noqa: S101 - the key exists
        campaigns.append(_campaign(entry, campaign_id, configured))
        entry.finish()
    table.finish()
    return tuple(campaigns)


def _campaign(table: _Table, campaign_id: str, configured: Sequence[str]) -> Campaign:
    kind_name = table.required_text("kind")
    try:
        kind = DocumentKind(kind_name)
    except ValueError as err:
        allowed = ", ".join(kind.value for kind in DocumentKind)
        raise table.error("kind", f"expected one of {allowed}, got {kind_name!r}") from err
    selection_name = table.required_text("documents")
    try:
        selection = Selection(selection_name)
    except ValueError as err:
        allowed = ", ".join(selection.value for selection in Selection)
        raise table.error(
            "documents", f"expected one of {allowed}, got {selection_name!r}"
        ) from err
    expiring_from, expiring_until = table.day("expiring_from"), table.day("expiring_until")
    valid_until = table.day("valid_until")
    if selection is Selection.EXPIRING_BETWEEN:
        for name, day in (("expiring_from", expiring_from), ("expiring_until", expiring_until)):
            if day is None:
                raise ConfigError(
                    table.path,
                    'missing required key (documents = "expiring_between")',
                    key=f"{table.key}.{name}",
                )
        if expiring_from and expiring_until and expiring_until < expiring_from:
            raise table.error("expiring_until", f"is before expiring_from ({expiring_from})")
        if valid_until is not None:
            raise table.error(
                "valid_until",
                'only for documents = "without_expiry_date": these letters '
                "give the document's own expiry date",
            )
    else:
        for name, day in (("expiring_from", expiring_from), ("expiring_until", expiring_until)):
            if day is not None:
                raise table.error(name, 'only for documents = "expiring_between"')
        if valid_until is None:
            raise ConfigError(
                table.path,
                "missing required key: the end of validity the letter gives for documents "
                "without an expiry date (paper licences: 2033-01-19, domain.md §1.5)",
                key=f"{table.key}.valid_until",
            )
    starts_on = table.day("starts_on", required=True)
    assert starts_on is not None  # noqa: S101 - required
    ends_on = table.day("ends_on")
    if ends_on is not None and ends_on < starts_on:
        raise table.error("ends_on", f"is before starts_on ({starts_on})")
    if valid_until is not None:
        for name, day in (("starts_on", starts_on), ("ends_on", ends_on)):
            if day is not None and day >= valid_until:
                raise table.error(name, f"must be before valid_until ({valid_until})")
    per_day = table.whole_number("letters_per_day", minimum=1, maximum=100_000)
    if per_day is None:
        raise ConfigError(table.path, "missing required key", key=f"{table.key}.letters_per_day")
    return Campaign(
        id=campaign_id,
        kind=kind,
        selection=selection,
        starts_on=starts_on,
        letters_per_day=per_day,
        weekdays=_weekdays(table),
        ends_on=ends_on,
        expiring_from=expiring_from,
        expiring_until=expiring_until,
        issued_before=table.day("issued_before"),
        valid_until=valid_until,
        municipalities=_campaign_municipalities(table, configured),
    )


def _weekdays(table: _Table) -> tuple[int, ...]:
    names = table.array("weekdays", required=False)
    if names is None:
        return EVERY_DAY
    allowed = ", ".join(WEEKDAYS)
    days: list[int] = []
    for name in names:
        if not isinstance(name, str) or name not in WEEKDAYS:
            raise table.error("weekdays", f"expected days among {allowed}, got {name!r}")
        if WEEKDAYS.index(name) in days:
            raise table.error("weekdays", f"{name!r} is listed twice")
        days.append(WEEKDAYS.index(name))
    if not days:
        raise table.error("weekdays", "at least one sending day is needed")
    return tuple(sorted(days))


def _campaign_municipalities(table: _Table, configured: Sequence[str]) -> tuple[str, ...] | None:
    codes = table.array("municipalities", required=False)
    if codes is None:
        return None  # every municipality configured
    result: list[str] = []
    for code in codes:
        if not isinstance(code, str) or code not in configured:
            known = ", ".join(configured)
            raise table.error(
                "municipalities", f"{code!r} is not a configured municipality (known: {known})"
            )
        if code in result:
            raise table.error("municipalities", f"{code!r} is listed twice")
        result.append(code)
    if not result:
        raise table.error("municipalities", "leave the key out to cover every municipality")
    return tuple(result)


# Every day of a leap year and the next: "-1 month" and "-30 days" change places with the month,
# so an order that holds only on some dates is refused rather than guessed.
_ORDER_PROBES = tuple(date(2028, 1, 1) + timedelta(days=n) for n in range(731))


def _is_later(offset: Offset, previous: Offset) -> bool:
    """Whether ``offset`` lands strictly after ``previous`` whatever the expiry date."""
    return all(offset.applied_to(day) > previous.applied_to(day) for day in _ORDER_PROBES)


def _offset(table: _Table, name: str) -> Offset:
    text = table.required_text(name)
    try:
        return parse_offset(text)
    except InvalidOffsetError as err:
        raise table.error(name, str(err)) from err


_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\s\"-]+?)\s*\]\]?")
_SEGMENT = re.compile(r"^([A-Za-z0-9_-]+)(?:\[(\d+)\])?$")


def _line_of(lines: Sequence[str], key: str, value: object) -> int | None:
    """The line (1-based) where ``key`` (``municipalities[1].sender.postal_code``) holds
    ``value``, when it can be told for sure; tomllib keeps no positions of its own."""
    segments = [_SEGMENT.match(part) for part in key.split(".")]
    if not all(segments):
        return None
    parts = [(match[1], int(match[2]) if match[2] else None) for match in segments if match]
    headers = [
        (number, match[1] == "[[", re.sub(r"[\s\"]", "", match[2]))
        for number, line in enumerate(lines)
        if (match := _HEADER.match(line)) and not line.lstrip().startswith("#")
    ]
    start, end = 0, headers[0][0] if headers else len(lines)
    table_line: int | None = None  # the header of the table holding the key, if it has one
    for depth in range(len(parts), 0, -1):
        name = ".".join(part for part, _ in parts[:depth])
        index = parts[depth - 1][1]
        found = [number for number, _, header in headers if header == name]
        if found and index is not None and index < len(found):
            start = found[index]
        elif found and index is None and len(found) == 1:
            start = found[0]
        else:
            continue
        end = next((number for number, _, _ in headers if number > start), len(lines))
        if depth == len(parts):
            return start + 1  # the key is the table itself: its header line
        table_line = start + 1
        break
    leaf = re.escape(parts[-1][0])
    pattern = re.compile(rf"(?<![A-Za-z0-9_-]){leaf}\s*=\s*(.*)")
    hits = []
    for number in range(start, end):
        match = pattern.search(lines[number])
        if match and _holds(match[1], value):
            hits.append(number + 1)
    if not hits and value is None:
        return table_line  # a missing key: where its table starts (none for the root table)
    return hits[0] if len(hits) == 1 else None


def _holds(text: str, value: object) -> bool:
    """Whether the TOML text after ``key =`` starts with ``value`` (strings in either quote)."""
    if isinstance(value, str):
        return text.startswith((f'"{value}"', f"'{value}'"))
    if isinstance(value, bool):
        return text.startswith(str(value).lower())
    if isinstance(value, int | float):
        return text.startswith(str(value))
    return True  # arrays and tables: the key is enough
