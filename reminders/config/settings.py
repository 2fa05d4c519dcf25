"""config.toml → frozen Settings; the only place that reads TOML (interfaces.md §2).

Every problem is reported with the file and the key path (``municipalities[1].nis_code``), and
paths inside the file are resolved relative to the file, never to the working directory. Each
table group is read by its own module (installation, municipalities, policies, printing, audit,
console, campaigns); this one reads the file and puts them together.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from reminders.config.audit import (
    DEFAULT_SIGNING_KEY,
    AuditOptions,
    KeySource,
    audit_options_of,
)
from reminders.config.campaigns import campaigns_of
from reminders.config.console import ConsoleOptions, console_options_of
from reminders.config.installation import (
    DATABASE_URL_VARIABLE,
    DEFAULT_DATABASE,
    checked_url,
    clock,
    timezone_of,
)
from reminders.config.letters import TemplateFolders, letters_folder_of
from reminders.config.municipalities import Municipality, municipalities_of
from reminders.config.policies import policies_of
from reminders.config.printing import PrintOptions, print_options_of
from reminders.config.table import Table, line_of
from reminders.domain.campaign import Campaign
from reminders.domain.model import DocumentKind
from reminders.domain.policy import ReminderPolicy
from reminders.domain.release import ReleaseMode
from reminders.errors import ConfigError


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
    templates_dir: Path | None = None  # [letters] templates: own templates, else the shipped
    jobs_dir: Path = Path("jobs")  # the scheduler's jobs, one TOML file each
    print_options: PrintOptions = PrintOptions()
    audit: AuditOptions = AuditOptions(
        KeySource(path=Path(DEFAULT_SIGNING_KEY)), Path(DEFAULT_SIGNING_KEY).with_suffix(".pub")
    )
    campaigns: tuple[Campaign, ...] = ()  # [campaigns.<id>], in the file's order
    console: ConsoleOptions = ConsoleOptions()

    @property
    def template_folders(self) -> TemplateFolders:
        """The municipalities' and the installation's own letter templates, if any."""
        return TemplateFolders(
            self.templates_dir,
            tuple(
                (m.nis_code, m.templates_dir)
                for m in self.municipalities
                if m.templates_dir is not None
            ),
        )

    def municipality(self, nis_code: str) -> Municipality:
        """The configured municipality with that NIS code, or a ConfigError naming it."""
        for municipality in self.municipalities:
            if municipality.nis_code == nis_code:
                return municipality
        known = ", ".join(m.nis_code for m in self.municipalities)
        raise ConfigError(self.path, f"no municipality with NIS code {nis_code!r} (known: {known})")


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
        line = None if err.key is None else line_of(text.splitlines(), err.key, err.value)
        if line is None or err.line is not None:
            raise
        raise ConfigError(path, err.problem, key=err.key, line=line, value=err.value) from err


def _settings(
    path: Path, raw: bytes, document: dict[str, Any], environ: Mapping[str, str]
) -> Settings:
    root = Table(path, "", document)
    base = path.resolve().parent
    installation = root.table("installation")
    assert installation is not None  # noqa: S101 - required
    database = installation.text("database", required=False) or DEFAULT_DATABASE
    override = environ.get(DATABASE_URL_VARIABLE)
    database_url = (
        checked_url(path, DATABASE_URL_VARIABLE, override, Path.cwd())
        if override
        else checked_url(path, "installation.database", database, base)
    )
    output_dir = base / (installation.text("output_dir", required=False) or "var/out")
    timezone = timezone_of(installation)
    installation.finish()

    nightly_at = time(1, 30)  # outside 02:00-03:00, the hour DST skips or repeats (domain.md §7.1)
    jobs_dir = base / "jobs"
    schedule = root.table("schedule", required=False)
    if schedule is not None:
        nightly_at = clock(schedule, "nightly_at") or nightly_at
        jobs_dir = base / (schedule.text("jobs", required=False) or "jobs")
        schedule.finish()

    municipalities = municipalities_of(root, base)
    policies = policies_of(root)
    templates_dir = letters_folder_of(root, base)
    print_options = print_options_of(root, base)
    _check_pickup(path, municipalities, print_options, output_dir)
    audit = audit_options_of(root, base)
    campaigns = campaigns_of(root, municipalities)
    console = console_options_of(root)
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


def _check_pickup(
    path: Path,
    municipalities: tuple[Municipality, ...],
    options: PrintOptions,
    output_dir: Path,
) -> None:
    """A held volume must stay where the print shop cannot see it: with `release =
    "approval"` the print shop reads a pick-up folder of its own, apart from output_dir."""
    pickup = options.pickup_dir
    held = [m for m in municipalities if m.release is ReleaseMode.APPROVAL]
    if pickup is None:
        if held:
            index = municipalities.index(held[0])
            raise ConfigError(
                path,
                'release = "approval" needs [print] pickup_dir: the folder the print shop '
                "reads, apart from output_dir, where held volumes wait",
                key=f"municipalities[{index}].release",
                value="approval",
            )
        return
    output = output_dir.resolve()
    if pickup == output or pickup.is_relative_to(output) or output.is_relative_to(pickup):
        raise ConfigError(
            path,
            f"the print shop's pick-up folder {pickup} must lie apart from output_dir "
            f"{output}: neither inside the other, or it would see volumes still held",
            key="print.pickup_dir",
            value=str(options.pickup_dir),
        )
