"""``dmi-live reps FILE [FILE ...]``: count the reps in recorded IMU files.

Each file is comma-separated with the header ``time_s,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z``
(s, m/s², deg/s, any sensor orientation; other columns are ignored, empty fields are
missing samples). The sampling rate comes from the time column (its median step) unless
``--fs`` gives it. The samples go through :class:`analysis.repcount.RepCounter`, the
streaming counter the session engine runs, in 0.1 s pieces, and the set ends with
:meth:`~analysis.repcount.RepCounter.finish`.

``--like FILE --count N`` first calibrates the counter on a set whose true count is N
(as if the therapist had corrected that set to N), then counts every FILE with that
calibration. ``--json`` prints one JSON object per file and line:
``{"file": ..., "reps": N, "fs_hz": ..., "duration_s": ..., "period_s": ...,
"rep_times_s": [...], "calibration": {...}}``.

A file that cannot be used gets one line on stderr naming it and the line at fault; the
other files are still counted, and the exit status is 2.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # numpy and the analysis package load only when a file is counted
    import numpy as np

    from analysis.repsettings import Calibration

COLUMNS = ("time_s", "acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z")
PIECE_S = 0.1
MIN_SECONDS = 2.0


class FileProblem(Exception):
    """A file cannot be used; the message names the file and, where it helps, the line."""


@dataclass(frozen=True)
class Recording:
    """The samples of one file."""

    path: Path
    t: np.ndarray
    samples: np.ndarray
    fs: float


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``reps`` arguments to ``parser``."""
    parser.description = "Count the reps in recorded IMU files (time_s, acc_*, gyr_*)."
    parser.add_argument("files", metavar="FILE", nargs="+", type=Path, help="IMU recording")
    parser.add_argument(
        "--like", metavar="FILE", type=Path, help="calibrate first on this set (needs --count)"
    )
    parser.add_argument(
        "--count", metavar="N", type=_count, help="the true number of reps in the --like set"
    )
    parser.add_argument(
        "--fs", metavar="HZ", type=_rate, help="sampling rate (default: from the time column)"
    )
    parser.add_argument(
        "--sensitivity",
        choices=("fewer", "normal", "more"),
        default="normal",
        help="how readily a movement counts as a rep (default: normal)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per file")


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} must not be negative")
    return value


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number of Hz")
    return value


# ----------------------------------------------------------------------------- reading


def read_recording(path: Path, fs: float | None = None) -> Recording:
    """Parse one file; raise :class:`FileProblem` naming the file and the line."""
    import numpy as np

    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileProblem(f"{path}: no such file") from None
    except IsADirectoryError:
        raise FileProblem(f"{path}: is a directory, not a file") from None
    except UnicodeDecodeError as exc:
        raise FileProblem(f"{name}: not a text file (byte {exc.start} is not UTF-8)") from None
    except OSError as exc:
        raise FileProblem(f"{path}: cannot read ({exc.strerror})") from None
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise FileProblem(
            f"{name}: line 1: the file is empty, expected the header {','.join(COLUMNS)}"
        )
    header = [h.strip() for h in lines[0].split(",")]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise FileProblem(
            f"{name}: line 1: missing column {missing[0]!r} (expected {','.join(COLUMNS)})"
        )
    where = [header.index(c) for c in COLUMNS]
    rows: list[list[float]] = []
    for lineno, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split(",")
        if len(fields) != len(header):
            raise FileProblem(
                f"{name}: line {lineno}: expected {len(header)} fields, found {len(fields)}"
            )
        row = []
        for col, j in zip(COLUMNS, where, strict=True):
            field = fields[j].strip()
            try:
                value = float(field) if field else math.nan
            except ValueError:
                raise FileProblem(f"{name}: line {lineno}: {field!r} is not a number") from None
            if math.isinf(value) or (col == "time_s" and not math.isfinite(value)):
                raise FileProblem(f"{name}: line {lineno}: {col} {field!r} is not a finite number")
            row.append(value)
        if rows and row[0] <= rows[-1][0]:
            raise FileProblem(f"{name}: line {lineno}: time {row[0]:g} s does not increase")
        rows.append(row)
    if len(rows) < 2:
        raise FileProblem(f"{name}: too short: {len(rows)} data line(s)")
    table = np.asarray(rows, dtype=np.float64)
    t = table[:, 0]
    if fs is None:
        fs = float(f"{1.0 / float(np.median(np.diff(t))):.6g}")
    if t.size < MIN_SECONDS * fs:
        raise FileProblem(
            f"{name}: too short: {t.size} samples ({t.size / fs:.2f} s at "
            f"{fs:g} Hz), need at least {MIN_SECONDS:g} s"
        )
    return Recording(path, t, table[:, 1:], fs)


