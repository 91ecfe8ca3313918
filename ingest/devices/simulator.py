"""A simulated therapy room: a balance board and a trunk IMU on one small child.

``SimulatedRoom(seed=…)`` is deterministic: the same seed gives the same session
(:mod:`ingest.devices.scenario`) and the same readings (:mod:`ingest.devices.simbody`),
however and whenever they are read. Both sources are paced by one shared clock, so
their device times stay in step: device time 0 is ``start`` (a ``clock()`` reading,
by default the moment the first source is set up) and ``read()`` returns the readings
due ``speed`` times faster than real time (``speed`` 0 or ``inf``: as fast as
possible, at most 1000 readings a call).

Examples
--------
>>> room = SimulatedRoom(seed=3, speed=0)
>>> board, imu = room.sources()
>>> board.setup()
>>> readings = board.read(0.1)
>>> len(readings), readings[1].t_dev, round(sum(readings[0].values))
(1000, 0.01, 18)
>>> room.phase_at(0.0).name
'rest'
"""

from __future__ import annotations

import collections
import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from contract import Kind
from ingest.devices.base import BOARD_COLUMNS, IMU_COLUMNS, Reading, Source
from ingest.devices.board import BoardGeometry
from ingest.devices.common import ConfigError, check_device_id, new_boot_id, positive
from ingest.devices.pacing import Pacer, check_speed
from ingest.devices.scenario import Phase, Timeline
from ingest.devices.simbody import Child, board_loads, motion, pink, trunk_imu, white

log = logging.getLogger(__name__)

MAX_BATCH = 1000
_BLOCK = 1024  # samples computed together
_CACHE = 8  # blocks kept
_BOARD_NOISE_KG = 0.02
_ACCEL_NOISE_G = 0.004
_GYRO_NOISE_DPS = 0.15


@dataclass(frozen=True, kw_only=True)
class SimulatorConfig:
    """Room-file configuration of the simulated room (see :class:`SimulatedRoom`)."""

    seed: int = 1
    speed: float = 1.0
    fs: float = 100.0
    board_id: str = "board-1"
    imu_id: str = "imu-trunk"

    def __post_init__(self) -> None:
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ConfigError(f"seed: expected an integer, got {self.seed!r}")
        check_speed(self.speed)
        if not 10.0 <= positive(self.fs, "fs") <= 2000.0:
            raise ConfigError(f"fs: must be within 10–2000 Hz, got {self.fs!r}")
        check_device_id(self.board_id, "board_id")
        check_device_id(self.imu_id, "imu_id")
        if self.board_id == self.imu_id:
            raise ConfigError("board_id and imu_id must differ")


