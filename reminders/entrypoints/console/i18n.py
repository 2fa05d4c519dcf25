"""The console's languages: gettext catalogs (locale/<lang>/LC_MESSAGES/console.po, compiled
to .mo and committed; tests/e2e/test_console_i18n.py fails when one misses a message or its
.mo is not the .po's), Belgian formats through Babel, and which language a request gets: the
user's own choice, else the browser's Accept-Language, else English (the language the
console is written in).

Pages render in the request's worker thread; the language is a context variable set just
before a template renders, which the Jinja2 i18n extension's callables and the format
filters read."""

from __future__ import annotations

import gettext
from contextvars import ContextVar
from datetime import date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_time, get_timezone_location
from babel.numbers import format_currency, format_decimal
from jinja2 import Environment

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "console"
LANGUAGES = ("nl", "fr", "de", "en")  # the order of the language menu
DEFAULT = "en"
# Belgian formats for the three national languages; English as written in Belgium too.
FORMATS = {"nl": "nl_BE", "fr": "fr_BE", "de": "de_BE", "en": "en_BE"}
NAMES = {"nl": "Nederlands", "fr": "Français", "de": "Deutsch", "en": "English"}

_current: ContextVar[str] = ContextVar("console_language", default=DEFAULT)


@cache
def translations(language: str) -> gettext.NullTranslations:
    if language == DEFAULT:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[language])


def use(language: str) -> None:
    """The language of what renders next in this thread (a page, a message)."""
    _current.set(language if language in LANGUAGES else DEFAULT)


def current() -> str:
    return _current.get()


def N_(message: str) -> str:  # noqa: N802 - gettext's name for "mark for extraction only"
    """Marks a message for pybabel; it is translated where it is shown."""
    return message


def _(message: str) -> str:
    """``message`` in the current language (for messages made in Python)."""
    return translations(current()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current()).ngettext(singular, plural, n)


def chosen(stored: str | None, accept_language: str | None) -> str:
    """The user's stored choice, else the browser's first language we have, else English."""
    if stored in LANGUAGES:
        return stored
    for tag in _accepted(accept_language or ""):
        base = tag.split("-")[0].split("_")[0]
        if base in LANGUAGES:
            return base
    return DEFAULT


def _accepted(header: str) -> list[str]:
    """The languages of an Accept-Language header, the preferred first."""
    weighted = []
    for position, part in enumerate(header.split(",")):
        tag, _sep, params = part.strip().partition(";")
        if not tag or tag == "*":
            continue
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        if weight > 0:
            weighted.append((-weight, position, tag.strip().lower()))
    return [tag for _w, _p, tag in sorted(weighted)]


def locale() -> Locale:
    return Locale.parse(FORMATS[current()])


def number(value: int | float) -> str:
    """A count in the current language's Belgian format (nl_BE: 2.424)."""
    return format_decimal(value, locale=locale())


def day(value: date | str | None) -> str:
    """A date as the current language writes it (nl_BE: 1 dec. 2026)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return format_date(value, "medium", locale=locale())


def moment(value: datetime | str | None, zone: ZoneInfo) -> str:
    """A moment in the installation's time zone, date and time as the current language
    writes them."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    local = value.astimezone(zone)
    return format_datetime(local, "medium", tzinfo=zone, locale=locale())


def money(value: float) -> str:
    """Euros as the current language writes them (nl_BE: € 1,33)."""
    return format_currency(value, "EUR", locale=locale())


def month(value: date, width: str = "LLLL y") -> str:
    """A month and its year (nl_BE: maart 2027)."""
    return format_date(value, width, locale=locale())


def clock(value: datetime, zone: ZoneInfo) -> str:
    return format_time(value.astimezone(zone), "short", tzinfo=zone, locale=locale())


def zone_name(zone: ZoneInfo) -> str:
    """The label of every time shown: "Belgian time" in the user's language (Babel's
    location name elsewhere)."""
    if zone.key == "Europe/Brussels":
        return _("Belgian time")
    return str(get_timezone_location(zone, locale=locale(), return_city=False))


def install(environment: Environment, zone: ZoneInfo) -> None:
    """The i18n extension's callables and the format filters, on the console's templates."""
    environment.add_extension("jinja2.ext.i18n")
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        lambda message: _(message),
        lambda singular, plural, n: ngettext(singular, plural, n),
        newstyle=True,
    )
    environment.filters["number"] = number
    environment.filters["day"] = day
    environment.filters["money"] = money
    environment.filters["month"] = month
    environment.filters["month_short"] = lambda value: month(value, "LLL yy")
    environment.filters["local_time"] = lambda value: moment(value, zone)
    environment.globals["zone_name"] = lambda: zone_name(zone)
    environment.globals["current_language"] = current
    environment.globals["language_names"] = NAMES
