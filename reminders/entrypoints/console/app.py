"""The web console (`reminders console`): a Starlette app of server-rendered pages, with htmx
for the parts that update in place. It works on the same services as the command line.

Logging in: Argon2id passwords, a random session token in an HttpOnly, SameSite=Strict
cookie (only its SHA-256 is stored), sessions that end when idle or old, CSRF tokens on every
form, a strict Content-Security-Policy, and every change written to the activity log.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reminders.adapters.compiled_templates import CompiledInMemory
from reminders.adapters.crypto.passwords import Argon2Passwords
from reminders.adapters.db.console_reads import shares
from reminders.adapters.db.status_store import municipality_states, run_alive
from reminders.bootstrap import open_engine, utc_now
from reminders.config import Settings
from reminders.domain.console_access import SessionRule
from reminders.domain.night_choice import KnownRun
from reminders.entrypoints.console import (
    after_print_pages,
    audit_pages,
    i18n,
    run_pages,
    staff_pages,
    usage_page,
)
from reminders.entrypoints.console.i18n import N_
from reminders.entrypoints.console.labels import document_number, labelled, word
from reminders.entrypoints.console.life_words import life_what
from reminders.entrypoints.console.reasons import said, worded
from reminders.entrypoints.console.run_launcher import BUSY_EXIT, LaunchedRun, RunLauncher
from reminders.entrypoints.console.signer_child import SignerChild
from reminders.entrypoints.console.web import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Call,
    Console,
    form_is_ours,
    page,
    problem,
)
from reminders.errors import UsageError
from reminders.services.console_accounts import (
    LoginRefusedError,
    choose_language,
    log_in,
    log_out,
    note_action,
    session_for,
)
from reminders.services.ports import Passwords

HERE = Path(__file__).parent
# The pages' compiled code, shared by the apps of this process (each builds its environment
# alike: starlette's defaults and the i18n extension): an app made per test, or again after
# a configuration change, compiles no page again.
_PAGES_CODE = CompiledInMemory(kept=512)
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    # Not no-referrer: under it Chromium sends "Origin: null" with forms, and the origin check
    # of every POST needs the real one. URLs (with document numbers) stay on this server.
    "referrer-policy": "same-origin",
}


def create_app(
    settings: Settings,
    *,
    now: Callable[[], datetime] = utc_now,
    passwords: Passwords | None = None,
) -> Starlette:
    """The console on ``settings``' database (its schema must be current)."""
    engine = open_engine(settings.database_url)
    options = settings.console
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.bytecode_cache = _PAGES_CODE
    templates.env.globals["installation_timezone"] = settings.timezone
    i18n.install(templates.env, settings.timezone)
    templates.env.globals["labelled"] = labelled
    templates.env.globals["word"] = word
    templates.env.globals["document_number"] = document_number
    templates.env.globals["life_what"] = life_what
    names = {m.nis_code: m.name for m in settings.municipalities}
    templates.env.globals["reason_words"] = lambda reason, fallback="": (
        worded(reason, names, fallback) if reason is not None else fallback
    )
    launcher = RunLauncher(
        settings.path,
        settings.database_url,
        lambda launched: _run_ended(console, launched),  # called once a run ends, later
    )
    console = Console(
        settings=settings,
        engine=engine,
        templates=templates,
        passwords=passwords or Argon2Passwords(),
        now=now,
        launcher=launcher,
        signer=SignerChild(settings.path, settings.database_url),
        rule=SessionRule(
            idle=timedelta(minutes=options.session_idle_minutes),
            longest=timedelta(hours=options.session_max_hours),
        ),
    )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await run_in_threadpool(launcher.stop_all)
            engine.dispose()

    routes = [
        Route("/", home),
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/language", choose, methods=["POST"]),
        *staff_pages.routes,
        *run_pages.routes,
        *usage_page.routes,
        *audit_pages.routes,
        *after_print_pages.routes,
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={HTTPException: http_problem, Exception: server_error},
    )
    app.state.console = console
    return app


