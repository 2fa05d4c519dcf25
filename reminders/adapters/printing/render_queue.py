"""Rendering a run's volumes on other machines: Celery workers taking volume jobs from RabbitMQ.

Where one machine is not enough, `reminders render-worker` runs on as many machines as needed,
each with the installation's templates and config.toml; a run on any machine with
``[print.queue]`` in its config.toml sends each volume job to the queue and takes the rendered
volume back over the broker (the ``rpc://`` result backend: replies to the caller, nothing
stored). The run's process stays the single writer: it stages, records and seals each volume,
in order; workers only turn a job into bytes and write nothing. A run that dies renders its
unrecorded volumes again when it is resumed, so a result lost in flight costs time, not letters.

Messages are JSON (adapters/printing/volume_codec.py), never pickle. They hold names and
addresses, so they are sent transient (not written to the broker's disk as persistent
messages), the task's arguments are never logged (``argsrepr``), and the worker's log says
which volume of which run it rendered, with counts, never what is in it.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from reminders.errors import RemindersError, UsageError

try:
    from celery import Celery
    from celery.exceptions import TimeoutError as ResultTimeoutError
    from kombu.exceptions import OperationalError
except ModuleNotFoundError as err:  # an optional extra: most installations render locally
    raise UsageError(
        "[print.queue] needs Celery, which this installation lacks: pip install 'reminders[queue]'"
    ) from err

from reminders.adapters.printing.render_pool import VolumeRenderError
from reminders.adapters.printing.volume_codec import (
    decode_job,
    decode_rendered,
    encode_job,
    encode_rendered,
)
from reminders.adapters.printing.volume_render import VolumeRenderer
from reminders.config import QueueOptions
from reminders.domain.volume_job import RenderedVolume, VolumeJob

TASK = "reminders.render_volume"
REPLY_QUEUE_EXPIRES_S = 3600  # unused this long, a dead run's reply queue is deleted

log = logging.getLogger("reminders.render_worker")


class BrokerUnavailableError(RemindersError):
    """The render queue's broker cannot be reached (exit 1: the run resumes later)."""


def queue_app(options: QueueOptions) -> Celery:
    """The Celery app of one installation's render queue, for the run and for its workers."""
    app = Celery("reminders", broker=options.broker_url, backend=options.result_backend,
                 set_as_current=False)  # fmt: skip
    app.conf.update(
        # A message from the broker is data, never code: JSON only, in both directions.
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        task_default_queue=options.queue,
        # Jobs hold names and addresses: not written to the broker's disk as persistent
        # messages. A broker restart loses the volumes in flight; the run waits for them in
        # vain, fails, and renders them again when it is resumed.
        task_default_delivery_mode="transient",
        # A worker acknowledges a volume once it is rendered, not when it takes it: a worker
        # killed mid-volume (machine lost, OOM, SIGKILL) leaves it unacknowledged, and the broker
        # hands it to another worker.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # Each worker process takes one volume at a time (a volume is about a second of work):
        # fair dispatch, no volume waiting behind a busy process while another one idles.
        worker_prefetch_multiplier=1,
        # A volume that takes this long is hung: the worker kills it and the run gets an error
        # rather than waiting for ever.
        task_time_limit=options.time_limit_seconds,
        # The rpc:// reply queue of a run that died expires instead of holding its volumes.
        result_expires=REPLY_QUEUE_EXPIRES_S,
        # A worker that lost the broker stops the volumes it holds: the broker hands them out
        # again, and their results could not be acknowledged anyway.
        worker_cancel_long_running_tasks_on_connection_loss=True,
        broker_connection_retry_on_startup=True,
        worker_send_task_events=False,
        task_send_sent_event=False,
    )
    app.task(name=TASK, bind=True)(_render_volume)
    return app


# -- the run's side ------------------------------------------------------------------------------


class QueueRendering:
    """Opens a run's render pool on the queue (the Rendering port)."""

    def __init__(self, options: QueueOptions) -> None:
        self.options = options

    @contextmanager
    def open(self, volumes: int, letters: int = 0) -> Iterator[QueuePool]:
        """The queue's pool, whatever the run's size: its workers are already running."""
        app = queue_app(self.options)
        pool = QueuePool(app, self.options)
        try:
            if volumes:
                pool.check_broker()
            yield pool
        finally:
            pool.close()


class QueuePool:
    """Volume jobs sent to the render workers; their results come back to this process."""

    def __init__(self, app: Celery, options: QueueOptions) -> None:
        self.app, self.options = app, options
        self.volumes_ahead = options.volumes_ahead
        self._pending: list[PendingQueuedVolume] = []

    def check_broker(self) -> None:
        """Fail before the first volume, with the broker's address, when it does not answer."""
        connection = self.app.connection_for_write()
        try:
            connection.ensure_connection(max_retries=1)
        except OperationalError as err:
            raise BrokerUnavailableError(
                f"[print.queue] broker {connection.as_uri()} cannot be reached: {err}"
            ) from err
        finally:
            connection.release()

    def submit(self, job: VolumeJob) -> PendingQueuedVolume:
        try:
            result = self.app.send_task(
                TASK,
                args=[encode_job(job)],
                queue=self.options.queue,
                argsrepr=f"({job.file_name!r} of run {job.run_id})",  # not the letters
                kwargsrepr="{}",
            )
        except (OperationalError, OSError) as err:
            raise BrokerUnavailableError(
                f"{job.file_name} of run {job.run_id} could not be sent to the render queue: {err}"
            ) from err
        pending = PendingQueuedVolume(job, result, self.options)
        self._pending = [p for p in self._pending if not p.collected]
        self._pending.append(pending)
        return pending

    def close(self) -> None:
        """Revoke the volumes not collected (the run stopped or failed: the workers need not
        render them), then close the connections."""
        unfinished = [p.task_id for p in self._pending if not p.collected]
        with suppress(OperationalError, OSError):
            if unfinished:
                self.app.control.revoke(unfinished)
        consumer = self.app.backend.result_consumer
        if getattr(consumer, "_consumer", None) is not None:  # started by the first send
            with suppress(OperationalError, OSError):
                consumer.stop()
        self.app.close()  # the broker connections stay in kombu's pool for the next run


