"""The database tables, typed (SQLAlchemy 2.0). Only migrations create or change them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    Unicode,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from reminders.domain.channels import EmailState
from reminders.domain.console_access import Role
from reminders.domain.dispatch_log import LogEvent
from reminders.domain.due import SkipReason
from reminders.domain.model import (
    DocumentKind,
    DocumentStatus,
    Language,
    PersonStatus,
    RegistryKind,
)
from reminders.domain.release import VolumeState
from reminders.domain.returned_mail import ReturnReason


def _one_of(
    column: str,
    values: type[
        Language
        | PersonStatus
        | DocumentKind
        | DocumentStatus
        | RegistryKind
        | SkipReason
        | LogEvent
        | Role
        | ReturnReason
        | EmailState
    ],
) -> str:
    allowed = ", ".join(f"'{value.value}'" for value in values)
    return f"{column} IN ({allowed})"


class Base(DeclarativeBase):
    # Named constraints let Alembic alter or drop them (and batch mode on SQLite needs names).
    metadata = MetaData(
        naming_convention={
            "pk": "pk_%(table_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
        }
    )


class RegistryImportRow(Base):
    """One import of a registry extract: which file (by hash), when, and what it changed."""

    __tablename__ = "registry_import"
    __table_args__ = (CheckConstraint(_one_of("kind", RegistryKind), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    file_name: Mapped[str] = mapped_column(String(255))  # the name only: paths say nothing
    file_sha256: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    rows_read: Mapped[int] = mapped_column(Integer)
    inserted: Mapped[int] = mapped_column(Integer)
    updated: Mapped[int] = mapped_column(Integer)
    unchanged: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)


class RejectedRowRow(Base):
    """A registry row that was not imported, kept with where it was and why (nothing is lost)."""

    __tablename__ = "rejected_row"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("registry_import.id"), index=True)
    line: Mapped[int] = mapped_column(Integer)  # the header is line 1
    column_name: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(20))  # masked national number, for reports
    raw: Mapped[str] = mapped_column(Text)  # the record as it stood in the file


class PersonRow(Base):
    """A person of the population register, keyed by national register or BIS number."""

    __tablename__ = "person"
    __table_args__ = (
        CheckConstraint(_one_of("status", PersonStatus), name="status"),
        CheckConstraint(f"language IS NULL OR {_one_of('language', Language)}", name="language"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    national_number: Mapped[str] = mapped_column(String(11), unique=True)  # compact digits
    family_name: Mapped[str] = mapped_column(String(200))
    given_names: Mapped[str] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(2))
    street: Mapped[str | None] = mapped_column(String(200))
    house_number: Mapped[str | None] = mapped_column(String(16))
    box: Mapped[str | None] = mapped_column(String(16))
    postal_code: Mapped[str | None] = mapped_column(String(12))
    locality: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    municipality_nis: Mapped[str] = mapped_column(String(5), index=True)
    status: Mapped[str] = mapped_column(String(16))
    status_since: Mapped[date | None] = mapped_column(Date)
    guardian_national_number: Mapped[str | None] = mapped_column(String(11))
    # Issue 25: the address the citizen gave for reminders, kept only while they consent (an
    # import with an empty `email_consent` withdraws it and the address goes with it).
    email: Mapped[str | None] = mapped_column(String(254))
    email_consent: Mapped[bool] = mapped_column(
        Boolean(create_constraint=False), server_default="0"
    )
    # The import that last changed this row: an auditor can trace a letter to its data, and
    # the nightly scan finds what changed since its last run (indexed).
    import_id: Mapped[int] = mapped_column(ForeignKey("registry_import.id"), index=True)


class DocumentRow(Base):
    """A document of a person, keyed by kind and number (interfaces.md §1)."""

    __tablename__ = "document"
    __table_args__ = (
        UniqueConstraint("kind", "number"),
        CheckConstraint(_one_of("kind", DocumentKind), name="kind"),
        CheckConstraint(_one_of("status", DocumentStatus), name="status"),
        # The nightly scan narrows by kind and expiry window and reads the rest of what it
        # needs from the index (SQLite: no row lookup); renewals are found per holder, from
        # the index alone too (is there an active one of this kind expiring later?).
        Index("ix_document_scan", "kind", "expires_on", "person_id", "status", "id"),
        Index("ix_document_renewal", "person_id", "kind", "status", "expires_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    kind: Mapped[str] = mapped_column(String(20))
    number: Mapped[str] = mapped_column(String(40))
    issued_on: Mapped[date | None] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)  # None: paper licence, never reminded
    status: Mapped[str] = mapped_column(String(16))
    import_id: Mapped[int] = mapped_column(ForeignKey("registry_import.id"), index=True)


RUN_STEPS = ("started", "decided", "printed", "sealed", "published")


class NightlyRunRow(Base):
    """One `reminders run` (or scheduled night): for which date, when, by whom, and how it ended.

    Recorded in its own transaction before the decisions. Each step (decide, print, seal,
    publish) commits on its own and moves ``step`` on, so a run stopped at any moment is
    resumed from there; ``outcome`` says whether its latest attempt is running, failed or
    finished the whole run.
    """

    __tablename__ = "nightly_run"
    __table_args__ = (
        CheckConstraint("outcome IN ('running', 'succeeded', 'failed')", name="outcome"),
        CheckConstraint(
            "step IN (" + ", ".join(f"'{step}'" for step in RUN_STEPS) + ")", name="step"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[date] = mapped_column(Date)  # the date decided for (local calendar day)
    municipalities: Mapped[str] = mapped_column(String(2000))  # NIS codes, comma-separated
    started_by: Mapped[str] = mapped_column(String(40))  # "cli", "scheduler", "demo"
    config_sha256: Mapped[str] = mapped_column(String(64))
    code_version: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(String(16))
    letters: Mapped[int] = mapped_column(Integer, default=0)
    skips: Mapped[int] = mapped_column(Integer, default=0)
    failure: Mapped[str | None] = mapped_column(String(500))  # no personal data, ever
    # The same as a code and its values (JSON, errors.Reason), for the console's languages
    failure_reason: Mapped[str | None] = mapped_column(Text)
    step: Mapped[str] = mapped_column(String(16), server_default="started")
    # JSON {NIS: [first, last]}: the nights before this one that no run decided
    missed_nights: Mapped[str | None] = mapped_column(Text)
    # JSON: per NIS code, what deciding looked at (for the summary of a resumed run)
    tally: Mapped[str | None] = mapped_column(Text)
    # JSON {NIS: count}: the volumes the print step plans once the letters are decided (an
    # upper bound: the re-check may stop letters); "volume 3 of 7" on the run's page
    planned_volumes: Mapped[str | None] = mapped_column(Text)


class RunAttemptRow(Base):
    """One attempt at a run: the first, and each resumption after a failure or a kill."""

    __tablename__ = "run_attempt"
    __table_args__ = (
        CheckConstraint("outcome IN ('running', 'succeeded', 'failed')", name="outcome"),
    )

    run_id: Mapped[int] = mapped_column(ForeignKey("nightly_run.id"), primary_key=True)
    attempt: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    started_by: Mapped[str] = mapped_column(String(40))
    worker: Mapped[str] = mapped_column(String(200))  # host:pid
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(String(16))
    step: Mapped[str] = mapped_column(String(16))  # the step it was at when it ended
    failure: Mapped[str | None] = mapped_column(String(500))


class DecisionRow(Base):
    """One decision of a run for one (document, stage): a letter, or a skip with its reason.

    The unique key is the "never twice" guarantee (interfaces.md §3): per (document, stage) at
    most one final decision (a letter or a final skip) and at most one open `no_address` skip.
    """

    __tablename__ = "decision"
    __table_args__ = (
        UniqueConstraint("document_id", "stage", "final"),
        CheckConstraint(f"reason IS NULL OR {_one_of('reason', SkipReason)}", name="reason"),
        CheckConstraint(
            "(reason IS NULL AND language IS NOT NULL) "
            "OR (reason IS NOT NULL AND language IS NULL)",
            name="letter_has_language",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("nightly_run.id"), index=True)
    municipality_nis: Mapped[str] = mapped_column(String(5))
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"))
    document_kind: Mapped[str] = mapped_column(String(20))
    stage: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(String(20))  # None: a letter
    final: Mapped[bool] = mapped_column(Boolean(create_constraint=False))
    language: Mapped[str | None] = mapped_column(String(5))  # "nl", or "fr+nl" when bilingual
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ScanWatermarkRow(Base):
    """How far a municipality's documents of one kind have been decided, and under which policy.

    The next night scans only the stages that fell due since ``decided_through`` and the
    registry rows changed by imports after ``import_id``; a changed policy starts afresh.
    """

    __tablename__ = "scan_watermark"

    municipality_nis: Mapped[str] = mapped_column(String(5), primary_key=True)
    document_kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    policy_digest: Mapped[str] = mapped_column(String(64))
    decided_through: Mapped[date] = mapped_column(Date)
    import_id: Mapped[int] = mapped_column(Integer)  # the newest import the run had read
    run_id: Mapped[int] = mapped_column(ForeignKey("nightly_run.id"))


VOLUME_KINDS = ("run", "recut", "reprint")


class PrintVolumeRow(Base):
    """A print-ready PDF of a run: one municipality (and language), at most N letters; or a
    volume made after the run from its letters (re-cut without cancelled letters, reprint).
    ``state`` says where it stands towards the print shop (domain/release.py)."""

    __tablename__ = "print_volume"
    # No CHECK on state and kind: SQLite adds one to an existing table only by copying it.
    __table_args__ = (UniqueConstraint("path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("nightly_run.id"), index=True)
    municipality_nis: Mapped[str] = mapped_column(String(5))
    language: Mapped[str | None] = mapped_column(String(5))  # set when volumes split by language
    sequence: Mapped[int] = mapped_column(Integer)  # the batch number within its series
    path: Mapped[str] = mapped_column(String(1000))  # absolute, as `run --json` prints it
    sha256: Mapped[str] = mapped_column(String(64))
    letters: Mapped[int] = mapped_column(Integer)
    pages: Mapped[int] = mapped_column(Integer)
    written_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(16), server_default=VolumeState.AUTO.value)
    kind: Mapped[str] = mapped_column(String(16), server_default="run")  # VOLUME_KINDS
    # The volume a re-cut replaces. No foreign key: SQLite adds one to an existing table only
    # by copying the table, which fails while letters point to it.
    replaces_id: Mapped[int | None] = mapped_column(Integer)
    requested_by: Mapped[str | None] = mapped_column(String(40))  # who asked for a reprint
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    released_by: Mapped[str | None] = mapped_column(String(40))
    # When its files reached the print shop's pick-up folder (None: not yet, or never).
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LetterRow(Base):
    """A letter decision as it was printed: its reference, volume and pages, and the hashes of
    the template sources and of the address block it was printed from."""

    __tablename__ = "letter"

    decision_id: Mapped[int] = mapped_column(ForeignKey("decision.id"), primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    volume_id: Mapped[int] = mapped_column(ForeignKey("print_volume.id"), index=True)
    first_page: Mapped[int] = mapped_column(Integer)
    page_count: Mapped[int] = mapped_column(Integer)
    templates: Mapped[str] = mapped_column(String(200))  # "eid/first.fr.txt.j2+eid/first.nl..."
    template_sha256: Mapped[str] = mapped_column(String(64))
    address_sha256: Mapped[str] = mapped_column(String(64))


class EmailMessageRow(Base):
    """A letter decision sent by e-mail (issue 25): its Message-ID (one per decision, so a
    retry is the same message), where it stands with the relay, and the hashes the dispatch
    log records. The row is committed in state ``sending`` before the message goes to the
    relay, and the relay's acceptance (its queue id) is committed before anything says sent.

    States: sending → accepted (250), deferred (4xx after the run's retries: tried again by
    the next run, same Message-ID), refused (5xx) or bounced (`reminders bounces import`);
    refused and bounced ones go on paper at the next run (``fallback_run_id``)."""

    __tablename__ = "email_message"
    __table_args__ = (
        CheckConstraint(_one_of("state", EmailState), name="state"),
        Index("ix_email_message_state", "state", "municipality_nis"),
    )

    decision_id: Mapped[int] = mapped_column(ForeignKey("decision.id"), primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("nightly_run.id"), index=True)
    municipality_nis: Mapped[str] = mapped_column(String(5))
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    state: Mapped[str] = mapped_column(String(16))
    templates: Mapped[str] = mapped_column(String(200))
    template_sha256: Mapped[str] = mapped_column(String(64))
    message_sha256: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer)
    queue_id: Mapped[str | None] = mapped_column(String(200))
    reply: Mapped[str | None] = mapped_column(String(300))  # the relay's, addresses masked
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set once: the run whose step logged the failure and printed the letter on paper.
    fallback_run_id: Mapped[int | None] = mapped_column(ForeignKey("nightly_run.id"))


class AuditEntryRow(Base):
    """An entry of a municipality's dispatch log (domain/dispatch_log.py): append-only, the
    database refuses UPDATE and DELETE (migration 0004). Times are ISO text so the canonical
    form reads back byte for byte on both engines; no foreign keys, so the log stands alone."""

    __tablename__ = "audit_entry"
    __table_args__ = (
        CheckConstraint(_one_of("event", LogEvent), name="event"),
        Index("ix_audit_entry_run", "run_id", "municipality_nis"),
        Index("ix_audit_entry_document", "document_kind", "document_number"),
        Index("ix_audit_entry_reference", "reference"),
    )

    municipality_nis: Mapped[str] = mapped_column(String(5), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    run_id: Mapped[int | None] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(16))
    recorded_at: Mapped[str] = mapped_column(String(32))
    document_kind: Mapped[str | None] = mapped_column(String(20))
    document_number: Mapped[str | None] = mapped_column(String(40))
    stage: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(String(20))
    language: Mapped[str | None] = mapped_column(String(5))
    reference: Mapped[str | None] = mapped_column(String(40))
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class AuditSubjectRow(Base):
    """The holder an entry's commitment stands for: shown only to who may see it, erasable
    at the end of the retention period while the chain stays verifiable."""

    __tablename__ = "audit_subject"
    __table_args__ = (
        ForeignKeyConstraint(
            ["municipality_nis", "seq"], ["audit_entry.municipality_nis", "audit_entry.seq"]
        ),
    )

    municipality_nis: Mapped[str] = mapped_column(String(5), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    national_number: Mapped[str] = mapped_column(String(11))
    salt: Mapped[str] = mapped_column(String(32))  # hex


class AuditCheckpointRow(Base):
    """A signed checkpoint of a municipality's log, with the tree's frontier so the next run
    appends without reading the log again."""

    __tablename__ = "audit_checkpoint"

    municipality_nis: Mapped[str] = mapped_column(String(5), primary_key=True)
    tree_size: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    run_id: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text)  # the signed note, as written to the files
    frontier: Mapped[str] = mapped_column(Text)  # hex hashes of the perfect subtrees


class AuditVerificationRow(Base):
    """A verification of a municipality's dispatch log and its verdict (`reminders status`
    shows the newest)."""

    __tablename__ = "audit_verification"
    __table_args__ = (Index("ix_audit_verification_latest", "municipality_nis", "verified_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_nis: Mapped[str] = mapped_column(String(5))
    verified_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    verified_by: Mapped[str] = mapped_column(String(40))
    tree_size: Mapped[int] = mapped_column(Integer)
    root_hash: Mapped[str | None] = mapped_column(String(64))  # hex; None for an empty log
    intact: Mapped[bool] = mapped_column(Boolean)
    problem: Mapped[str | None] = mapped_column(String(500))


class SchedulerJobRow(Base):
    """APScheduler's SQLAlchemyJobStore table, declared here so migrations create it."""

    __tablename__ = "scheduler_job"

    id: Mapped[str] = mapped_column(Unicode(191), primary_key=True)
    next_run_time: Mapped[float | None] = mapped_column(Float(25), index=True)  # UNIX time
    job_state: Mapped[bytes] = mapped_column(LargeBinary)


