"""Readiness follows its checks: NOT_SERVING with the reasons while any fails, SERVING again
when all pass, told to the server only when it changes."""

from __future__ import annotations

import asyncio
import logging

import pytest

from touchstone.platform.runtime.readiness import Readiness, partitions_check


class Server:
    def __init__(self) -> None:
        self.told: list[bool] = []

    async def set_ready(self, ready: bool) -> None:
        self.told.append(ready)


def test_readiness_follows_the_database_and_the_partitions(
    caplog: pytest.LogCaptureFixture,
) -> None:
    database = {"away": False}
    partitions: set[int] = set()

    async def database_check() -> str:
        return "the database does not answer (PoolTimeout)" if database["away"] else ""

    server = Server()
    watch = Readiness(
        "journey", server, [database_check, partitions_check(lambda: bool(partitions))]
    )

    async def steps() -> list[list[str]]:
        seen = [await watch.check_once()]  # started, nothing assigned yet
        partitions.add(0)
        seen.append(await watch.check_once())
        seen.append(await watch.check_once())  # no change: the server is not told again
        database["away"] = True
        seen.append(await watch.check_once())
        database["away"] = False
        seen.append(await watch.check_once())
        return seen

    with caplog.at_level(logging.INFO, "touchstone.platform.runtime.readiness"):
        seen = asyncio.run(steps())

    assert seen == [
        ["no partitions of its input assigned yet"],
        [],
        [],
        ["the database does not answer (PoolTimeout)"],
        [],
    ]
    assert server.told == [False, True, False, True]
    assert "journey: not ready (NOT_SERVING): the database does not answer (PoolTimeout)" in (
        caplog.text
    )


def test_a_check_that_breaks_is_a_reason_not_a_crash() -> None:
    async def broken() -> str:
        raise RuntimeError("consumer not started")

    def not_started() -> bool:
        raise RuntimeError("Consumer thread not yet started")

    server = Server()
    watch = Readiness("notify", server, [broken, partitions_check(not_started)])
    wrong = asyncio.run(watch.check_once())
    assert wrong == [
        "a check failed: RuntimeError('consumer not started')",
        "no partitions of its input assigned yet",
    ]
    assert server.told == [False]
