"""``dmi-live metrics FILE``: sway metrics of a recorded file.

Formats (``--format``, guessed from the first line when omitted):

``bds``
    Tab-separated force-plate export of the BDS data set (Santos & Duarte 2016) with
    columns ``Time[s]`` and ``COPx[cm]``, ``COPy[cm]``; BDS-convention metrics.
``quijoux``
    Two comma-separated columns without header, ML and AP in cm, already preprocessed
    (uniform, filtered, centred; 25 Hz unless ``--fs``); the 72 descriptors of Quijoux
    et al. (2021) under the authors' names. ``mean_value_*`` is the mean of the file.
``csv``
    A DMI Live export (the zip of ``dmi-live export --format csv``: its first board's
    samples, or one ``samples/*.csv`` taken out of it): comma-separated with a header;
    COP columns ``ml``, ``ap`` (cm) or board load cells ``fl``, ``fr``, ``bl``, ``br``
    (kg); optional time column ``t`` (s),
    which gives the rate (irregular times are resampled linearly to ``--fs``); other
    columns (``t_dev``, ``boot``, ``seq``…) are ignored;
    BDS-convention metrics over the valid samples.

A file that cannot be used gets one line on stderr saying what and where, exit status 2.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import math
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from analysis.cop import cop_from_loads
from analysis.errors import AnalysisError
from analysis.preprocess import resample_uniform
from analysis.quijoux import quijoux_descriptors
from analysis.sway import sway_metrics

log = logging.getLogger(__name__)

FORMATS = ("bds", "quijoux", "csv")
MIN_SWAY_SECONDS = 1.0
MIN_QUIJOUX_SECONDS = 10.0
QUIJOUX_FS = 25.0
_UNITS = {
    "ellipse_area_cm2": "cm²",
    "mean_velocity_cm_s": "cm/s",
    "rms_cm": "cm",
    "mean_frequency_hz": "Hz",
    "path_length_cm": "cm",
    "duration_s": "s",
}


class FileProblem(Exception):
    """The input file cannot be used; the message says what and where."""


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``metrics`` arguments to ``parser``."""
    parser.description = "Print the sway metrics of a recorded file."
    parser.add_argument("file", metavar="FILE", type=Path, help="recording to analyse")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default=None,
        help="file format (default: guessed from the first line)",
    )
    parser.add_argument(
        "--fs",
        type=float,
        default=None,
        metavar="HZ",
        help="sampling rate; default from the time column (bds, csv) or 25 Hz (quijoux)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


# ----------------------------------------------------------------------------- reading


def _from_export(path: Path) -> str:
    """The board samples of a ``dmi-live export --format csv`` zip, as CSV text."""
    try:
        with zipfile.ZipFile(path) as zf:
            manifest = json.loads(zf.read("manifest.json"))
            boards = [d["device"] for d in manifest.get("devices", [])
                      if d.get("kind") == "board"]
            if not boards:
                raise FileProblem(f"{path}: the export holds no balance-board samples")
            member = f"samples/{boards[0]}.csv"
            if member not in zf.namelist():
                raise FileProblem(f"{path}: no {member} (metrics read CSV exports, "
                                  "not Parquet ones)")
            return zf.read(member).decode("utf-8")
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise FileProblem(f"{path}: not a DMI Live export ({exc})") from exc


def _read_lines(path: Path) -> list[str]:
    try:
        text = (_from_export(path) if zipfile.is_zipfile(path)
                else path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise FileProblem(f"{path}: no such file") from exc
    except IsADirectoryError as exc:
        raise FileProblem(f"{path}: is a directory, not a file") from exc
    except UnicodeDecodeError as exc:
        raise FileProblem(f"{path}: not a text file (byte {exc.start} is not UTF-8)") from exc
    except OSError as exc:
        raise FileProblem(f"{path}: cannot read ({exc.strerror})") from exc
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise FileProblem(f"{path}: the file is empty")
    return lines


def _guess_format(lines: list[str]) -> str:
    first = lines[0]
    if "COPx[cm]" in first or "\t" in first:
        return "bds"
    try:
        [float(v) for v in first.split(",")]
    except ValueError:
        return "csv"
    return "quijoux"


def _split_header(path: Path, line: str, sep: str) -> list[str]:
    names = [name.strip() for name in line.split(sep)]
    if len(names) < 2:
        found = next((c for c in ",;\t|" if c != sep and c in line), None)
        expected = "tab" if sep == "\t" else repr(sep)
        hint = f", found {found!r}" if found else ""
        raise FileProblem(f"{path}: line 1: expected {expected}-separated columns{hint}")
    return names


def _table(path: Path, lines: list[str], sep: str, names: list[str], start: int,
           wanted: frozenset[str] | None = None) -> np.ndarray:
    """Parse data lines into floats; empty fields and 'nan' become NaN. Only the columns
    in ``wanted`` (all when None) are parsed; the others hold NaN (e.g. an export's
    ``boot`` id)."""
    rows = []
    for lineno, row in enumerate(csv.reader(lines[start:], delimiter=sep), start=start + 1):
        if not row or not "".join(row).strip():
            continue
        if len(row) != len(names):
            raise FileProblem(
                f"{path}: line {lineno}: expected {len(names)} fields, found {len(row)}"
            )
        values = []
        for name, field in zip(names, row, strict=True):
            if wanted is not None and name not in wanted:
                values.append(math.nan)
                continue
            text = field.strip()
            try:
                values.append(float(text) if text else math.nan)
            except ValueError:
                raise FileProblem(
                    f"{path}: line {lineno}: column {name!r}: {text!r} is not a number"
                ) from None
        rows.append(values)
    if not rows:
        raise FileProblem(f"{path}: too short: no data rows")
    return np.asarray(rows, dtype=np.float64)


def _column(path: Path, names: list[str], table: np.ndarray, name: str) -> np.ndarray:
    if name not in names:
        raise FileProblem(f"{path}: missing column {name!r} (columns: {', '.join(names)})")
    return table[:, names.index(name)]


def _rate_from_times(path: Path, t: np.ndarray, column: str) -> tuple[float, bool]:
    """Sampling rate from a time column, and whether the times are regular."""
    if t.size < 2:
        raise FileProblem(f"{path}: too short: {t.size} sample")
    if not np.isfinite(t).all():
        row = int(np.flatnonzero(~np.isfinite(t))[0])
        raise FileProblem(f"{path}: column {column!r}: missing time at data row {row + 1}")
    dt = np.diff(t)
    if (dt <= 0).any():
        row = int(np.flatnonzero(dt <= 0)[0]) + 2
        raise FileProblem(f"{path}: column {column!r}: time does not increase at data row {row}")
    step = float(np.median(dt))
    rate = float(f"{1.0 / step:.6g}")  # 100.00000000000213 -> 100.0
    return rate, bool(np.all(np.abs(dt - step) <= 0.01 * step))


def _check_length(path: Path, n: int, fs: float, seconds: float, what: str) -> None:
    needed = max(8, math.ceil(seconds * fs))
    if n < needed:
        raise FileProblem(
            f"{path}: too short: {n} samples ({n / fs:.2f} s at {fs:g} Hz); "
            f"{what} need at least {needed} ({seconds:g} s)"
        )


def _bds(path: Path, lines: list[str], fs: float | None) -> tuple[dict[str, float], float, int]:
    names = _split_header(path, lines[0], "\t")
    table = _table(path, lines, "\t", names, 1)
    ml = _column(path, names, table, "COPx[cm]")
    ap = _column(path, names, table, "COPy[cm]")
    if fs is None:
        fs, _ = _rate_from_times(path, _column(path, names, table, "Time[s]"), "Time[s]")
    for name, values in (("COPx[cm]", ml), ("COPy[cm]", ap)):
        if not np.isfinite(values).all():
            row = int(np.flatnonzero(~np.isfinite(values))[0]) + 2
            raise FileProblem(f"{path}: line {row}: column {name!r} is empty")
    _check_length(path, ml.size, fs, MIN_SWAY_SECONDS, "sway metrics")
    return dict(sway_metrics(ml, ap, fs=fs).as_dict()), fs, ml.size


def _quijoux(path: Path, lines: list[str], fs: float | None) -> tuple[dict[str, float], float, int]:
    if "\t" in lines[0] or ";" in lines[0]:
        raise FileProblem(f"{path}: line 1: expected 2 comma-separated columns (ML, AP)")
    table = _table(path, lines, ",", ["ML", "AP"], 0)
    if not np.isfinite(table).all():
        row = int(np.flatnonzero(~np.isfinite(table).all(axis=1))[0]) + 1
        raise FileProblem(f"{path}: line {row}: empty value")
    fs = QUIJOUX_FS if fs is None else fs
    _check_length(path, table.shape[0], fs, MIN_QUIJOUX_SECONDS, "the Quijoux descriptors")
    return quijoux_descriptors(table[:, 0], table[:, 1], fs=fs), fs, table.shape[0]


def _csv(path: Path, lines: list[str], fs: float | None) -> tuple[dict[str, float], float, int]:
    names = _split_header(path, lines[0], ",")
    cop = ("ml", "ap") if "ml" in names or "ap" in names else ("fl", "fr", "bl", "br")
    table = _table(path, lines, ",", names, 1, frozenset((*cop, "t")))
    if "ml" in names or "ap" in names:
        ml = _column(path, names, table, "ml")
        ap = _column(path, names, table, "ap")
    elif {"fl", "fr", "bl", "br"} & set(names):
        cells = [_column(path, names, table, c) for c in ("fl", "fr", "bl", "br")]
        ml, ap, _ = cop_from_loads(*cells)
    else:
        raise FileProblem(
            f"{path}: missing columns: need 'ml' and 'ap' (cm) or 'fl', 'fr', 'bl', 'br' (kg)"
            f" (columns: {', '.join(names)})"
        )
    if "t" in names:
        t = _column(path, names, table, "t")
        rate, regular = _rate_from_times(path, t, "t")
        if fs is None:
            fs = rate
        if not regular or abs(rate - fs) > 1e-6 * fs:
            log.info("resampling %s from irregular/%.3g Hz times to %.3g Hz", path, rate, fs)
            _, xy = resample_uniform(t, np.column_stack([ml, ap]), fs=fs, method="linear")
            ml, ap = xy[:, 0], xy[:, 1]
    elif fs is None:
        raise FileProblem(f"{path}: no time column 't'; give the sampling rate with --fs")
    n_valid = int(np.count_nonzero(np.isfinite(ml) & np.isfinite(ap)))
    _check_length(path, n_valid, fs, MIN_SWAY_SECONDS, "sway metrics (valid samples)")
    metrics: dict[str, float] = dict(sway_metrics(ml, ap, fs=fs).as_dict())
    metrics["valid_fraction"] = n_valid / ml.size
    return metrics, fs, ml.size


_READERS = {"bds": _bds, "quijoux": _quijoux, "csv": _csv}


# ----------------------------------------------------------------------------- output


def _jsonable(value: float) -> float | int | None:
    if isinstance(value, int | np.integer):
        return int(value)
    return None if not math.isfinite(value) else float(value)


def _print_text(path: Path, fmt: str, fs: float, n: int, metrics: dict[str, float]) -> None:
    print(f"{path}: {fmt}, {n} samples at {fs:g} Hz")
    width = max(len(name) for name in metrics)
    for name, value in metrics.items():
        unit = _UNITS.get(name, "")
        shown = f"{value:.6g}" if isinstance(value, float) else str(value)
        print(f"  {name:<{width}}  {shown} {unit}".rstrip())


def run(args: argparse.Namespace) -> int:
    """Compute and print the metrics of ``args.file``; return the exit status."""
    path: Path = Path(args.file)
    try:
        if args.fs is not None and not (math.isfinite(args.fs) and args.fs > 0):
            raise FileProblem(f"--fs must be a positive number of Hz, got {args.fs:g}")
        lines = _read_lines(path)
        fmt = args.format or _guess_format(lines)
        metrics, fs, n = _READERS[fmt](path, lines, args.fs)
    except FileProblem as exc:
        print(f"dmi-live metrics: error: {exc}", file=sys.stderr)
        return 2
    except AnalysisError as exc:
        print(f"dmi-live metrics: error: {path}: {exc}", file=sys.stderr)
        return 2
    if args.json:
        payload: dict[str, object] = {"file": str(path), "format": fmt, "fs_hz": fs, "n": n}
        payload.update({name: _jsonable(value) for name, value in metrics.items()})
        print(json.dumps(payload, indent=2, allow_nan=False))
    else:
        _print_text(path, fmt, fs, n, metrics)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry point (``python -m dmi_live.metrics_cli FILE``)."""
    parser = argparse.ArgumentParser(prog="dmi-live metrics")
    configure(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
