"""Small servers the tests stand up beside the code under test: an aiohttp app on a thread and
loop of its own (the test may be running a loop), and a grpc.aio server with one method."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import grpc
from aiohttp import web

from touchstone.tools.dev.embedded import free_port


class ThreadedApp:
    """An aiohttp app served on 127.0.0.1:port from its own thread: start(), stop()."""

    def __init__(self, app: web.Application, port: int) -> None:
        self.port = port
        self._runner = web.AppRunner(app)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(10)

    async def _serve(self) -> None:
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


@asynccontextmanager
async def one_method_server(
    interceptors: list[Any], method: str, handler: grpc.RpcMethodHandler
) -> AsyncIterator[grpc.aio.Channel]:
    """A grpc.aio server answering test.Service/<method> with handler, through the
    interceptors; a channel to it."""
    server = grpc.aio.server(interceptors=interceptors)
    server.add_generic_rpc_handlers(
        [grpc.method_handlers_generic_handler("test.Service", {method: handler})]
    )
    port = free_port()
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield channel
    finally:
        await server.stop(None)
