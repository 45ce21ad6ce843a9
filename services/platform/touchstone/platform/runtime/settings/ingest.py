"""What contacts takes in, and what it keeps of what it could not record."""

from __future__ import annotations

from dataclasses import dataclass

from touchstone.platform.runtime.settings.declared import setting


@dataclass(frozen=True)
class IngestSettings:
    """Contacts' intake: back-pressure, the size of a touchpoint, dead letters, identity keys."""

    ingest_max_lag: int = setting(
        "TOUCHSTONE_INGEST_MAX_LAG",
        100_000,
        doc="while contacts is more than this many touchpoints behind on `touchpoints.v1`, "
        "gRPC ingest answers `RESOURCE_EXHAUSTED` (retry in 5 s) instead of taking more (`0`: "
        "never)",
    )
    max_touchpoint_bytes: int = setting(
        "TOUCHSTONE_MAX_TOUCHPOINT_BYTES",
        65_536,
        doc='larger touchpoints are refused (`value`: "is N bytes; a touchpoint may be at most '
        '…"); at least 1024, at most half of `TOUCHSTONE_MAX_RECORD_BYTES`',
    )
    dead_letter_bytes_days: int = setting(
        "TOUCHSTONE_DEAD_LETTER_BYTES_DAYS",
        30,
        low=1,
        doc="contacts drops a dead letter's original key, value and headers this many days "
        "after it arrived (as long as the dead-letter topic keeps records); why it died stays, "
        "and it is no longer redriven. A record that cannot be read may hold anyone's personal "
        "data, and erasure finds a dead letter only by its bytes or key",
    )
    identity_keys: str = setting(
        "TOUCHSTONE_IDENTITY_KEYS",
        "",
        secret=True,
        shown="none (the embedded stack: a public development key)",
        doc="contacts' key ring: `id:base64url-secret`, each secret at least 32 random bytes, "
        "the current key first and older ones after it, comma-separated. Customer ids of new "
        "identities and erased identities are keyed hashes under the current key; every key "
        "still finds what it hashed. Contacts will not start without it beyond the embedded "
        "stack",
    )
