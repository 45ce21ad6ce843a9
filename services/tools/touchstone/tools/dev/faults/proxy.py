"""A TCP proxy between the services and the broker, whose connection the fault suite can cut.

The broker advertises the proxy's address, so every client (metadata, produce, fetch, group
coordination) goes through it. `cut()` closes every open connection and refuses new ones until
`restore()`: to a client it is the broker's network gone, as a switch or a partition would do.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading

log = logging.getLogger(__name__)
CHUNK = 65536


class TcpProxy:
    """Forwards 127.0.0.1:port to target (host, port), one thread pair per connection."""

    def __init__(self, port: int, target: tuple[str, int]) -> None:
        self.port = port
        self.target = target
        self._cut = threading.Event()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._listener = socket.create_server(("127.0.0.1", port), reuse_port=False)
        self._listener.settimeout(0.2)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="fault-proxy", daemon=True)

    def start(self) -> TcpProxy:
        self._thread.start()
        return self

    def cut(self) -> None:
        """Drop every connection and refuse new ones (one being connected as the cut comes is
        dropped too: the flag is set and read under the lock the connections are kept by)."""
        with self._lock:
            self._cut.set()
        self._close_all()

    def restore(self) -> None:
        """Let connections through again."""
        self._cut.clear()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(5)
        self._listener.close()
        self._close_all()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self._cut.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError as error:
                log.info("proxy: broker unreachable: %r", error)
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                refused = self._cut.is_set()  # cut while connecting
                if not refused:
                    self._open.update((client, upstream))
            if refused:
                client.close()
                upstream.close()
                continue
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(CHUNK):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                self._forget(end)

    def _forget(self, end: socket.socket) -> None:
        with self._lock:
            self._open.discard(end)
        with contextlib.suppress(OSError):
            end.shutdown(socket.SHUT_RDWR)
        end.close()

    def _close_all(self) -> None:
        with self._lock:
            ends = list(self._open)
        for end in ends:
            self._forget(end)
