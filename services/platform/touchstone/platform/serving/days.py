"""Runs of calendar days asked for over gRPC (YYYY-MM-DD first_day and last_day); the span of
time they cover at a site is its calendar's (touchstone.shared_kernel.calendar)."""

from __future__ import annotations

from datetime import date, timedelta

from touchstone.platform.serving.rpc import InvalidArgument


def day_or_none(field: str, text: str) -> date | None:
    """An ISO date, None when empty; InvalidArgument naming the field otherwise."""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise InvalidArgument((field, f"{text!r} is not a date (YYYY-MM-DD)")) from error


def day_run(
    first_text: str, last_text: str, today: date, default_days: int, max_days: int
) -> tuple[tuple[date, date] | None, list[tuple[str, str]]]:
    """The days asked for (last_day defaults to today, first_day to default_days before it),
    and the violations found (then the days are None)."""
    violations: list[tuple[str, str]] = []
    first = last = None
    try:
        last = day_or_none("last_day", last_text) or today
    except InvalidArgument as error:
        violations += error.violations
    try:
        first = day_or_none("first_day", first_text)
    except InvalidArgument as error:
        violations += error.violations
    if last is not None and not violations:
        first = first or last - timedelta(days=default_days - 1)
        if first > last:
            violations.append(("first_day", "must not be after last_day"))
        elif (last - first).days >= max_days:
            violations.append(("first_day", f"at most {max_days} days"))
    if violations or first is None or last is None:
        return None, violations
    return (first, last), []
