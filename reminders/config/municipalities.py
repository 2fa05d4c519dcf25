"""``[[municipalities]]``: each municipality served, its languages, letter-language rule and
sender."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from reminders.config.audit import MunicipalityKey, municipality_keys_of
from reminders.config.channels import EmailOptions, channels_of, email_options_of
from reminders.config.letterhead import letterhead_of
from reminders.config.letters import own_templates
from reminders.config.table import Table
from reminders.domain.channels import ChannelChoice
from reminders.domain.letters import Letterhead
from reminders.domain.model import Language, LetterLanguageRule
from reminders.domain.release import ReleaseMode

NIS_CODE = re.compile(r"^[1-9]\d{4}$")
PAPER_EVERYWHERE = ChannelChoice()  # no `channels`: every letter on paper


_POSTAL_CODE = re.compile(r"^[1-9]\d{3}$")


_WEB_ADDRESS = re.compile(r"^https?://\S+$")
_QR_URL_MAX = 84  # a QR code of version 5 at most: 37 modules, 13 mm beside the text


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
    appointment_qr: bool = False  # also a QR code to appointment_url beside the letter's text


@dataclass(frozen=True, slots=True)
class Municipality:
    """A municipality served by this installation, identified by its NIS (REFNIS) code."""

    nis_code: str
    name: str
    languages: tuple[Language, ...]  # official language(s); the first is the default
    letter_language: LetterLanguageRule
    sender: Sender
    templates_dir: Path | None = None  # its own letter templates, before the installation's
    letterhead: Letterhead = Letterhead()  # its logo and contact blocks, if any
    # Its own dispatch-log keys, oldest first; none: the installation's [audit] key signs.
    keys: tuple[MunicipalityKey, ...] = ()
    # "approval": a sealed run's volumes wait for an approver (four eyes) before they go to
    # the print shop's pick-up folder; "auto": they go at once (issue 21)
    release: ReleaseMode = ReleaseMode.AUTO
    # Issue 25: the channels its letters go by, per kind (paper only unless configured), and
    # how its e-mails go out (required when a channel is e-mail)
    channels: ChannelChoice = PAPER_EVERYWHERE
    email: EmailOptions | None = None


def municipalities_of(root: Table, base: Path) -> tuple[Municipality, ...]:
    entries = root.array("municipalities")
    assert entries is not None  # noqa: S101 - required
    if not entries:
        raise root.error("municipalities", "at least one municipality is needed")
    result: list[Municipality] = []
    for index, entry in enumerate(entries):
        table = Table(root.path, f"municipalities[{index}]", entry)
        nis_code = table.required_text("nis_code")
        if not NIS_CODE.match(nis_code):
            raise table.error("nis_code", f"expected a 5-digit NIS code, got {nis_code!r}")
        if any(m.nis_code == nis_code for m in result):
            raise table.error("nis_code", f"NIS code {nis_code!r} is configured twice")
        languages = _languages(table)
        sender = _sender(table)
        channels = channels_of(table)
        result.append(
            Municipality(
                nis_code=nis_code,
                name=table.required_text("name"),
                languages=languages,
                letter_language=_letter_language(table, languages),
                sender=sender,
                templates_dir=own_templates(table, "templates", base),
                letterhead=letterhead_of(table, base, languages),
                keys=municipality_keys_of(table, base),
                release=_release(table),
                channels=channels,
                email=email_options_of(table, base, channels, sender.email),
            )
        )
        table.finish()
    return tuple(result)


def _languages(table: Table) -> tuple[Language, ...]:
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


def _letter_language(table: Table, languages: tuple[Language, ...]) -> LetterLanguageRule:
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


def _release(table: Table) -> ReleaseMode:
    value = table.text("release", required=False)
    if value is None:
        return ReleaseMode.AUTO
    try:
        return ReleaseMode(value)
    except ValueError as err:
        allowed = ", ".join(f'"{mode.value}"' for mode in ReleaseMode)
        raise table.error("release", f"expected one of {allowed}, got {value!r}") from err


def _sender(table: Table) -> Sender:
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
        appointment_qr=bool(sender.flag("appointment_qr")),
    )
    if result.appointment_url is not None and not _WEB_ADDRESS.match(result.appointment_url):
        raise sender.error("appointment_url", "expected a web address starting with https://")
    if result.appointment_qr and result.appointment_url is None:
        raise sender.error("appointment_qr", "needs appointment_url: the page the code opens")
    if result.appointment_qr and len(result.appointment_url or "") > _QR_URL_MAX:
        raise sender.error(
            "appointment_url",
            f"at most {_QR_URL_MAX} characters with appointment_qr (the code must stay small)",
        )
    sender.finish()
    return result
