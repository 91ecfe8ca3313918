"""``dmi-live kiosk-link ROOM``: print the link that signs a wall screen in for one room.

    dmi-live kiosk-link room-1 --base-url https://dmi.clinic.example

The link is signed with the site's secret key (``DATA/secret_key``) and works for that
room only; it does not expire. Changing the secret key switches every wall link off
(and signs everyone out). The admin page shows the same link.
"""

from __future__ import annotations

import argparse
import sys

from dashboard.admin_actions import ROOM, kiosk_url
from dmi_live.errors import UsageError
from dmi_live.settings import Settings


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("room", help="the room's id, as in the settings (e.g. room-1)")
    parser.add_argument("--base-url", help="the dashboard's address as the wall screen reaches "
                        "it (default http://HOST:PORT from the settings)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    room = args.room
    if not ROOM.match(room):
        raise UsageError(f"room {room!r} must be lowercase letters, digits, '-' or '_'")
    if room not in settings.rooms:
        print(f"note: {room!r} is not in the settings' rooms ({', '.join(settings.rooms)}); "
              "the link works, but the room has no ingest account", file=sys.stderr)
    secret = settings.with_secret_key().secret_key
    base = args.base_url or f"http://{settings.http_host}:{settings.http_port}"
    print(kiosk_url(secret, room, base))
    return 0
