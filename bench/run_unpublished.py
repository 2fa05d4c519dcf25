"""`reminders` with the dispatch log's publishing left out (no tiles staged by the seal, no
publish of the logs): the peer bench/run_bench.py runs to measure what publishing costs.
For benchmarks only: a run without its published log is not protected against a restored
backup.
"""

from __future__ import annotations

from typing import Any

from reminders.entrypoints.cli import main
from reminders.services import complete_run, publish_log


def _no_stager(*_: Any, **__: Any) -> None:
    return None


def _nothing_published(*_: Any, **__: Any) -> dict[str, int]:
    return {}


if __name__ == "__main__":
    publish_log.TileStager.start = _no_stager  # type: ignore[method-assign]
    complete_run.publish_logs = _nothing_published  # type: ignore[attr-defined]
    main()
