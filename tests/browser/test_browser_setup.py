"""The browser chain works: Playwright drives Debian's Chromium against a Starlette app that
``live_server`` serves with uvicorn. The smoke test of tests/browser: it fails when the browser,
the driver or the server does not work."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from playwright.sync_api import Page, expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route
from starlette.types import ASGIApp

FORM = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Greeting</title></head>
<body>
<form action="/greet" method="get">
  <label>Name <input name="name" required></label>
  <button type="submit">Greet</button>
</form>
</body></html>"""


async def form(request: Request) -> HTMLResponse:
    return HTMLResponse(FORM)


async def greet(request: Request) -> HTMLResponse:
    name = escape(request.query_params.get("name", ""))
    return HTMLResponse(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Hello</title></head>'
        f"<body><h1>Hello, {name}</h1></body></html>"
    )


def greeting_app() -> Starlette:
    return Starlette(routes=[Route("/", form), Route("/greet", greet)])


def test_a_form_filled_and_submitted_in_chromium_shows_the_servers_answer(
    page: Page, live_server: Callable[[ASGIApp], str]
) -> None:
    """The page loads from the live server; typing a name and clicking the button sends the
    form (a GET) and the next page echoes the name, accents and markup characters intact."""
    base_url = live_server(greeting_app())
    page.goto(base_url)
    expect(page).to_have_title("Greeting")
    page.get_by_label("Name").fill("Zoë <Anne> & co")
    page.get_by_role("button", name="Greet").click()
    expect(page).to_have_url(f"{base_url}/greet?name=Zo%C3%AB+%3CAnne%3E+%26+co")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Zoë <Anne> & co")
