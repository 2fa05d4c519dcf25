"""What every console page shares: the console's context, the guard each page goes through
(session, municipality, role, CSRF), and the responses for what went wrong.

Pages are plain functions of a `Call`, run in a worker thread (they read the database and
render PDFs); the guard answers before a page runs:
- no valid session: to the login page (htmx: the same, through HX-Redirect);
- a municipality the user holds no role in: 404, as for one that does not exist;
- a role the user does not hold there: 403;
- a POST without the session's CSRF token, or from another origin: 403.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from reminders.bootstrap import console_transaction, login_transaction
from reminders.config import Municipality, Settings
from reminders.domain.bounds import parsed_day, parsed_record_number
from reminders.domain.console_access import Role, SessionRule
from reminders.entrypoints.console import i18n
from reminders.entrypoints.console.i18n import N_, _
from reminders.entrypoints.console.reasons import said
from reminders.entrypoints.console.run_launcher import RunLauncher
from reminders.entrypoints.console.signer_child import SignerChild
from reminders.errors import RemindersError, UsageError
from reminders.services.console_accounts import Session, note_action, session_for
from reminders.services.ports import ConsoleTransaction, LoginTransaction, Passwords

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # C0 and C1 controls, tab and newline too
SESSION_COOKIE = "reminders_session"
LOGIN_COOKIE = "reminders_login"  # the login form's CSRF token (double submit: no session yet)


@dataclass(slots=True)
class Console:
    """What the pages work with; one per app."""

    settings: Settings
    engine: Engine
    templates: Jinja2Templates
    passwords: Passwords
    now: Callable[[], datetime]
    launcher: RunLauncher
    signer: SignerChild  # what needs the log's private key: this process never reads it
    rule: SessionRule

    def consoles(self) -> ConsoleTransaction:
        return console_transaction(self.engine)

    def logins(self) -> LoginTransaction:
        return login_transaction(self.engine)

    def today(self) -> date:
        return self.now().astimezone(self.settings.timezone).date()

    def names(self) -> dict[str, str]:
        """Municipalities' names by NIS code (reasons name them by their code)."""
        return {m.nis_code: m.name for m in self.settings.municipalities}

    def municipality(self, nis: str) -> Municipality | None:
        return next((m for m in self.settings.municipalities if m.nis_code == nis), None)


