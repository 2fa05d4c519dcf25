"""Rendering beyond one machine: `reminders run` with ``[print.queue]`` sends its volumes to two
`reminders render-worker` processes through RabbitMQ and gets back exactly the bytes a local
run writes; both workers render; a worker SIGKILLed mid-volume loses nothing (the broker hands
the volume to the other); a job a worker must refuse comes back as the run's error; no worker
logs a name or a number. Synthetic registry only.

RabbitMQ is looked for at ``amqp://guest:guest@127.0.0.1:5672//`` (``REMINDERS_TEST_BROKER_URL``
overrides). Without it the tests skip with the reason, except in CI (``CI=true``), where they
fail: a skip would hide a broken path. Each test has a queue of its own, deleted afterwards.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from kombu.exceptions import OperationalError
from sqlalchemy import select

from reminders.adapters.db.engine import make_engine
from reminders.adapters.db.orm import DecisionRow, DocumentRow, LetterRow, PersonRow
from reminders.adapters.printing.render_pool import VolumeRenderError
from reminders.adapters.printing.render_queue import (
    BrokerUnavailableError,
    QueueRendering,
    queue_app,
)
from reminders.adapters.printing.text import LetterTemplates
from reminders.adapters.printing.volume_render import VolumeRenderer, print_options_key
from reminders.config import QueueOptions, load_settings
from reminders.domain.model import DocumentKind, Language
from reminders.domain.volume_job import VolumeJob
from tests.conftest import unavailable
from tests.e2e.run_checks import (
    REMINDERS,
    Night,
    check_invariants,
    clean_run,
    finish,
    prepared_night,
    start_run,
    stop_runs,
    template,
)
from tests.unit.test_volume_codec import example_job

BROKER_URL = os.environ.get("REMINDERS_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
READY_TIMEOUT_S = 60
_RENDERED = re.compile(r"rendered (\d{5}/volume[-\w]*\.pdf) of run \d+")
_TASK = re.compile(r"Task reminders\.render_volume\[([0-9a-f-]+)\] (received|succeeded)")


def connection(url: str) -> Any:
    """A kombu connection to the broker (kombu's Connection has no type hints)."""
    return queue_app(QueueOptions(url)).connection_for_write(connect_timeout=5)


@pytest.fixture(scope="module")
def broker() -> str:
    try:
        with connection(BROKER_URL) as broker:
            broker.ensure_connection(max_retries=1)
    except (OperationalError, OSError) as err:
        unavailable(f"RabbitMQ not reachable at {BROKER_URL}: {err}")
    return BROKER_URL


@pytest.fixture
def queue_name(broker: str) -> Iterator[str]:
    """A queue of this test's own, deleted when it ends (with its exchange)."""
    name = f"reminders-test-{secrets.token_hex(4)}"
    yield name
    with connection(broker) as open_connection:
        channel = open_connection.default_channel
        channel.queue_delete(name)
        channel.exchange_delete(name)


def queue_table(broker: str, queue: str) -> str:
    return (
        f'\n[print.queue]\nbroker = "{broker}"\nqueue = "{queue}"\nvolumes_ahead = 4\n'
        "time_limit_seconds = 60\nwait_seconds = 120\n"
    )


@pytest.fixture
def night(
    request: pytest.FixtureRequest, broker: str, queue_name: str, tmp_path: Path
) -> Iterator[Night]:
    """An installation with the test registry imported, rendering through this test's queue."""
    folder = tmp_path / "queued"
    night = prepared_night(request, f"sqlite:///{folder / 'registry.sqlite3'}", folder)
    with night.config.open("a", encoding="utf-8") as config:
        config.write(queue_table(broker, queue_name))
    yield night
    stop_runs(night)


@dataclass
class Worker:
    """A `reminders render-worker --concurrency 1` process, in a process group of its own (a
    Celery worker is a main process and its pool's child: a lost machine loses both)."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    terminated: bool = False

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def rendered(self) -> list[str]:
        return _RENDERED.findall(self.text())

    def tasks(self, event: str) -> list[str]:
        return [task for task, seen in _TASK.findall(self.text()) if seen == event]

    def terminate(self) -> None:
        """One SIGTERM, as systemd sends it: a warm shutdown. A second one arriving late in
        that shutdown (tried: 2 s after the first, not at 0 to 1 s) finds SIGTERM's default
        action back and ends the worker by the signal (exit -15) instead of its exit 0: the
        cause of this test's rare failures when stop() sent its own second SIGTERM."""
        if not self.terminated and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.terminated = True

    def stop(self) -> int:
        """SIGTERM (a warm shutdown) unless sent already, then SIGKILL to the group if it
        hangs."""
        self.terminate()
        if self.process.returncode is None:
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return self.process.returncode

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


@pytest.fixture
def workers(night: Night) -> Iterator[list[Worker]]:
    """Two render workers for the night's queue, ready."""
    started = [start_worker(night.config, name) for name in ("w1", "w2")]
    try:
        for worker in started:
            wait_ready(worker)
        yield started
    finally:
        for worker in started:  # all at once: a warm shutdown takes a few seconds
            worker.terminate()
        for worker in started:
            worker.stop()


def start_worker(config: Path, name: str) -> Worker:
    log = config.parent / f"{name}.log"
    env = {key: value for key, value in os.environ.items() if key != "REMINDERS_KILL_AT"}
    command = [REMINDERS, "render-worker", "--config", str(config), "--concurrency", "1",
               "--hostname", f"{name}@test", "--loglevel", "info"]  # fmt: skip
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own command
            command, stdout=output, stderr=subprocess.STDOUT, cwd=config.parent, env=env,
            start_new_session=True,
        )  # fmt: skip
    return Worker(name, process, log)


def wait_ready(worker: Worker) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while f"{worker.name}@test ready." not in worker.text():
        assert worker.process.poll() is None, f"{worker.name} exited:\n{worker.text()}"
        assert time.monotonic() < deadline, f"{worker.name} not ready:\n{worker.text()}"
        time.sleep(0.1)


def print_room(config: Path) -> dict[str, str]:
    """SHA-256 of every volume file (PDF, manifests, .sha256), by its path in the print room."""
    output = load_settings(config, environ={}).output_dir
    return {
        str(path.relative_to(output)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(output.rglob("volume-*"))
    }


def reference_print_room(request: pytest.FixtureRequest) -> dict[str, str]:
    """The print room of run_checks' clean reference run: the same registry, date and run id,
    rendered on one machine (in the run's own process, which gives the bytes render worker
    processes give: tests/integration/test_letter_pdf.py)."""
    return print_room(template(request, "sqlite").reference_config)


def personal_data(night: Night) -> set[str]:
    """The names, streets, national numbers and document numbers of everyone with a letter."""
    engine = make_engine(night.database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(PersonRow.family_name, PersonRow.given_names, PersonRow.street,
                       PersonRow.national_number, DocumentRow.number)
                .join(DocumentRow, DocumentRow.person_id == PersonRow.id)
                .join(DecisionRow, DecisionRow.document_id == DocumentRow.id)
                .join(LetterRow, LetterRow.decision_id == DecisionRow.id)
            ).all()  # fmt: skip
    finally:
        engine.dispose()
    return {value for row in rows for value in row if value and len(value) >= 4}


def assert_no_personal_data(logs: str, night: Night) -> None:
    words = set(re.findall(r"[\w-]+", logs))
    found = sorted(words & personal_data(night))
    assert found == [], f"the render workers logged personal data: {found[:5]}"


def test_two_workers_render_a_run_with_the_bytes_of_a_local_run(
    request: pytest.FixtureRequest, night: Night, workers: list[Worker]
) -> None:
    clean_run(night)
    observed = check_invariants(night, failed_attempts=0)
    assert observed.letters == night.reference.letters

    volumes = {f"{v.municipality_nis}/{v.path.name}" for v in observed.volumes}
    by_worker = {worker.name: worker.rendered() for worker in workers}
    assert all(by_worker.values()), f"a worker rendered nothing: {by_worker}"
    rendered = [volume for names in by_worker.values() for volume in names]
    assert sorted(rendered) == sorted(volumes)  # each volume once, by one of them
    assert_no_personal_data("".join(worker.text() for worker in workers), night)

    reference = reference_print_room(request)
    assert print_room(night.config) == reference
    assert len(reference) == 4 * len(volumes)  # the PDF, two manifests, the .sha256 file

    for worker in workers:  # SIGTERM: a warm shutdown
        worker.terminate()
    for worker in workers:
        assert worker.stop() == 0, worker.text()
        assert "Warm shutdown" in worker.text()


def test_a_worker_killed_mid_volume_loses_no_letter(night: Night, workers: list[Worker]) -> None:
    first, second = workers
    run = start_run(night)
    deadline = time.monotonic() + 120
    while True:  # until the first worker is rendering its second volume
        received, succeeded = first.tasks("received"), first.tasks("succeeded")
        if len(received) >= 2 and len(received) > len(succeeded):
            break
        assert run.process.poll() is None, "the run ended before the worker could be killed"
        assert time.monotonic() < deadline, first.text()
        time.sleep(0.02)
    first.kill()  # the machine is lost: the worker and its pool process, mid-volume
    under_way = set(received) - set(succeeded)

    ended = finish(run)
    assert ended.returncode == 0, f"{ended.stdout}\n{ended.stderr}"
    observed = check_invariants(night, failed_attempts=0)
    assert observed.letters == night.reference.letters
    assert under_way <= set(second.tasks("succeeded")), "the killed volume was not redelivered"
    volumes = {f"{v.municipality_nis}/{v.path.name}" for v in observed.volumes}
    assert set(first.rendered()) | set(second.rendered()) == volumes


def a_job(config: Path) -> tuple[VolumeJob, VolumeRenderer]:
    """A one-letter job as a run with this config.toml cuts it, and a local renderer."""
    settings = load_settings(config, environ={})
    templates = LetterTemplates(settings.template_folders)
    job = example_job()
    letter = job.letters[0]
    sha = templates.source_sha256(
        DocumentKind.EID, letter.spec.stage, Language.NL, letter.spec.municipality_nis
    )
    job = replace(
        job,
        print_options=print_options_key(settings.print_options),
        letters=(replace(letter, template_sha256=sha),),
    )
    return job, VolumeRenderer(templates, settings.print_options)


def queue_options(config: Path) -> QueueOptions:
    options = load_settings(config, environ={}).print_options.queue
    assert options is not None
    return options


def test_a_job_renders_as_here_and_a_refusal_comes_back_as_the_runs_error(
    queued_config: Path,
) -> None:
    worker = start_worker(queued_config, "w1")
    try:
        wait_ready(worker)
        job_through_the_queue(queued_config)
    finally:
        worker.stop()


def job_through_the_queue(config: Path) -> None:
    job, local = a_job(config)
    other_options = replace(job, print_options="(True, None)")
    other_templates = replace(job, letters=(replace(job.letters[0], template_sha256="0" * 64),))
    with QueueRendering(queue_options(config)).open(3) as pool:
        pending = [pool.submit(each) for each in (job, other_options, other_templates)]
        rendered = pending[0].result()
        with pytest.raises(VolumeRenderError, match=r"this worker's \[print\] options") as options:
            pending[1].result()
        with pytest.raises(VolumeRenderError, match="not the ones the run checked") as templates:
            pending[2].result()
    assert rendered == local.render(job)
    assert pending[0].worker == "w1@test"
    assert options.value.exit_code == templates.value.exit_code == 1
    assert "volume-001.pdf of run 1" in options.value.message


@pytest.fixture
def queued_config(config_file: Path, broker: str, queue_name: str) -> Path:
    """The example config.toml rendering through this test's queue (no registry)."""
    with config_file.open("a", encoding="utf-8") as config:
        config.write(queue_table(broker, queue_name))
    return config_file


def test_without_workers_the_run_gives_up_on_a_volume_with_the_reason(
    queued_config: Path, queue_name: str
) -> None:
    job, _ = a_job(queued_config)
    with QueueRendering(queue_options(queued_config)).open(1) as pool:
        pending = pool.submit(job)
        with pytest.raises(VolumeRenderError, match=f"no render worker returned it within 1 s.*"
                           f"running on queue '{queue_name}'"):  # fmt: skip
            pending.result(timeout=1)


def test_an_unreachable_broker_stops_the_printing_step_before_any_volume(
    queued_config: Path,
) -> None:
    options = replace(queue_options(queued_config), broker_url="amqp://guest:guest@127.0.0.1:9//")
    with (
        pytest.raises(
            BrokerUnavailableError, match=r"amqp://guest:\*\*@127\.0\.0\.1:9// cannot be"
        ),
        QueueRendering(options).open(1),
    ):
        pass  # pragma: no cover - open() raises
