"""Faults against the real processes, one after another: is every sample stored once?

Mosquitto runs as a child process with its generated config (``dmi_live.broker``);
``dmi-live record`` (recorder and session engine) and ``dmi-live ingest --simulate``
(room-1: board and trunk IMU at 100 Hz, real time) run as subprocesses of one data
folder and settings file, so ``dmi-live status --config F --json`` works against them.
The faults, with recovery between them:

1. ``broker-kill``: Mosquitto SIGKILLed, restarted ``--down`` s later;
2. ``recorder-kill``: ``dmi-live record`` SIGKILLed, restarted later (status is read twice
   while it is down: the stored time stands still, the lag grows);
3. ``ingest-kill``: ``dmi-live ingest`` SIGKILLed, restarted (the spool it left is sent);
4. ``clock-step``: the simulator cannot step its host clock, so a crafted device
   (``imu-clock``, 100 Hz) is published through room-1's ingest account: its host time
   steps back 5 s mid-stream, then 50 samples go missing, then it restarts (new boot), and
   the old boot shows up again (a redelivered first batch, and a late batch after a hole,
   5 s further back: issue 13's wedge) — while the simulated room keeps streaming.

What the ingest published is read from its spool file while it runs (every batch it
spooled, per (device, boot, seq), with the fault it was spooled in; ``bench/_ledger.py``)
plus the crafted batches the broker acknowledged. At the end the ingest is stopped, the
recorder drains, and the books are compared with the store: lost and duplicates per
fault, target 0 and 0. ``dmi-live status --json`` is printed during faults and after.
The last line is ``key=value``.

    .venv/bin/python bench/faults.py
    .venv/bin/python bench/faults.py --quick     # the CI test's short run
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench._children import StatusProbe  # noqa: E402
from bench._clinic import FULL, PLACE, QUICK, ROOM, SITE, Clinic, Timing, clinic, wait_recovered  # noqa: E402,E501
from bench._ledger import (  # noqa: E402
    Books,
    compare,
    wait_until,
    wait_until_persisted,
)
from contract import SampleBatch, samples_topic  # noqa: E402
from dmi_live import services  # noqa: E402
from ingest.devices.base import IMU_COLUMNS  # noqa: E402
from ingest.mqtt import connect, make_client, reason_failed  # noqa: E402

FAULTS = ("broker-kill", "recorder-kill", "ingest-kill", "clock-step")
CLOCK_DEVICE = "imu-clock"
STEP_S = 5.0


# ----------------------------------------------------------------------------- faults


def fault_broker(c: Clinic, t: Timing) -> float | None:
    c.broker.kill()
    probe = c.probe("while the broker is down") if t.status_after else None
    time.sleep(t.down)
    c.broker.start()
    restarted = time.time()
    if probe:
        c.collect(probe)
    return wait_recovered(c, restarted)


def fault_recorder(c: Clinic, t: Timing) -> float | None:
    c.recorder.kill()
    first = c.probe("while the recorder is down (1)")
    time.sleep(1.5)
    second = c.probe("while the recorder is down (2)")
    docs = [c.collect(first), c.collect(second)]
    time.sleep(max(0.0, t.recorder_down - 1.5 - (time.time() - second.started)))
    c.recorder.start()
    restarted = time.time()
    stood_still = [max((d["last_stored_t"] or 0) for d in doc.get("devices", [])
                       if d["device"] in ("board-1", "imu-trunk")) for doc in docs]
    lags = [doc.get("recorder", {}).get("lag_s") for doc in docs]
    still = len(set(stood_still)) == 1 and stood_still[0] > 0
    grew = None not in lags and lags[1] > lags[0]
    c.checks["stored_t_stood_still"] = "yes" if still else "no"
    c.checks["lag_grew"] = "yes" if grew else "no"
    print(f"  while down: last_stored_t {'stood still' if still else 'MOVED'} "
          f"({stood_still[0]:.2f}); recorder lag {lags[0]} s → {lags[1]} s", flush=True)
    return wait_recovered(c, restarted)


def fault_ingest(c: Clinic, t: Timing) -> float | None:
    c.ingest.kill()
    probe = c.probe("while the ingest is down") if t.status_after else None
    time.sleep(t.down)
    c.ingest.start()
    restarted = time.time()
    if probe:
        c.collect(probe)
    return wait_recovered(c, restarted + 1.0)


def clock_stream(c: Clinic, seconds: float) -> tuple[int, int]:
    """Publish ``imu-clock``'s stream (see the module docstring) as room-1's ingest, at
    100 Hz in batches of 10; what the broker acknowledged goes into the ledger. Returns
    (batches acknowledged, batches refused)."""
    address = services.service_address(c.settings, "ingest", room=ROOM)
    client = make_client(address, client_id=f"bench-clock-{ROOM}")
    acked: dict[int, SampleBatch] = {}
    pending: dict[int, SampleBatch] = {}
    refused = [0]

    def on_publish(_c: Any, _u: Any, mid: int, reason: Any, _p: Any) -> None:
        batch = pending.pop(mid, None)
        if batch is not None and reason_failed(reason):
            refused[0] += 1
        elif batch is not None:
            acked[mid] = batch

    client.on_publish = on_publish
    connect(client, address)
    topic = samples_topic(SITE, ROOM, CLOCK_DEVICE)
    n = max(8, int(seconds * 10))
    start = time.time()

    def batch(boot: str, seq: int, t_host: float) -> SampleBatch:
        rows = tuple(tuple(0.01 * ((seq + i) % 100) for _ in IMU_COLUMNS) for i in range(10))
        return SampleBatch(device=CLOCK_DEVICE, kind="imu", boot=boot, seq=seq,
                           t_dev=seq * 0.01, period=0.01, t_host=t_host, columns=IMU_COLUMNS,
                           rows=rows)

    boot1, boot2 = f"clock-{int(start)}-a", f"clock-{int(start)}-b"
    stream: list[tuple[float, SampleBatch]] = []  # (when to send, batch)
    seq, boot = 0, boot1
    for k in range(n):
        due = start + 0.1 * k  # the host clock reads ``due - back`` then
        back = STEP_S if k >= n // 4 else 0.0
        if n // 2 <= k < n // 2 + 5:  # half a second of samples lost, on a stepped clock
            seq += 10
            continue
        if k == 3 * n // 4:  # the device restarts: a new boot, then boot 1 turns up again
            last1, seq, boot = seq - 10, 0, boot2
            stream.append((due, batch(boot2, 0, due - back)))
            stream.append((due, batch(boot1, 0, start)))  # its first batch, redelivered
            stream.append((due, batch(boot1, last1 + 100, due - back - STEP_S)))  # late
            seq = 10
            continue
        stream.append((due, batch(boot, seq, due - back)))
        seq += 10
    client.loop_start()
    try:
        for due, item in stream:
            time.sleep(max(0.0, due - time.time()))
            info = client.publish(topic, item.encode(), qos=1)
            pending[info.mid] = item
        wait_until(lambda: not pending, 10)
    finally:
        client.disconnect()
        client.loop_stop()
    for item in acked.values():
        c.ledger.add(item, "clock-step")
    return len(acked), refused[0]


def fault_clock(c: Clinic, t: Timing) -> float | None:
    started = time.time()
    result: list[tuple[int, int]] = []
    stream = threading.Thread(target=lambda: result.append(clock_stream(c, t.clock_s)),
                              name="clock-stream", daemon=True)
    stream.start()
    probe: StatusProbe | None = None
    if t.status_after:  # read once the host clock has stepped back and samples went missing
        time.sleep(0.6 * t.clock_s)
        probe = c.probe("during the clock step")
    stream.join(t.clock_s + 30)
    acked, refused = result[0] if result else (0, 0)
    print(f"  {CLOCK_DEVICE}: {acked} batches acknowledged by the broker, {refused} refused",
          flush=True)
    if probe:
        c.collect(probe)
    return wait_recovered(c, started)


# ----------------------------------------------------------------------------- the run


@dataclass
class Outcome:
    faults: tuple[str, ...]
    books: Books
    recovery: dict[str, float | None]
    crashes: list[str]
    drain_s: float | None
    final: dict[str, Any]
    left_in_spool: int
    checks: dict[str, str]


def run(folder: Path, t: Timing, faults: tuple[str, ...] = FAULTS) -> Outcome:
    recovery: dict[str, float | None] = {}
    with clinic(folder, t) as c:
        subscribed = time.time()
        if not wait_until(lambda: c.stored_since(subscribed - 60), 60, every=0.2):
            raise RuntimeError("nothing was stored: see " + str(folder / "logs"))
        print(f"mosquitto on 127.0.0.1:{c.settings.broker.port}, dmi-live record and ingest "
              f"running; data in {c.settings.data_dir}", flush=True)
        wait_until_persisted(c.broker.folder, subscribed)  # the recorder's session is saved
        time.sleep(t.steady)
        steps = {"broker-kill": fault_broker, "recorder-kill": fault_recorder,
                 "ingest-kill": fault_ingest, "clock-step": fault_clock}
        for name in faults:
            print(f"fault {name}", flush=True)
            c.watch.phase = name
            recovery[name] = steps[name](c, t)
            print(f"  recovered in {recovery[name]:.1f} s" if recovery[name] is not None
                  else "  NOT RECOVERED in 60 s", flush=True)
            if t.status_after:
                c.collect(c.probe(f"after {name}"))
            time.sleep(t.steady)

        c.watch.phase = "stop"
        code = c.ingest.stop()
        print(f"ingest stopped (exit {code}); waiting for the recorder to drain", flush=True)
        c.watch.poll()
        left = c.watch.unacknowledged()
        drain = c.caught_up(60)
        final = c.collect(c.probe("at the end"))
        books = compare(c.ledger, c.store, PLACE)
        crashes = [f"recorder exited {c.recorder.proc.returncode}"] if (
            c.recorder.proc is not None and not c.recorder.alive()) else []
        crashes += c.recorder.errors() + c.ingest.errors()
        if c.watch.unreadable:
            crashes.append(f"{c.watch.unreadable} spooled batches unreadable")
    return Outcome(faults, books, recovery, crashes, drain, final, left, dict(c.checks))


def report(o: Outcome) -> None:
    b = o.books
    print("\nper fault: samples sent (spooled by the ingest, or acknowledged for imu-clock), "
          "lost, duplicates, recovery")
    for phase in ("start", *o.faults, "stop"):
        rec = o.recovery.get(phase)
        when = "" if phase not in o.recovery else (
            f", recovered in {rec:.1f} s" if rec is not None else ", NOT RECOVERED")
        print(f"  {phase:14s} sent {b.sent[phase]:6d}  lost {b.lost[phase]}  duplicates "
              f"{b.duplicates[phase]}{when}")
    for line in b.examples:
        print(f"  {line}")
    print(f"left unsent in the ingest's spool at the end: {o.left_in_spool}; rows stored in "
          f"a sent (device, boot) that were never sent: {b.foreign}")
    print(f"drained in {'-' if o.drain_s is None else f'{o.drain_s:.1f} s'} after the ingest "
          "stopped")
    print(f"crashes: {len(o.crashes)}" + "".join(f"\n  {line}" for line in o.crashes[:10]))
    devices = {d["device"]: d for d in o.final.get("devices", [])
               if (d["site"], d["room"]) == PLACE}
    restarts = o.faults.count("ingest-kill")
    expected = {"board-1": restarts, "imu-trunk": restarts,
                CLOCK_DEVICE: 3 if "clock-step" in o.faults else 0}
    print("gaps (dmi-live status) against those a person would expect (one per ingest "
          "restart; imu-clock: its hole, its restart, the late batch's hole): " + ", ".join(
              f"{name} {devices[name]['gaps'] if name in devices else '-'} (expected {n})"
              for name, n in expected.items()))
    q = o.final.get("quarantine", {})
    recovered = [v for v in o.recovery.values() if v is not None]
    worst = max(recovered) if len(recovered) == len(o.recovery) else float("nan")
    fields = {
        "faults": len(o.faults),
        **{f"lost_{k.split('-')[0]}": b.lost[k] for k in o.faults},
        **{f"dup_{k.split('-')[0]}": b.duplicates[k] for k in o.faults},
        "sent": sum(b.sent.values()),
        "lost": b.total_lost,
        "duplicates": b.total_duplicates,
        "max_recovery_s": f"{worst:.1f}",
        "gaps": sum(d["gaps"] for d in devices.values()),
        "expected_gaps": sum(expected.values()),
        "quarantine_count": q.get("count"),
        **o.checks,
        "crashes": len(o.crashes),
    }
    print(" ".join(f"{k}={v}" for k, v in fields.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short waits (the CI test)")
    parser.add_argument("--faults", default=",".join(FAULTS),
                        help=f"which faults, in this order (default {','.join(FAULTS)})")
    parser.add_argument("--down", type=float, help="seconds the broker and ingest stay down")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="run in DIR and keep it (logs, store, spool) instead of a temp folder")
    args = parser.parse_args(argv)
    timing = QUICK if args.quick else FULL
    if args.down is not None:
        timing = replace(timing, down=args.down)
    faults = tuple(args.faults.split(","))
    unknown = set(faults) - set(FAULTS)
    if unknown:
        parser.error(f"unknown faults {sorted(unknown)}; choose from {', '.join(FAULTS)}")
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=False)
        outcome = run(args.keep.resolve(), timing, faults)
    else:
        with tempfile.TemporaryDirectory(prefix="dmi-faults-") as tmp:
            outcome = run(Path(tmp), timing, faults)
    report(outcome)
    return 0


if __name__ == "__main__":
    os.environ.pop("DMI_DATA_DIR", None)  # the settings file says where
    sys.exit(main())
