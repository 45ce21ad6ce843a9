"""The progress line of the long commands: rate and ETA, redrawn in place on a terminal, a line
every few seconds in a log, and always the last state at the end."""

from __future__ import annotations

import io

from touchstone.platform.runtime.work_progress import WorkProgress, staged
from touchstone.tools.ops.progress_bar import ProgressBar, progress_line


def test_a_line_gives_share_count_rate_and_eta_under_the_label_and_stage() -> None:
    line = progress_line("rescore", WorkProgress(500, 2000, 2.0, "reading t"), "records")
    assert line.startswith("rescore reading t [#######.......................]  25%")
    assert line.endswith("500/2,000 records  250/s  ETA 6s")
    assert progress_line("x", WorkProgress(0, 0, 0.0)).endswith("0/0 events  0/s  ETA --")


def test_without_a_terminal_a_line_comes_every_few_seconds_and_the_last_at_the_end() -> None:
    clock = iter([100.0, 101.0, 106.0, 107.0, 108.0])
    out = io.StringIO()
    bar = ProgressBar("bench", out, "touchpoints", clock=lambda: next(clock))
    report = staged(bar.show, "run 1")
    for done in (10, 20, 30, 40):
        report(WorkProgress(done, 40, done / 10))
    bar.finish()
    lines = out.getvalue().splitlines()
    assert [line.split("]")[1].split()[1] for line in lines] == ["10/40", "30/40", "40/40"]
    assert all(line.startswith("bench run 1 [") for line in lines)


def test_a_stage_that_ends_between_lines_still_shows_where_it_ended() -> None:
    out = io.StringIO()
    bar = ProgressBar("rescore", out, clock=lambda: 100.0)  # no time passes between calls
    staged(bar.show, "reading")(WorkProgress(1, 9, 1.0))
    staged(bar.show, "reading")(WorkProgress(9, 9, 2.0))  # within the 5 s: not drawn yet
    staged(bar.show, "scoring")(WorkProgress(1, 5, 1.0))
    bar.finish()
    lines = out.getvalue().splitlines()
    assert [line.split("[")[0] for line in lines] == ["rescore reading "] * 2 + ["rescore scoring "]
    assert "9/9 events" in lines[1] and "1/5 events" in lines[2]