class FieldError(UsageError):
    """Bad input in one field of a form: the page shows the form again with the error."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


@dataclass(frozen=True, slots=True)
class Call:
    """One request to a page, past the guard."""

    request: Request
    console: Console
    session: Session
    form: FormData | None
    municipality: Municipality | None  # the /m/{nis}/... one
    # (field, message) of each bad field read so far: a page with errors shows its form
    # again, the input kept, and no results (never results that ignore a filter)
    errors: list[tuple[str, str]] = field(default_factory=list)

    def error(self, name: str, message: str) -> None:
        self.errors.append((name, message))

    @property
    def here(self) -> Municipality:
        """The municipality of the URL, for pages under /m/{nis}."""
        assert self.municipality is not None  # noqa: S101 - pages under /m/{nis} only
        return self.municipality

    @property
    def nis(self) -> str:
        return self.here.nis_code

    def param(self, name: str) -> str | None:
        """A form field (POST) or query parameter (GET), stripped; None when empty.
        UsageError (400) when it holds a control character: no field needs one, and a
        database may refuse them (PostgreSQL: NUL)."""
        source: Any = self.form if self.form is not None else self.request.query_params
        value = source.get(name)
        if not isinstance(value, str) or not value.strip():
            return None
        if _CONTROL.search(value):
            raise FieldError(name, _("This field holds characters that are not accepted."))
        return value.strip()

    def day(self, name: str) -> date | None:
        """A date field (``YYYY-MM-DD``, within the supported dates), or None when it is
        empty; otherwise an error of the field (``errors``) and None."""
        text = self.param(name)
        if text is None:
            return None
        try:
            return parsed_day(text)
        except ValueError:
            self.error(name, _("Enter a real date, for example 25/11/2026."))
            return None

    def record_number(self, name: str, *, smallest: int = 1) -> int | None:
        """A number field (a run, a log entry), or None when it is empty; otherwise an error
        of the field (``errors``) and None."""
        text = self.param(name)
        if text is None:
            return None
        try:
            return parsed_record_number(text, smallest=smallest)
        except ValueError:
            self.error(name, _("Enter a whole number, such as 12."))
            return None

    def path_number(self, name: str) -> int | None:
        """The URL's number ``name`` (a volume, a run), or None when it is none (the page
        answers 404, as for a number that does not exist)."""
        try:
            return parsed_record_number(str(self.request.path_params[name]))
        except ValueError:
            return None

    def page(self, template: str, status_code: int = 200, **context: Any) -> Response:
        """The page; with errors, status 400 and the error summary."""
        if self.errors and status_code == 200:
            status_code = 400
        i18n.use(self.language_asked())
        response = self.console.templates.TemplateResponse(
            self.request,
            template,
            {
                "session": self.session,
                "municipality": self.municipality,
                "csrf_token": self.session.csrf_token,
                "roles": (
                    self.session.user.roles_in(self.municipality.nis_code)
                    if self.municipality
                    else ()
                ),
                "errors": self.errors,
                "error_of": dict(reversed(self.errors)),
                **context,
            },
            status_code=status_code,
        )
        response.headers["content-language"] = i18n.current()
        return response

    def form_page(self, template: str, part: str, **context: Any) -> Response:
        """A page whose form htmx sends for ``part`` only; with errors, the whole page, which
        htmx puts in place of the whole main part (the form with its errors, no results)."""
        if not is_htmx(self):
            return self.page(template, **context)
        if not self.errors:
            return self.page(part, **context)
        response = self.page(template, **context)
        response.headers.update(
            {"HX-Retarget": "main", "HX-Reselect": "main", "HX-Reswap": "outerHTML"}
        )
        return response

    def language_asked(self) -> str:
        """The user's chosen language, else the browser's."""
        return i18n.chosen(self.session.user.language, self.request.headers.get("accept-language"))

    def note(self, action: str, outcome: str = "ok", **details: Any) -> None:
        """Write this user's action to the console's activity log."""
        note_action(
            self.console.consoles(),
            self.session.user,
            self.municipality.nis_code if self.municipality else None,
            action,
            outcome,
            now=self.console.now(),
            **details,
        )


Page = Callable[[Call], Response]
Endpoint = Callable[[Request], Awaitable[Response]]


def page(role: Role | None = None) -> Callable[[Page], Endpoint]:
    """A page behind the guard; ``role`` is the role it needs in the URL's municipality (None:
    any role there, or a page outside any municipality)."""

    def decorate(handler: Page) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            form = await request.form() if request.method == "POST" else None
            try:
                return await run_in_threadpool(_guarded, handler, request, form, role)
            finally:
                if form is not None:
                    await form.close()

        endpoint.__name__ = handler.__name__
        endpoint.__doc__ = handler.__doc__
        return endpoint

    return decorate


def _guarded(handler: Page, request: Request, form: FormData | None, role: Role | None) -> Response:
    console: Console = request.app.state.console
    token = request.cookies.get(SESSION_COOKIE)
    session = (
        session_for(console.consoles(), token, console.rule, now=console.now()) if token else None
    )
    if session is None:
        return to_login(request)
    # Before the page runs: its messages (a field's error) are in the user's language too.
    i18n.use(i18n.chosen(session.user.language, request.headers.get("accept-language")))
    municipality = None
    nis = request.path_params.get("nis")
    if nis is not None:
        municipality = console.municipality(nis)
        if municipality is None or not session.user.may_see(nis):
            return problem(request, console, session, 404, N_("There is no such page."))
        if role is not None and not session.user.may(role, nis):
            return problem(
                request,
                console,
                session,
                403,
                i18n._("Your roles in %(municipality)s do not include this page.")
                % {"municipality": municipality.name},
            )
    if request.method == "POST" and not form_is_ours(request, form, session.csrf_token):
        return problem(
            request, console, session, 403, N_("The form had expired: please try again.")
        )
    call = Call(request, console, session, form, municipality)
    try:
        return handler(call)
    except RemindersError as err:  # a service's refusal, in the user's language
        return call.page("problem.html", 400, message=said(err, console.names()))


def form_is_ours(request: Request, form: FormData | None, expected: str) -> bool:
    """Whether a POST comes from the console's own page: the browser's Origin (when it says
    one) is the console's, and the form carries the token that page was given."""
    if not expected:
        return False
    origin = request.headers.get("origin")
    if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
        return False
    sent = form.get("csrf_token") if form is not None else None
    sent = request.headers.get("x-csrf-token", sent) if sent is None else sent
    return isinstance(sent, str) and secrets.compare_digest(sent, expected)


def to_login(request: Request) -> Response:
    target = "/login"
    if request.method == "GET" and request.url.path not in ("/", "/login"):
        target += f"?next={request.url.path}"
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def problem(
    request: Request, console: Console, session: Session | None, status: int, message: str
) -> Response:
    stored = session.user.language if session else None
    i18n.use(i18n.chosen(stored, request.headers.get("accept-language")))
    message = i18n._(message)  # the console's own messages are in the catalogs
    return console.templates.TemplateResponse(
        request,
        "problem.html",
        {
            "session": session,
            "municipality": None,
            "roles": (),
            "csrf_token": session.csrf_token if session else "",
            "message": message,
            "errors": [],
            "error_of": {},
        },
        status_code=status,
    )


def is_htmx(call: Call) -> bool:
    """A request htmx made for part of a page (not a whole page, not a history restore)."""
    headers = call.request.headers
    return bool(headers.get("hx-request")) and not headers.get("hx-history-restore-request")
