"""How services consume their input: batches, waits, rebalances, the consumer."""

from __future__ import annotations

from dataclasses import dataclass

from touchstone.platform.runtime.settings.declared import setting

CONSUMERS = ("aiokafka", "faust")


@dataclass(frozen=True)
class StreamSettings:
    """How a service's worker takes its input (TOUCHSTONE_BATCH_*, waits, the consumer)."""

    batch_size: int = setting(
        "TOUCHSTONE_BATCH_SIZE", 500, low=1, doc="a batch takes at most this many records"
    )
    batch_within_s: float = setting(
        "TOUCHSTONE_BATCH_WITHIN_S",
        0.05,
        doc="a busy consumer's fetch waits this long at the broker for records (every fetch "
        "costs the broker: at 50 touchpoints/s, 0.02 s took the stack 0.66 cores, 0.05 s 0.55)",
    )
    batch_fill: int = setting(
        "TOUCHSTONE_BATCH_FILL",
        20,
        low=1,
        doc="a batch smaller than this waits for more records, at most "
        "`TOUCHSTONE_BATCH_LINGER_S` after its first (the default aiokafka consumer): a batch "
        "costs a handler a dozen statements whatever its size, so at a trickle records no "
        "longer go one by one (at 50 touchpoints/s the stack took 1.77 cores, now 0.69). The "
        "faster records come, the shorter the wait: 40 ms at 500 a second, none once a fetch "
        "brings 20. `1`: every fetch is a batch",
    )
    batch_linger_s: float = setting(
        "TOUCHSTONE_BATCH_LINGER_S",
        0.2,
        doc="the longest a small batch waits for more after its first record (`0`: none)",
    )
    idle_wait_s: float = setting(
        "TOUCHSTONE_IDLE_WAIT_S",
        0.25,
        doc="after a second with nothing to consume, how long each fetch waits at the broker "
        "(instead of `TOUCHSTONE_BATCH_WITHIN_S`) until records come again: an idle stack stays "
        "quiet, and the first record after a lull may wait this long at each hop",
    )
    rebalance_timeout_s: float = setting(
        "TOUCHSTONE_REBALANCE_TIMEOUT_S",
        4.0,
        low=0.1,
        doc="consumer-group rebalance timeout (short: the embedded broker joins after half of it)",
    )
    consumer: str = setting(
        "TOUCHSTONE_CONSUMER",
        "aiokafka",
        choices=CONSUMERS,
        doc="how services consume: `aiokafka` (a batch loop: getmany, handle, publish, commit) "
        "or `faust` (Faust agents with `take_events`; slower: "
        "[How it works](how-it-works.md))",
    )

    def __post_init__(self) -> None:
        if self.consumer not in CONSUMERS:
            raise ValueError(
                f"TOUCHSTONE_CONSUMER must be one of {CONSUMERS}, not {self.consumer!r}"
            )
