"""A :class:`Source` reading one line protocol from a serial port (or any pyserial URL).

``serial.serial_for_url(url, baudrate=…)`` opens the port, so the same code reads a
USB-serial Arduino (``/dev/ttyACM0``), a Bluetooth SPP link (``/dev/rfcomm0``), a TCP
bridge (``socket://host:port``) and, in tests, ``loop://`` or a pty.

Boots. Every ``setup()`` (opening a port resets an Arduino) starts a new boot id, and so
does, while reading:

- a line matching ``banner`` (a regular expression, e.g. ``"^# HX711 board"``);
- a device timestamp that goes backwards (not explained by the counter wrapping
  around at ``2**counter_bits`` counts).

A backward step, or a forward jump larger than ``max_step`` seconds, is only believed
once the *next* line continues from it: a single corrupted timestamp (a dropped digit
makes ``123456`` into ``12456``) is rejected instead of splitting the recording. One
``read()`` returns readings of one boot only, and ``self.boot`` names that boot when
``read()`` returns; readings of the next boot come with the next call.

Device time. With timestamps, ``t_dev`` is the device time in seconds, unwrapped. Without
(the format allows it), ``t_dev`` counts sample slots of ``period`` seconds since the boot
started; a rejected line still uses its slot, so one bad line does not shift the rest.
"""

from __future__ import annotations

import collections
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

import serial

from contract import Kind
from ingest.devices.base import DeviceUnavailable, Reading, Source
from ingest.devices.common import (
    ConfigError,
    Frame,
    ParseError,
    check_device_id,
    check_placement,
    log_reject,
    new_boot_id,
    positive,
    preview,
)
from ingest.devices.lines import LineReader

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class SerialConfig:
    """Port settings shared by every serial protocol (the room file's ``[[devices]]`` keys).

    ``period`` is the nominal sample period in seconds. ``counter_bits`` is the width of
    the device's timestamp counter (Arduino ``millis()`` is 32 bits), ``None`` if it never
    wraps. ``skip_first_line`` drops the first line fragment after opening the port (see
    :class:`~ingest.devices.lines.LineReader`).
    """

    device: str
    url: str
    baudrate: int = 115200
    placement: str = ""
    period: float = 0.01
    banner: str | None = None
    max_line: int = 256
    skip_first_line: bool = True
    counter_bits: int | None = 32
    max_step: float = 5.0

    def __post_init__(self) -> None:
        SerialConfig._check_port(self)

    def _check_port(self) -> None:
        check_device_id(self.device)
        check_placement(self.placement)
        if not isinstance(self.url, str) or not self.url:
            raise ConfigError(f"url: expected a port name or URL, got {self.url!r}")
        if isinstance(self.baudrate, bool) or not isinstance(self.baudrate, int):
            raise ConfigError(f"baudrate: expected an integer, got {self.baudrate!r}")
        if self.baudrate <= 0:
            raise ConfigError(f"baudrate: must be > 0, got {self.baudrate}")
        positive(self.period, "period")
        positive(self.max_step, "max_step")
        if self.banner is not None:
            try:
                re.compile(self.banner)
            except (re.error, TypeError) as exc:
                raise ConfigError(f"banner: {self.banner!r} is not a regex: {exc}") from None
        if isinstance(self.max_line, bool) or not isinstance(self.max_line, int):
            raise ConfigError(f"max_line: expected an integer, got {self.max_line!r}")
        if not 8 <= self.max_line <= 65536:
            raise ConfigError(f"max_line: must be within 8..65536, got {self.max_line}")
        if self.counter_bits is not None and (
            isinstance(self.counter_bits, bool)
            or not isinstance(self.counter_bits, int)
            or not 8 <= self.counter_bits <= 64
        ):
            raise ConfigError(f"counter_bits: expected 8..64 or None, got {self.counter_bits!r}")


