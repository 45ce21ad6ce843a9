"""What `touchstone replay` tells the operator: progress, rate, ETA, and checksums by table."""

from __future__ import annotations

from touchstone.platform.runtime.work_progress import WorkProgress
from touchstone.tools.ops.log_range import LogRange
from touchstone.tools.ops.progress_bar import progress_line
from touchstone.tools.ops.replay import REBUILD, ReplayReport
from touchstone.tools.ops.replay_cli import describe
from touchstone.tools.ops.state_checksum import StateChecksum

SAME = StateChecksum({"moments": "10:00000000000000aa", "visits": "3:00000000000000bb"})


def test_progress_gives_rate_and_eta() -> None:
    progress = WorkProgress(done=4000, total=10000, elapsed_s=2.0, stage=REBUILD)
    assert progress.rate == 2000.0 and progress.eta_s == 3.0
    assert WorkProgress(0, 10, 0.0).eta_s is None
    line = progress_line("journey", progress)
    assert line.startswith("journey rebuilding [############..................]  40%")
    assert "4,000/10,000 events  2,000/s  ETA 3s" in line


def test_the_total_checksum_ignores_table_order_and_names_what_differs() -> None:
    reordered = StateChecksum({"visits": "3:00000000000000bb", "moments": "10:00000000000000aa"})
    assert SAME.total == reordered.total and SAME.rows() == 13
    changed = StateChecksum({"moments": "10:00000000000000ab", "visits": "3:00000000000000bb"})
    assert changed.total != SAME.total
    assert SAME.differences(changed) == ["moments"]
    assert SAME.differences(StateChecksum({"moments": "10:00000000000000aa"})) == ["visits"]


def test_an_identical_rebuild_reports_its_rate_and_the_swap() -> None:
    report = ReplayReport(
        service="journey",
        events=5000,
        seconds=2.5,
        before=SAME,
        after=SAME,
        swapped=True,
        carried_over={"outbox": 2},
        caught_up=120,
        dead_lettered=3,
        recovered=True,
    )
    text = describe(report)
    assert "rebuilt journey from 5,000 events in 2.5s (2,000 events/s)" in text
    assert f"checksum before {SAME.total}  after {SAME.total}  (identical, 13 rows" in text
    assert "outbox: 2 rows carried over" in text
    assert "the old state first took 120 events its workers had not finished" in text
    assert "3 records could not be taken" in text
    assert "an interrupted replay had left the old state aside: it was put back first" in text
    assert "swapped in: journey now holds the rebuilt state" in text


def test_a_different_rebuild_names_the_tables_and_where_it_is_kept() -> None:
    other = StateChecksum({"moments": "9:00000000000000aa", "visits": "3:00000000000000bb"})
    report = ReplayReport("loyalty", 10, 1.0, SAME, other, swapped=False, kept="loyalty_replayed")
    text = describe(report)
    assert "DIFFERENT" in text
    assert "  moments: before 10:00000000000000aa  after 9:00000000000000aa" in text
    assert "NOT swapped: the old state is back in loyalty" in text
    assert "kept as schema loyalty_replayed" in text


def test_a_log_range_counts_its_records_and_resumes_after_committed_offsets() -> None:
    whole = LogRange(
        starts={("t", 0): 0, ("t", 1): 0, ("u", 0): 0},
        ends={("t", 0): 100, ("t", 1): 40, ("u", 0): 0},
    )
    assert whole.total == 140 and whole.trimmed() == []
    rest = whole.after({("t", 0): 90, ("u", 0): 0})  # ("t", 1) never committed: all of it
    assert rest.starts == {("t", 0): 90, ("t", 1): 0, ("u", 0): 0} and rest.total == 50
    assert whole.after({("t", 0): 150}).starts[("t", 0)] == 100  # never past the end


def test_a_log_whose_first_records_are_gone_is_trimmed() -> None:
    gone = LogRange(
        starts={("t", 0): 7, ("t", 1): 3, ("t", 2): 0},
        ends={("t", 0): 10, ("t", 1): 3, ("t", 2): 0},
    )
    assert gone.trimmed() == [("t", 0), ("t", 1)]  # ("t", 2) never had a record
