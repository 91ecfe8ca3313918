"""``dmi-live import FILE``: a recorded force-plate (or IMU) file becomes a session.

Formats (``--format``, guessed from the header when omitted):

``bds``
    BDS force-plate files (Santos & Duarte 2016): each row becomes the four corner loads
    of a board under the same vertical force and centre of pressure (the parsing of
    :mod:`ingest.devices.replayer`), so the replay's COP equals the file's.
``csv``
    A header row and a time column (``t``, ``time`` or ``--time-column``; seconds unless
    ``--time-unit``), and either board load cells ``fl, fr, bl, br`` (kg), or a centre of
    pressure ``ml, ap`` (cm; turned into loads for ``--load-kg``), or IMU channels
    ``ax, ay, az`` (g) and ``gx, gy, gz`` (deg/s).

The samples are stored as a device of their own (``--device``, default ``file-HASH``) in
``--room`` (default ``import``), with a session for ``--child`` from ``--start`` (default:
the file's modification time minus its duration); ``--exercise`` adds one set spanning
the recording. Everything is keyed on the file's content, so importing the same file
again changes nothing. Problems end in one line ``dmi-live import: error: …``, exit 2.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from contract import MAX_ROWS, Event, SampleBatch, SchemaError
from contract.vocab import SUPPORT_POINTS
from dmi_live.cli_actor import cli_actor
from dmi_live.errors import DmiError
from dmi_live.export_cli import add_store_options, settings_from
from ingest.devices.base import BOARD_COLUMNS, IMU_COLUMNS
from ingest.devices.board import corners_from_cop
from ingest.devices.common import ParseError
from ingest.devices.replayer import (
    BDS_HEADER,
    CsvFileConfig,
    csv_layout,
    parse_bds_line,
    parse_csv_line,
)

PROG = "dmi-live import"
FORMATS = ("bds", "csv")
TIME_COLUMNS = ("t", "time", "Time[s]", "time_s", "timestamp")


class ImportProblem(DmiError):
    """The file (or an option) cannot be imported; the message says what and where."""


@dataclass(frozen=True)
class Recording:
    kind: str
    columns: tuple[str, ...]
    t: np.ndarray  # file time, s
    values: np.ndarray  # (n, len(columns))
    rejected: int


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``import`` arguments to ``parser``."""
    parser.description = "Import a recorded force-plate (BDS, CSV) or IMU (CSV) file as a session."
    parser.add_argument("file", metavar="FILE", type=Path, help="file to import")
    parser.add_argument("--child", required=True,
                        help="the child's pseudonym or name (a new pseudonym adds the child)")
    parser.add_argument("--format", choices=FORMATS, help="file format (default: guessed)")
    parser.add_argument("--site", help="site id (default: from the settings)")
    parser.add_argument("--room", default="import", help="room id (default: import)")
    parser.add_argument("--session", help="session id (default: import-HASH of the file)")
    parser.add_argument("--device", help="device id (default: file-HASH of the file)")
    parser.add_argument("--start", help="when the recording started: ISO 8601 or epoch "
                                        "seconds (default: file time minus its duration)")
    parser.add_argument("--therapist", default="import", help="therapist recorded (default import)")
    parser.add_argument("--exercise", help="add one set of this catalog exercise")
    parser.add_argument("--surface", default="floor", help="surface of that set (default floor)")
    parser.add_argument("--support", default="none", choices=SUPPORT_POINTS,
                        help="support point of that set (default none)")
    parser.add_argument("--planned-reps", type=int, default=1, help="planned reps (default 1)")
    parser.add_argument("--kind", choices=("board", "imu"), help="CSV: board or imu (default: "
                        "from the columns)")
    parser.add_argument("--time-column", help="CSV: the time column (default t or time)")
    parser.add_argument("--time-unit", type=float, default=1.0, metavar="S",
                        help="CSV: seconds per unit of the time column (default 1)")
    parser.add_argument("--load-kg", type=float, default=20.0,
                        help="CSV with ml/ap only: body load to spread on the cells (default 20)")
    add_store_options(parser)


# ----------------------------------------------------------------------------- reading


