"""The ends of time, as keysets and open-ended ranges use them."""

from __future__ import annotations

from datetime import datetime

BEGINNING = datetime.fromisoformat("0001-01-01T00:00:00+00:00")  # keyset start: before any event
END_OF_TIME = datetime.fromisoformat("9999-12-31T23:59:59+00:00")  # an open-ended range's end
