"""`python -m bench` without the bench extra says what to install, not a traceback."""

from __future__ import annotations

import pytest

import bench.__main__ as harness


def test_a_bench_whose_peer_is_not_installed_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(harness, "find_spec", lambda name: None)
    assert harness.main(["render"]) == 2
    assert harness.main(["all"]) == 2
    said = capsys.readouterr().out
    assert "weasyprint, which is not installed" in said
    assert "pip install -e '.[bench]'" in said


def test_a_bench_with_no_peer_to_install_needs_nothing_more(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(harness, "find_spec", lambda name: None)
    assert harness._missing("log") is None
    assert harness._missing("scan", "import") is None
