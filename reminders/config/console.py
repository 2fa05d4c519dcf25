"""``[console]``: where the web console listens and how long a login lasts."""

from __future__ import annotations

from dataclasses import dataclass

from reminders.config.table import Table


@dataclass(frozen=True, slots=True)
class ConsoleOptions:
    """`reminders console`: where it listens and how long a login lasts ([console])."""

    host: str = "127.0.0.1"  # the municipality's network only through a reverse proxy (TLS)
    port: int = 8765
    session_idle_minutes: int = 30  # a session unused this long ends
    session_max_hours: int = 10  # and any session ends after this: one working day
    secure_cookies: bool = False  # true behind HTTPS: the session cookie is never sent in clear
    max_failed_logins: int = 5  # failed logins for one name in 15 minutes before it is refused
    # The usage page's postage estimate (issue 23): euros per letter, plus per printed page
    # (None: the page shows no estimate)
    postage_per_letter: float | None = None
    postage_per_page: float = 0.0


def console_options_of(root: Table) -> ConsoleOptions:
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
    per_letter = table.number("postage_per_letter", minimum=0, maximum=100)
    per_page = table.number("postage_per_page", minimum=0, maximum=100)
    table.finish()
    return ConsoleOptions(
        host=host,
        port=defaults.port if port is None else port,
        session_idle_minutes=defaults.session_idle_minutes if idle is None else idle,
        session_max_hours=defaults.session_max_hours if longest is None else longest,
        secure_cookies=defaults.secure_cookies if secure is None else secure,
        max_failed_logins=defaults.max_failed_logins if failures is None else failures,
        postage_per_letter=per_letter,
        postage_per_page=defaults.postage_per_page if per_page is None else per_page,
    )
