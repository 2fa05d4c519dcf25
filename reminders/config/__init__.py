"""config.toml → frozen Settings (interfaces.md §2): ``load_settings`` and the typed tables.

``settings`` reads the file; each table group has its module (installation, municipalities,
policies, printing, audit, console, campaigns), and ``table`` holds the checked reading they
share.
"""

from __future__ import annotations

from reminders.config.audit import DEFAULT_SIGNING_KEY, AuditOptions, KeySource, MunicipalityKey
from reminders.config.console import ConsoleOptions
from reminders.config.installation import DATABASE_URL_VARIABLE, DEFAULT_DATABASE
from reminders.config.municipalities import NIS_CODE, Municipality, Sender
from reminders.config.printing import AddressWindow, PrintOptions, QueueOptions
from reminders.config.settings import Settings, load_settings

__all__ = [
    "DATABASE_URL_VARIABLE",
    "DEFAULT_DATABASE",
    "DEFAULT_SIGNING_KEY",
    "NIS_CODE",
    "AddressWindow",
    "AuditOptions",
    "ConsoleOptions",
    "KeySource",
    "Municipality",
    "MunicipalityKey",
    "PrintOptions",
    "QueueOptions",
    "Sender",
    "Settings",
    "load_settings",
]
