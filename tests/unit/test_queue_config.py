"""config.toml's [print.queue]: absent means local rendering; each key sets its option; every
mistake is a ConfigError naming config.toml, the line and the key, never the broker password."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from reminders.config import QueueOptions, load_settings
from reminders.entrypoints.cli import main
from reminders.errors import ConfigError
from tests.conftest import REPO

BROKER = 'broker = "amqp://reminders:s3cret@rabbit.example:5672/reminders"'


def with_queue(config_file: Path, table: str, *, print_keys: str = "") -> Path:
    """The example config with ``[print.queue]`` (and extra [print] keys) added."""
    text = config_file.read_text(encoding="utf-8")
    marker = "[print]\n"
    assert text.count(marker) == 1
    text = text.replace(marker, marker + print_keys)
    config_file.write_text(f"{text}\n[print.queue]\n{table}\n", encoding="utf-8")
    return config_file


def test_without_the_table_volumes_render_on_this_machine(config_file: Path) -> None:
    assert load_settings(config_file, environ={}).print_options.queue is None


def test_the_commented_example_in_config_toml_loads_when_uncommented(config_file: Path) -> None:
    lines = (REPO / "config.toml").read_text(encoding="utf-8").splitlines()
    after = lines[lines.index("# [print.queue]") + 1 :]
    example = [line.removeprefix("# ") for line in after[: after.index("")]]
    assert example[0].startswith("broker = ")
    table = "\n".join(example)
    options = load_settings(with_queue(config_file, table), environ={}).print_options.queue
    assert options is not None
    assert options.broker_url.startswith("amqp://")


def test_only_the_broker_is_needed(config_file: Path) -> None:
    options = load_settings(with_queue(config_file, BROKER), environ={}).print_options.queue
    assert options == QueueOptions("amqp://reminders:s3cret@rabbit.example:5672/reminders")
    assert (options.result_backend, options.queue, options.volumes_ahead) == (
        "rpc://", "reminders-render", 8,
    )  # fmt: skip
    assert (options.time_limit_seconds, options.wait_seconds) == (300.0, 900.0)


def test_each_key_sets_its_option(config_file: Path) -> None:
    table = (
        f'{BROKER}\nresult_backend = "rpc://"\nqueue = "render.gent-1"\nvolumes_ahead = 12\n'
        "time_limit_seconds = 60\nwait_seconds = 120.5\n"
    )
    options = load_settings(with_queue(config_file, table), environ={}).print_options.queue
    assert options == QueueOptions(
        broker_url="amqp://reminders:s3cret@rabbit.example:5672/reminders",
        queue="render.gent-1", volumes_ahead=12, time_limit_seconds=60.0, wait_seconds=120.5,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("table", "key", "problem"),
    [
        ("queue = 'q'", "print.queue.broker", "missing required key"),
        ('broker = "redis://127.0.0.1:6379/0"', "print.queue.broker", "RabbitMQ URL"),
        ('broker = "amqp://"', "print.queue.broker", "RabbitMQ URL"),
        ("broker = 5672", "print.queue.broker", "expected a string"),
        (f'{BROKER}\nresult_backend = "redis://x"', "print.queue.result_backend", '"rpc://"'),
        (f'{BROKER}\nqueue = "render queue"', "print.queue.queue", "a name of letters"),
        (f"{BROKER}\nvolumes_ahead = 0", "print.queue.volumes_ahead", "from 1 to 1024"),
        (f"{BROKER}\nvolumes_ahead = 2.5", "print.queue.volumes_ahead", "whole number"),
        (f"{BROKER}\ntime_limit_seconds = 0", "print.queue.time_limit_seconds", "from 1"),
        (f"{BROKER}\nwait_seconds = 60", "print.queue.wait_seconds", "longer than"),
        (f"{BROKER}\ntime_limit_seconds = 1000", "print.queue.time_limit_seconds", "longer"),
        (f"{BROKER}\nworkers = 4", "print.queue.workers", "unknown key"),
        ("[]", "print.queue", "expected a table"),
    ],
)
def test_mistakes_name_the_file_and_the_key(
    config_file: Path, table: str, key: str, problem: str
) -> None:
    if table == "[]":
        path = config_file
        text = path.read_text(encoding="utf-8").replace("[print]\n", "[print]\nqueue = []\n")
        path.write_text(text, encoding="utf-8")
    else:
        path = with_queue(config_file, table)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    message = caught.value.message
    assert message.startswith(f"{path}"), message
    assert f": {key}: " in message, message
    assert problem in message, message
    assert "s3cret" not in message


def test_a_wrong_broker_is_reported_on_its_line(config_file: Path) -> None:
    path = with_queue(config_file, 'broker = "http://rabbit.example"')
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    lines = path.read_text(encoding="utf-8").splitlines()
    assert caught.value.line is not None
    assert lines[caught.value.line - 1] == 'broker = "http://rabbit.example"'


def test_volumes_must_stay_small_enough_for_one_broker_message(config_file: Path) -> None:
    path = with_queue(config_file, BROKER)
    text = path.read_text(encoding="utf-8").replace(
        "volume_max_letters = 1000", "volume_max_letters = 5000"
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"print\.volume_max_letters: at most 3000"):
        load_settings(path, environ={})


def test_render_worker_needs_the_table_and_says_so(config_file: Path) -> None:
    result = CliRunner().invoke(main, ["render-worker", "--config", str(config_file)])
    assert result.exit_code == 2, result.output
    assert f"Error: {config_file}: render-worker needs a [print.queue] table" in result.output
