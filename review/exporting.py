"""Session exports: a zip bundle of CSV or Parquet tables, and reading one back.

A bundle holds::

    manifest.json          format version, the session (ids, times), devices, members
    sets.csv|parquet       one row per set           (times: epoch seconds, host clock)
    reps.csv|parquet       every rep, revoked ones too (revoked_by = the correcting event)
    annotations.csv|...    tags and notes
    gaps.csv|...           recorded gaps of the session's devices
    samples/DEVICE.csv|... t, t_dev, boot, seq and the device's own columns

Values are written so that they read back exactly (CSV floats in shortest round-trip
form; empty text and missing text are the same); :func:`read_bundle` returns the same
tables :func:`bundle_from_store` built. Samples stream through in time chunks, so a
45-minute session never sits in memory whole, and ``progress(done, total, what)`` is
called as rows are written. The PDF report is :mod:`review.report_pdf`.

CSV text cells a spreadsheet would take for a formula (starting with ``= + - @``, a tab
or a carriage return; OWASP "CSV injection") are written with a leading ``'``, and so is
text that starts with ``'`` itself, so that reading strips exactly one. Numeric columns
are never touched (a negative number stays a number); Parquet keeps the text as typed.
"""

from __future__ import annotations

import functools
import io
import json
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from review.people import author_names, name_of
from store import Store
from store import replay as store_replay

FORMATS = ("csv", "parquet", "pdf")
BUNDLE_VERSION = 1
CHUNK_S = 120.0
END_SLACK_S = 1e-3
Progress = Callable[[int, int, str], None]

SCHEMAS: dict[str, dict[str, str]] = {
    "sets": {"id": "str", "exercise": "str", "surface": "str", "support": "str",
             "planned_reps": "int64", "start": "float64", "end": "float64", "quality": "str"},
    "reps": {"id": "int64", "event_id": "str", "set": "str", "t": "float64", "source": "str",
             "confidence": "float64", "peak": "float64", "revoked_by": "str"},
    "annotations": {"id": "str", "set": "str", "t": "float64", "author": "str", "tag": "str",
                    "text": "str", "family_visible": "bool"},
    "gaps": {"id": "int64", "device": "str", "boot": "str", "t_from": "float64",
             "t_to": "float64", "reason": "str"},
}
SAMPLE_KEYS = {"t": "float64", "t_dev": "float64", "boot": "str", "seq": "int64"}
UNITS: dict[str, str] = {
    "t": "s (Unix time, host clock)", "t_dev": "s (device clock)", "boot": "id (device boot)",
    "seq": "count (sample number in its boot)",
    **dict.fromkeys(("fl", "fr", "bl", "br"), "kg (load cell: front/back, left/right)"),
    **dict.fromkeys(("ax", "ay", "az"), "g"), **dict.fromkeys(("gx", "gy", "gz"), "deg/s"),
    **dict.fromkeys(("mx", "my", "mz"), "µT"),
    "start": "s (Unix time)", "end": "s (Unix time)", "t_from": "s (Unix time)",
    "t_to": "s (Unix time)", "planned_reps": "count", "confidence": "0–1",
}
"""The unit of each column of the exported tables (in the manifest's ``units``)."""
CSV_GUARD = "'"
CSV_EOL = "\r\n"  # RFC 4180; and a text cell holding a lone \r gets quoted too
_RISKY_START = r"^[=+\-@\t\r']"  # what a spreadsheet runs, and the guard itself


class ExportError(Exception):
    """A bundle cannot be written or read; the message says what and where."""


@dataclass(frozen=True)
class SampleSource:
    """One device's samples, produced in chunks when the bundle is written."""

    device: str
    kind: str
    placement: str
    rows: int
    chunks: Callable[[], Iterable[pd.DataFrame]]


@dataclass(frozen=True)
class ExportBundle:
    manifest: dict[str, Any]
    tables: dict[str, pd.DataFrame]
    samples: tuple[SampleSource, ...] = ()


@dataclass
class LoadedBundle:
    manifest: dict[str, Any]
    tables: dict[str, pd.DataFrame]
    samples: dict[str, pd.DataFrame] = field(default_factory=dict)


