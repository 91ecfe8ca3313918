"""Fake devices and clocks for the device tests (fakes live in tests/, never in the package)."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import tty
from collections.abc import Iterable
from pathlib import Path

from ingest.devices.base import DeviceUnavailable, Reading, Source


class FakeClock:
    """A monotonic clock that only moves when someone sleeps on it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


class ChunkPort:
    """A pyserial-like port that hands out pre-arranged chunks, then nothing (or an error)."""

    def __init__(self, chunks: Iterable[bytes], *, then_fail: bool = False) -> None:
        self.chunks = list(chunks)
        self.timeout: float | None = None
        self.then_fail = then_fail

    def read(self, size: int = 1) -> bytes:
        if not self.chunks:
            if self.then_fail:
                raise OSError(5, "Input/output error")
            return b""
        chunk = self.chunks[0]
        out, rest = chunk[:size], chunk[size:]
        if rest:
            self.chunks[0] = rest
        else:
            self.chunks.pop(0)
        return out


class PtyDevice:
    """A device behind a pty pair, reachable at ``link`` (a symlink, like /dev/serial/by-id).

    ``unplug()`` closes the device side and removes the link; ``plug()`` makes a new pty
    and points the link at it, as a replugged USB adapter would.
    """

    def __init__(self, link: Path) -> None:
        self.link = link
        self.master = -1
        self._slave = -1
        self.plug()

    def plug(self) -> None:
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)
        with contextlib.suppress(FileNotFoundError):
            self.link.unlink()
        self.link.symlink_to(os.ttyname(self._slave))

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    def unplug(self) -> None:
        for fd in (self.master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.master = self._slave = -1
        with contextlib.suppress(FileNotFoundError):
            self.link.unlink()


class TcpDevice:
    """A serial-over-TCP device (``socket://``): a server thread accepting one client.

    ``send()`` writes to the connected client; ``unplug()`` drops the client and stops
    listening (connections are refused); ``plug()`` listens again on the same port.
    """

    def __init__(self) -> None:
        self.port = 0
        self._server: socket.socket | None = None
        self._client: socket.socket | None = None
        self._connected = threading.Event()
        self._thread: threading.Thread | None = None
        self.plug()

    @property
    def url(self) -> str:
        return f"socket://127.0.0.1:{self.port}"

    def plug(self) -> None:
        server = socket.create_server(("127.0.0.1", self.port))
        server.settimeout(0.05)
        self.port = server.getsockname()[1]
        self._server = server
        self._connected.clear()
        self._thread = threading.Thread(target=self._accept, args=(server,), daemon=True)
        self._thread.start()

    def _accept(self, server: socket.socket) -> None:
        while self._server is server:
            try:
                client, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self._client is not None:
                self._client.close()
            self._client = client
            self._connected.set()

    def wait_client(self, timeout: float = 5.0) -> None:
        if not self._connected.wait(timeout):
            raise AssertionError("the source never connected")

    def send(self, data: bytes) -> None:
        self.wait_client()
        assert self._client is not None
        self._client.sendall(data)

    def unplug(self) -> None:
        server, self._server = self._server, None
        if self._thread is not None:
            self._thread.join(1.0)
        if server is not None:
            server.close()
        if self._client is not None:
            self._client.close()
            self._client = None
        self._connected.clear()

    close = unplug


def read_until(source: Source, count: int, *, within: float = 5.0) -> list[Reading]:
    """Read until ``count`` readings arrived (bounded wait, not a timing assertion)."""
    out: list[Reading] = []
    deadline = time.monotonic() + within
    while len(out) < count and time.monotonic() < deadline:
        out.extend(source.read(0.05))
    return out


def read_until_unavailable(source: Source, *, within: float = 5.0) -> DeviceUnavailable | None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            source.read(0.05)
        except DeviceUnavailable as exc:
            return exc
    return None
