"""The nightly run's per-night memo of where documents stand (services/nightly_run.py,
`_StagesByExpiry`): the domain's `stages_on` is pure and keeps nothing between calls, so the
service keeps it per policy and night; what it answers is what `stages_on` answers."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from reminders.domain.due import StagesOn, stages_on
from reminders.domain.model import DocumentKind, DocumentStatus
from reminders.services.nightly_run import _StagesByExpiry
from tests.unit.test_due import LICENCE, licence

NIGHT = date(2027, 6, 30)


@given(st.lists(st.integers(min_value=-400, max_value=400), min_size=1, max_size=60))
def test_the_night_s_stages_are_the_domain_s(offsets: list[int]) -> None:
    """For every document, asked in any order and again: `stages_on` of its expiry date."""
    night = _StagesByExpiry(LICENCE, NIGHT)
    for days in offsets + offsets[::-1]:
        expires_on = NIGHT + timedelta(days=days)
        expected: StagesOn | None = stages_on(LICENCE, expires_on, as_of=NIGHT)
        assert night.of(licence(expires_on=expires_on)) == expected


def test_a_document_without_expiry_date_or_of_another_kind_has_no_stage() -> None:
    night = _StagesByExpiry(LICENCE, NIGHT)
    assert night.of(licence(expires_on=NIGHT - timedelta(days=20))) is not None
    assert night.of(licence(expires_on=None)) is None
    assert night.of(licence(expires_on=NIGHT, kind=DocumentKind.EID)) is None
    assert night.of(licence(status=DocumentStatus.RENEWED)) is not None  # skips: the rule's job
