"""A night's campaign waves: per campaign and municipality, the decisions of the night's
wave, after the reminders (called by services/nightly_run.py in the decide step, so they are
committed with the night's other decisions, or not at all).

Exactly once: a document with a final campaign decision is never selected again, and the
decision table's unique key (document, stage = campaign id, final) refuses a second one.
At most ``letters_per_day`` a night: the room is what that night's runs have not written
yet, so a re-run of the night, or a run resumed, adds nothing once the wave is written; a
replay of an older night writes nothing; and a missed night is not made up (domain/campaign.py).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import date

from reminders.domain.campaign import Campaign, wave
from reminders.domain.due import Decision, LetterJurisdiction
from reminders.services.ports import CampaignStore

log = logging.getLogger(__name__)


def campaign_waves(
    campaign: Campaign,
    jurisdictions: Mapping[str, LetterJurisdiction],
    store: CampaignStore,
    *,
    as_of: date,
) -> Iterator[tuple[str, list[Decision]]]:
    """The decisions of ``campaign``'s wave for the night of ``as_of``, per municipality,
    chunk by chunk: record each chunk before asking for the next (the next chunk starts after
    the previous one's last document, so recording does not shift it)."""
    for nis, jurisdiction in jurisdictions.items():
        if not campaign.covers(nis):
            continue
        room = campaign.room_tonight(
            as_of,
            letters_so_far=store.letters_for_night(campaign.id, nis, as_of),
            later_night_sent=store.later_night_decided(nis, as_of),
        )
        if room == 0:
            continue
        written = 0
        for chunk in store.candidates(campaign, nis):
            decisions, full = wave(campaign, chunk, jurisdiction, room=room - written)
            written += sum(decision.is_letter for decision in decisions)
            if decisions:
                yield nis, decisions
            if full:
                break
        log.info("campaign %s: %d letters for %s on %s", campaign.id, written, nis, as_of)
