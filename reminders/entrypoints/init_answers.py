"""What `reminders init FOLDER` needs to know about the municipality: from the options, else
asked on a terminal. The official languages follow from the NIS code (domain.md §5.1)."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping

import click

from reminders.config import NIS_CODE, Sender
from reminders.config.starter import StarterMunicipality
from reminders.domain.language_area import official_languages
from reminders.domain.model import Language
from reminders.errors import UsageError

Ask = Callable[[str, str | None], str]  # (question, default) -> answer

_POSTAL_CODE = re.compile(r"^[1-9]\d{3}$")
_DEPARTMENTS = {
    (Language.NL,): "Dienst Burgerzaken",
    (Language.FR,): "Service Population",
    (Language.DE,): "Bürgerdienst",
    (Language.FR, Language.NL): "Service Population / Dienst Bevolking",
}
_QUESTIONS = {
    "nis_code": "NIS code of the municipality (5 digits, e.g. 44021 for Gent)",
    "name": "Name of the municipality, as letters print it",
    "languages": "Official languages (nl, fr, de; two for Brussels: fr,nl)",
    "department": "Civil-affairs department letters come from",
    "street": "Its street",
    "house_number": "Its house number",
    "postal_code": "Its postal code",
    "locality": "Its locality",
    "phone": "Its phone number (printed in letters; empty: none)",
    "email": "Its e-mail address (printed in letters; empty: none)",
}


def option_of(name: str) -> str:
    """The command-line option that gives ``name``."""
    return "--nis" if name == "nis_code" else f"--{name.replace('_', '-')}"


def terminal_ask(question: str, default: str | None) -> str:
    answer: str = click.prompt(question, default=default, show_default=bool(default))
    return answer.strip()


def starter_answers(given: Mapping[str, str | None], ask: Ask | None = None) -> StarterMunicipality:
    """The municipality from the options given; what is missing is asked (``ask``, on a
    terminal by default) or, without one, refused naming the option (exit 2)."""
    if ask is None and sys.stdin.isatty():
        ask = terminal_ask

    def answer(name: str, default: str | None = None, *, required: bool = True) -> str | None:
        value = given.get(name)
        if value is None and ask is not None:
            value = ask(_QUESTIONS[name], default)
        value = value or default  # an empty answer takes the default
        if not value and required:
            raise UsageError(
                f"{option_of(name)} is needed: {_QUESTIONS[name].lower()} "
                "(or run `reminders init FOLDER` in a terminal to be asked)"
            )
        return value or None

    nis_code = _checked("nis_code", answer("nis_code"), NIS_CODE, "a 5-digit NIS code")
    by_code = official_languages(nis_code)
    default_languages = ",".join(language.value for language in by_code) if by_code else None
    languages = _languages(answer("languages", default_languages) or "")
    name = answer("name")
    sender = Sender(
        department=answer("department", _DEPARTMENTS.get(languages)) or "",
        street=answer("street") or "",
        house_number=answer("house_number") or "",
        postal_code=_checked(
            "postal_code", answer("postal_code"), _POSTAL_CODE, "a 4-digit Belgian postal code"
        ),
        locality=answer("locality") or "",
        phone=answer("phone", required=False),
        email=answer("email", required=False),
    )
    database = given.get("database")
    return StarterMunicipality(
        nis_code=nis_code,
        name=name or "",
        languages=languages,
        sender=sender,
        **({"database": database} if database else {}),
    )


def _checked(name: str, value: str | None, pattern: re.Pattern[str], expected: str) -> str:
    if value is None:
        raise UsageError(f"{option_of(name)} is needed: {_QUESTIONS[name].lower()}")
    if not pattern.match(value):
        raise UsageError(f"{option_of(name)}: expected {expected}, got {value!r}")
    return value


def _languages(text: str) -> tuple[Language, ...]:
    codes = [code.strip() for code in text.split(",") if code.strip()]
    allowed = {language.value for language in Language}
    if not 1 <= len(codes) <= 2 or any(code not in allowed for code in codes):
        raise UsageError(f"--languages: expected nl, fr or de, or two of them, got {text!r}")
    if len(set(codes)) != len(codes):
        raise UsageError(f"--languages: a language is listed twice in {text!r}")
    return tuple(Language(code) for code in codes)
