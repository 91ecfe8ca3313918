"""Sample batches → a room's devices, signals and automatic reps: the engine's sample side.

:func:`device_for` picks (or sets up) the room's board or trunk IMU for a batch,
:func:`signals` turns the batch into the analysis signals (COP, trunk tilt, and the
counter's input: the IMU's six axes in m/s² and deg/s, or the COP in cm) and
:func:`detect` feeds the running set's :class:`~analysis.repcount.RepCounter` (one per
set, on the device kind its exercise counts with); :func:`finish` ends it when the set
stops. A batch the engine cannot use raises
:class:`Unusable` (or an analysis error) with the reason; the engine counts it as a
reject and forgets the device's filters, so one bad batch cannot spoil the next.
"""

from __future__ import annotations

import hashlib
import logging
import math

import numpy as np

from analysis.cop import cop_from_loads
from analysis.errors import AnalysisError
from analysis.imu import TrunkTilt
from analysis.repcount import Rep, RepCounter
from analysis.stream import SlidingSway
from contract import Event, SampleBatch, Tilt
from record.engine_parts import (
    BOARD_COLUMNS,
    IMU_COLUMNS,
    STALE_S,
    SWAY_WINDOW_S,
    _Device,
    _Room,
    _Set,
)

log = logging.getLogger(__name__)

MAX_SAMPLE_ABS = 1e5
"""No load cell (kg), accelerometer (g) or gyroscope (°/s) reads more: beyond, a batch is
not a measurement (and its squares would overflow the sway metrics)."""
MAX_RATE_HZ = 2000.0
"""The fastest device the engine analyses (DMI Live's boards and IMUs send 100 Hz): a
sliding window's buffers grow with the rate, so a batch claiming a 1 ns period must not
make the engine allocate gigabytes."""
MIN_COUNT_HZ = 10.0
"""The slowest device whose samples count reps: a child's rep takes 0.5 s or more, and the
counter looks at its shape, not only at its tempo."""
G = 9.80665
"""Standard gravity: an IMU batch's accelerometer is in g, the counter takes m/s²."""

__all__ = ["MAX_RATE_HZ", "MAX_SAMPLE_ABS", "Unusable", "detect", "device_for", "finish",
           "forget", "fresh", "signals"]


class Unusable(ValueError):
    """A sample batch the engine cannot use; the message says why."""


def fresh(r: _Room, device: _Device | None, now: float) -> bool:
    """The device sent samples lately and is not offline."""
    return (device is not None and device.id not in r.offline
            and now - device.last_seen <= STALE_S)


def device_for(r: _Room, batch: SampleBatch, now: float) -> _Device | None:
    """The room's board or trunk IMU for this batch; None if another one is in use."""
    if batch.kind == "imu" and r.placements.get(batch.device, "trunk") != "trunk":
        return None
    slot = "board" if batch.kind == "board" else "imu"
    current: _Device | None = getattr(r, slot)
    fs = 1.0 / batch.period
    if current is not None and current.id == batch.device:
        if math.isclose(current.fs, fs, rel_tol=0.01):
            return current
    elif current is not None and fresh(r, current, now):
        return None
    if not fs <= MAX_RATE_HZ:
        raise Unusable(f"sample period {batch.period:g} s: faster than the {MAX_RATE_HZ:g} Hz "
                       "the engine analyses")
    device = _Device(batch.device, batch.kind, fs, batch.boot, batch.seq, now)
    try:
        if batch.kind == "board":
            device.sway = SlidingSway(fs=fs, window_s=SWAY_WINDOW_S)
        else:
            device.tilt = TrunkTilt(fs=fs)
    except (AnalysisError, ValueError, ArithmeticError) as exc:
        raise Unusable(f"sample period {batch.period} s not usable: {exc}") from None
    setattr(r, slot, device)
    log.info("engine: room %s uses %s %s at %.0f Hz", r.name, slot, batch.device, fs)
    return device


