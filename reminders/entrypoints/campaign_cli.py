"""`reminders campaign`: how the campaigns of config.toml are going."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click

from reminders.adapters.db.campaign_store import CampaignStore
from reminders.bootstrap import open_engine
from reminders.config import load_settings
from reminders.domain.campaign import WEEKDAYS
from reminders.entrypoints.options import (
    ReportingGroup,
    config_option,
    date_option,
    day_or_today,
)
from reminders.services.campaign_status import CampaignStatus, campaign_status


@click.group(cls=ReportingGroup)
def campaign() -> None:
    """Campaigns: one-off letters sent in waves (config.toml [campaigns.<id>])."""


@campaign.command()
@click.argument("campaign_id", metavar="[ID]", required=False)
@config_option
@date_option("The day to project from (default: today in the configured time zone).")
@click.option("--json", "as_json", is_flag=True, help="Print the status as one JSON object.")
def status(campaign_id: str | None, config_path: Path, as_of: date | None, as_json: bool) -> None:
    """Per campaign and municipality: letters written, skips by reason, documents remaining,
    and the projected day of the last letter at the campaign's letters per sending day."""
    settings = load_settings(config_path)
    today = day_or_today(as_of, settings)
    nis_codes = [m.nis_code for m in settings.municipalities]
    engine = open_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            statuses = campaign_status(
                settings.campaigns,
                nis_codes,
                CampaignStore(connection),
                today=today,
                campaign_id=campaign_id,
            )
    finally:
        engine.dispose()
    if as_json:
        document = {
            "date": today.isoformat(),
            "campaigns": {status.campaign.id: status.as_json() for status in statuses},
        }
        click.echo(json.dumps(document, ensure_ascii=False))
        return
    if not statuses:
        click.echo("No campaigns in config.toml.")
    names = {m.nis_code: m.name for m in settings.municipalities}
    for status_of in statuses:
        _echo_status(status_of, names)


def _echo_status(status: CampaignStatus, names: dict[str, str]) -> None:
    campaign = status.campaign
    days = ", ".join(WEEKDAYS[day] for day in campaign.weekdays)
    until = f" to {campaign.last_day}" if campaign.last_day else ""
    click.echo(
        f"{campaign.id} ({campaign.kind.value}, {campaign.selection.value}): "
        f"{campaign.letters_per_day:,} letters per municipality on each of {days}, "
        f"from {campaign.starts_on}{until}"
    )
    for progress in status.municipalities:
        counts = progress.counts
        skips = ", ".join(f"{reason} {n:,}" for reason, n in counts.skipped.items()) or "none"
        click.echo(
            f"  {progress.municipality_nis} {names.get(progress.municipality_nis, '')}: "
            f"{counts.letters:,} letters, skips: {skips}; {counts.remaining:,} remaining"
        )
        if progress.projected_last_day is None:
            click.echo("    done: every document has its letter or a final skip")
            continue
        last_wave = f"last wave {counts.last_wave_on}; " if counts.last_wave_on else ""
        late = (
            ""
            if progress.on_time
            else f" (AFTER the last day {campaign.last_day}: raise letters_per_day or add days)"
        )
        click.echo(f"    {last_wave}last letter projected on {progress.projected_last_day}{late}")
