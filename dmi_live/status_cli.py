"""``dmi-live status`` and ``dmi-live quarantine``: what the recording is doing, for the
clinic's administrator.

    dmi-live status [--data-dir D] [--json] [--listen S]
    dmi-live quarantine [--data-dir D] [--limit N] [--json]

``status`` reads the store: per device (site, room, device, kind) when its newest sample
was stored (``last_stored_t``, epoch seconds), its gaps, and the rejects that named it;
the quarantine's ``count`` and ``bytes``. Where the broker answers, it also listens for
``--listen`` seconds (default 1.5): every device's retained status, and the newest
samples on the wire — how far the store is behind them is the recorder's lag. It
changes nothing, so it is safe while the demo or the services run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from dmi_live.errors import UsageError
from dmi_live.settings import Settings

LISTEN_S = 1.5


def configure(status: argparse.ArgumentParser | None,
              quarantine: argparse.ArgumentParser | None) -> None:
    """Options of ``status`` and ``quarantine`` (either may be None: not being built)."""
    if status is not None:
        status.add_argument("--json", action="store_true", help="one JSON object")
        status.add_argument("--listen", type=float, default=LISTEN_S, metavar="S",
                            help=f"seconds to listen to the broker (default {LISTEN_S}; "
                            "0: don't)")
    if quarantine is None:
        return
    quarantine.add_argument("--limit", type=int, default=20, metavar="N",
                            help="the newest N rejects (default 20)")
    quarantine.add_argument("--json", action="store_true", help="one JSON object per line")


# ----------------------------------------------------------------------------- broker


@dataclass
class WireView:
    """What the broker showed in a short listen."""

    reachable: bool = False
    error: str = ""
    status: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    newest: dict[tuple[str, str, str], float] = field(default_factory=dict)
    kinds: dict[tuple[str, str, str], str] = field(default_factory=dict)


def broker_port(settings: Settings) -> int:
    """The port the broker of this data folder listens on: its generated config says
    (the demo may have picked a free one), else the settings."""
    conf = settings.data_dir / "broker" / "mosquitto.conf"
    if conf.exists():
        found = re.search(r"^listener (\d+)", conf.read_text(), re.MULTILINE)
        if found:
            return int(found.group(1))
    return settings.broker.port


def listen(settings: Settings, seconds: float) -> WireView:
    """Retained statuses and the newest sample times, as the dashboard account sees them."""
    from dataclasses import replace

    from contract import SchemaError, decode_batch, decode_status, parse_topic, subscription
    from dmi_live.services import service_address
    from ingest.mqtt import connect, make_client, safe_callback

    view = WireView()
    if seconds <= 0:
        view.error = "not asked"
        return view
    try:
        address = replace(service_address(settings, "dashboard"), port=broker_port(settings))
    except Exception as exc:
        view.error = str(exc)
        return view
    ready = threading.Event()
    lock = threading.Lock()

    def on_connect(client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if getattr(reason, "is_failure", False):
            view.error = f"refused: {reason}"
            return
        client.subscribe([(subscription(settings.site, "+", "status"), 0),
                          (subscription(settings.site, "+", "samples"), 0)])
        view.reachable = True
        ready.set()

    def on_message(client: Any, userdata: Any, msg: Any) -> None:
        try:
            topic = parse_topic(msg.topic)
            key = (topic.site, topic.room, str(topic.device))
            if topic.leaf == "status" and msg.payload:
                st = decode_status(msg.payload)
                with lock:
                    view.status[key] = {"state": st.state, "reason": st.reason, "t": st.t}
                    view.kinds[key] = st.kind
            elif topic.leaf == "samples":
                batch = decode_batch(msg.payload)
                last = batch.host_times()[-1]
                with lock:
                    view.newest[key] = max(view.newest.get(key, 0.0), last)
                    view.kinds.setdefault(key, batch.kind)
        except SchemaError:
            pass  # the recorder quarantines it; here it is just not news

    client = make_client(address, client_id=f"status-{settings.site}-{time.time_ns()}")
    client.on_connect = safe_callback(on_connect)
    client.on_message = safe_callback(on_message)
    try:
        connect(client, address)
    except OSError as exc:
        view.error = f"{address.host}:{address.port}: {exc}"
        return view
    client.loop_start()
    try:
        if ready.wait(min(seconds, 3.0)):
            time.sleep(seconds)
        elif not view.error:
            view.error = f"{address.host}:{address.port}: no answer"
    finally:
        client.disconnect()
        client.loop_stop()
    return view


# ----------------------------------------------------------------------------- report


def _rejects_by_device(rows: list[Any]) -> dict[tuple[str, str, str], int]:
    out: dict[tuple[str, str, str], int] = {}
    for row in rows:
        parts = row.topic.split("/")
        if len(parts) == 7 and parts[4] == "dev":
            key = (parts[2], parts[3], parts[5])
            out[key] = out.get(key, 0) + 1
    return out


def report(store: Any, wire: WireView, *, now: float) -> dict[str, Any]:
    """The status as one JSON-ready dict (keys as ``dmi-live status --json`` prints them)."""
    from store.rows import DeviceState
    from store.tables import QUARANTINE_ROWS

    count, size = store.quarantine_size()
    rejects = _rejects_by_device(store.quarantined(QUARANTINE_ROWS))
    devices = []
    lags = []
    not_stored = 0  # devices whose samples are on the wire but none in the store
    known = store.device_status()
    stored_keys = {(d.site or "", d.room or "", d.device) for d in known}
    # a device on the wire the store has never heard of: the recorder is not storing it
    known += [DeviceState(k[0], k[1], k[2], wire.kinds.get(k, "?"), None, None, 0, None)
              for k in sorted(set(wire.newest) | set(wire.status)) if k not in stored_keys]
    for d in known:
        key = (d.site or "", d.room or "", d.device)
        seen = wire.newest.get(key)
        lag = None
        if seen is not None:
            lag = max(0.0, seen - (d.last_stored_t or 0.0)) if d.last_stored_t else None
            if lag is not None:
                lags.append(lag)
            else:
                not_stored += 1
        devices.append({
            "site": d.site, "room": d.room, "device": d.device, "kind": d.kind,
            "last_stored_t": d.last_stored_t,
            "stored_ago_s": None if d.last_stored_t is None else round(now - d.last_stored_t, 3),
            "status": wire.status.get(key),
            "last_seen_t": seen,
            "lag_s": None if lag is None else round(lag, 3),
            "gaps": d.gaps,
            "last_gap": None if d.last_gap is None else asdict(d.last_gap),
            "rejects": rejects.get(key, 0),
        })
    return {
        "now": now,
        "store": store.describe(),
        "broker": {"reachable": wire.reachable, "error": wire.error},
        "recorder": {"lag_s": round(max(lags), 3) if lags else None,
                     "not_stored": not_stored},
        "devices": devices,
        "quarantine": {"count": count, "bytes": size},
    }


def _when(t: float | None) -> str:
    if t is None:
        return "never"
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def print_report(doc: dict[str, Any], out: Callable[[str], None] = print) -> None:
    out(f"store: {doc['store']}")
    broker = doc["broker"]
    out("broker: " + ("reachable" if broker["reachable"] else f"not read ({broker['error']})"))
    lag, not_stored = doc["recorder"]["lag_s"], doc["recorder"].get("not_stored", 0)
    if lag is not None:
        out(f"recorder lag: {lag:.2f} s behind the newest samples")
    elif not broker["reachable"]:
        out("recorder lag: unknown (the broker was not read)")
    elif not not_stored:
        out("recorder lag: unknown (no samples on the wire)")
    if not_stored:
        out(f"recorder: samples of {not_stored} device{'s' * (not_stored != 1)} are on the wire "
            "but none is stored (is dmi-live record running?)")
    if not doc["devices"]:
        out("devices: none yet")
    for d in doc["devices"]:
        place = f"{d['site'] or '?'}/{d['room'] or '?'}/{d['device']}"
        status = d["status"]
        state = "status unknown" if status is None else status["state"] + (
            f" ({status['reason']})" if status["reason"] else "")
        ago = "" if d["stored_ago_s"] is None else f" ({d['stored_ago_s']:.1f} s ago)"
        gap = d["last_gap"]
        gaps = f"{d['gaps']} gaps" + (f", last: {gap['reason']}" if gap else "")
        out(f"  {place} [{d['kind']}]: {state}; last stored {_when(d['last_stored_t'])}{ago}; "
            f"{gaps}; {d['rejects']} rejects")
    q = doc["quarantine"]
    out(f"quarantine: {q['count']} rejects kept, {q['bytes']} bytes "
        "(dmi-live quarantine shows them)")


# ----------------------------------------------------------------------------- commands


def open_existing(settings: Settings) -> Any:
    """The store of ``settings``; a missing SQLite file is an error (see cli_store)."""
    from dmi_live.cli_store import open_existing as open_url

    return open_url(settings.database_url)


def run_status(args: argparse.Namespace, settings: Settings) -> int:
    if args.listen < 0:
        raise UsageError("--listen must not be negative")
    with open_existing(settings) as store:
        wire = listen(settings, args.listen)
        doc = report(store, wire, now=time.time())
    with _reader_may_leave():
        if args.json:
            print(json.dumps(doc))
        else:
            print_report(doc)
    return 0


def run_quarantine(args: argparse.Namespace, settings: Settings) -> int:
    if args.limit < 1:
        raise UsageError("--limit must be at least 1")
    with open_existing(settings) as store:
        rows = store.quarantined(args.limit)
        count, size = store.quarantine_size()
    with _reader_may_leave():
        _print_rejects(rows, count, size, as_json=args.json)
    return 0


def _print_rejects(rows: list[Any], count: int, size: int, *, as_json: bool) -> None:
    if not as_json:
        print(f"{count} rejects kept ({size} bytes); the newest {len(rows)}:")
    for row in rows:
        text = row.payload.decode("utf-8", "replace")
        if as_json:
            print(json.dumps({"id": row.id, "t": row.t, "topic": row.topic, "reason": row.reason,
                              "size": row.size, "payload": text}))
        else:
            cut = f" (first {len(row.payload)} of {row.size} bytes)" if row.size > len(
                row.payload) else ""
            print(f"#{row.id} {_when(row.t)} {row.topic}\n    why: {row.reason}\n"
                  f"    payload{cut}: {text[:160]!r}", file=sys.stdout)


@contextlib.contextmanager
def _reader_may_leave() -> Iterator[None]:
    """``dmi-live quarantine | head``: when the reader stops reading, stop writing quietly
    (no BrokenPipeError traceback, now or when Python flushes stdout at exit)."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
