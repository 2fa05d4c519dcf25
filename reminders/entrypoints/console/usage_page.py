"""The usage page: per month, the municipality's letters, pages and volumes, the postage
they cost at the tariff in config.toml ([console] postage_per_letter, postage_per_page), as a
table and a bar chart drawn on the server (SVG: no script); where it sends e-mail, its
e-mails, those that failed (to paper), and the postage they saved."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from reminders.adapters.db.console_reads import usage
from reminders.domain.usage import chart_bars
from reminders.entrypoints.console.run_pages import postage_per_letter
from reminders.entrypoints.console.web import Call, page

CHART_HEIGHT = 120.0
BAR_STEP = 40.0


@page()
def usage_page(call: Call) -> Response:
    """What the municipality used, per month."""
    with call.console.engine.connect() as connection:
        months = usage(connection, call.nis, call.console.settings.timezone)
    options = call.console.settings.console
    return call.page(
        "usage.html",
        months=months,
        bars=chart_bars(months, CHART_HEIGHT, BAR_STEP),
        chart_height=CHART_HEIGHT,
        bar_step=BAR_STEP,
        per_letter=options.postage_per_letter,
        per_page=options.postage_per_page,
        any_email=any(m.emailed or m.email_failed for m in months),
        saved_per_letter=postage_per_letter(call),
    )


routes = [Route("/m/{nis}/usage", usage_page)]
