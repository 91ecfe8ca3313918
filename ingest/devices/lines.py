"""Split a serial byte stream into lines, whatever the device and the link do to it.

pyserial's ``readline()`` returns partial lines on timeout and knows only ``\\n``; this
reader keeps the partial tail between reads, ends lines at CR, LF or CRLF, drops empty
lines, cuts lines longer than ``max_line`` (counted in ``rejects``), and passes other
bytes through untouched (the protocol parser rejects what it cannot read). Port errors
(``SerialException`` and other ``OSError``) become :class:`DeviceUnavailable`.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Protocol

from ingest.devices.base import DeviceUnavailable
from ingest.devices.common import preview

log = logging.getLogger(__name__)

_TERMINATOR = re.compile(rb"[\r\n]")


class Port(Protocol):
    """What the reader needs from a pyserial port (``serial.serial_for_url`` objects)."""

    @property
    def timeout(self) -> float | None: ...

    @timeout.setter
    def timeout(self, value: float | None) -> None: ...

    def read(self, size: int = 1) -> bytes: ...


class LineReader:
    """Read complete lines from ``port``.

    Parameters
    ----------
    port
        An open pyserial port; the reader changes its ``timeout``.
    max_line
        Longest accepted line in bytes, terminator excluded; longer ones are cut out
        whole (up to the next terminator) and counted in ``rejects``.
    skip_first
        Drop the first line fragment: a port opened while the device is streaming
        starts mid-line, and a truncated line can still look valid (``12.5`` → ``2.5``).
        An empty fragment (the stream started right after a terminator) drops nothing.
    name
        Used in log messages (device id or port URL).

    Examples
    --------
    >>> import serial
    >>> port = serial.serial_for_url("loop://", timeout=0)
    >>> _ = port.write(b"1,2\\r\\n3,")
    >>> reader = LineReader(port)
    >>> reader.read_lines(0.1)
    [b'1,2']
    >>> _ = port.write(b"4\\n")
    >>> reader.read_lines(0.1)
    [b'3,4']
    """

    def __init__(
        self, port: Port, *, max_line: int = 256, skip_first: bool = False, name: str = ""
    ) -> None:
        if max_line < 1:
            raise ValueError(f"max_line must be >= 1, got {max_line}")
        self.port = port
        self.max_line = max_line
        self.name = name or "serial port"
        self.rejects = 0
        self._tail = b""
        self._discarding = False
        self._skip_first = skip_first
        self._chunk = max(4096, 4 * max_line)

    @property
    def pending(self) -> bytes:
        """The partial line received so far."""
        return self._tail

    def read_lines(self, timeout: float) -> list[bytes]:
        """Wait at most ``timeout`` seconds for data; return the complete lines received.

        Returns as soon as at least one complete line is available (maybe none when the
        timeout passes first). Raises :class:`DeviceUnavailable` when the port fails.
        """
        deadline = time.monotonic() + max(timeout, 0.0)
        lines: list[bytes] = []
        while True:
            remaining = max(deadline - time.monotonic(), 0.0)
            data = self._read(remaining)
            if data:
                lines.extend(self.feed(data))
            if lines or remaining <= 0:
                return lines

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return the lines they complete (pure, no I/O)."""
        parts = _TERMINATOR.split(self._tail + data)
        self._tail = parts.pop()
        lines: list[bytes] = []
        for part in parts:
            if self._discarding:
                self._discarding = False  # the rest of an overlong line, already counted
                continue
            if self._skip_first:
                self._skip_first = False
                if part:
                    log.debug("%s: dropped first line fragment %s", self.name, preview(part))
                    continue
            if not part:
                continue
            if len(part) > self.max_line:
                self._reject_long(part)
                continue
            lines.append(part)
        if len(self._tail) > self.max_line:
            if not self._discarding:  # count each overlong line once
                self._reject_long(self._tail)
            self._tail = b""
            self._discarding = True
        return lines

    def _reject_long(self, part: bytes) -> None:
        self.rejects += 1
        level = logging.WARNING if self.rejects <= 10 or self.rejects % 1000 == 0 else logging.DEBUG
        log.log(
            level,
            "%s: line longer than %d bytes cut (reject #%d): %s",
            self.name,
            self.max_line,
            self.rejects,
            preview(part),
        )

    def _read(self, timeout: float) -> bytes:
        try:
            if self.port.timeout != timeout:
                self.port.timeout = timeout
            first = self.port.read(1)
            if not first:
                return b""
            self.port.timeout = 0
            return first + self.port.read(self._chunk)
        except OSError as exc:  # serial.SerialException is an OSError
            raise DeviceUnavailable(f"{self.name}: {exc}") from exc
