"""The progress line of the long commands: rate and ETA, redrawn in place on a terminal, a line
every few seconds in a log, and always the last state at the end."""

from __future__ import annotations

import io

import pytest

from touchstone import progress_bar
from touchstone.common.work_progress import WorkProgress, staged
from touchstone.progress_bar import ProgressBar, progress_line


def test_a_line_gives_share_count_rate_and_eta_under_the_label_and_stage() -> None:
    line = progress_line("rescore", WorkProgress(500, 2000, 2.0, "reading t"), "records")
    assert line.startswith("rescore reading t [#######.......................]  25%")
    assert line.endswith("500/2,000 records  250/s  ETA 6s")
    assert progress_line("x", WorkProgress(0, 0, 0.0)).endswith("0/0 events  0/s  ETA --")


def test_without_a_terminal_a_line_comes_every_few_seconds_and_the_last_at_the_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = iter([100.0, 101.0, 106.0, 107.0, 108.0])
    monkeypatch.setattr(progress_bar.time, "monotonic", lambda: next(clock))
    out = io.StringIO()
    bar = ProgressBar("bench", out, "touchpoints")
    report = staged(bar.show, "run 1")
    for done in (10, 20, 30, 40):
        report(WorkProgress(done, 40, done / 10))
    bar.finish()
    lines = out.getvalue().splitlines()
    assert [line.split("]")[1].split()[1] for line in lines] == ["10/40", "30/40", "40/40"]
    assert all(line.startswith("bench run 1 [") for line in lines)