# ----------------------------------------------------------------------------- counting


def count_reps(
    rec: Recording, *, calibration: Calibration | None = None, sensitivity: str = "normal"
) -> tuple[int, list[float], float]:
    """Stream a recording through the counter in 0.1 s pieces: (count, rep times, period)."""
    from analysis.repcount import RepCounter

    counter = RepCounter(fs=rec.fs, kind="imu", sensitivity=sensitivity, calibration=calibration)
    piece = max(1, round(PIECE_S * rec.fs))
    times: list[float] = []
    for i in range(0, rec.t.size, piece):
        times += [r.t for r in counter.push(rec.t[i : i + piece], rec.samples[i : i + piece])]
    times += [r.t for r in counter.finish()]
    return counter.count, times, counter.period_s


def _calibrate(args: argparse.Namespace) -> Calibration | None:
    from analysis.repcalib import calibrate

    if args.like is None:
        return None
    rec = read_recording(Path(args.like), args.fs)
    return calibrate(
        rec.t, rec.samples, count=args.count, fs=rec.fs, kind="imu", sensitivity=args.sensitivity
    )


def _report(
    rec: Recording,
    reps: int,
    times: list[float],
    period: float,
    calibration: Calibration | None,
    as_json: bool,
) -> None:
    duration = float(rec.t[-1] - rec.t[0]) + 1.0 / rec.fs
    if as_json:
        payload: dict[str, Any] = {
            "file": str(rec.path),
            "reps": reps,
            "fs_hz": rec.fs,
            "duration_s": round(duration, 3),
            "period_s": round(period, 3) if math.isfinite(period) else None,
            "rep_times_s": [round(t, 3) for t in times],
            "calibration": calibration.changes() if calibration is not None else None,
        }
        print(json.dumps(payload, allow_nan=False), flush=True)
    else:
        tempo = f", a rep every {period:.2f} s" if math.isfinite(period) else ""
        print(f"{rec.path}: {reps} reps ({duration:.1f} s at {rec.fs:g} Hz{tempo})", flush=True)


def run(args: argparse.Namespace) -> int:
    """Count the reps of every file; return 2 if any file failed, else 0."""
    from analysis.errors import AnalysisError

    if (args.like is None) != (args.count is None):
        print("dmi-live reps: error: --like FILE and --count N go together", file=sys.stderr)
        return 2
    try:
        calibration = _calibrate(args)
    except (FileProblem, AnalysisError) as exc:
        print(f"dmi-live reps: error: cannot calibrate: {exc}", file=sys.stderr)
        return 2
    if calibration is not None and not args.json:
        changes = calibration.changes()
        learned = ", ".join(f"{k}={v}" for k, v in changes.items()) or "the defaults"
        print(f"calibrated on {args.like} ({args.count} reps): {learned}")
    failed = False
    for path in args.files:
        try:
            rec = read_recording(Path(path), args.fs)
            reps, times, period = count_reps(
                rec, calibration=calibration, sensitivity=args.sensitivity
            )
        except FileProblem as exc:
            print(f"dmi-live reps: error: {exc}", file=sys.stderr, flush=True)
            failed = True
            continue
        except AnalysisError as exc:
            print(f"dmi-live reps: error: {path}: {exc}", file=sys.stderr, flush=True)
            failed = True
            continue
        _report(rec, reps, times, period, calibration, args.json)
    return 2 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry point (``python -m dmi_live.reps_cli FILE ...``)."""
    parser = argparse.ArgumentParser(prog="dmi-live reps")
    configure(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
