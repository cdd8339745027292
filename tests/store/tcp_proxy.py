"""A TCP proxy in front of the test PostgreSQL that a test can cut, to stage outages.

``cut()`` drops every connection and refuses new ones (they are accepted and
closed at once, as a dying server would); ``restore()`` lets connections
through again; ``cut_when_sent(pattern)`` drops the connection that sends
``pattern`` *before* the server sees it, which stages "Postgres went away in
the middle of this transaction" deterministically; ``cut_after_sent(pattern)``
drops it right *after* forwarding, so the server acts on it but its answer is
lost ("the COMMIT landed, the client never heard").
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


class TcpProxy:
    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._down = False
        self._closing = False
        self._pattern: bytes | None = None
        self._stall: bytes | None = None
        self._after: bytes | None = None
        self._down_after = False
        self.stalls = 0  # connections stalled by stall_when_sent
        self.connections = 0
        self.cuts = 0  # connections dropped by cut_when_sent
        self.sent_before_cut = 0  # bytes the client got through on the connection then cut
        self._start(self._accept_loop)

    def url(self, user: str, dbname: str, query: str = "") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}{query}"

    def _start(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        while not self._closing:
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self._down:
                _close(client)
                continue
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._sockets.update((client, upstream))
                self.connections += 1
            self._start(self._pump, client, upstream, True)
            self._start(self._pump, upstream, client, False)

    def _pump(self, source: socket.socket, sink: socket.socket, inspect: bool) -> None:
        tail = b""
        sent = 0
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if inspect and self._stall is not None and self._stall in tail + data:
                    self._stall = None  # one connection only
                    self.stalls += 1
                    while source.recv(65536):  # swallow everything, answer nothing
                        pass
                    break
                pattern = self._pattern
                if inspect and pattern is not None and pattern in tail + data:
                    self._pattern = None  # one connection only
                    self.cuts += 1
                    self.sent_before_cut = sent
                    break
                after = self._after
                if inspect and after is not None and after in data:
                    # The client goes first, so no answer can reach it; the server
                    # still gets every byte, and its side is closed once it answers.
                    self._after = None  # one connection only
                    self.cuts += 1
                    if self._down_after:
                        self._down = True  # and refuse new connections until restore()
                    _close(source)
                    sink.sendall(data)
                    return
                tail = data[-256:]
                sink.sendall(data)
                sent += len(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._sockets.discard(source)
                self._sockets.discard(sink)
            _close(source)
            _close(sink)

    def cut(self) -> None:
        """Drop every open connection and refuse new ones until :meth:`restore`."""
        self._down = True
        with self._lock:
            sockets = list(self._sockets)
            self._sockets.clear()
        for sock in sockets:
            _close(sock)

    def restore(self) -> None:
        self._down = False

    def cut_when_sent(self, pattern: bytes) -> None:
        """Drop the next connection whose client sends ``pattern``, before forwarding it."""
        self._pattern = pattern

    def cut_after_sent(self, pattern: bytes, *, then_down: bool = False) -> None:
        """Forward the next ``pattern`` the client sends, then drop that connection.

        ``then_down``: and refuse new connections too, until :meth:`restore`.
        """
        self._down_after = then_down
        self._after = pattern

    def stall_when_sent(self, pattern: bytes) -> None:
        """The next connection whose client sends ``pattern`` stays open but never answers."""
        self._stall = pattern

    def close(self) -> None:
        self._closing = True
        self.cut()
        for thread in self._threads:
            thread.join(timeout=2)
        self._listener.close()

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