class PendingQueuedVolume:
    """A volume job on the queue (the PendingVolume port)."""

    def __init__(self, job: VolumeJob, result: Any, options: QueueOptions) -> None:
        self.file_name, self.run_id = job.file_name, job.run_id
        self.task_id: str = result.id
        self._result, self._options = result, options
        self.collected = False
        self.worker: str | None = None  # the hostname of the worker that rendered it

    def result(self, timeout: float | None = None) -> RenderedVolume:
        wait = self._options.wait_seconds if timeout is None else timeout
        where = f"{self.file_name} of run {self.run_id}"
        try:
            value = self._result.get(timeout=wait, propagate=False)
        except ResultTimeoutError as err:
            raise VolumeRenderError(
                f"{where}: no render worker returned it within {wait:g} s; are "
                f"`reminders render-worker`s running on queue {self._options.queue!r}?"
            ) from err
        except (OperationalError, OSError) as err:
            raise VolumeRenderError(f"{where}: the render queue's broker was lost: {err}") from err
        self.collected = True
        if self._result.failed():  # killed by the time limit, or a worker's internal error
            raise VolumeRenderError(
                f"{where}: the render worker failed ({type(value).__name__}); see its log"
            )
        if not isinstance(value, dict):
            raise VolumeRenderError(f"{where}: the render worker's reply is not an object")
        self.worker = value.get("worker")
        error = value.get("error")
        if error is not None:
            raise VolumeRenderError(str(error["message"]), int(error["exit_code"]))
        try:
            return decode_rendered(value["volume"])
        except (KeyError, RemindersError) as err:
            raise VolumeRenderError(f"{where}: the render worker's reply: {err}") from err


# -- the worker's side ---------------------------------------------------------------------------

_renderer: VolumeRenderer | None = None  # the worker's own; child processes inherit it (fork)


def run_worker(
    options: QueueOptions,
    renderer: VolumeRenderer,
    *,
    hostname: str,
    concurrency: int,
    loglevel: str,
) -> int:
    """Serve the render queue until a warm shutdown (SIGTERM, SIGINT): the volumes under way
    are finished first. Returns the worker's exit status."""
    global _renderer
    _renderer = renderer
    app = queue_app(options)
    _keep_task_data_out_of_logs()
    worker = app.Worker(
        hostname=hostname,
        concurrency=concurrency,
        loglevel=loglevel,
        queues=[options.queue],
        pool="prefork",  # the only pool that enforces task_time_limit
        without_gossip=True,  # workers need not watch each other
    )
    worker.start()
    return int(worker.exitcode or 0)


def _render_volume(task: Any, message: object) -> dict[str, Any]:
    """The task: a job in, the rendered volume (or why not) out, and who rendered it."""
    hostname = str(task.request.hostname)
    started = time.perf_counter()
    try:
        job = decode_job(message)
    except RemindersError as err:
        log.error("refused a message: %s", err.message)
        return {"worker": hostname, "error": {"message": err.message, "exit_code": 1}}
    assert _renderer is not None  # noqa: S101 - set by run_worker before the worker starts
    try:
        rendered = _renderer.render(job)
    except RemindersError as err:  # messages name volumes, runs and templates, no person
        log.error("refused %s of run %d: %s", _volume(job), job.run_id, err.message)
        return {"worker": hostname, "error": {"message": err.message, "exit_code": err.exit_code}}
    except Exception as err:  # a bug: its message may quote a letter, so only where it was
        where = "".join(traceback.format_list(traceback.extract_tb(err.__traceback__)))
        log.error("failed on %s of run %d: %s at\n%s", _volume(job), job.run_id,
                  type(err).__name__, where)  # fmt: skip
        message_ = f"{job.file_name} of run {job.run_id}: the render worker {hostname} failed"
        return {"worker": hostname, "error": {"message": f"{message_} ({type(err).__name__})",
                                              "exit_code": 1}}  # fmt: skip
    log.info("rendered %s of run %d: %d letters, %d pages in %.2f s", _volume(job), job.run_id,
             len(rendered.letters), rendered.pages, time.perf_counter() - started)  # fmt: skip
    return {"worker": hostname, "volume": encode_rendered(rendered)}


def _volume(job: VolumeJob) -> str:
    return f"{job.municipality.nis_code}/{job.file_name}"


class _TaskDataFilter(logging.Filter):
    """Celery logs a task's return value and keeps its arguments in the log record: here, the
    letters. They are replaced; the task's name, id, run time and outcome are kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, dict):
            hidden = {key: "(not logged)" for key in _TASK_DATA if key in record.args}
            record.args = {**record.args, **hidden}
        data = record.__dict__.get("data")
        if isinstance(data, dict):
            record.__dict__["data"] = {key: v for key, v in data.items() if key not in _TASK_DATA}
        return True


_TASK_DATA = ("return_value", "args", "kwargs")


def _keep_task_data_out_of_logs() -> None:
    for name in ("celery.app.trace", "celery.worker.strategy", "celery.worker.request"):
        logging.getLogger(name).addFilter(_TaskDataFilter())
