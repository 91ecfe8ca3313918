"""``dmi-live progress CHILD [--json]``: a child's intensive block, per exercise.

CHILD is the pseudonym (``c-0417``) or the display name (``Amara``). Prints the block
(day N of M), sessions held / planned / missed, and per exercise the reps and sets done
against planned, active minutes, the support point first → latest (and the target), the
response quality and the carry-over (``review/carryover.py`` has the definition).
``--json`` prints the same as one object::

    {"child": ..., "name": ..., "block": {...} or null, "sessions": N,
     "sessions_planned": N, "sessions_missed": N, "missed_days": [...],
     "shortened_sessions": [...], "active_min": x,
     "exercises": [{"exercise": ..., "sessions": n, "reps_done": n, "reps_prescribed": n,
                    "sets_done": n, "sets_planned": n, "support_first": ...,
                    "support_latest": ..., "support_target": ..., "quality": {...},
                    "measure": ..., "first": x, "latest": x, "carry_over": x or null,
                    "carry_over_next_day": x or null, "crosses_surface": bool, ...}],
     "goals": [...], "outcomes": [...]}
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from typing import Any


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = "A child's intensive block: dose, support and carry-over per exercise."
    parser.add_argument("child", metavar="CHILD", help="pseudonym (c-0417) or name (Amara)")
    parser.add_argument("--today", type=date.fromisoformat, metavar="YYYY-MM-DD",
                        help="count the block up to this day (default: today)")
    parser.add_argument("--json", action="store_true", help="one JSON object")


def run(args: argparse.Namespace, store: Any) -> int:
    from review.block import load_block

    progress = load_block(store, args.child, today=args.today)
    if args.json:
        print(json.dumps(progress.to_json(), ensure_ascii=False, indent=1))
        return 0
    data = progress.to_json()
    block = data["block"]
    head = f"{data['name'] or data['child']} ({data['child']})"
    if block:
        head += (f": block {block['start']} – {block['end']}, day {block['day']} of "
                 f"{block['days']}; sessions {data['sessions']} of {data['sessions_planned']}"
                 f" planned so far, {data['sessions_missed']} missed")
    else:
        head += f": no block planned; {data['sessions']} sessions"
    print(head)
    if data["shortened_sessions"]:
        print(f"  shortened sessions: {', '.join(data['shortened_sessions'])}")
    for e in data["exercises"]:
        carry = "—" if e["carry_over"] is None else f"{e['carry_over']:.2f}"
        night = "—" if e["carry_over_next_day"] is None else f"{e['carry_over_next_day']:.2f}"
        print(f"  {e['name']}: {e['sessions']} sessions, reps {e['reps_done']}/"
              f"{e['reps_prescribed']}, sets {e['sets_done']}/{e['sets_planned']}, "
              f"{e['active_min']} active min; support {e['support_first']} → "
              f"{e['support_latest']}" + (f" (aim {e['support_target']})"
                                           if e["support_target"] else "")
              + f"; {e['measure']} {e['first']} → {e['latest']}; carry-over next session "
              f"{carry}, next day {night}" + (" (across surfaces)" if e["crosses_surface"]
                                               else ""))
    for g in data["goals"]:
        print(f"  goal: {g['goal']} (GAS start {g['gas_start']}, middle {g['gas_middle']}, "
              f"end {g['gas_end']})")
    for o in data["outcomes"]:
        print(f"  {o['measure']}: {o['score']:g} on {o['taken']}")
    return 0
