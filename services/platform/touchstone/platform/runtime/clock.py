"""The wall clock, for the few things that act by it (notify's sweeps and sends, contacts'
retention): never for derived data, which takes its time from events."""

from datetime import UTC, datetime


def wall_clock() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)