class SerialSource(Source):
    """Read ``parse``-able lines from ``cfg.url``; see the module docstring.

    ``time_unit`` is the device timestamp unit in seconds (the counter wraps at
    ``2**cfg.counter_bits * time_unit`` seconds).
    """

    def __init__(
        self,
        cfg: SerialConfig,
        parse: Callable[[bytes], Frame],
        *,
        kind: Kind,
        columns: tuple[str, ...],
        time_unit: float = 0.001,
    ) -> None:
        super().__init__()
        self.cfg = cfg
        self.device = cfg.device
        self.kind = kind
        self.columns = columns
        self.period = cfg.period
        self.placement = cfg.placement
        self._parse = parse
        self._banner = re.compile(cfg.banner.encode()) if cfg.banner else None
        self._wrap = 2.0**cfg.counter_bits * time_unit if cfg.counter_bits else None
        self._port: serial.SerialBase | None = None
        self._reader: LineReader | None = None
        self._pending: collections.deque[tuple[str, Reading]] = collections.deque()
        self._line = b""
        self._next_boot = self.boot
        self._start_boot()

    @property
    def port(self) -> serial.SerialBase | None:
        """The open port, ``None`` while closed."""
        return self._port

    # ------------------------------------------------------------------ Source interface

    def setup(self) -> None:
        self.cleanup()
        try:
            port = serial.serial_for_url(self.cfg.url, baudrate=self.cfg.baudrate, timeout=0)
        except (OSError, ValueError) as exc:
            raise DeviceUnavailable(f"{self.device}: cannot open {self.cfg.url}: {exc}") from exc
        self._port = port
        self._reader = LineReader(
            port,
            max_line=self.cfg.max_line,
            skip_first=self.cfg.skip_first_line,
            name=f"{self.device} ({self.cfg.url})",
        )
        self._start_boot()
        self.boot = self._next_boot
        log.info("%s: opened %s, boot %s", self.device, self.cfg.url, self.boot)

    def read(self, timeout: float) -> list[Reading]:
        if self._pending:
            return self._take()
        if self._reader is None:
            raise DeviceUnavailable(f"{self.device}: {self.cfg.url} is not open")
        reader = self._reader
        before = reader.rejects
        try:
            lines = reader.read_lines(timeout)
        except DeviceUnavailable:
            log.warning("%s: %s disappeared", self.device, self.cfg.url)
            self.cleanup()
            raise
        finally:
            self.rejects += reader.rejects - before
        for line in lines:
            self._handle(line)
        if not lines and self._suspect is not None:
            self._confirm_suspect()  # the device went quiet: believe the last timestamp
        return self._take()

    def cleanup(self) -> None:
        port, self._port, self._reader = self._port, None, None
        if port is not None:
            try:
                port.close()
            except (OSError, ValueError) as exc:
                log.debug("%s: error closing %s: %s", self.device, self.cfg.url, exc)

    # ------------------------------------------------------------------ line handling

    def _start_boot(self) -> None:
        self._next_boot = new_boot_id(self.device)
        self._boot_has_data = False
        self._raw_last: float | None = None
        self._t_last = 0.0
        self._slot = 0
        self._suspect: Frame | None = None
        self._suspect_line = b""

    def _new_boot(self, why: str) -> None:
        if self._suspect is not None:
            self._reject(ParseError("device time jump not confirmed", self._suspect_line))
        if self._boot_has_data:
            self._start_boot()
            log.info("%s: device restarted (%s), boot %s", self.device, why, self._next_boot)
        else:
            self._suspect = None

    def _handle(self, line: bytes) -> None:
        if self._banner is not None and self._banner.search(line):
            self._new_boot(f"banner {preview(line)}")
            return
        try:
            frame = self._parse(line)
        except ParseError as exc:
            self._slot += 1
            self._reject(exc)
            return
        self._line = line
        if frame.t_dev is None:
            if self._raw_last is None:
                self._emit(self._slot * self.period, frame)
                self._slot += 1
            else:  # an untimed line inside a timed stream: one period after the last
                self._advance(self._raw_last + self.period, self.period, frame)
            return
        self._timed(frame)

    def _step(self, raw_from: float, raw_to: float) -> float | None:
        """Forward device-time step, unwrapping the counter; None if implausible."""
        step = raw_to - raw_from
        if step < 0 and self._wrap is not None and 0 <= step + self._wrap <= self.cfg.max_step:
            return step + self._wrap
        return step if 0 <= step <= self.cfg.max_step else None

    def _timed(self, frame: Frame) -> None:
        raw = frame.t_dev
        assert raw is not None
        if self._raw_last is None:
            self._raw_last = self._t_last = raw
            self._emit(raw, frame)
            return
        suspect = self._suspect
        if suspect is None:
            step = self._step(self._raw_last, raw)
            if step is None:
                self._suspect, self._suspect_line = frame, self._line  # check with the next
            else:
                self._advance(raw, step, frame)
            return
        assert suspect.t_dev is not None
        if self._step(self._raw_last, raw) is not None:
            self._suspect = None
            self._reject_out_of_sequence(suspect.t_dev)
            self._timed(frame)
        elif self._step(suspect.t_dev, raw) is not None:
            self._confirm_suspect()
            self._timed(frame)
        else:
            self._reject_out_of_sequence(suspect.t_dev)
            self._suspect, self._suspect_line = frame, self._line

    def _reject_out_of_sequence(self, t_dev: float) -> None:
        message = f"device time {t_dev:g} s out of sequence after {self._raw_last:g} s"
        self._reject(ParseError(message, self._suspect_line))

    def _confirm_suspect(self) -> None:
        suspect, self._suspect = self._suspect, None
        assert suspect is not None
        assert suspect.t_dev is not None
        assert self._raw_last is not None
        raw = suspect.t_dev
        if raw < self._raw_last:
            self._new_boot(f"device time went back from {self._raw_last:g} s to {raw:g} s")
            self._raw_last = self._t_last = raw
            self._emit(raw, suspect)
        else:
            log.warning("%s: device time jumped %.3f s ahead", self.device, raw - self._raw_last)
            self._advance(raw, raw - self._raw_last, suspect)

    def _advance(self, raw: float, step: float, frame: Frame) -> None:
        self._raw_last = raw
        self._t_last += step
        self._emit(self._t_last, frame)

    def _emit(self, t_dev: float, frame: Frame) -> None:
        self._boot_has_data = True
        self._pending.append((self._next_boot, Reading(t_dev, frame.values)))

    def _reject(self, error: Exception) -> None:
        self.rejects += 1
        log_reject(log, self.rejects, self.device, self.cfg.url, error)

    def _take(self) -> list[Reading]:
        """Pending readings of the oldest boot; ``self.boot`` names that boot."""
        if not self._pending:
            return []
        boot = self._pending[0][0]
        out: list[Reading] = []
        while self._pending and self._pending[0][0] == boot:
            out.append(self._pending.popleft()[1])
        self.boot = boot
        return out