def forget(r: _Room, device: _Device) -> None:
    """Drop ``device``'s filters (and the counter it fed): the next batch starts afresh."""
    for slot in ("board", "imu"):
        if getattr(r, slot) is device:
            setattr(r, slot, None)
    if r.current is not None and r.current.counter_device == device.id:
        r.current.counter, r.current.counter_device = None, ""
        r.current.complete = False


def signals(device: _Device, batch: SampleBatch, skip: int) -> dict[str, np.ndarray]:
    """The batch's analysis signals from row ``skip`` on (rows before were seen already)."""
    wanted = BOARD_COLUMNS if device.kind == "board" else IMU_COLUMNS
    rows = np.asarray(batch.rows[skip:], dtype=np.float64)
    cols = rows[:, [batch.columns.index(c) for c in wanted]]
    if not np.all(np.abs(cols) <= MAX_SAMPLE_ABS):
        raise Unusable(f"values beyond ±{MAX_SAMPLE_ABS:g} in {', '.join(wanted)}")
    t = np.asarray(batch.host_times()[skip:], dtype=np.float64)
    if device.sway is not None:
        ml, ap, _ = cop_from_loads(cols[:, 0], cols[:, 1], cols[:, 2], cols[:, 3])
        device.sway.push(ml, ap)
        return {"t": t, "cop": np.column_stack([ml, ap])}
    assert device.tilt is not None
    o = device.tilt.process(cols[:, :3], cols[:, 3:])
    device.last_tilt = Tilt(round(float(o.pitch_deg[-1]), 2), round(float(o.roll_deg[-1]), 2))
    return {"t": t, "imu": np.column_stack([cols[:, :3] * G, cols[:, 3:]])}


def _event(s: _Set, rep: Rep) -> Event:
    """A counted rep as the event to publish; its id comes from the set and the time, so
    two engines (or one re-reading the same samples) cannot count a rep twice."""
    key = hashlib.sha1(f"{s.id}|{rep.t:.3f}".encode()).hexdigest()[:32]
    data: dict[str, object] = {"delta": 1, "source": "auto",
                               "confidence": float(rep.confidence)}
    if math.isfinite(rep.period_s):
        data["period_s"] = float(rep.period_s)
    return Event(type="rep", t=float(rep.t), session=s.session, set=s.id, id=f"auto-{key}",
                 data=data)


def detect(r: _Room, device: _Device, signals: dict[str, np.ndarray]) -> list[Event]:
    """The running set's automatic reps in these signals, as rep events to publish."""
    s = r.current
    if s is None or s.source is None or s.source not in signals:
        return []
    if device.fs < MIN_COUNT_HZ:
        raise Unusable(f"sample period {1 / device.fs:g} s: slower than the {MIN_COUNT_HZ:g} Hz "
                       "the rep counter needs")
    if s.counter is None or s.counter_device != device.id or s.counter.fs != device.fs:
        if s.counter is not None:  # another device took over: what is kept is not one signal
            s.complete = False
        s.counter = RepCounter(fs=device.fs, kind=s.source, sensitivity=s.setup.sensitivity,
                               calibration=s.setup.calibration)
        s.counter_device = device.id
    t = signals["t"]
    keep = t >= s.started
    t, x = t[keep], signals[s.source][keep]
    if not t.size:
        return []
    s.keep(t, x, device.fs)
    events = [_event(s, rep) for rep in s.counter.push(t, x)]
    for e in events:
        log.debug("engine: room %s set %s auto rep at %.2f", r.name, s.id, e.t)
    return events


def finish(s: _Set) -> list[Event]:
    """The set stopped: the reps its counter still holds (a last rep whose return was cut
    off). None when the therapist corrected the set: their count stands as they left it."""
    if s.counter is None or s.corrected:
        return []
    try:
        return [_event(s, rep) for rep in s.counter.finish()]
    except (AnalysisError, ValueError, ArithmeticError) as exc:
        log.warning("engine: set %s: the counter could not finish: %s", s.id, exc)
        return []
