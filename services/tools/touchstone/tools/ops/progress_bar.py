"""A progress line for the operator's long commands (replay, rescore, bench): a bar redrawn in
place on a terminal, a line every few seconds otherwise (a log file, a CI job)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

from touchstone.platform.runtime.work_progress import WorkProgress

BAR_WIDTH = 30
QUIET_LINE_EVERY_S = 5.0  # without a terminal, one progress line this often


class ProgressBar:
    """Shows a piece of work's progress under a label, counting `unit`."""

    def __init__(
        self,
        label: str,
        out: TextIO,
        unit: str = "events",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.out = out
        self.unit = unit
        self.clock = clock
        self.live = out.isatty()
        self._last_line = 0.0
        self._last: WorkProgress | None = None

    def show(self, progress: WorkProgress) -> None:
        """Draw the progress so far (and where the stage before it ended, if it changed)."""
        if self._last is not None and self._last.stage != progress.stage:
            self.finish()
        self._last = progress
        now = self.clock()
        if not self.live and now - self._last_line < QUIET_LINE_EVERY_S:
            return
        self._last_line = now
        end = "\x1b[K\r" if self.live else "\n"  # clear what a longer line left
        line = progress_line(self.label, progress, self.unit)
        print(line, end=end, file=self.out, flush=True)

    def finish(self) -> None:
        """Draw where it ended, and end the bar's line."""
        if self._last is None:
            return
        self._last_line = self.clock()
        end = "\x1b[K\n" if self.live else "\n"
        line = progress_line(self.label, self._last, self.unit)
        print(line, end=end, file=self.out, flush=True)
        self._last = None


def progress_line(label: str, progress: WorkProgress, unit: str = "events") -> str:
    """`journey rebuilding [#####.....]  48%  12,000/25,000 events  3,100/s  ETA 4s`."""
    share = min(progress.done / progress.total, 1.0) if progress.total else 1.0
    filled = int(share * BAR_WIDTH)
    eta = "--" if progress.eta_s is None else f"{progress.eta_s:,.0f}s"
    named = f"{label} {progress.stage}".rstrip()
    return (
        f"{named} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {share:4.0%}  "
        f"{progress.done:,}/{progress.total:,} {unit}  {progress.rate:,.0f}/s  ETA {eta}"
    )
