"""``dmi-live export SESSION --format csv|parquet|pdf``: a recorded session to a file.

``csv`` and ``parquet`` write a zip bundle (see :mod:`review.exporting`): the samples of
every device of the session's room during the session, its sets, reps and annotations,
and the recorded gaps. ``pdf`` writes the session report (:mod:`review.report_pdf`).
A progress bar goes to stderr when it is a terminal (``--progress`` forces it).
Problems end in one line ``dmi-live export: error: …`` and exit status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from dmi_live.cli_actor import cli_actor
from dmi_live.errors import DmiError
from dmi_live.settings import Settings, load_settings
from review.exporting import (
    FORMATS,
    ExportError,
    audit_export,
    bundle_from_store,
    default_name,
    write_bundle,
)

if TYPE_CHECKING:
    from store import Store

PROG = "dmi-live export"


def add_store_options(parser: argparse.ArgumentParser) -> None:
    """``--config``/``--data-dir``/``--store-url``, unless the CLI added the first two."""
    for flags, kwargs in (
        (("--config",), {"type": Path, "metavar": "FILE",
                         "help": "settings file (TOML); DMI_* environment variables override it"}),
        (("--data-dir",), {"type": Path, "metavar": "DIR",
                           "help": "data folder holding the database (default: ./data)"}),
        (("--store-url",), {"metavar": "URL",
                            "help": "database URL or file (default: from the settings)"}),
    ):
        with contextlib.suppress(argparse.ArgumentError):  # the main CLI may have added it
            parser.add_argument(*flags, **kwargs)  # type: ignore[arg-type]


def settings_from(args: argparse.Namespace) -> Settings:
    settings = load_settings(getattr(args, "config", None))
    if getattr(args, "data_dir", None) is not None:
        settings = replace(settings, data_dir=args.data_dir)
    if getattr(args, "store_url", None):
        settings = replace(settings, store_url=args.store_url)
    return settings


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``export`` arguments to ``parser``."""
    parser.description = "Export a recorded session: samples and events, or a PDF report."
    parser.add_argument("session", metavar="SESSION", help="session id")
    parser.add_argument("--format", choices=FORMATS, default="csv",
                        help="csv or parquet (zip bundles) or pdf (report); default csv")
    parser.add_argument("-o", "--output", type=Path, metavar="PATH",
                        help="file to write (default dmi-SESSION-FORMAT.zip / dmi-SESSION.pdf "
                             "in the current folder; a folder: that name inside it)")
    progress = parser.add_mutually_exclusive_group()
    progress.add_argument("--progress", action="store_true", default=None,
                          help="always show the progress bar")
    progress.add_argument("--no-progress", dest="progress", action="store_false",
                          help="never show the progress bar")
    add_store_options(parser)


class Bar:
    """A one-line text progress bar, redrawn at most ten times a second."""

    def __init__(self, out: TextIO, label: str, width: int = 30) -> None:
        self.out, self.label, self.width = out, label, width
        self.last = 0.0
        self.shown = False

    def __call__(self, done: int, total: int, what: str) -> None:
        now = time.monotonic()
        if now - self.last < 0.1 and done < total:
            return
        self.last = now
        fraction = done / total if total else 1.0
        filled = int(self.width * fraction)
        self.out.write(f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] "
                       f"{fraction:4.0%} {what[:24]:<24}")
        self.out.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.out.write("\n")
            self.out.flush()


def _output(args: argparse.Namespace) -> Path:
    name = default_name(args.session, args.format)
    path: Path | None = args.output
    if path is None:
        return Path(name)
    if path.is_dir():
        return path / name
    if not path.parent.exists():
        raise ExportError(f"{path.parent}: no such folder")
    return path


def export_session(store: Store, session_id: str, fmt: str, path: Path,
                   progress: Callable[[int, int, str], None] | None,
                   who: str | None = None) -> Path:
    """Write one session in ``fmt`` to ``path`` (the work behind the command); the audit
    names ``who`` (default: the command line's user; ``store.errors.UnknownSession`` if
    there is no such session)."""
    audit_export(store, who or cli_actor(), store.session(session_id).child, session_id, fmt)
    if fmt == "pdf":
        from review.report_pdf import report_from_store, write_pdf

        if progress is not None:
            progress(0, 4, "analysing")
        return write_pdf(report_from_store(store, session_id), path, progress=progress)
    return write_bundle(bundle_from_store(store, session_id), path, fmt, progress=progress)


def run(args: argparse.Namespace) -> int:
    """Export ``args.session``; print where it went; return the exit status."""
    from dmi_live.cli_store import open_existing
    from store.errors import StoreError, UnknownSession

    bar: Bar | None = None
    try:
        path = _output(args)
        settings = settings_from(args)
        show = args.progress if args.progress is not None else sys.stderr.isatty()
        bar = Bar(sys.stderr, args.format.upper()) if show else None
        with open_existing(settings.database_url) as store:
            written = export_session(store, args.session, args.format, path, bar)
    except UnknownSession:
        _close(bar)
        print(f"{PROG}: error: no session {args.session!r} in the store", file=sys.stderr)
        return 2
    except (ExportError, StoreError, DmiError, OSError) as exc:
        _close(bar)
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    _close(bar)
    print(f"{written} ({written.stat().st_size / 1e6:.1f} MB)")
    return 0


def _close(bar: Bar | None) -> None:
    if bar is not None:
        bar.close()


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point (``python -m dmi_live.export_cli SESSION``)."""
    parser = argparse.ArgumentParser(prog=PROG)
    configure(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