def typed(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the bundle's column types for table ``name``; missing or empty
    text is NaN, as CSV cannot tell the two apart."""
    schema = SCHEMAS[name]
    out = pd.DataFrame({c: frame[c] if c in frame else pd.Series([], dtype=object)
                        for c in schema})
    for column, dtype in schema.items():
        values = out[column]
        if dtype == "str":  # empty text and no text are the same: missing
            out[column] = values.map(lambda v: v if isinstance(v, str) and v else None
                                     ).astype("str")
        elif dtype == "bool":
            out[column] = values.map(lambda v: str(v).lower() in ("true", "1")).astype(bool)
        else:
            out[column] = pd.to_numeric(values).astype(dtype)
    return out.reset_index(drop=True)


def _text_columns(frame: pd.DataFrame, schema: Mapping[str, str]) -> list[str]:
    return [c for c, dtype in schema.items() if dtype == "str" and c in frame]


def csv_safe(frame: pd.DataFrame, schema: Mapping[str, str]) -> pd.DataFrame:
    """``frame`` with its text columns guarded for spreadsheets (see the module docstring).

    >>> csv_safe(pd.DataFrame({"text": ["=1+1", "fine", "'x"], "t": [-1.0, 2.0, 3.0]}),
    ...          {"text": "str", "t": "float64"}).values.tolist()
    [["'=1+1", -1.0], ['fine', 2.0], ["''x", 3.0]]
    """
    columns = _text_columns(frame, schema)
    if not columns:
        return frame
    out = frame.copy()
    for column in columns:
        text = out[column].astype("str")
        risky = text.str.contains(_RISKY_START, regex=True, na=False)
        if risky.any():
            out[column] = text.where(~risky, CSV_GUARD + text)
    return out


def _csv_unguard(frame: pd.DataFrame, schema: Mapping[str, str]) -> pd.DataFrame:
    """Undo :func:`csv_safe` (one leading quote before a risky start)."""
    for column in _text_columns(frame, schema):
        text = frame[column].astype("str")
        guarded = text.str.contains(CSV_GUARD + _RISKY_START[1:], regex=True, na=False)
        if guarded.any():
            frame[column] = text.where(~guarded, text.str.slice(1))
    return frame


def typed_samples(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        dtype = SAMPLE_KEYS.get(column, "float64")
        out[column] = out[column].astype(dtype)
    return out.reset_index(drop=True)


def bundle_from_store(store: Store, session_id: str, *, chunk_s: float = CHUNK_S) -> ExportBundle:
    """Everything recorded about a session (``store.errors.UnknownSession`` if none)."""
    session = store.session(session_id)
    end = session.end if session.end is not None else time.time()
    end += END_SLACK_S  # a sample exactly at the end belongs to the session
    place = (session.site, session.room)
    devices = store_replay.room_devices(store, *place, session.start, end)
    tables = {
        "sets": typed("sets", pd.DataFrame([asdict(s) for s in store.sets(session_id)],
                                           columns=[*SCHEMAS["sets"], "session"])),
        "reps": typed("reps", pd.DataFrame([asdict(r) for r in store.reps(session_id=session_id)],
                                           columns=list(SCHEMAS["reps"]))),
        "annotations": typed("annotations", pd.DataFrame(
            [asdict(a) for a in store.annotations(session_id)],
            columns=list(SCHEMAS["annotations"]))),
        "gaps": typed("gaps", pd.DataFrame(
            [asdict(g) for g in store.gaps(None, session.start, end, place=place)],
            columns=list(SCHEMAS["gaps"]))),
    }

    def source(device: str) -> Callable[[], Iterator[pd.DataFrame]]:
        return lambda: store_replay.iter_samples(store, device, session.start, end,
                                                 chunk_s=chunk_s, place=place)

    samples = tuple(
        SampleSource(d.device, d.kind, d.placement,
                     store_replay.count_between(store, d.device, session.start, end, place),
                     source(d.device))
        for d in devices
    )
    names = author_names(store)
    authors = {a for a in tables["annotations"]["author"].dropna() if a} | (
        {session.therapist} if session.therapist else set())
    manifest = {
        "format": "dmi-live-session", "version": BUNDLE_VERSION, "exported": time.time(),
        "session": {"id": session.id, "child": session.child, "site": session.site,
                    "room": session.room, "therapist": session.therapist,
                    "therapist_name": name_of(names, session.therapist),
                    "start": session.start, "end": session.end},
        # the annotations' ``author`` column keeps the ids; their names are here
        "authors": {a: name_of(names, a) for a in sorted(authors)},
        "units": UNITS,
        "devices": [{"device": s.device, "kind": s.kind, "placement": s.placement,
                     "rows": s.rows} for s in samples],
    }
    return ExportBundle(manifest, tables, samples)


def audit_export(store: Store, who: str, child: str, session_id: str, fmt: str) -> None:
    """The audit row every export writes, from the replay page and the command line."""
    store.audit(who, "export", child, f"{fmt} session {session_id}")


def default_name(session_id: str, fmt: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in session_id)
    return f"dmi-{safe}.pdf" if fmt == "pdf" else f"dmi-{safe}-{fmt}.zip"


def _write_table(zf: zipfile.ZipFile, name: str, frame: pd.DataFrame, fmt: str,
                 tmp: Path) -> str:
    member = f"{name}.{fmt}"
    if fmt == "csv":
        zf.writestr(member, csv_safe(frame, SCHEMAS[name]).to_csv(index=False,
                                                                  lineterminator=CSV_EOL))
    else:
        path = tmp / member.replace("/", "_")
        frame.to_parquet(path, index=False)
        zf.write(path, member, compress_type=zipfile.ZIP_STORED)
    return member


def _write_samples(zf: zipfile.ZipFile, source: SampleSource, fmt: str, tmp: Path,
                   tick: Callable[[int], None]) -> str:
    member = f"samples/{source.device}.{fmt}"
    if fmt == "csv":
        with zf.open(member, "w", force_zip64=True) as raw, \
                io.TextIOWrapper(raw, encoding="utf-8", newline="") as out:
            header = True
            for chunk in source.chunks():
                csv_safe(chunk, SAMPLE_KEYS).to_csv(out, header=header, index=False,
                                                    lineterminator=CSV_EOL)
                header = False
                tick(len(chunk))
            if header:  # no rows at all: still a header
                out.write(",".join(SAMPLE_KEYS) + CSV_EOL)
        return member
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp / f"samples_{source.device}.parquet"
    writer: pq.ParquetWriter | None = None
    try:
        for chunk in source.chunks():
            table = pa.Table.from_pandas(chunk, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema, compression="zstd")
            writer.write_table(table.cast(writer.schema))
            tick(len(chunk))
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        pd.DataFrame({k: pd.Series(dtype=v) for k, v in SAMPLE_KEYS.items()}).to_parquet(path)
    zf.write(path, member, compress_type=zipfile.ZIP_STORED)
    return member


def write_bundle(bundle: ExportBundle, path: Path, fmt: str,
                 progress: Progress | None = None) -> Path:
    """Write the bundle as a zip of ``fmt`` (csv or parquet) files to ``path``."""
    if fmt not in ("csv", "parquet"):
        raise ExportError(f"a bundle is csv or parquet, not {fmt!r}")
    total = sum(s.rows for s in bundle.samples)
    done = 0

    def tick(n: int, what: str) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(min(done, total), total, what)

    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    members: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix="dmi-export-") as tmp, \
                zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED,
                                compresslevel=1, allowZip64=True) as zf:
            for name, frame in bundle.tables.items():
                members.append(_write_table(zf, name, frame, fmt, Path(tmp)))
            for source in bundle.samples:
                members.append(_write_samples(zf, source, fmt, Path(tmp),
                                              functools.partial(tick, what=source.device)))
            manifest = {**bundle.manifest, "members": members, "table_format": fmt}
            if fmt == "csv":
                manifest["csv_text_guard"] = CSV_GUARD
            zf.writestr("manifest.json", json.dumps(manifest, indent=2))
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    tick(0, "done")
    return path


def _read_member(zf: zipfile.ZipFile, member: str, schema: Mapping[str, str],
                 guarded: bool) -> pd.DataFrame:
    with zf.open(member) as raw:
        if member.endswith(".parquet"):
            return pd.read_parquet(io.BytesIO(raw.read()))
        text = {c: "str" for c, d in schema.items() if d == "str"}
        frame = pd.read_csv(raw, keep_default_na=False, na_values=[""], dtype=text)
        return _csv_unguard(frame, schema) if guarded else frame


def read_bundle(path: Path) -> LoadedBundle:
    """Read a bundle written by :func:`write_bundle` (the same tables, the same samples)."""
    try:
        with zipfile.ZipFile(path) as zf:
            manifest = json.loads(zf.read("manifest.json"))
            if manifest.get("format") != "dmi-live-session":
                raise ExportError(f"{path}: not a DMI Live session bundle")
            loaded = LoadedBundle(manifest, {})
            guarded = manifest.get("csv_text_guard") == CSV_GUARD  # bundles before: raw
            for member in manifest["members"]:
                name = member.rsplit(".", 1)[0]
                frame = _read_member(zf, member, SCHEMAS.get(name, SAMPLE_KEYS), guarded)
                if name.startswith("samples/"):
                    loaded.samples[name.split("/", 1)[1]] = typed_samples(frame)
                else:
                    loaded.tables[name] = typed(name, frame)
            return loaded
    except (OSError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ExportError(f"{path}: cannot read the bundle ({exc})") from exc


def sample_frames(bundle: ExportBundle) -> Mapping[str, pd.DataFrame]:
    """Every device's samples in memory (for tests and small sessions)."""
    return {s.device: typed_samples(pd.concat(list(s.chunks()), ignore_index=True))
            if s.rows else pd.DataFrame() for s in bundle.samples}
