"""``[documents.<kind>]``: the reminder stages of each document kind, checked for order on
every day of two years."""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import cache

from reminders.config.table import Table
from reminders.domain.model import DocumentKind
from reminders.domain.policy import (
    InvalidOffsetError,
    Offset,
    ReminderPolicy,
    Stage,
    parse_offset,
)

_STAGE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")  # used in template file names and the log


def policies_of(root: Table) -> dict[DocumentKind, ReminderPolicy]:
    documents = root.table("documents", required=False)
    if documents is None:
        return {}
    policies: dict[DocumentKind, ReminderPolicy] = {}
    for name in list(documents.data):
        try:
            kind = DocumentKind(name)
        except ValueError as err:
            allowed = ", ".join(kind.value for kind in DocumentKind)
            raise documents.error(name, f"unknown document kind (expected {allowed})") from err
        policy = documents.table(name)
        assert policy is not None  # noqa: S101 - the key exists
        policies[kind] = ReminderPolicy(kind, _stages(policy))
        policy.finish()
    documents.finish()
    return policies


def _stages(policy: Table) -> tuple[Stage, ...]:
    entries = policy.array("stages")
    assert entries is not None  # noqa: S101 - required
    if not entries:
        raise policy.error("stages", "at least one stage is needed")
    stages: list[Stage] = []
    for index, entry in enumerate(entries):
        table = Table(policy.path, f"{policy.key}.stages[{index}]", entry)
        name = table.required_text("name")
        if not _STAGE_NAME.match(name):
            raise table.error(
                "name", f'expected a lower-case word like "first" or "expired", got {name!r}'
            )
        if any(stage.name == name for stage in stages):
            raise table.error("name", f"stage name {name!r} is used twice")
        offset = _offset(table, "offset")
        grace = _offset(table, "final_grace") if "final_grace" in table.data else None
        if grace is not None and index != len(entries) - 1:
            raise table.error("final_grace", "only the final stage may have a final_grace")
        if grace is not None and grace.amount < 0:
            raise table.error("final_grace", f"must not be negative, got {grace}")
        if stages and not _is_later(offset, stages[-1].offset):
            raise table.error(
                "offset", f"stages must be in order: {offset} is not after {stages[-1].offset}"
            )
        stages.append(Stage(name=name, offset=offset, final_grace=grace))
        table.finish()
    return tuple(stages)


# Every day of a leap year and the next: "-1 month" and "-30 days" change places with the month,
# so an order that holds only on some dates is refused rather than guessed.
_ORDER_PROBES = tuple(date(2028, 1, 1) + timedelta(days=n) for n in range(731))


@cache  # 1,462 dates shifted per pair: once per process, not per config.toml read
def _is_later(offset: Offset, previous: Offset) -> bool:
    """Whether ``offset`` lands strictly after ``previous`` whatever the expiry date."""
    return all(offset.applied_to(day) > previous.applied_to(day) for day in _ORDER_PROBES)


def _offset(table: Table, name: str) -> Offset:
    text = table.required_text(name)
    try:
        return parse_offset(text)
    except InvalidOffsetError as err:
        raise table.error(name, str(err)) from err
