"""A TLS terminator for tests: what a TLS listener in front of a server is, in fifty lines.

Neither the embedded broker (its 0.6.0 command line cannot take a certificate and a key
together) nor the embedded PostgreSQL (built without OpenSSL) speaks TLS. So the transport tests
put this in front of them, as a load balancer or sidecar would be: it accepts only TLS (and, given
a client CA, only clients with a certificate that chains to it), and forwards the decrypted bytes
to the real server on loopback. Clients that do not speak TLS to it get nothing.

For PostgreSQL it speaks the protocol's own opening: the client asks `SSLRequest`, the answer is
`S`, and TLS starts on the same connection. A client that starts in plaintext is cut off, as a
server whose pg_hba.conf holds only `hostssl` lines would.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

SSL_REQUEST = 80877103  # PostgreSQL's SSLRequest code
GSSENC_REQUEST = 80877104


def server_context(cert: Path, key: Path, client_ca: Path | None = None) -> ssl.SSLContext:
    """A TLS server context; with client_ca, clients must present a certificate it signed."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    if client_ca is not None:
        context.load_verify_locations(client_ca)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


class TlsTerminator:
    """Listens on 127.0.0.1:port for TLS and forwards to target (host, port), in a thread."""

    def __init__(
        self,
        port: int,
        target: tuple[str, int],
        context: ssl.SSLContext,
        *,
        postgres: bool = False,
    ) -> None:
        self.port, self.target = port, target
        self.context, self.postgres = context, postgres
        self.accepted = 0  # connections whose TLS handshake succeeded
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if self.postgres and not await self._postgres_opening(reader, writer):
                writer.close()
                return
            self.accepted += 1
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError, OSError):
            writer.close()
            return
        await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))

    async def _postgres_opening(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Answer SSLRequest with S and start TLS; refuse GSS encryption; cut plaintext off."""
        while True:
            length, code = struct.unpack("!ii", await reader.readexactly(8))
            if length == 8 and code == GSSENC_REQUEST:
                writer.write(b"N")
                await writer.drain()
                continue
            if length != 8 or code != SSL_REQUEST:
                return False
            writer.write(b"S")
            await writer.drain()
            await writer.start_tls(self.context)
            return True

    def start(self) -> TlsTerminator:
        self._thread.start()

        async def listen() -> asyncio.Server:
            return await asyncio.start_server(
                self._serve, "127.0.0.1", self.port, ssl=None if self.postgres else self.context
            )

        self._server = asyncio.run_coroutine_threadsafe(listen(), self._loop).result(10)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


@contextlib.contextmanager
def terminating(
    port: int, target: tuple[str, int], context: ssl.SSLContext, *, postgres: bool = False
) -> Iterator[TlsTerminator]:
    """A started terminator, stopped afterwards."""
    terminator = TlsTerminator(port, target, context, postgres=postgres).start()
    try:
        yield terminator
    finally:
        terminator.stop()