class SimulatedRoom:
    """One simulated child on a board with a trunk IMU; see the module docstring.

    ``clock`` and ``sleep`` (default ``time.monotonic``/``time.sleep``) can be replaced
    to drive the pacing in tests; ``start`` is a reading of that clock.
    """

    def __init__(
        self,
        *,
        seed: int = 1,
        speed: float = 1.0,
        fs: float = 100.0,
        board_id: str = "board-1",
        imu_id: str = "imu-trunk",
        start: float | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.config = SimulatorConfig(
            seed=seed, speed=speed, fs=fs, board_id=board_id, imu_id=imu_id
        )
        self.seed = seed % 2**63
        self.fs = float(fs)
        self.pacer = Pacer(speed=speed, start=start, clock=clock, sleep=sleep)
        self.timeline = Timeline(self.seed)
        self.child = Child.random(np.random.default_rng([self.seed, 0xC41D]))
        self.geometry = BoardGeometry()
        self._cache: collections.OrderedDict[int, tuple[NDArray[np.float64], ...]] = (
            collections.OrderedDict()
        )
        self._lock = threading.Lock()
        self._sources: list[Source] = [
            SimulatedBoard(self, board_id),
            SimulatedImu(self, imu_id),
        ]

    def sources(self) -> list[Source]:
        """The balance board (``BOARD_COLUMNS``) and the trunk IMU (``IMU_COLUMNS``)."""
        return list(self._sources)

    def phase_at(self, t: float) -> Phase:
        """The scenario phase at device time ``t`` seconds."""
        return self.timeline.phase_at(t)

    def samples(self, n0: int, n1: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Board (kg) and IMU (g, deg/s) values of samples ``n0 … n1-1`` (time ``n / fs``)."""
        if not 0 <= n0 <= n1:
            raise ValueError(f"sample range {n0}..{n1} is invalid")
        parts = [self._block(k) for k in range(n0 // _BLOCK, (max(n1, n0 + 1) - 1) // _BLOCK + 1)]
        base = (n0 // _BLOCK) * _BLOCK
        board = np.concatenate([p[0] for p in parts])[n0 - base : n1 - base]
        imu = np.concatenate([p[1] for p in parts])[n0 - base : n1 - base]
        return board, imu

    def _block(self, k: int) -> tuple[NDArray[np.float64], ...]:
        with self._lock:
            hit = self._cache.get(k)
            if hit is not None:
                self._cache.move_to_end(k)
                return hit
        block = self._compute(k)
        with self._lock:
            self._cache[k] = block
            while len(self._cache) > _CACHE:
                self._cache.popitem(last=False)
        return block

    def _compute(self, k: int) -> tuple[NDArray[np.float64], ...]:
        """Samples ``k·B … (k+1)·B − 1`` plus one on each side for the gyro derivative."""
        n0, n1 = k * _BLOCK - 1, (k + 1) * _BLOCK + 1
        t = np.maximum(np.arange(n0, n1) / self.fs, 0.0)
        phases = self.timeline.phases(max(t[0] - 2.0, 0.0), t[-1] + 1.0 / self.fs)
        m = motion(t, phases, self.child)
        seed, fs = self.seed, self.fs
        sway_ap, sway_ml = pink(seed, 0, n0, n1, fs), pink(seed, 1, n0, n1, fs)
        fluct = pink(seed, 2, n0, n1, fs)
        own = (pink(seed, 3, n0, n1, fs), pink(seed, 4, n0, n1, fs))
        loads, _, _ = board_loads(m, sway_ap, sway_ml, fluct, self.child, self.geometry)
        imu = trunk_imu(m, sway_ap, sway_ml, own, self.child, fs)
        m0, m1 = n0 + 1, n1 - 1
        noise = np.stack([white(seed, c, m0, m1) for c in range(10)], axis=1)
        board = loads[1:-1] + _BOARD_NOISE_KG * noise[:, :4]
        imu[:, :3] += _ACCEL_NOISE_G * noise[:, 4:7]
        imu[:, 3:] += _GYRO_NOISE_DPS * noise[:, 7:10] + np.array(self.child.gyro_bias_dps)
        return board, imu


class _SimulatedSource(Source):
    """One device of the room, reading its own cursor through the shared pacing."""

    kind: Kind
    _slot: int

    def __init__(self, room: SimulatedRoom, device: str) -> None:
        super().__init__()
        self.room = room
        self.device = device
        self.period = 1.0 / room.fs
        self.boot = new_boot_id(device)
        self._next = 0

    def setup(self) -> None:
        self.room.pacer.begin()

    def read(self, timeout: float) -> list[Reading]:
        pacer = self.room.pacer
        if pacer.fast:
            end = self._next + MAX_BATCH
        else:
            end = self._due()
            if end <= self._next:
                pacer.wait_for(self._next / self.room.fs, timeout)
                end = self._due()
            end = min(end, self._next + MAX_BATCH)
        if end <= self._next:
            return []
        n0, self._next = self._next, end
        values = self.room.samples(n0, end)[self._slot]
        fs = self.room.fs
        return [
            Reading(n / fs, tuple(float(v) for v in row))
            for n, row in zip(range(n0, end), values, strict=True)
        ]

    def _due(self) -> int:
        """Number of samples due so far (sample ``n`` is due at ``n / fs``)."""
        return int(math.floor(self.room.pacer.elapsed() * self.room.fs + 1e-9)) + 1


class SimulatedBoard(_SimulatedSource):
    kind: Kind = "board"
    columns = BOARD_COLUMNS
    placement = "under-feet"
    _slot = 0


class SimulatedImu(_SimulatedSource):
    kind: Kind = "imu"
    columns = IMU_COLUMNS
    placement = "trunk"
    _slot = 1


def simulator_sources(cfg: SimulatorConfig) -> list[Source]:
    """The registry constructor: a new room's board and IMU."""
    return SimulatedRoom(
        seed=cfg.seed, speed=cfg.speed, fs=cfg.fs, board_id=cfg.board_id, imu_id=cfg.imu_id
    ).sources()
