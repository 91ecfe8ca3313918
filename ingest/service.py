"""The ingest service: read every source, batch its readings, hand them to the forwarder.

One reader thread per device. A reader never dies of bad input (sources count and skip
malformed lines; the count goes out in the device status); when the device disappears it
reports the device offline with the reason, reopens it with back-off (at most 1 s between
tries, so a replugged device resumes within about 2 s) and carries on. Readings are cut
into batches of at most ``batch_size`` samples or ``max_latency`` seconds, whichever
comes first. Beside the batches (stored), each reader hands over a small live frame of
its device every few tens of milliseconds for the screens (:mod:`ingest.live`; drawn,
never stored).

Time. Every sample keeps the device's own time (``t_dev``). Host times come from a
:class:`~ingest.clock.ClockFit` per device boot: each reading's host receive time goes
into the fit, and a batch's ``t_host`` is the fitted host time of its first sample, so
USB or Bluetooth jitter and a busy host do not bend the time axis. The fit runs on the
monotonic clock (an NTP step cannot look like a device reset) and is converted to wall
time when a batch is cut. A device-time reset the fit detects (time going back, or
leaping ahead of the host) starts a new boot: new boot id, sequence from 0. Sources that
do not run in real time (a replay or simulation at ``speed`` ≠ 1) cannot be fitted to the
host clock; their newest reading is taken to have arrived now.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from contract import DeviceStatus, LiveFrame, SampleBatch, State
from ingest.clock import ClockFit, ClockModel
from ingest.devices.base import DeviceUnavailable, Reading, Source
from ingest.devices.common import new_boot_id
from ingest.live import FRAME_EVERY_S, LiveFramer

Item = SampleBatch | DeviceStatus | LiveFrame

log = logging.getLogger(__name__)

STALE_AFTER = 1.0
REOPEN_MAX = 1.0
STATUS_EVERY = 1.0
"""At most one status update a second for a changing reject count."""


@dataclass(frozen=True)
class BatchPolicy:
    batch_size: int = 10
    max_latency: float = 0.1

    def __post_init__(self) -> None:
        if not 1 <= self.batch_size <= 1000:
            raise ValueError(f"batch_size must be 1–1000, got {self.batch_size}")
        if not self.max_latency > 0:
            raise ValueError(f"max_latency must be > 0 s, got {self.max_latency}")


def runs_in_real_time(source: Source) -> bool:
    """Whether ``source``'s device time advances with the host clock.

    A source may say so with a ``realtime`` attribute; replayers and the simulator are
    real time when their pacing ``speed`` is 1; everything else (serial devices) is.
    """
    flag = getattr(source, "realtime", None)
    if isinstance(flag, bool):
        return flag
    speed = getattr(getattr(source, "cfg", None), "speed", None)
    if speed is None:
        speed = getattr(getattr(getattr(source, "room", None), "pacer", None), "speed", None)
    return speed is None or speed == 1.0


class Batcher:
    """Turns a device's readings into :class:`SampleBatch` es with running sequence numbers.

    Call :meth:`add` with each chunk of readings as it arrives; host receive times are
    read from ``monotonic`` (fit) and ``clock`` (wall time of the batches). A change of
    ``source.boot``, or a reset the clock fit detects, flushes what is pending and
    restarts the sequence at 0; ``boot`` is the boot id the batches carry.
    """

    def __init__(
        self,
        source: Source,
        policy: BatchPolicy,
        clock: Callable[[], float] = time.time,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        fit_clock: bool | None = None,
    ) -> None:
        self.source = source
        self.policy = policy
        self.clock = clock
        self.monotonic = monotonic
        self.fit_clock = runs_in_real_time(source) if fit_clock is None else fit_clock
        self.boot = source.boot
        self.resets = 0
        self._source_boot = source.boot
        self._fit = ClockFit()
        self._seq = 0
        self._pending: list[Reading] = []
        self._pending_host0 = 0.0  # naive mode: wall time of pending[0]
        self._wall_offset = 0.0  # wall − monotonic at the last add
        self._first_at = 0.0
        self._last_t = 0.0

    def add(self, readings: Sequence[Reading]) -> list[SampleBatch]:
        out: list[SampleBatch] = []
        if self.source.boot != self._source_boot:
            out.extend(self.flush())
            self._source_boot = self.source.boot
            self._start_boot(self.source.boot)
        if not readings:
            return out + self._flush_if_old()
        mono = self.monotonic()
        self._wall_offset = self.clock() - mono
        if self.fit_clock:  # the whole chunk goes into the fit before any batch is cut
            for reading in readings:
                before = self._fit.model if self._pending else None
                if self._fit.update(reading.t_dev, mono):  # the fit restarted
                    if before is not None:
                        out.extend(self.flush(before))
                    self._device_reset(reading)
                self._append(reading, mono)
                self._last_t = reading.t_dev
        else:
            if not self._pending:
                newest = readings[-1].t_dev
                self._pending_host0 = mono + self._wall_offset - (newest - readings[0].t_dev)
            for reading in readings:
                self._append(reading, mono)
        while len(self._pending) >= self.policy.batch_size:
            out.append(self._cut(self.policy.batch_size))
        return out + self._flush_if_old()

    @property
    def next_seq(self) -> int:
        """The sequence number the next reading will get."""
        return self._seq + len(self._pending)

    def host_time(self, t_dev: float, newest: float) -> float:
        """The host (wall) time of device time ``t_dev`` as the batches will say it, given
        ``newest``, the device time of the newest reading added."""
        if self.fit_clock:
            return self._fit.to_host(t_dev) + self._wall_offset
        return self.monotonic() + self._wall_offset - (newest - t_dev)

    def flush(self, model: ClockModel | None = None) -> list[SampleBatch]:
        """Cut everything pending (``model``: the fit it belongs to, if not the current)."""
        out = []
        while self._pending:
            out.append(self._cut(min(len(self._pending), self.policy.batch_size), model))
        return out

    # ------------------------------------------------------------------ internals

    def _append(self, reading: Reading, mono: float) -> None:
        if not self._pending:
            self._first_at = mono
        self._pending.append(reading)

    def _flush_if_old(self) -> list[SampleBatch]:
        if self._pending and self.monotonic() - self._first_at >= self.policy.max_latency:
            return self.flush()
        return []

    def _start_boot(self, boot: str) -> None:
        self.boot, self._seq = boot, 0
        self._fit = ClockFit()

    def _device_reset(self, reading: Reading) -> None:
        """The fit saw device time go back or leap ahead of the host: a new boot."""
        self.resets += 1
        self.boot, self._seq = new_boot_id(self.source.device), 0
        if reading.t_dev < self._last_t:
            log.info("%s: device clock went back from %.3f to %.3f s (restart); new boot %s",
                     self.source.device, self._last_t, reading.t_dev, self.boot)
        else:
            log.warning("%s: device time leapt ahead of the host clock at %.3f s; new boot %s "
                        "(if this repeats, check the device's period or time_unit)",
                        self.source.device, reading.t_dev, self.boot)

    def _cut(self, n: int, model: ClockModel | None = None) -> SampleBatch:
        """A batch of the first ``n`` pending readings (``model``: the fit they belong to,
        when the fit has just restarted)."""
        rows, self._pending = self._pending[:n], self._pending[n:]
        src = self.source
        t0 = rows[0].t_dev
        if model is not None:
            host0 = model.to_host(t0) + self._wall_offset
        elif self.fit_clock:
            host0 = self._fit.to_host(t0) + self._wall_offset
        else:
            host0 = self._pending_host0
            if self._pending:
                self._pending_host0 = host0 + (self._pending[0].t_dev - t0)
        columns = src.columns
        values = tuple(r.values for r in rows)
        if _irregular(rows, src.period):
            columns = ("t", *columns)
            values = tuple((r.t_dev, *r.values) for r in rows)
        batch = SampleBatch(
            device=src.device, kind=src.kind, boot=self.boot, seq=self._seq, t_dev=t0,
            period=src.period, t_host=host0, columns=columns, rows=values,
        )
        self._seq += n
        if self._pending:
            self._first_at = self.monotonic()
        return batch


def _irregular(rows: Sequence[Reading], period: float) -> bool:
    return any(
        abs((b.t_dev - a.t_dev) - period) > 0.1 * period for a, b in itertools.pairwise(rows)
    )


class DeviceReader(threading.Thread):
    """Reads one source until stopped; never raises.

    With ``live_every_s`` (seconds, or None for none) it also hands over a live frame of
    the device that often (:class:`~ingest.live.LiveFramer`).
    """

    def __init__(self, source: Source, submit: Callable[[Item], None],
                 policy: BatchPolicy, *, live_every_s: float | None = FRAME_EVERY_S) -> None:
        super().__init__(name=f"reader-{source.device}", daemon=True)
        self.source = source
        self.submit = submit
        self.batcher = Batcher(source, policy)
        self.live: LiveFramer | None = None
        if live_every_s is not None:
            try:
                self.live = LiveFramer(source, every_s=live_every_s,
                                       monotonic=self.batcher.monotonic)
            except ValueError as exc:  # a device without what screens draw: stored only
                log.warning("%s: no live frames: %s", source.device, exc)
        self.samples = 0
        self._halt = threading.Event()
        self._state = ""
        self._reason = ""
        self._last_data = time.monotonic()
        self._rejects_sent = 0
        self._rejects_at_data = 0
        self._status_at = 0.0

    def stop(self) -> None:
        self._halt.set()

    def _report(self, state: State, reason: str = "") -> None:
        """Publish the device status when it changed (or the reject count did)."""
        src = self.source
        if state == self._state and reason == self._reason and src.rejects == self._rejects_sent:
            return
        self._state, self._reason = state, reason
        self._rejects_sent, self._status_at = src.rejects, time.monotonic()
        self.submit(DeviceStatus(device=src.device, kind=src.kind, state=state, t=time.time(),
                                 reason=reason[:200], boot=self.batcher.boot,
                                 rejects=src.rejects, placement=src.placement))

    def _send(self, batches: list[SampleBatch]) -> None:
        for batch in batches:
            self.samples += len(batch.rows)
            self.submit(batch)

    def run(self) -> None:
        backoff = 0.1
        opened = False
        while not self._halt.is_set():
            try:
                if not opened:
                    self.source.setup()
                    opened, backoff = True, 0.1
                    self._last_data = time.monotonic()
                    self._rejects_at_data = self.source.rejects
                    self._send(self.batcher.add([]))  # a reopened port is a new boot
                    self._report("online")
                readings = self.source.read(0.05)
                self._send(self.batcher.add(readings))
                self._frame(readings)
                self._update_status(bool(readings))
            except DeviceUnavailable as exc:
                self._send(self.batcher.flush())
                if opened or self._state != "offline":
                    log.warning("%s unavailable: %s", self.source.device, exc)
                self._report("offline", f"device unavailable: {exc}")
                self._safe_cleanup()
                opened = False
                self._halt.wait(backoff)
                backoff = min(backoff * 2, REOPEN_MAX)
            except Exception as exc:  # a bug in a source must not stop the room
                log.exception("%s: reader error", self.source.device)
                self._send(self._safe_flush())
                self._report("offline", f"reader error: {exc}")
                self._safe_cleanup()
                opened = False
                self._halt.wait(REOPEN_MAX)
        self._send(self._safe_flush())
        self._safe_cleanup()

    def _update_status(self, got_data: bool) -> None:
        """Online while data flows, stale after a quiet second; the reject count goes out
        with it, at most once a second while it keeps changing."""
        src = self.source
        now = time.monotonic()
        if got_data:
            self._last_data, self._rejects_at_data = now, src.rejects
        state: State = "online" if now - self._last_data <= STALE_AFTER else "stale"
        reason = ""
        if state == "stale":
            rejected = src.rejects - self._rejects_at_data
            reason = f"no valid data: {rejected} lines rejected" if rejected else "no data"
        if state != self._state or (
            src.rejects != self._rejects_sent and now - self._status_at >= STATUS_EVERY
        ):
            self._report(state, reason)

    def _frame(self, readings: list[Reading]) -> None:
        """Hand over a live frame when one is due; a failure costs the frame only."""
        if self.live is None or not readings:
            return
        batcher = self.batcher
        newest = readings[-1].t_dev
        try:
            frame = self.live.add(
                readings, boot=batcher.boot,
                first_seq=max(batcher.next_seq - len(readings), 0),
                host_time=lambda t: batcher.host_time(t, newest))
        except Exception:  # a bug here must not cost the stored samples
            log.exception("%s: live frame failed", self.source.device)
            return
        if frame is not None:
            self.submit(frame)

    def _safe_flush(self) -> list[SampleBatch]:
        try:
            return self.batcher.flush()
        except Exception:
            log.exception("%s: could not flush pending readings", self.source.device)
            return []

    def _safe_cleanup(self) -> None:
        try:
            self.source.cleanup()
        except Exception:
            log.exception("%s: cleanup failed", self.source.device)


class IngestService:
    """Reader threads for a room's sources feeding one forwarder."""

    def __init__(self, sources: Sequence[Source], submit: Callable[[Item], None],
                 policy: BatchPolicy | None = None, *,
                 live_every_s: float | None = FRAME_EVERY_S) -> None:
        policy = policy or BatchPolicy()
        self.readers = [DeviceReader(s, submit, policy, live_every_s=live_every_s)
                        for s in sources]

    def start(self) -> None:
        for reader in self.readers:
            reader.start()

    def stop(self, timeout: float = 3.0) -> None:
        for reader in self.readers:
            reader.stop()
        for reader in self.readers:
            reader.join(timeout)

    @property
    def samples(self) -> int:
        return sum(r.samples for r in self.readers)
