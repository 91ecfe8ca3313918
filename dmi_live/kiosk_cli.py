"""``dmi-live kiosk-link``: make, list and revoke the links that sign a wall screen in.

    dmi-live kiosk-link room-1 --days 90 --base-url https://dmi.clinic.example
    dmi-live kiosk-link --list [room-1]
    dmi-live kiosk-link --revoke 3f9a2c81d0

A link works for one room until it expires (180 days unless ``--days`` says otherwise)
or is revoked, here or on the admin page; a revoked link signs its screen out at the
screen's next request. The link is printed once; the store keeps its id, room and expiry.
Changing the secret key (``DATA/secret_key``) switches every link off.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from typing import Any

from dashboard import kiosk_links
from dashboard.admin_actions import ROOM
from dmi_live.cli_actor import cli_actor
from dmi_live.errors import UsageError
from dmi_live.settings import Settings


def _days(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= kiosk_links.MAX_DAYS:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a whole number of days from 1 to {kiosk_links.MAX_DAYS}")
    return int(text)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("room", nargs="?", help="the room's id, as in the settings (e.g. room-1)")
    parser.add_argument("--days", type=_days, default=kiosk_links.DEFAULT_DAYS, metavar="N",
                        help=f"how long the link works (default {kiosk_links.DEFAULT_DAYS})")
    parser.add_argument("--base-url", help="the dashboard's address as the wall screen reaches "
                        "it (default http://HOST:PORT from the settings)")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--list", action="store_true", help="list links (of ROOM, if given)")
    action.add_argument("--revoke", metavar="ID", help="switch a link off now")


def _when(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M UTC")


def run(args: argparse.Namespace, settings: Settings, store: Any = None) -> int:
    """Run the command on ``store`` (default: open the settings' store)."""
    if store is None:
        from dmi_live.cli_store import open_existing

        with open_existing(settings.database_url) as opened:
            return run(args, settings, opened)
    from store.errors import StoreError

    try:
        if args.revoke is not None:
            link = store.revoke_kiosk_link(args.revoke)
            store.audit(cli_actor(), "revoke kiosk link", None, f"link {link.id} for {link.room}")
            print(f"revoked wall-screen link {link.id} of {link.room}")
            return 0
        if args.list:
            now = time.time()
            for link in store.kiosk_links(args.room):
                print(f"{link.id:<12} {link.room:<12} {kiosk_links.state(link, now):<8} "
                      f"until {_when(link.expires)}  by {link.created_by}")
            return 0
        return _create(args, settings, store)
    except StoreError as exc:
        raise UsageError(str(exc)) from None


def _create(args: argparse.Namespace, settings: Settings, store: Any) -> int:
    room = args.room
    if not room:
        raise UsageError("name the room (e.g. room-1), or use --list / --revoke")
    if not ROOM.match(room):
        raise UsageError(f"room {room!r} must be lowercase letters, digits, '-' or '_'")
    if room not in settings.rooms:
        print(f"note: {room!r} is not in the settings' rooms ({', '.join(settings.rooms)}); "
              "the link works, but the room has no ingest account", file=sys.stderr)
    secret = settings.with_secret_key().secret_key
    actor = cli_actor()
    token, link = kiosk_links.create(store, secret, room, created_by=actor, now=time.time(),
                                     days=args.days)
    store.audit(actor, "create kiosk link", None,
                f"link {link.id} for {room}, until {_when(link.expires)}")
    base = args.base_url or f"http://{settings.http_host}:{settings.http_port}"
    print(kiosk_links.url(base, room, token))
    print(f"link {link.id} works until {_when(link.expires)}; "
          f"revoke it with: dmi-live kiosk-link --revoke {link.id}", file=sys.stderr)
    return 0
