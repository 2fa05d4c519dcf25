"""In-memory stand-ins for the ports (services/ports.py), for fast service tests.

`FakeDecisionStore` is the nightly run's store over dicts. It narrows candidates the way
adapters/db/decision_store.py does (expiry windows, then the documents of holders whose row, or
whose documents of the kind, an import changed after the watermark's) and refuses a second
decision for a (document, stage, final) key as the database's unique key does, so a service
test sees what production would see.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from reminders.domain.address import is_usable_address
from reminders.domain.due import Decision, DocumentFacts, Holder, Recorded, SkipReason
from reminders.domain.letter_language import language_label
from reminders.domain.model import (
    DocumentKind,
    DocumentStatus,
    Language,
    LetterLanguageRule,
    PersonStatus,
)
from reminders.domain.scan_window import ExpiryWindow, ScanWatermark
from reminders.errors import Reason
from reminders.services.ports import (
    AfterPrintStore,
    CampaignStore,
    DecisionStore,
    DecisionTransaction,
    DispatchLogStore,
    LetterStore,
    RunLedger,
)

CHUNK = 5  # documents per chunk: small, so that chunking is exercised


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    """A municipality as the rule sees it (due.LetterJurisdiction), without a sender."""

    nis_code: str
    languages: tuple[Language, ...]
    letter_language: LetterLanguageRule


class UniqueKeyViolationError(Exception):
    """A second decision for one (document, stage, final): the database would refuse it."""


@dataclass(frozen=True, slots=True)
class FakePerson:
    """A row of `person`, with what the nightly run reads of it."""

    id: int
    municipality_nis: str
    status: PersonStatus = PersonStatus.RESIDENT
    language: Language | None = None
    street: str | None = "Kerkstraat"
    house_number: str | None = "1"
    postal_code: str | None = "9000"
    locality: str | None = "Gent"
    country: str = "BE"
    import_id: int = 0  # the import that last changed the row; set by FakeDecisionStore.load

    @property
    def has_address(self) -> bool:
        return is_usable_address(
            street=self.street,
            house_number=self.house_number,
            postal_code=self.postal_code,
            locality=self.locality,
            country=self.country,
        )


@dataclass(frozen=True, slots=True)
class FakeDocument:
    """A row of `document`."""

    id: int
    person_id: int
    kind: DocumentKind
    expires_on: date | None
    status: DocumentStatus = DocumentStatus.ACTIVE
    import_id: int = 0


@dataclass(frozen=True, slots=True)
class FakeDecision:
    """A row of `decision`: a letter (reason None) or a skip."""

    run_id: int
    municipality_nis: str
    document_id: int
    document_kind: DocumentKind
    stage: str
    reason: SkipReason | None
    final: bool
    language: str | None
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class FakeRun:
    """A row of `nightly_run`."""

    as_of: date
    municipalities: tuple[str, ...]
    started_at: datetime
    outcome: str = "running"
    step: str = "started"
    finished_at: datetime | None = None
    letters: int = 0
    skips: int = 0
    failure: str | None = None


class FakeDecisionStore:
    """The nightly run's store in memory. With ``narrow=False`` it hands out every document
    of the municipalities every night: the reference the narrowing must agree with."""

    def __init__(self, *, narrow: bool = True) -> None:
        self.narrow = narrow
        self.persons: dict[int, FakePerson] = {}
        self.documents: dict[int, FakeDocument] = {}
        self.decisions: dict[tuple[int, str, bool], FakeDecision] = {}
        self.marks: dict[tuple[str, DocumentKind], tuple[ScanWatermark, int]] = {}
        self.runs: dict[int, FakeRun] = {}
        self.imports = 0
        self.committed = 0
        self.rolled_back = 0
        self.violations: list[tuple[int, str, bool]] = []  # kept across rollbacks

    # -- the registry, as imports change it -----------------------------------------------

    def load(self, rows: Iterable[FakePerson | FakeDocument]) -> list[FakePerson | FakeDocument]:
        """One registry import: each row that is new or differs from the stored one is stored
        with this import's id (an unchanged row keeps the import that last changed it, as
        `reminders import` does). Returns the rows it stored."""
        self.imports += 1
        stored: list[FakePerson | FakeDocument] = []
        for row in rows:
            if isinstance(row, FakePerson):
                person = replace(row, import_id=self.imports)
                old_person = self.persons.get(row.id)
                if old_person is None or replace(old_person, import_id=self.imports) != person:
                    self.persons[row.id] = person
                    stored.append(person)
            else:
                document = replace(row, import_id=self.imports)
                old = self.documents.get(row.id)
                if old is None or replace(old, import_id=self.imports) != document:
                    self.documents[row.id] = document
                    stored.append(document)
        return stored

    @contextmanager
    def transaction(self) -> Iterator[FakeDecisionStore]:
        """Commits on success; on an error puts back what the transaction had written."""
        saved = dict(self.decisions), dict(self.marks), dict(self.runs)
        try:
            yield self
        except BaseException:
            self.decisions, self.marks, self.runs = saved
            self.rolled_back += 1
            raise
        self.committed += 1

    # -- DecisionStore: reading -----------------------------------------------------------

    def latest_import_id(self) -> int:
        return self.imports

    def watermarks(
        self, kind: DocumentKind, nis_codes: Collection[str]
    ) -> dict[str, ScanWatermark]:
        return {
            nis: mark
            for (nis, mark_kind), (mark, _run) in self.marks.items()
            if mark_kind is kind and nis in nis_codes
        }

    def candidates(
        self,
        kind: DocumentKind,
        nis_codes: Collection[str],
        windows: Sequence[ExpiryWindow],
        *,
        changed_after_import: int | None,
    ) -> Iterator[list[tuple[DocumentFacts, tuple[Recorded, ...]]]]:
        in_area = [
            document
            for document in self.documents.values()
            if document.kind is kind
            and document.expires_on is not None
            and self.persons[document.person_id].municipality_nis in nis_codes
        ]
        if not self.narrow:
            yield from self._chunked(sorted(in_area, key=lambda document: document.id))
            return

        def expiring(document: FakeDocument) -> date:
            assert document.expires_on is not None
            return document.expires_on

        for window in windows:
            found = [document for document in in_area if expiring(document) in window]
            yield from self._chunked(sorted(found, key=lambda d: (expiring(d), d.id)))
        if changed_after_import is None:
            return
        changed = self._changed_since(kind, changed_after_import)
        outside = [
            document
            for document in sorted(in_area, key=lambda document: document.id)
            if document.id in changed
            and not any(expiring(document) in window for window in windows)
        ]
        yield from self._chunked(outside)

    def _changed_since(self, kind: DocumentKind, import_id: int) -> set[int]:
        """Like the adapter: documents of ``kind`` whose holder an import after ``import_id``
        changed, or whose holder's documents of this kind it changed (a new one renews the
        others)."""
        changed_holders = {
            document.person_id
            for document in self.documents.values()
            if document.kind is kind and document.import_id > import_id
        }
        return {
            document.id
            for document in self.documents.values()
            if document.kind is kind
            and (
                document.person_id in changed_holders
                or self.persons[document.person_id].import_id > import_id
            )
        }

    def _chunked(
        self, documents: list[FakeDocument]
    ) -> Iterator[list[tuple[DocumentFacts, tuple[Recorded, ...]]]]:
        for start in range(0, len(documents), CHUNK):
            yield [
                (self.facts(document), self.history(document.id))
                for document in documents[start : start + CHUNK]
            ]

    def facts(self, document: FakeDocument) -> DocumentFacts:
        """The document as the rule sees it tonight."""
        holder = self.persons[document.person_id]
        expires_on = document.expires_on
        renewed = expires_on is not None and any(
            later.person_id == document.person_id
            and later.kind is document.kind
            and later.status is DocumentStatus.ACTIVE
            and later.expires_on is not None
            and later.expires_on > expires_on
            for later in self.documents.values()
        )
        return DocumentFacts(
            document_id=document.id,
            kind=document.kind,
            expires_on=expires_on,
            status=document.status,
            renewed_by_later=renewed,
            holder=Holder(
                status=holder.status,
                municipality_nis=holder.municipality_nis,
                language=holder.language,
                has_address=holder.has_address,
            ),
        )

    def history(self, document_id: int) -> tuple[Recorded, ...]:
        return tuple(
            Recorded(decision.stage, decision.reason)
            for decision in self.decisions.values()
            if decision.document_id == document_id
        )

    # -- DecisionStore: writing -----------------------------------------------------------

    def start_run(
        self,
        *,
        as_of: date,
        municipalities: Sequence[str],
        started_by: str,
        worker: str,
        config_sha256: str,
        code_version: str,
        started_at: datetime,
    ) -> int:
        run_id = max(self.runs, default=0) + 1
        self.runs[run_id] = FakeRun(as_of, tuple(municipalities), started_at)
        return run_id

    def mark_decided(self, run_id: int, *, tally: dict[str, Any], missed_nights: str) -> None:
        self.runs[run_id] = replace(self.runs[run_id], step="decided")

    def record(
        self,
        run_id: int,
        municipality_nis: str,
        kind: DocumentKind,
        decisions: Sequence[Decision],
        recorded_at: datetime,
    ) -> None:
        """All or nothing, like one INSERT: a key already taken refuses the whole batch."""
        rows = {}
        for decision in decisions:
            key = (decision.document_id, decision.stage, decision.is_final)
            if key in self.decisions or key in rows:
                self.violations.append(key)
                raise UniqueKeyViolationError(f"decision {key} is already recorded")
            rows[key] = FakeDecision(
                run_id=run_id,
                municipality_nis=municipality_nis,
                document_id=decision.document_id,
                document_kind=kind,
                stage=decision.stage,
                reason=decision.reason,
                final=decision.is_final,
                language=language_label(decision.languages) if decision.is_letter else None,
                recorded_at=recorded_at,
            )
        self.decisions.update(rows)

    def save_watermark(
        self, municipality_nis: str, kind: DocumentKind, watermark: ScanWatermark, run_id: int
    ) -> None:
        self.marks[(municipality_nis, kind)] = (watermark, run_id)

    def finish_run(
        self,
        run_id: int,
        *,
        outcome: str,
        finished_at: datetime,
        letters: int = 0,
        skips: int = 0,
        failure: str | None = None,
        failure_reason: Reason | None = None,
    ) -> None:
        self.runs[run_id] = replace(
            self.runs[run_id],
            outcome=outcome,
            finished_at=finished_at,
            letters=letters,
            skips=skips,
            failure=failure,
        )

    def letter_store(self) -> LetterStore:
        """Printing is tested with its own fake (tests/service); runs on this store decide."""
        raise NotImplementedError("FakeDecisionStore does not print: call run_night without it")

    def dispatch_log(self) -> DispatchLogStore:
        """Only printed runs are sealed into the log; runs on this store only decide."""
        raise NotImplementedError("FakeDecisionStore does not seal: call run_night without it")

    def run_ledger(self) -> RunLedger:
        """Only printed runs are resumed; runs on this store decide in one step."""
        raise NotImplementedError("FakeDecisionStore does not resume: call run_night without it")

    def campaign_store(self) -> CampaignStore:
        """Campaigns are tested on real databases (tests/e2e/test_campaigns.py)."""
        raise NotImplementedError("FakeDecisionStore has no campaigns: run without them")

    def after_print(self) -> AfterPrintStore:
        """Release, cancellation, reprints and returns are tested on real databases
        (tests/e2e/test_after_print.py); runs on this store only decide."""
        raise NotImplementedError("FakeDecisionStore has no print volumes: run without them")


def decision_transaction(store: FakeDecisionStore) -> DecisionTransaction:
    """``store`` as the run's unit of work; typed against the port, so mypy checks that the
    fake still implements DecisionStore."""
    transaction: DecisionTransaction = store.transaction
    port: DecisionStore = store
    assert port is store
    return transaction
