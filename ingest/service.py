"""The ingest service: read every source, batch its readings, hand them to the forwarder.

One reader thread per device. A reader never dies of bad input (sources count and skip
malformed lines); when the device disappears it reports the device offline with the
reason, reopens it with back-off (at most 1 s between tries, so a replugged device
resumes within about 2 s) and carries on. Readings are cut into batches of at most
``batch_size`` samples or ``max_latency`` seconds, whichever comes first.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ingest.devices.base import DeviceUnavailable, Reading, Source
from ingest.schema import DeviceStatus, SampleBatch

log = logging.getLogger(__name__)

STALE_AFTER = 1.0
REOPEN_MAX = 1.0


@dataclass(frozen=True)
class BatchPolicy:
    batch_size: int = 10
    max_latency: float = 0.1

    def __post_init__(self) -> None:
        if not 1 <= self.batch_size <= 1000:
            raise ValueError(f"batch_size must be 1–1000, got {self.batch_size}")


class Batcher:
    """Turns a device's readings into :class:`SampleBatch` es with running sequence numbers.

    Host time: the newest reading of each ``add`` call is taken to have arrived ``now``;
    earlier readings get host times by their device-time difference. A change of boot
    restarts the sequence at 0.
    """

    def __init__(self, source: Source, policy: BatchPolicy,
                 clock: Callable[[], float] = time.time) -> None:
        self.source = source
        self.policy = policy
        self.clock = clock
        self._boot = source.boot
        self._seq = 0
        self._pending: list[Reading] = []
        self._pending_host0 = 0.0
        self._first_at = 0.0

    def add(self, readings: Sequence[Reading]) -> list[SampleBatch]:
        out: list[SampleBatch] = []
        if self.source.boot != self._boot:
            out.extend(self.flush())
            self._boot, self._seq = self.source.boot, 0
        if not readings:
            return out + self._flush_if_old()
        now = self.clock()
        newest = readings[-1].t_dev
        if not self._pending:
            self._first_at = time.monotonic()
            self._pending_host0 = now - (newest - readings[0].t_dev)
        self._pending.extend(readings)
        while len(self._pending) >= self.policy.batch_size:
            out.append(self._cut(self.policy.batch_size))
        return out + self._flush_if_old()

    def _flush_if_old(self) -> list[SampleBatch]:
        if self._pending and time.monotonic() - self._first_at >= self.policy.max_latency:
            return self.flush()
        return []

    def flush(self) -> list[SampleBatch]:
        return [self._cut(len(self._pending))] if self._pending else []

    def _cut(self, n: int) -> SampleBatch:
        rows, self._pending = self._pending[:n], self._pending[n:]
        src = self.source
        t0 = rows[0].t_dev
        host0 = self._pending_host0
        columns = src.columns
        values = tuple(r.values for r in rows)
        if _irregular(rows, src.period):
            columns = ("t", *columns)
            values = tuple((r.t_dev, *r.values) for r in rows)
        batch = SampleBatch(
            device=src.device, kind=src.kind, boot=self._boot, seq=self._seq, t_dev=t0,
            period=src.period, t_host=host0, columns=columns, rows=values,
        )
        self._seq += n
        if self._pending:
            self._pending_host0 = host0 + (self._pending[0].t_dev - t0)
            self._first_at = time.monotonic()
        return batch


def _irregular(rows: Sequence[Reading], period: float) -> bool:
    return any(
        abs((b.t_dev - a.t_dev) - period) > 0.1 * period for a, b in itertools.pairwise(rows)
    )


class DeviceReader(threading.Thread):
    """Reads one source until stopped; never raises."""

    def __init__(self, source: Source, submit: Callable[[SampleBatch | DeviceStatus], None],
                 policy: BatchPolicy) -> None:
        super().__init__(name=f"reader-{source.device}", daemon=True)
        self.source = source
        self.submit = submit
        self.batcher = Batcher(source, policy)
        self.samples = 0
        self._halt = threading.Event()
        self._state = ""
        self._last_data = time.monotonic()

    def stop(self) -> None:
        self._halt.set()

    def _report(self, state: str, reason: str = "") -> None:
        if state == self._state and state != "online":
            return
        src = self.source
        self._state = state
        self.submit(DeviceStatus(device=src.device, kind=src.kind, state=state,  # type: ignore[arg-type]
                                 t=time.time(), reason=reason[:200], boot=src.boot,
                                 rejects=src.rejects, placement=src.placement))

    def run(self) -> None:
        backoff = 0.1
        opened = False
        rejects_reported = 0
        while not self._halt.is_set():
            try:
                if not opened:
                    self.source.setup()
                    opened, backoff = True, 0.1
                    self._last_data = time.monotonic()
                    self._report("online")
                readings = self.source.read(0.05)
                for batch in self.batcher.add(readings):
                    self.samples += len(batch.rows)
                    self.submit(batch)
                now = time.monotonic()
                if readings:
                    self._last_data = now
                    if self._state != "online" or self.source.rejects != rejects_reported:
                        rejects_reported = self.source.rejects
                        self._report("online")
                elif now - self._last_data > STALE_AFTER and self._state == "online":
                    self._report("stale", f"no data for {now - self._last_data:.1f} s")
            except DeviceUnavailable as exc:
                for batch in self.batcher.flush():
                    self.submit(batch)
                if opened or self._state != "offline":
                    log.warning("%s unavailable: %s", self.source.device, exc)
                self._report("offline", f"device unavailable: {exc}")
                self._safe_cleanup()
                opened = False
                self._halt.wait(backoff)
                backoff = min(backoff * 2, REOPEN_MAX)
            except Exception as exc:  # a bug in a source must not stop the room
                log.exception("%s: reader error", self.source.device)
                self._report("offline", f"reader error: {exc}")
                self._safe_cleanup()
                opened = False
                self._halt.wait(REOPEN_MAX)
        for batch in self.batcher.flush():
            self.samples += len(batch.rows)
            self.submit(batch)
        self._safe_cleanup()

    def _safe_cleanup(self) -> None:
        try:
            self.source.cleanup()
        except Exception:
            log.exception("%s: cleanup failed", self.source.device)


class IngestService:
    """Reader threads for a room's sources feeding one forwarder."""

    def __init__(self, sources: Sequence[Source],
                 submit: Callable[[SampleBatch | DeviceStatus], None],
                 policy: BatchPolicy | None = None) -> None:
        policy = policy or BatchPolicy()
        self.readers = [DeviceReader(s, submit, policy) for s in sources]

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
