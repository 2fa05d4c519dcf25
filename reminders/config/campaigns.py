"""``[campaigns.<id>]``: one-off letters in waves (domain/campaign.py)."""

from __future__ import annotations

from collections.abc import Sequence

from reminders.config.municipalities import Municipality
from reminders.config.table import Table
from reminders.domain.campaign import (
    CAMPAIGN_ID,
    CAMPAIGN_ID_MAX,
    EVERY_DAY,
    WEEKDAYS,
    Campaign,
    Selection,
)
from reminders.domain.model import DocumentKind
from reminders.errors import ConfigError


def campaigns_of(root: Table, municipalities: Sequence[Municipality]) -> tuple[Campaign, ...]:
    """``[campaigns.<id>]`` tables: one-off letters in waves (domain/campaign.py)."""
    table = root.table("campaigns", required=False)
    if table is None:
        return ()
    configured = [m.nis_code for m in municipalities]
    campaigns = []
    for campaign_id in list(table.data):
        if len(campaign_id) > CAMPAIGN_ID_MAX or not CAMPAIGN_ID.match(campaign_id):
            raise ConfigError(
                root.path,
                "expected a campaign id of lower-case words joined by hyphens, like "
                f"paper-licences-2033, at most {CAMPAIGN_ID_MAX} characters",
                key=f"campaigns.{campaign_id}",
            )
        entry = table.table(campaign_id)
        assert entry is not None  # noqa: S101 - the key exists
        campaigns.append(_campaign(entry, campaign_id, configured))
        entry.finish()
    table.finish()
    return tuple(campaigns)


def _campaign(table: Table, campaign_id: str, configured: Sequence[str]) -> Campaign:
    kind_name = table.required_text("kind")
    try:
        kind = DocumentKind(kind_name)
    except ValueError as err:
        allowed = ", ".join(kind.value for kind in DocumentKind)
        raise table.error("kind", f"expected one of {allowed}, got {kind_name!r}") from err
    selection_name = table.required_text("documents")
    try:
        selection = Selection(selection_name)
    except ValueError as err:
        allowed = ", ".join(selection.value for selection in Selection)
        raise table.error(
            "documents", f"expected one of {allowed}, got {selection_name!r}"
        ) from err
    expiring_from, expiring_until = table.day("expiring_from"), table.day("expiring_until")
    valid_until = table.day("valid_until")
    if selection is Selection.EXPIRING_BETWEEN:
        for name, day in (("expiring_from", expiring_from), ("expiring_until", expiring_until)):
            if day is None:
                raise ConfigError(
                    table.path,
                    'missing required key (documents = "expiring_between")',
                    key=f"{table.key}.{name}",
                )
        if expiring_from and expiring_until and expiring_until < expiring_from:
            raise table.error("expiring_until", f"is before expiring_from ({expiring_from})")
        if valid_until is not None:
            raise table.error(
                "valid_until",
                'only for documents = "without_expiry_date": these letters '
                "give the document's own expiry date",
            )
    else:
        for name, day in (("expiring_from", expiring_from), ("expiring_until", expiring_until)):
            if day is not None:
                raise table.error(name, 'only for documents = "expiring_between"')
        if valid_until is None:
            raise ConfigError(
                table.path,
                "missing required key: the end of validity the letter gives for documents "
                "without an expiry date (paper licences: 2033-01-19, domain.md §1.5)",
                key=f"{table.key}.valid_until",
            )
    starts_on = table.day("starts_on", required=True)
    assert starts_on is not None  # noqa: S101 - required
    ends_on = table.day("ends_on")
    if ends_on is not None and ends_on < starts_on:
        raise table.error("ends_on", f"is before starts_on ({starts_on})")
    if valid_until is not None:
        for name, day in (("starts_on", starts_on), ("ends_on", ends_on)):
            if day is not None and day >= valid_until:
                raise table.error(name, f"must be before valid_until ({valid_until})")
    per_day = table.whole_number("letters_per_day", minimum=1, maximum=100_000)
    if per_day is None:
        raise ConfigError(table.path, "missing required key", key=f"{table.key}.letters_per_day")
    return Campaign(
        id=campaign_id,
        kind=kind,
        selection=selection,
        starts_on=starts_on,
        letters_per_day=per_day,
        weekdays=_weekdays(table),
        ends_on=ends_on,
        expiring_from=expiring_from,
        expiring_until=expiring_until,
        issued_before=table.day("issued_before"),
        valid_until=valid_until,
        municipalities=_campaign_municipalities(table, configured),
    )


def _weekdays(table: Table) -> tuple[int, ...]:
    names = table.array("weekdays", required=False)
    if names is None:
        return EVERY_DAY
    allowed = ", ".join(WEEKDAYS)
    days: list[int] = []
    for name in names:
        if not isinstance(name, str) or name not in WEEKDAYS:
            raise table.error("weekdays", f"expected days among {allowed}, got {name!r}")
        if WEEKDAYS.index(name) in days:
            raise table.error("weekdays", f"{name!r} is listed twice")
        days.append(WEEKDAYS.index(name))
    if not days:
        raise table.error("weekdays", "at least one sending day is needed")
    return tuple(sorted(days))


def _campaign_municipalities(table: Table, configured: Sequence[str]) -> tuple[str, ...] | None:
    codes = table.array("municipalities", required=False)
    if codes is None:
        return None  # every municipality configured
    result: list[str] = []
    for code in codes:
        if not isinstance(code, str) or code not in configured:
            known = ", ".join(configured)
            raise table.error(
                "municipalities", f"{code!r} is not a configured municipality (known: {known})"
            )
        if code in result:
            raise table.error("municipalities", f"{code!r} is listed twice")
        result.append(code)
    if not result:
        raise table.error("municipalities", "leave the key out to cover every municipality")
    return tuple(result)
