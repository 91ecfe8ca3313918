"""``dmi-live ingest``: read a room's devices and publish them.

::

    dmi-live ingest --check room.toml     list the room file's problems with their lines
    dmi-live ingest --room room.toml      run the room file's devices until stopped
    dmi-live ingest --simulate            run the simulated room (--room-id, --seed, --speed)

``--check`` prints one line per problem (``room.toml:12: devices[1].baudrate: …``) and
exits 1 when there is an error; warnings (a device not plugged in right now) do not fail
it. With ``--room`` the file's ``site``, ``[broker]`` and ``[spool]`` override the
settings; the spool lives in ``DATA/spool/ROOM.sqlite``.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from dmi_live.settings import Settings

if TYPE_CHECKING:  # the parser is built on every dmi-live call: import the rest on use
    from ingest.room import RoomConfig

log = logging.getLogger(__name__)


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must not be negative")
    return value


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``ingest`` arguments to ``parser``."""
    parser.description = "Read a room's devices and publish their samples to the broker."
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--room", type=Path, metavar="FILE",
                      help="run the devices of this room file (see examples/room.toml)")
    mode.add_argument("--check", type=Path, metavar="FILE",
                      help="check a room file: list its problems and exit (1 if any error)")
    mode.add_argument("--simulate", action="store_true", help="run the simulated room")
    parser.add_argument("--room-id", default="room-1",
                        help="room id of the simulated room (default room-1)")
    parser.add_argument("--seed", type=int, default=1, help="simulator seed (default 1)")
    parser.add_argument("--speed", type=_speed, default=1.0,
                        help="simulation speed, 1 = real time (default 1)")


def run(args: argparse.Namespace, settings: Settings, *,
        stop: threading.Event | None = None) -> int:
    """Run the ``ingest`` command; ``stop`` (default: SIGINT/SIGTERM) ends a running one."""
    from ingest.room import check_room, load_room

    if args.check is not None:
        return check(args.check, settings)
    if args.room is not None:
        problems = check_room(args.room)
        if any(p.severity == "error" for p in problems):
            for problem in problems:
                print(problem.format(args.room), file=sys.stderr)
            print(f"dmi-live ingest: error: {args.room} has problems (listed above)",
                  file=sys.stderr)
            return 2
        room = load_room(args.room)
        for warning in room.warnings:
            log.warning("%s", warning.format(args.room))
        settings = room_settings(settings, room)
        sources = room.sources()
        room_id, spool_max, policy = room.room, room.spool_max_messages, room.batching
    else:
        from ingest.devices.simulator import SimulatedRoom

        sources = SimulatedRoom(seed=args.seed, speed=args.speed).sources()
        room_id, spool_max, policy = args.room_id, None, None
    from dmi_live.services import start_ingest

    handle = start_ingest(settings, room_id, sources, policy=policy,
                          spool_max_messages=spool_max)
    print(f"ingest for room {room_id} of site {settings.site}: {len(sources)} devices → "
          f"{settings.broker.host}:{settings.broker.port}", flush=True)
    try:
        (stop or _signalled()).wait()
    finally:
        handle.stop()
    return 0


def check(path: Path, settings: Settings | None = None) -> int:
    """``--check``: print the problems, or a summary when there is no error; with
    ``settings``, also warn where the file and the settings disagree."""
    from ingest.room import check_room, load_room, summary

    problems = check_room(path)
    for problem in problems:
        print(problem.format(path))
    errors = sum(p.severity == "error" for p in problems)
    if errors:
        warnings = len(problems) - errors
        more = f" and {warnings} warning{'s' * (warnings != 1)}" if warnings else ""
        print(f"{path}: {errors} error{'s' * (errors != 1)}{more}")
        return 1
    room = load_room(path)
    for warning in _disagreements(room, settings):
        print(f"{path}: warning: {warning}")
    print(f"{path}: OK — " + "\n".join(summary(room)))
    return 0


def _disagreements(room: RoomConfig, settings: Settings | None) -> list[str]:
    if settings is None:
        return []
    out = []
    if room.site != settings.site:
        out.append(f"site {room.site!r} differs from the settings' site {settings.site!r}: "
                   "recorders and dashboards started with these settings will not see it")
    rooms = getattr(settings, "rooms", None)
    if rooms and settings.broker.username is None and room.room not in rooms:
        out.append(f"room {room.room!r} is not in the settings' rooms {list(rooms)}: the "
                   "broker has no ingest account for it (add it, then restart the broker)")
    return out


def room_settings(settings: Settings, room: RoomConfig) -> Settings:
    """The settings with the room file's site and ``[broker]`` overrides applied."""
    if room.site != settings.site:
        log.warning("the room file says site %r, the settings %r: publishing as %r (recorders "
                    "and dashboards must use the same site)", room.site, settings.site, room.site)
    broker = replace(settings.broker, **room.broker.overrides())
    return replace(settings, site=room.site, broker=broker)


def _signalled() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop
