"""`reminders render-worker`: renders print volumes for runs on other machines (``[print.queue]``).

A Celery worker, in this process, on the queue config.toml names. It checks this
installation's templates as a run does before it takes anything, and renders with them and the
``[print]`` options; a job whose run checked other templates or options is refused
(RenderRefusedError), so the volumes always match what the run logs. It never opens the
database and writes no file. SIGTERM or SIGINT is a warm shutdown: the volumes under way are
finished and returned, the others stay on the queue for the other workers. It logs volume file
names, run ids and counts, never a name, an address or a national number.
"""

from __future__ import annotations

import socket
from pathlib import Path

import click

from reminders.adapters.printing.render_pool import available_cores
from reminders.adapters.printing.volume_render import VolumeRenderer
from reminders.bootstrap import checked_templates
from reminders.config import load_settings
from reminders.entrypoints.options import config_option
from reminders.errors import ConfigError


@click.command(name="render-worker")
@config_option
@click.option(
    "--concurrency",
    type=click.IntRange(1, 256),
    default=None,
    help="Volumes rendered at once, one process each (default: one per core).",
)
@click.option(
    "--hostname",
    default=None,
    help="The worker's name in the queue's logs and replies (default: render@<host>).",
)
@click.option(
    "--loglevel",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
)
def render_worker(
    config_path: Path, concurrency: int | None, hostname: str | None, loglevel: str
) -> None:
    """Render print volumes from the render queue ([print.queue] in config.toml)."""
    settings = load_settings(config_path)
    queue = settings.print_options.queue
    if queue is None:
        raise ConfigError(
            settings.path, "render-worker needs a [print.queue] table (the broker and queue)"
        )
    templates = checked_templates(settings)  # refuse to start rather than refuse every job
    from reminders.adapters.printing.render_queue import run_worker  # Celery: the `queue` extra

    status = run_worker(
        queue,
        VolumeRenderer(templates, settings.print_options),
        hostname=hostname or f"render@{socket.gethostname()}",
        concurrency=concurrency or available_cores(),
        loglevel=loglevel.upper(),
    )
    raise SystemExit(status)
