"""``dmi-live family-link``: create, list and revoke links that show one child to a family.

    dmi-live family-link c-0417 --expires 30d     # prints the link (shown once, never stored)
    dmi-live family-link --list [c-0417]
    dmi-live family-link --revoke 3
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from typing import Any

from dashboard.family_links import new_token, parse_duration
from dmi_live.cli_actor import cli_actor
from dmi_live.errors import UsageError
from dmi_live.settings import Settings


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("child", nargs="?",
                        help="the child's name or pseudonymous id (e.g. Ben or c-0522)")
    parser.add_argument("--expires", type=_duration, default=30 * 86400, metavar="DURATION",
                        help="how long the link works: 12h, 30d, 2w (default 30d)")
    parser.add_argument("--base-url", help="the dashboard's address as families reach it "
                        "(default http://HOST:PORT from the settings)")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--list", action="store_true", help="list links (of CHILD, if given)")
    action.add_argument("--revoke", type=int, metavar="ID", help="switch a link off now")


def _when(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M UTC")


def resolve_child(store: Any, given: str) -> str:
    """The pseudonym of the child called ``given`` (a pseudonym or a display name, any case);
    unknown or ambiguous names are an error that lists the children."""
    children = store.children()
    by_id = [c for c in children if c.pseudonym == given]
    if by_id:
        return str(by_id[0].pseudonym)
    wanted = given.casefold().strip()
    named = [c for c in children if (c.display_name or "").casefold().strip() == wanted]
    if len(named) == 1:
        return str(named[0].pseudonym)
    listing = ", ".join(f"{c.display_name} ({c.pseudonym})" for c in children) or "none yet"
    if named:
        raise UsageError(f"{len(named)} children are called {given!r}: name one by its id; "
                         f"children: {listing}")
    raise UsageError(f"no child {given!r} (by name or id); children: {listing}")


def run(args: argparse.Namespace, settings: Settings, store: Any) -> int:
    from store.errors import StoreError

    try:
        if args.revoke is not None:
            link = store.revoke_family_link(args.revoke)
            store.audit(cli_actor(), "revoke family link", link.child, f"link {link.id}")
            print(f"revoked link {link.id} of {link.child}")
            return 0
        if args.list:
            now = time.time()
            child = resolve_child(store, args.child) if args.child else None
            for link in store.family_links(child):
                state = ("revoked" if link.revoked else
                         "active" if link.is_valid(now) else "expired")
                print(f"{link.id:>4}  {link.child:<12} {state:<8} until {_when(link.expires)}")
            return 0
        if not args.child:
            raise UsageError("name the child (name or pseudonymous id), or use --list / --revoke")
        child = resolve_child(store, args.child)
        secret = settings.with_secret_key().secret_key
        token, digest = new_token(secret)
        expires = time.time() + args.expires
        actor = cli_actor()
        link = store.add_family_link(child, digest, expires, actor)
        store.audit(actor, "create family link", child,
                    f"link {link.id}, until {_when(expires)}")
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    base = (args.base_url or f"http://{settings.http_host}:{settings.http_port}").rstrip("/")
    print(f"{base}/family/link/{token}")
    print(f"works until {_when(expires)}; only its hash is stored, so keep this copy safe")
    return 0
