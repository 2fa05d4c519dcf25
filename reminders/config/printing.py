"""``[print]`` and ``[print.queue]``: volumes, the address window, render workers here or on
other machines."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from reminders.config.table import Table


@dataclass(frozen=True, slots=True)
class AddressWindow:
    """Where the envelope's window shows the sheet: the recipient's address must fit inside.

    Millimetres on the unfolded A4 sheet, from its left and top edges. The default is the
    address field of DIN 5008 form B (DIN 676 B), which a DIN 680 left window on a DL or
    C5/6 envelope shows after a fold at 105 and 210 mm (domain.md §4.5).
    """

    left_mm: float = 20.0
    top_mm: float = 45.0
    width_mm: float = 85.0
    height_mm: float = 45.0


@dataclass(frozen=True, slots=True)
class QueueOptions:
    """Volumes rendered by `reminders render-worker`s on other machines, through a message
    broker (``[print.queue]`` in config.toml; adapters/printing/render_queue.py)."""

    broker_url: str  # RabbitMQ: amqp:// or amqps://
    result_backend: str = "rpc://"  # results come back to the run over the broker, never stored
    queue: str = "reminders-render"
    volumes_ahead: int = 8  # volumes in flight beyond the one being recorded: 2 per worker
    time_limit_seconds: float = 300.0  # a worker stops a volume that takes longer (a hang)
    wait_seconds: float = 900.0  # the run gives up on a volume after this: are workers running?


@dataclass(frozen=True, slots=True)
class PrintOptions:
    """How a run's letters become print volumes (``[print]`` in config.toml)."""

    volume_max_letters: int = 1000  # a volume stays small enough to reprint and to hold in memory
    split_by_language: bool = False  # one volume series per letter language
    duplex: bool = False  # printed on both sides: every letter starts on a recto
    window: AddressWindow = AddressWindow()
    workers: int = 0  # processes rendering a run's volumes; 0: one per core, 1: the run's own
    queue: QueueOptions | None = None  # set: workers on other machines render, not processes here
    # The print shop's pick-up folder: released volumes are copied there (issue 21). None:
    # the print shop reads output_dir itself, as before, where every published volume is.
    pickup_dir: Path | None = None
    # The print operator's group: the output folder's files are readable by it (0640, folders
    # 0750) instead of owner-only (0600 and 0700), issue 18.
    group: str | None = None


def print_options_of(root: Table, base: Path) -> PrintOptions:
    table = root.table("print", required=False)
    if table is None:
        return PrintOptions()
    defaults = PrintOptions()
    largest = table.whole_number("volume_max_letters", minimum=1, maximum=100_000)
    window = defaults.window
    window_table = table.table("window", required=False)
    if window_table is not None:
        window = AddressWindow(
            *(
                _millimetres(window_table, name, default, maximum)
                for name, default, maximum in (
                    ("left_mm", window.left_mm, 150.0),
                    ("top_mm", window.top_mm, 200.0),
                    ("width_mm", window.width_mm, 150.0),
                    ("height_mm", window.height_mm, 100.0),
                )
            )
        )
        window_table.finish()
        if window.left_mm + window.width_mm > 200 or window.height_mm < 25:
            raise table.error("window", "the window must lie on the A4 sheet and hold 5 lines")
        if window.top_mm + window.height_mm > 95:
            raise table.error("window", "the window must end above the subject line at 98.5 mm")
    flags = {name: table.flag(name) for name in ("split_by_language", "duplex")}
    workers = table.whole_number("workers", minimum=0, maximum=256)
    pickup = table.text("pickup_dir", required=False)
    group = table.text("group", required=False)
    if group is not None and not _GROUP_NAME.fullmatch(group):
        raise table.error("group", f"expected the name of a group on this machine, got {group!r}")
    queue = _print_queue(table, largest)
    table.finish()
    return PrintOptions(
        volume_max_letters=defaults.volume_max_letters if largest is None else largest,
        split_by_language=bool(flags["split_by_language"]),
        duplex=bool(flags["duplex"]),
        window=window,
        workers=defaults.workers if workers is None else workers,
        queue=queue,
        pickup_dir=None if pickup is None else (base / pickup).resolve(),
        group=group,
    )


_BROKER_SCHEMES = ("amqp", "amqps", "pyamqp")  # RabbitMQ, the broker tested and documented


_QUEUED_VOLUME_MAX_LETTERS = 3000  # about 10 MB a message, bilingual letters included


_GROUP_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")  # a POSIX group name, as useradd takes
_QUEUE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


def _print_queue(print_table: Table, volume_max_letters: int | None) -> QueueOptions | None:
    """``[print.queue]``: absent, volumes render in processes on this machine."""
    table = print_table.table("queue", required=False)
    if table is None:
        return None
    if (volume_max_letters or PrintOptions().volume_max_letters) > _QUEUED_VOLUME_MAX_LETTERS:
        raise print_table.error(
            "volume_max_letters",
            f"at most {_QUEUED_VOLUME_MAX_LETTERS} with [print.queue]: a rendered volume comes "
            "back as one broker message, some 3.5 KB a letter, and RabbitMQ refuses messages "
            "over 16 MiB by default",
        )
    defaults = QueueOptions(broker_url="")
    broker = table.required_text("broker")
    scheme, _, rest = broker.partition("://")
    if scheme not in _BROKER_SCHEMES or not rest.split("/")[0].rpartition("@")[2]:
        raise table.error(
            "broker", 'expected a RabbitMQ URL like "amqp://user:password@host:5672//"'
        )
    backend = table.text("result_backend", required=False) or defaults.result_backend
    if backend != "rpc://":
        raise table.error(
            "result_backend",
            'expected "rpc://": results travel back to the run over the broker and are never '
            "stored (a run that dies renders its unrecorded volumes again)",
        )
    queue = table.text("queue", required=False) or defaults.queue
    if not _QUEUE_NAME.match(queue):
        raise table.error("queue", "expected a name of letters, digits, '_', '.' or '-'")
    ahead = table.whole_number("volumes_ahead", minimum=1, maximum=1024)
    limit = table.number("time_limit_seconds", minimum=1, maximum=86_400)
    wait = table.number("wait_seconds", minimum=1, maximum=86_400)
    if (wait or defaults.wait_seconds) <= (limit or defaults.time_limit_seconds):
        blamed = "wait_seconds" if wait is not None else "time_limit_seconds"
        raise table.error(
            blamed,
            "wait_seconds must be longer than time_limit_seconds: the run would give up on a "
            "volume a worker may still be rendering",
        )
    table.finish()
    return QueueOptions(
        broker_url=broker,
        result_backend=backend,
        queue=queue,
        volumes_ahead=defaults.volumes_ahead if ahead is None else ahead,
        time_limit_seconds=defaults.time_limit_seconds if limit is None else limit,
        wait_seconds=defaults.wait_seconds if wait is None else wait,
    )


def _millimetres(table: Table, name: str, default: float, maximum: float) -> float:
    value = table.number(name, minimum=0, maximum=maximum)
    return default if value is None else value
