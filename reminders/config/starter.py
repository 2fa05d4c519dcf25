"""The config.toml that `reminders init DIR` writes for a newcomer: one municipality, the
example's reminder policies, every key commented (interfaces.md §2)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from reminders.config.municipalities import Sender
from reminders.domain.model import Language, LetterLanguageRule

STARTER_JOBS = {
    "nightly.toml": """\
# The nightly run: decide which letters are due, print them into volumes, seal them into the
# dispatch log and publish the volumes, for every municipality of config.toml.
[job]
id = "nightly"              # the job's name in the job store and in the logs
service = "nightly_run"     # "nightly_run" or "audit_verify"
municipalities = "all"      # every municipality of config.toml, or NIS codes: ["44021"]
day_of_week = "*"           # every night; a cron day-of-week field: "mon-fri", "sun", ...
misfire_grace = "1 hour"    # a fire delayed longer is not run late; the start-up catch-up runs it
description = "Tonight's reminder letters, every municipality"
""",
    "verify.toml": """\
# Once a week, verify each municipality's dispatch log (its hash chain and signed checkpoints)
# and record the verdict; a log that does not verify is logged at error level.
[job]
id = "verify"
service = "audit_verify"
municipalities = "all"
at = "05:00"                # after the night's run, before the office opens
day_of_week = "sun"
misfire_grace = "6 hours"
description = "Weekly check that the dispatch logs verify"
""",
}


@dataclass(frozen=True, slots=True)
class StarterMunicipality:
    """What `reminders init DIR` asks about the one municipality it configures."""

    nis_code: str
    name: str
    languages: tuple[Language, ...]
    sender: Sender
    database: str = "sqlite:///var/reminders.sqlite3"


def _toml(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(value, ensure_ascii=False)


def starter_config(municipality: StarterMunicipality) -> str:
    """The text of a commented config.toml for one municipality."""
    sender = municipality.sender
    fields = [
        ("department", sender.department),
        ("street", sender.street),
        ("house_number", sender.house_number),
        ("postal_code", sender.postal_code),
        ("locality", sender.locality),
        ("phone", sender.phone),
        ("email", sender.email),
        ("appointment_url", sender.appointment_url),
    ]
    sender_lines = "\n".join(
        f"{name} = {_toml(value)}" for name, value in fields if value is not None
    )
    rule = (
        LetterLanguageRule.MUNICIPALITY
        if len(municipality.languages) == 1
        else LetterLanguageRule.CITIZEN_OR_BILINGUAL
    )
    languages = ", ".join(_toml(language.value) for language in municipality.languages)
    return f"""\
# config.toml of a `reminders` installation, made by `reminders init`. Paths are relative to
# this file. `reminders check` reads it and every letter template; each mistake is reported
# with its line and key. The whole contract: the README of reminders (interfaces.md §2).

[installation]
# SQLite in this folder; a shared service centre uses PostgreSQL:
# database = "postgresql+psycopg://reminders@db.example/reminders" (REMINDERS_DATABASE_URL
# overrides it). `reminders init` creates or upgrades its schema.
database = {_toml(municipality.database)}
output_dir = "var/out"      # print volumes, manifests and signed checkpoints
timezone = "Europe/Brussels"

[schedule]
nightly_at = "01:30"        # local time; 02:00-03:00 is skipped or repeated on DST nights
jobs = "jobs"               # the scheduler's jobs (`reminders scheduler`), one TOML file each

# The letter templates ship with reminders. To word a letter your own way, put a file of the same
# name in this folder (e.g. eid/first.nl.txt.j2; `reminders templates copy letters eid` copies
# the shipped ones to start from): it replaces the shipped one, every other letter keeps the
# shipped text. `reminders check` says which file each letter uses.
[letters]
templates = "letters"

[print]
volume_max_letters = 1000   # letters per PDF volume, sorted for bpost presorted mail
split_by_language = false   # true: one series of volumes per letter language
duplex = false              # true: every letter starts on a recto
# Where the envelope's window shows the sheet (mm from the A4 sheet's left and top edges):
# DIN 5008 form B for a DIN 680 left window. Print a test letter on your envelope stock.
window = {{ left_mm = 20, top_mm = 45, width_mm = 85, height_mm = 45 }}
workers = 0                 # processes rendering volumes: 0 = one per core

# The dispatch log: each run's checkpoint is signed with this Ed25519 key (`reminders init`
# made it; keep it readable by the nightly job only). Give the public key to your auditors.
[audit]
signing_key = "var/keys/dispatch-log.key"
public_key = "var/keys/dispatch-log.pub"

# The web console for staff and auditors (`reminders console`; users: `reminders console-user`).
[console]
host = "127.0.0.1"          # this machine only; put a reverse proxy with TLS in front of it
port = 8765
secure_cookies = false      # true behind HTTPS

[[municipalities]]
nis_code = {_toml(municipality.nis_code)}
name = {_toml(municipality.name)}
languages = [{languages}]   # official language(s); the first is the default
# "municipality": always the first language; "citizen": the citizen's language if official;
# "citizen_or_bilingual" (Brussels): the citizen's, or one letter in both when unknown.
letter_language = {_toml(rule.value)}
# templates = "letters-{municipality.nis_code}"   # this municipality's own templates, if any

# The civil-affairs department letters come from: its address is in the letterhead, never in
# the envelope's window; phone, e-mail and appointment_url (https://...) are printed if given.
[municipalities.sender]
{sender_lines}

# Reminder policies: a stage is due at its offset from the document's expiry date; the last
# stage due is sent, once; a final stage is not sent after its grace (domain.md of reminders).
[documents.driving_licence]
stages = [
  {{ name = "first",   offset = "-3 months" }},
  {{ name = "second",  offset = "-1 month" }},
  {{ name = "expired", offset = "+14 days", final_grace = "60 days" }},
]

[documents.eid]
stages = [
  {{ name = "first",   offset = "-2 months" }},
  {{ name = "expired", offset = "+1 month", final_grace = "3 months" }},
]

[documents.kids_id]
stages = [
  {{ name = "first", offset = "-2 months", final_grace = "2 months" }},
]

[documents.passport]
stages = [
  {{ name = "first", offset = "-6 months", final_grace = "6 months" }},
]

[documents.residence_card]
stages = [
  {{ name = "first",   offset = "-2 months" }},
  {{ name = "expired", offset = "+14 days", final_grace = "60 days" }},
]
"""
