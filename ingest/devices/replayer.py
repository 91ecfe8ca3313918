"""Replay recorded files as live sources, in real time or ``speed`` times faster.

BDS force-plate files (Santos & Duarte 2016; tab-separated, header
``Time[s] Fx[N] Fy[N] Fz[N] Mx[Nm] My[Nm] Mz[Nm] COPx[cm] COPy[cm]``) become a *board*:
each row is turned into the four corner loads (kg) that a board with the given sensor
geometry (default Wii, 43.3 × 23.8 cm) would read under the same vertical force and
centre of pressure, so the COP recomputed from the corners (:mod:`analysis.cop`,
:func:`ingest.devices.board.cop_from_corners`) equals the file's COP:

- total load = Fz / 9.80665 kg;
- COPx is taken as antero-posterior (+forward), COPy as medio-lateral (+right), the
  plate frame with z down (COPx = −My/Fz, COPy = Mx/Fz, as in these files);
- the split is bilinear (see :mod:`ingest.devices.board`); a row whose COP falls outside
  the board's sensor rectangle, or with Fz ≤ 0, cannot be represented and is rejected.

Generic CSV files (comma, semicolon or tab, with a header row) replay any columns:
``file_columns`` names the header of each output column, ``scales`` converts units.

Malformed rows and rows whose time does not increase are counted in ``rejects`` and
skipped. ``t_dev`` is the file's time column in seconds; with ``loop`` each pass starts a
new boot. At the end of a file without ``loop`` the source returns no readings.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from contract import Kind
from ingest.devices.base import BOARD_COLUMNS, IMU_COLUMNS, DeviceUnavailable, Reading, Source
from ingest.devices.board import BoardGeometry, corners_from_cop
from ingest.devices.common import (
    ConfigError,
    Frame,
    ParseError,
    check_device_id,
    check_placement,
    float_tuple,
    log_reject,
    new_boot_id,
    number,
    positive,
)
from ingest.devices.pacing import Pacer, check_speed

log = logging.getLogger(__name__)

G = 9.80665
BDS_HEADER = (
    "Time[s]",
    "Fx[N]",
    "Fy[N]",
    "Fz[N]",
    "Mx[Nm]",
    "My[Nm]",
    "Mz[Nm]",
    "COPx[cm]",
    "COPy[cm]",
)
MAX_BATCH = 1000
_COLUMN = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


@dataclass(frozen=True, kw_only=True)
class FileConfig:
    device: str
    path: str
    speed: float = 1.0
    loop: bool = False
    placement: str = ""

    def _check_file(self) -> None:
        check_device_id(self.device)
        check_placement(self.placement)
        if not isinstance(self.path, str | Path) or not str(self.path):
            raise ConfigError(f"path: expected a file path, got {self.path!r}")
        check_speed(self.speed)


@dataclass(frozen=True, kw_only=True)
class BdsFileConfig(FileConfig):
    """A BDS force-plate file replayed as a balance board of the given geometry."""

    placement: str = "under-feet"
    width_cm: float = 43.3
    length_cm: float = 23.8

    def __post_init__(self) -> None:
        self._check_file()
        BoardGeometry(self.width_cm, self.length_cm)

    @property
    def geometry(self) -> BoardGeometry:
        return BoardGeometry(self.width_cm, self.length_cm)


@dataclass(frozen=True, kw_only=True)
class CsvFileConfig(FileConfig):
    """A CSV file with a header. ``columns`` default to the kind's standard columns;
    ``file_columns`` (default: the same names) are the header names to read them from;
    ``scales`` multiply each column; ``time_unit`` is seconds per unit of ``time_column``."""

    kind: str = "board"
    columns: tuple[str, ...] | None = None
    file_columns: tuple[str, ...] | None = None
    scales: tuple[float, ...] | None = None
    time_column: str = "t"
    time_unit: float = 1.0
    delimiter: str | None = None

    def __post_init__(self) -> None:
        self._check_file()
        if self.kind not in ("board", "imu"):
            raise ConfigError(f"kind: expected 'board' or 'imu', got {self.kind!r}")
        columns = tuple(self.columns or (BOARD_COLUMNS if self.kind == "board" else IMU_COLUMNS))
        for col in columns:
            if not isinstance(col, str) or not _COLUMN.match(col) or col == "t":
                raise ConfigError(f"columns: {col!r} is not a valid column name")
        file_columns = tuple(self.file_columns or columns)
        if len(file_columns) != len(columns):
            raise ConfigError(
                f"file_columns: expected {len(columns)} names, got {len(file_columns)}"
            )
        scales = float_tuple(self.scales or (1.0,) * len(columns), "scales", len(columns))
        positive(self.time_unit, "time_unit")
        if self.delimiter is not None and self.delimiter not in (",", ";", "\t"):
            raise ConfigError(f"delimiter: expected ',', ';' or a tab, got {self.delimiter!r}")
        object.__setattr__(self, "columns", columns)
        object.__setattr__(self, "file_columns", file_columns)
        object.__setattr__(self, "scales", scales)


# ----------------------------------------------------------------------------- pure parsers


def parse_bds_line(line: bytes, geometry: BoardGeometry | None = None) -> Frame:
    """One BDS data row → board frame (corner loads in kg, ``BOARD_COLUMNS`` order).

    Examples
    --------
    >>> f = parse_bds_line(b"0.010\\t-1.6\\t-3.7\\t539.07\\t5.38\\t43.06\\t-0.57\\t-7.99\\t1.00")
    >>> f.t_dev, round(sum(f.values), 3)
    (0.01, 54.97)
    """
    geo = geometry or BoardGeometry()
    fields = line.strip().split(b"\t")
    if len(fields) != len(BDS_HEADER):
        raise ParseError(f"expected 9 tab-separated fields, got {len(fields)}", line)
    t, _, _, fz, _, _, _, ap, ml = (
        number(field, name, line) for field, name in zip(fields, BDS_HEADER, strict=True)
    )
    if t < 0:
        raise ParseError(f"time {t:g} s is negative", line)
    if fz <= 0:
        raise ParseError(f"Fz = {fz:g} N: nobody on the plate", line)
    if not geo.contains(ap, ml):
        raise ParseError(f"COP ({ap:g}, {ml:g}) cm lies outside the board's sensors", line)
    loads = corners_from_cop(fz / G, ap, ml, geo)
    return Frame(t, tuple(float(v) for v in loads))


@dataclass(frozen=True)
class CsvLayout:
    """Where each output column sits in a CSV row (from the header)."""

    delimiter: bytes
    time_index: int
    indexes: tuple[int, ...]
    scales: tuple[float, ...]
    width: int
    time_unit: float = 1.0
    names: tuple[str, ...] = field(default=())


def csv_layout(header: bytes, cfg: CsvFileConfig) -> CsvLayout:
    """Read the header row; raise :class:`ParseError` if a needed column is missing."""
    text = header.decode("utf-8", errors="replace").lstrip("\ufeff").strip()
    delim = cfg.delimiter or max((",", ";", "\t"), key=text.count)
    names = [n.strip().strip('"') for n in text.split(delim)]
    wanted = (cfg.time_column, *(cfg.file_columns or ()))
    missing = [n for n in wanted if n not in names]
    if missing:
        raise ParseError(f"columns {missing!r} not in the header {names!r}", header)
    assert cfg.scales is not None
    assert cfg.file_columns is not None
    return CsvLayout(
        delimiter=delim.encode(),
        time_index=names.index(cfg.time_column),
        indexes=tuple(names.index(n) for n in cfg.file_columns),
        scales=cfg.scales,
        width=len(names),
        time_unit=cfg.time_unit,
        names=tuple(names),
    )


def parse_csv_line(line: bytes, layout: CsvLayout) -> Frame:
    fields = [f.strip() for f in line.strip().split(layout.delimiter)]
    if len(fields) != layout.width:
        raise ParseError(f"expected {layout.width} fields, got {len(fields)}", line)
    t = number(fields[layout.time_index], "time", line) * layout.time_unit
    if t < 0:
        raise ParseError(f"time {t:g} s is negative", line)
    values = tuple(
        number(fields[i], layout.names[i] if layout.names else f"field {i}", line) * scale
        for i, scale in zip(layout.indexes, layout.scales, strict=True)
    )
    return Frame(t, values)


# ----------------------------------------------------------------------------- the source


class FileReplay(Source):
    """Paced replay of a parsed file; build it with :func:`bds_source` or :func:`csv_source`."""

    def __init__(
        self,
        cfg: FileConfig,
        *,
        kind: Kind,
        columns: tuple[str, ...],
        load: Callable[[list[bytes]], tuple[list[Reading], int]],
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        super().__init__()
        self.cfg = cfg
        self.device = cfg.device
        self.kind = kind
        self.columns = columns
        self.placement = cfg.placement
        self.period = 0.01
        self._load = load
        self._pacer = Pacer(speed=cfg.speed, clock=clock, sleep=sleep)
        self._rows: list[Reading] | None = None
        self._next = 0
        self._pass_start = 0.0  # pacer time at which the current pass started
        self.finished = False

    def setup(self) -> None:
        if self._rows is not None:
            return
        path = Path(self.cfg.path)
        try:
            lines = path.read_bytes().splitlines()
        except OSError as exc:
            raise DeviceUnavailable(f"{self.device}: cannot read {path}: {exc}") from exc
        rows, rejects = self._load(lines)
        self.rejects += rejects
        if not rows:
            raise DeviceUnavailable(f"{self.device}: {path} has no readable rows")
        self._rows = rows
        if len(rows) > 1:
            steps = sorted(b.t_dev - a.t_dev for a, b in zip(rows[:200], rows[1:201], strict=False))
            self.period = steps[len(steps) // 2]
        self.boot = new_boot_id(self.device)
        log.info("%s: replaying %s (%d rows, %d rejected)", self.device, path, len(rows), rejects)

    def read(self, timeout: float) -> list[Reading]:
        rows = self._rows
        if rows is None:
            raise DeviceUnavailable(f"{self.device}: not set up")
        if self._next >= len(rows) and not self._next_pass():
            self._pacer.sleep(max(timeout, 0.0))
            return []
        t0 = rows[0].t_dev
        due = self._pacer.elapsed() - self._pass_start
        if rows[self._next].t_dev - t0 > due:
            self._pacer.wait_for(self._pass_start + rows[self._next].t_dev - t0, timeout)
            due = self._pacer.elapsed() - self._pass_start
        out: list[Reading] = []
        while self._next < len(rows) and len(out) < MAX_BATCH:
            row = rows[self._next]
            if row.t_dev - t0 > due:
                break
            out.append(row)
            self._next += 1
        return out

    def _next_pass(self) -> bool:
        rows = self._rows
        assert rows is not None
        if not self.cfg.loop:
            if not self.finished:
                log.info("%s: end of %s", self.device, self.cfg.path)
                self.finished = True
            return False
        self._pass_start += rows[-1].t_dev - rows[0].t_dev + self.period
        self._next = 0
        self.boot = new_boot_id(self.device)
        return True


def _loader(
    parse: Callable[[bytes], Frame], device: str, where: str
) -> Callable[[list[bytes]], tuple[list[Reading], int]]:
    def load(lines: list[bytes]) -> tuple[list[Reading], int]:
        rows: list[Reading] = []
        rejects = 0
        last = -math.inf
        for number_, line in enumerate(lines[1:], start=2):
            if not line.strip():
                continue
            try:
                frame = parse(line)
                assert frame.t_dev is not None
                if frame.t_dev <= last:
                    raise ParseError(f"time {frame.t_dev:g} s does not increase", line)
            except ParseError as exc:
                rejects += 1
                log_reject(log, rejects, device, f"{where} line {number_}", exc)
                continue
            last = frame.t_dev
            rows.append(Reading(frame.t_dev, frame.values))
        return rows, rejects

    return load


def bds_source(
    cfg: BdsFileConfig,
    *,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> FileReplay:
    """Replay a BDS force-plate file as a board (``clock``/``sleep`` for tests)."""
    geometry = cfg.geometry
    load_rows = _loader(lambda line: parse_bds_line(line, geometry), cfg.device, str(cfg.path))

    def load(lines: list[bytes]) -> tuple[list[Reading], int]:
        header = tuple(lines[0].decode("utf-8", "replace").split()) if lines else ()
        if header != BDS_HEADER:
            raise DeviceUnavailable(f"{cfg.device}: {cfg.path} is not a BDS file ({header!r})")
        return load_rows(lines)

    return FileReplay(cfg, kind="board", columns=BOARD_COLUMNS, load=load, clock=clock, sleep=sleep)


def csv_source(
    cfg: CsvFileConfig,
    *,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> FileReplay:
    """Replay a CSV file with a header (``clock``/``sleep`` for tests)."""

    def load(lines: list[bytes]) -> tuple[list[Reading], int]:
        try:
            layout = csv_layout(lines[0] if lines else b"", cfg)
        except ParseError as exc:
            raise DeviceUnavailable(f"{cfg.device}: {cfg.path}: {exc}") from exc
        return _loader(lambda line: parse_csv_line(line, layout), cfg.device, str(cfg.path))(lines)

    assert cfg.columns is not None
    kind: Kind = "imu" if cfg.kind == "imu" else "board"
    return FileReplay(cfg, kind=kind, columns=cfg.columns, load=load, clock=clock, sleep=sleep)
