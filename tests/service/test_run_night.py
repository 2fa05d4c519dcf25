"""One route for a night (services/nightly_run.py `run_night`): `reminders run`, its dry run
and the scheduler's job all go through it; a dry run with a flag that writes nothing."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import date

from reminders.domain.due import Decision
from reminders.domain.model import DocumentKind
from reminders.services.nightly_run import RunRequest, run_night
from tests.fakes import FakeDecisionStore, FakeDocument, FakePerson, FakeUnitOfWork, unit_of_work
from tests.service.test_nightly_run_properties import BRUSSELS, GENT, NOW, POLICIES

LICENCE = DocumentKind.DRIVING_LICENCE
NIGHT = date(2027, 4, 1)


class FakeLocks:
    """Run locks that record which municipalities were held, and whether they are now."""

    def __init__(self) -> None:
        self.taken: list[list[str]] = []
        self.holding = False

    @contextmanager
    def __call__(self, nis_codes: Collection[str]) -> Iterator[None]:
        self.taken.append(sorted(nis_codes))
        self.holding = True
        try:
            yield
        finally:
            self.holding = False


class LockCheckingStore(FakeDecisionStore):
    """Refuses to record a decision while no run lock is held."""

    def __init__(self, locks: FakeLocks) -> None:
        super().__init__()
        self.locks = locks

    def record(self, *args: object, **kwargs: object) -> None:
        assert self.locks.holding, "a decision recorded without the run lock"
        super().record(*args, **kwargs)  # type: ignore[arg-type]


def registry(store: FakeDecisionStore) -> None:
    """Three licences whose first reminder is due on NIGHT (one holder without address)."""
    store.load(
        [
            FakePerson(1, GENT.nis_code),
            FakePerson(2, BRUSSELS.nis_code),
            FakePerson(3, GENT.nis_code, street=None),
            *(FakeDocument(n, n, LICENCE, date(2027, 6, 30)) for n in (1, 2, 3)),
        ]
    )


def request(*, dry_run: bool) -> RunRequest:
    return RunRequest(
        as_of=NIGHT, municipalities=(GENT, BRUSSELS), policies=POLICIES, dry_run=dry_run
    )


def test_a_dry_run_lists_what_the_run_then_records_and_writes_nothing() -> None:
    """The dry run decides as the run does and hands each decision to the listing, but
    records no run, decision or watermark and takes no lock; the run of the same night then
    records exactly what the dry run listed, holding its municipalities' locks."""
    locks = FakeLocks()
    store = LockCheckingStore(locks)
    registry(store)
    listed: list[tuple[str, Decision]] = []

    def listing(nis: str, _kind: DocumentKind, decisions: Sequence[Decision]) -> None:
        listed.extend((nis, decision) for decision in decisions)

    uow = FakeUnitOfWork(store)
    dry = run_night(request(dry_run=True), unit_of_work(uow), now=lambda: NOW, locks=locks,
                    listing=listing)  # fmt: skip
    assert dry.summary is not None
    assert dry.summary.dry_run
    assert dry.summary.run_id is None
    assert (store.runs, store.decisions, store.marks, locks.taken) == ({}, {}, {}, [])
    assert len(listed) == 3
    assert dry.summary.letters == 2

    ran = run_night(request(dry_run=False), unit_of_work(uow), now=lambda: NOW, locks=locks)
    assert ran.summary is not None
    assert ran.summary.run_id == 1
    assert locks.taken == [[BRUSSELS.nis_code, GENT.nis_code]]
    recorded = {
        (d.municipality_nis, d.document_id, d.stage, d.reason) for d in store.decisions.values()
    }
    assert recorded == {(nis, d.document_id, d.stage, d.reason) for nis, d in listed}
    assert ran.summary.letters == dry.summary.letters


def test_a_night_already_run_is_not_run_again_by_the_scheduler() -> None:
    """With ``skip_if_done`` (the scheduler's second start, a repeated hour) the night a run
    completed is left alone: no new run; `reminders run` (without it) starts one, which
    finds nothing left to decide."""
    store = FakeDecisionStore()
    registry(store)
    uow = unit_of_work(FakeUnitOfWork(store))
    assert run_night(request(dry_run=False), uow, now=lambda: NOW).status == "ran"
    again = run_night(request(dry_run=False), uow, now=lambda: NOW, skip_if_done=True)
    assert (again.status, again.summary, list(store.runs)) == ("already_done", None, [1])
    rerun = run_night(request(dry_run=False), uow, now=lambda: NOW)
    assert rerun.summary is not None
    assert rerun.summary.letters == 0
    assert list(store.runs) == [1, 2]