def guess_format(first_line: bytes) -> str:
    return "bds" if tuple(first_line.decode("utf-8", "replace").split()) == BDS_HEADER else "csv"


def _increasing(path: Path, times: list[float], rows: list[tuple[float, ...]], rejected: int,
                kind: str, columns: tuple[str, ...]) -> Recording:
    if len(times) < 2:
        raise ImportProblem(f"{path}: fewer than 2 readable rows ({rejected} rejected)")
    return Recording(kind, columns, np.asarray(times), np.asarray(rows, dtype=np.float64),
                     rejected)


def read_bds(path: Path, lines: list[bytes]) -> Recording:
    times: list[float] = []
    rows: list[tuple[float, ...]] = []
    rejected = 0
    for line in lines[1:]:
        if not line.strip():
            continue
        try:
            frame = parse_bds_line(line)
        except ParseError:
            rejected += 1
            continue
        assert frame.t_dev is not None
        if times and frame.t_dev <= times[-1]:
            rejected += 1
            continue
        times.append(frame.t_dev)
        rows.append(tuple(frame.values))
    return _increasing(path, times, rows, rejected, "board", BOARD_COLUMNS)


def read_csv(path: Path, lines: list[bytes], args: argparse.Namespace) -> Recording:
    header = lines[0].decode("utf-8", "replace").lstrip("\ufeff")
    names = {n.strip().strip('"') for n in header.replace(";", ",").replace("\t", ",").split(",")}
    time_column = args.time_column or next((c for c in TIME_COLUMNS if c in names), None)
    if time_column is None:
        raise ImportProblem(f"{path}: no time column (t or time); name it with --time-column")
    columns: tuple[str, ...]
    stored: tuple[str, ...]
    if args.kind == "imu" or (args.kind is None and set(IMU_COLUMNS) <= names):
        kind, columns, stored = "imu", IMU_COLUMNS, IMU_COLUMNS
    elif set(BOARD_COLUMNS) <= names:
        kind, columns, stored = "board", BOARD_COLUMNS, BOARD_COLUMNS
    elif {"ml", "ap"} <= names:
        kind, columns, stored = "board", ("ml", "ap"), BOARD_COLUMNS
    else:
        raise ImportProblem(f"{path}: need columns fl, fr, bl, br (kg) or ml, ap (cm) or "
                            f"ax, ay, az, gx, gy, gz (found {', '.join(sorted(names))})")
    try:
        cfg = CsvFileConfig(device="import", path=str(path), kind=kind, columns=columns,
                            time_column=time_column, time_unit=args.time_unit)
        layout = csv_layout(lines[0], cfg)
    except (ParseError, ValueError) as exc:
        raise ImportProblem(f"{path}: {exc}") from None
    times: list[float] = []
    rows: list[tuple[float, ...]] = []
    rejected = 0
    for line in lines[1:]:
        if not line.strip():
            continue
        try:
            frame = parse_csv_line(line, layout)
        except ParseError:
            rejected += 1
            continue
        assert frame.t_dev is not None
        if times and frame.t_dev <= times[-1]:
            rejected += 1
            continue
        times.append(frame.t_dev)
        rows.append(tuple(frame.values))
    rec = _increasing(path, times, rows, rejected, kind, columns)
    if columns == ("ml", "ap"):
        if not args.load_kg > 0:
            raise ImportProblem(f"--load-kg must be > 0, got {args.load_kg:g}")
        loads = corners_from_cop(np.full(len(rec.t), args.load_kg), rec.values[:, 1],
                                 rec.values[:, 0])
        rec = Recording(kind, stored, rec.t, loads, rec.rejected)
    return rec


# ----------------------------------------------------------------------------- storing


def parse_start(text: str | None, default: float) -> float:
    if text is None:
        return default
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise ImportProblem(f"--start {text!r} is neither ISO 8601 nor epoch seconds") from None


def batches(device: str, rec: Recording, boot: str, start: float) -> list[SampleBatch]:
    period = float(np.median(np.diff(rec.t)))
    out = []
    for i in range(0, len(rec.t), MAX_ROWS):
        t = rec.t[i:i + MAX_ROWS]
        rows = tuple(tuple(r) for r in np.column_stack([t, rec.values[i:i + MAX_ROWS]]).tolist())
        out.append(SampleBatch(device=device, kind=rec.kind, boot=boot, seq=i,  # type: ignore[arg-type]
                               t_dev=float(t[0]), period=period,
                               t_host=start + float(t[0] - rec.t[0]),
                               columns=("t", *rec.columns), rows=rows))
    return out


