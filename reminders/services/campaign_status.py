"""Where each campaign stands (`reminders campaign status`): per municipality, the letters
written, the skips by reason, the documents remaining and the day the last letter is
projected to go out at the campaign's daily limit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from reminders.domain.campaign import WEEKDAYS, Campaign, CampaignProgress, campaign_progress
from reminders.errors import UsageError
from reminders.services.ports import CampaignStore


@dataclass(frozen=True, slots=True)
class CampaignStatus:
    """One campaign and its progress in each municipality it covers."""

    campaign: Campaign
    municipalities: tuple[CampaignProgress, ...]

    def as_json(self) -> dict[str, Any]:
        campaign = self.campaign
        last = campaign.last_day
        return {
            "kind": campaign.kind.value,
            "documents": campaign.selection.value,
            "letters_per_day": campaign.letters_per_day,
            "weekdays": [WEEKDAYS[day] for day in campaign.weekdays],
            "starts_on": campaign.starts_on.isoformat(),
            "last_day": last.isoformat() if last else None,
            "municipalities": {
                progress.municipality_nis: {
                    "letters": progress.counts.letters,
                    "skipped": progress.counts.skipped,
                    "remaining": progress.counts.remaining,
                    "last_wave_on": _iso(progress.counts.last_wave_on),
                    "projected_last_day": _iso(progress.projected_last_day),
                    "on_time": progress.on_time,
                }
                for progress in self.municipalities
            },
        }


def campaign_status(
    campaigns: Sequence[Campaign],
    nis_codes: Sequence[str],
    store: CampaignStore,
    *,
    today: date,
    campaign_id: str | None = None,
) -> list[CampaignStatus]:
    """Every campaign (or the one named) in each configured municipality it covers."""
    chosen = [c for c in campaigns if campaign_id is None or c.id == campaign_id]
    if campaign_id is not None and not chosen:
        known = ", ".join(c.id for c in campaigns) or "none"
        raise UsageError(f"no campaign {campaign_id!r} in config.toml (known: {known})")
    statuses = []
    for campaign in chosen:
        covered = [nis for nis in nis_codes if campaign.covers(nis)]
        counts = store.counts(campaign, covered)
        statuses.append(
            CampaignStatus(
                campaign,
                tuple(
                    campaign_progress(campaign, nis, counts[nis], today=today) for nis in covered
                ),
            )
        )
    return statuses


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
