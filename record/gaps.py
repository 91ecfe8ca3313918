"""Gaps in a device's recording: holes in its sequence numbers and restarts, over host time."""

from __future__ import annotations

from dataclasses import dataclass, field

from contract import SampleBatch

DeviceKey = tuple[str, str, str]
"""(site, room, device): two rooms may each have a ``board-1``."""


@dataclass
class Track:
    boot: str
    next_seq: int
    last_t: float


BOOTS_KEPT = 4
"""Boots remembered per device, newest first: a batch of a forgotten boot is stored but
makes no gap (it is a redelivery from long ago)."""


@dataclass
class GapTracker:
    """Finds holes in each device's sequence numbers, per boot of the device.

    A hole is recorded over host time; when the host clock stepped back across it (an
    NTP correction, a restarted edge machine), the hole is placed just before the first
    sample after it, as long as the missing samples take, and the reason says so.

    Only a boot never seen before is a restart: a redelivered batch of an earlier boot
    (the broker resends what was not acknowledged) is checked against that boot's own
    sequence numbers and makes no gap of its own.
    """

    tracks: dict[DeviceKey, dict[str, Track]] = field(default_factory=dict)
    reasons: dict[DeviceKey, str] = field(default_factory=dict)

    def offline(self, device: DeviceKey, reason: str) -> None:
        self.reasons[device] = reason

    def check(self, device: DeviceKey, batch: SampleBatch) -> tuple[float, float, str] | None:
        first, last = first_last_host_time(batch)
        boots = self.tracks.setdefault(device, {})
        track = boots.get(batch.boot)
        gap = None
        if track is None:
            if boots:
                latest = next(reversed(boots.values()))
                reason = self.reasons.get(device) or "device restarted"
                gap = _span(latest.last_t, first, 0.0, reason)
            boots[batch.boot] = Track(batch.boot, batch.last_seq + 1, last)
            while len(boots) > BOOTS_KEPT:
                del boots[next(iter(boots))]
        elif batch.last_seq < track.next_seq:
            return None  # a redelivered duplicate: nothing new
        else:
            if batch.seq > track.next_seq:
                missing = batch.seq - track.next_seq
                reason = self.reasons.get(device) or f"{missing} samples missing"
                gap = _span(track.last_t, first, missing * batch.period, reason)
            track.next_seq, track.last_t = batch.last_seq + 1, last
        if gap is not None:
            self.reasons.pop(device, None)
        return gap


def _span(before: float, after: float, missing_s: float, reason: str
          ) -> tuple[float, float, str]:
    if after >= before:
        return before, after, reason
    return (after - missing_s, after,
            f"{reason}; host clock stepped back {before - after:.3f} s")


def first_last_host_time(batch: SampleBatch) -> tuple[float, float]:
    """``batch.host_times()[0]`` and ``[-1]``, without the list in between."""
    offset = batch.t_host - batch.t_dev
    if "t" in batch.columns:
        k = batch.columns.index("t")
        return batch.rows[0][k] + offset, batch.rows[-1][k] + offset
    return batch.t_dev + offset, batch.t_dev + (len(batch.rows) - 1) * batch.period + offset