def run(args: argparse.Namespace) -> int:
    """Import ``args.file``; print what became of it; return the exit status."""
    from dmi_live.cli_store import open_or_create
    from store.errors import StoreError, UnknownSession

    path: Path = args.file
    try:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ImportProblem(f"{path}: cannot read ({exc.strerror})") from None
        lines = data.splitlines()
        if not lines:
            raise ImportProblem(f"{path}: the file is empty")
        digest = hashlib.sha1(data).hexdigest()
        fmt = args.format or guess_format(lines[0])
        rec = read_bds(path, lines) if fmt == "bds" else read_csv(path, lines, args)
        duration = float(rec.t[-1] - rec.t[0])
        start = parse_start(args.start, path.stat().st_mtime - duration)
        if not (math.isfinite(start) and start > 0):
            raise ImportProblem(f"--start {args.start!r} is not a time")
        settings = settings_from(args)
        site = args.site or settings.site
        session = args.session or f"import-{digest[:12]}"
        device = args.device or f"file-{digest[:8]}"
        with open_or_create(settings.database_url) as store:
            try:
                store.session(session)
                print(f"{path}: already imported as session {session}")
                return 0
            except UnknownSession:
                pass
            end = start + duration
            named = [c.pseudonym for c in store.children()
                     if (c.display_name or "").casefold() == args.child.casefold()
                     and c.pseudonym != args.child]
            if len(named) == 1:  # a child's name works as well as its pseudonym
                args.child = named[0]
            events = session_events(args, session, start, end)  # validates ids first
            if args.exercise and args.exercise not in {e.key for e in store.exercises()}:
                raise ImportProblem(f"--exercise {args.exercise!r} is not in the catalog")
            for other in store.sessions(room=args.room, site=site, until=end + 1):
                other_end = other.end if other.end is not None else math.inf
                if other_end > start:
                    raise ImportProblem(
                        f"room {args.room!r} has session {other.id} at that time; "
                        "give another --room or --start")
            store.upsert_device(site, args.room, device, rec.kind,
                                "under-feet" if rec.kind == "board" else "trunk")
            all_batches = batches(device, rec, f"import-{digest[:12]}", start)
            inserted = 0
            for i in range(0, len(all_batches), 50):
                inserted += store.insert_batches(all_batches[i:i + 50]).inserted
            if args.child not in {c.pseudonym for c in store.children()}:
                # a session never creates its child; the command's user (an admin) does
                store.add_child(args.child, "")
                store.audit(cli_actor(), "add child", args.child, f"importing {path.name}")
            for event in events:
                store.apply_event(site, args.room, event)
            from review.replay_views import prepare

            prepare(store, session)  # as the record service does when a session ends
    except (ImportProblem, StoreError, SchemaError, OSError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    print(f"{path}: {inserted} samples ({rec.rejected} rows rejected), {duration:.1f} s, "
          f"as session {session} of child {args.child} in room {args.room} — "
          f"replay at /replay/{session}")
    return 0


def session_events(args: argparse.Namespace, session: str, start: float,
                   end: float) -> list[Event]:
    author = args.therapist
    events = [Event("session_start", start, session=session, author=author,
                    data={"child": args.child}, id=f"{session}-start")]
    if args.exercise:
        set_id = f"{session}-set-1"
        events += [
            Event("set_start", start, session=session, set=set_id, author=author,
                  data={"exercise": args.exercise, "surface": args.surface,
                        "support": args.support, "planned_reps": args.planned_reps},
                  id=f"{session}-set-start"),
            Event("set_end", end, session=session, set=set_id, author=author,
                  id=f"{session}-set-end"),
        ]
    events.append(Event("session_end", end, session=session, author=author,
                        id=f"{session}-end"))
    return events


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point (``python -m dmi_live.import_cli FILE --child C``)."""
    parser = argparse.ArgumentParser(prog=PROG)
    configure(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