class ConsoleUserRow(Base):
    """A person who logs in to the web console; disabled, never deleted (the activity log
    names them)."""

    __tablename__ = "console_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))  # Argon2id, with its parameters
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    language: Mapped[str | None] = mapped_column(String(5))  # the console's, as they chose it


class ConsoleGrantRow(Base):
    """A role a console user holds in one municipality."""

    __tablename__ = "console_grant"
    __table_args__ = (CheckConstraint(_one_of("role", Role), name="role"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("console_user.id"), primary_key=True)
    municipality_nis: Mapped[str] = mapped_column(String(5), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    may_reveal: Mapped[bool] = mapped_column(Boolean(create_constraint=False))


class ConsoleSessionRow(Base):
    """A logged-in browser: only the SHA-256 of its cookie's token is kept."""

    __tablename__ = "console_session"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("console_user.id"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ConsoleActionRow(Base):
    """What someone did in the console (or to its users): append-only, no personal data
    beyond document numbers."""

    __tablename__ = "console_action"
    __table_args__ = (
        Index("ix_console_action_municipality", "municipality_nis", "at"),
        Index("ix_console_action_user", "username", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    username: Mapped[str] = mapped_column(String(40))  # "alice", or "cli:root" for commands
    municipality_nis: Mapped[str | None] = mapped_column(String(5))
    action: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(16))  # ok, refused, failed, started
    details: Mapped[str] = mapped_column(Text)  # JSON


class ConsoleLoginAttemptRow(Base):
    """A login attempt for a user name, counted against the lockout: recorded as ``pending``
    before its password is checked, then ``failed`` or ``ok``. Unlike the activity log it
    changes, and rows older than the lockout window are forgotten."""

    __tablename__ = "console_login_attempt"
    __table_args__ = (
        CheckConstraint("outcome IN ('pending', 'failed', 'ok')", name="outcome"),
        Index("ix_console_login_attempt_user", "username", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(32))  # as typed (lower case): names may not exist
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(String(16))


class LetterCancellationRow(Base):
    """A printed letter an approver stopped before its volume went to the print shop: its
    decision became a `cancelled` skip, final unless ``redecide`` (decided again by the next
    run); the log's `cancelled` entry says the same."""

    __tablename__ = "letter_cancellation"
    __table_args__ = (Index("ix_letter_cancellation_redecide", "municipality_nis", "redecide"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decision.id"), unique=True)
    reference: Mapped[str] = mapped_column(String(40))
    municipality_nis: Mapped[str] = mapped_column(String(5))
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"))
    document_kind: Mapped[str] = mapped_column(String(20))
    stage: Mapped[str] = mapped_column(String(40))
    volume_id: Mapped[int] = mapped_column(ForeignKey("print_volume.id"))
    redecide: Mapped[bool] = mapped_column(Boolean(create_constraint=False))
    cancelled_by: Mapped[str] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(String(200))  # why (no personal data: domain/release.py)
    cancelled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReprintRow(Base):
    """A letter printed again (``<reference>-R<n>``), alone in a reprint volume, with the
    original's texts and date."""

    __tablename__ = "reprint"
    __table_args__ = (UniqueConstraint("original", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    original: Mapped[str] = mapped_column(String(40))  # the letter's own reference
    number: Mapped[int] = mapped_column(Integer)  # n of -Rn
    decision_id: Mapped[int] = mapped_column(ForeignKey("decision.id"), index=True)
    volume_id: Mapped[int] = mapped_column(ForeignKey("print_volume.id"))
    first_page: Mapped[int] = mapped_column(Integer)
    page_count: Mapped[int] = mapped_column(Integer)
    template_sha256: Mapped[str] = mapped_column(String(64))
    address_sha256: Mapped[str] = mapped_column(String(64))
    requested_by: Mapped[str] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReturnsImportRow(Base):
    """One list of returned letters read (`reminders returns import`): which file, by whom."""

    __tablename__ = "returns_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_nis: Mapped[str] = mapped_column(String(5))
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64))
    imported_by: Mapped[str] = mapped_column(String(40))
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    lines_read: Mapped[int] = mapped_column(Integer)
    accepted: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)


class ReturnsRejectionRow(Base):
    """A line of a returns list that was not taken, kept with why: nothing is lost."""

    __tablename__ = "returns_rejection"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("returns_import.id"), index=True)
    line: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(String(60))  # as the line had it
    problem: Mapped[str] = mapped_column(String(300))
    raw: Mapped[str] = mapped_column(Text)


class ReturnedLetterRow(Base):
    """A letter bpost brought back. ``address_key`` is the hash of the registry address it
    came back from (domain/returned_mail.py): while the holder's address hashes the same, no
    letter goes there (skip `returned_mail`). None: the registry already held another address
    (or none) when the return was read."""

    __tablename__ = "returned_letter"
    __table_args__ = (CheckConstraint(_one_of("reason", ReturnReason), name="reason"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)  # as printed (-Rn too)
    original: Mapped[str] = mapped_column(String(40))
    municipality_nis: Mapped[str] = mapped_column(String(5))
    decision_id: Mapped[int] = mapped_column(ForeignKey("decision.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    returned_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(20))
    address_key: Mapped[str | None] = mapped_column(String(64))
    import_id: Mapped[int] = mapped_column(ForeignKey("returns_import.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