class SecurityHeaders:
    """Adds the security headers to every response, and no-store to every page: pages hold
    personal data that must not stay in a browser's cache."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                headers.extend(security_headers(static=static))
            await send(message)

        await self.app(scope, receive, with_headers)


def security_headers(*, static: bool = False) -> list[tuple[bytes, bytes]]:
    headers = [(name.encode(), value.encode()) for name, value in SECURITY_HEADERS.items()]
    return [*headers, (b"cache-control", b"max-age=3600" if static else b"no-store")]


_HTTP_PROBLEMS = {  # translated by problem()
    404: N_("There is no such page."),
    405: N_("This page does not take that kind of request."),
}


async def http_problem(request: Request, exc: Exception) -> Response:
    """A 404 or 405 from the router, as a page (the security headers come with every
    response that passes the middleware)."""
    assert isinstance(exc, HTTPException)  # noqa: S101 - registered for HTTPException only
    console: Console = request.app.state.console
    token = request.cookies.get(SESSION_COOKIE)
    session = None
    if token:  # the page in the user's language
        session = await run_in_threadpool(
            session_for, console.consoles(), token, console.rule, now=console.now()
        )
    message = _HTTP_PROBLEMS.get(exc.status_code, N_("The request was not understood."))
    response = problem(request, console, session, exc.status_code, message)
    response.headers.update(exc.headers or {})  # 405: Allow
    return response


async def server_error(_request: Request, _exc: Exception) -> Response:
    """A failure of the console itself: a page without details (uvicorn logs the traceback),
    with the security headers. This is answered outside the middleware, which cannot add
    them, and without templates, which may be what failed."""
    response = HTMLResponse(SERVER_ERROR_PAGE, status_code=500)
    response.raw_headers.extend(security_headers())
    return response


SERVER_ERROR_PAGE = (
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Problem</title></head>'
    "<body><p>The console could not answer this request. It was logged; please try again, "
    'or tell the installation\'s administrator.</p><p><a href="/">Back to the start page</a>'
    "</p></body></html>\n"
)


def _cookie(response: Response, request: Request, name: str, value: str) -> None:
    console: Console = request.app.state.console
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="strict",
        secure=console.settings.console.secure_cookies,
        path="/",
    )


async def login_form(request: Request) -> Response:
    console: Console = request.app.state.console
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        found = await run_in_threadpool(
            session_for, console.consoles(), token, console.rule, now=console.now()
        )
        if found is not None:
            return RedirectResponse("/", status_code=303)
    return _login_page(request, console, message=None, status_code=200)


def _login_page(
    request: Request, console: Console, *, message: str | None, status_code: int, username: str = ""
) -> Response:
    login_token = secrets.token_urlsafe(32)
    i18n.use(i18n.chosen(None, request.headers.get("accept-language")))  # nobody known yet
    response = console.templates.TemplateResponse(
        request,
        "login.html",
        {
            "session": None,
            "municipality": None,
            "roles": (),
            "csrf_token": login_token,
            "message": message,
            "username": username,
            "next": _local_path(request.query_params.get("next")),
            "errors": [],
            "error_of": {},
        },
        status_code=status_code,
    )
    _cookie(response, request, LOGIN_COOKIE, login_token)
    return response


async def login(request: Request) -> Response:
    console: Console = request.app.state.console
    form = await request.form()
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    if not form_is_ours(request, form, request.cookies.get(LOGIN_COOKIE, "")):
        i18n.use(i18n.chosen(None, request.headers.get("accept-language")))
        message = i18n._("The login form had expired: please try again.")
        return _login_page(request, console, message=message, status_code=403, username=username)
    client = request.client.host if request.client else "unknown"
    try:
        token, _ = await run_in_threadpool(
            log_in,
            console.logins(),
            console.consoles(),
            console.passwords,
            username,
            password,
            now=console.now(),
            max_failures=console.settings.console.max_failed_logins,
            client=client,
        )
    except LoginRefusedError as err:
        i18n.use(i18n.chosen(None, request.headers.get("accept-language")))  # nobody known yet
        return _login_page(request, console, message=said(err), status_code=401, username=username)
    response = RedirectResponse(_local_path(str(form.get("next", ""))) or "/", status_code=303)
    _cookie(response, request, SESSION_COOKIE, token)
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


def _local_path(target: str | None) -> str | None:
    """Where to go after logging in: a path of this console only (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


@page()
def logout(call: Call) -> Response:
    token = call.request.cookies.get(SESSION_COOKIE, "")
    log_out(call.console.consoles(), token, call.session, now=call.console.now())
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@page()
def choose(call: Call) -> Response:
    """Keep the language the user chose, and go back to the page they chose it on."""
    language = call.param("language")
    if language not in i18n.LANGUAGES:
        raise UsageError(i18n._("Choose a language from the list."))
    choose_language(call.console.consoles(), call.session, language, now=call.console.now())
    return RedirectResponse(_local_path(call.param("back")) or "/", status_code=303)


@page()
def home(call: Call) -> Response:
    """The municipalities the user holds a role in, with how their nights are going."""
    user = call.session.user
    served = [m for m in call.console.settings.municipalities if user.may_see(m.nis_code)]
    with call.console.engine.connect() as connection:
        states = municipality_states(connection, [m.nis_code for m in served])
        last: dict[str, tuple[KnownRun, tuple[int, int]]] = {}
        for nis, state in states.items():
            run = state.last_run
            if run is None:
                continue
            alive = run_alive(connection, run.run_id) if run.outcome == "running" else None
            known = KnownRun(run.run_id, run.as_of, run.outcome, run.step, alive)
            last[nis] = (known, shares(connection, nis, [run.run_id])[run.run_id])
    return call.page("home.html", served=served, states=states, last=last)


def _run_ended(console: Console, launched: LaunchedRun) -> None:
    """Write how a run the console started ended to the activity log."""
    status = launched.exit_status
    outcome = "ok" if status == 0 else "refused" if status == BUSY_EXIT else "failed"
    details: dict[str, Any] = {"date": launched.as_of.isoformat(), "exit_status": status}
    if launched.run_id is not None:
        details["run_id"] = launched.run_id
    if launched.error:
        details["error"] = launched.error
    if launched.reason is not None:
        details["reason"] = launched.reason.as_json()
    note_action(
        console.consoles(),
        launched.actor.removeprefix("console:"),
        launched.municipality_nis,
        "run_ended",
        outcome,
        now=console.now(),
        **details,
    )
