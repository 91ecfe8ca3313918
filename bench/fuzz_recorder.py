"""Junk against a recording room: does the good stream keep flowing, every second?

A real Mosquitto (generated config, passwords, ACL, 1 MiB packet limit) on a free
loopback port, the real recorder with the session engine (``dmi_live.services.
start_recorder``) on a SQLite store in a temp folder, and the simulated room-1 (board
and trunk IMU at 100 Hz) streaming in real time through the real ingest (IngestService,
Spool, Forwarder). After ``--before`` seconds, the room's own ingest account publishes
``--messages`` malformed and edge-case messages (``bench/_junk.py``, seed ``--seed``) on
its room's samples and status topics over ``--duration`` seconds, plus payloads past
the broker's packet limit and wildcard topics on throw-away connections (refused); then
``--after`` seconds more.

Printed: what was sent and refused, what the recorder quarantined, crashes (a dead
recorder writer, recorder network thread or engine, or anything logged at ERROR), the
good samples stored in every second before, during and after, the quarantine at the
end, the log lines written, and the good stream's books: every (device, boot, seq) the
ingest handed to its forwarder against the store (lost, duplicates). The last line is
``key=value``.

    .venv/bin/python bench/fuzz_recorder.py                    # 20,000 messages
    .venv/bin/python bench/fuzz_recorder.py --messages 50000
    .venv/bin/python bench/fuzz_recorder.py --quick            # the CI test's short run
"""

from __future__ import annotations

import argparse
import logging
import resource
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from bench._fuzzer import ROOM, SITE, Fuzzer, Sent, send_refused  # noqa: E402
from bench._junk import junk_messages, refused_messages  # noqa: E402
from bench._ledger import (  # noqa: E402
    Ledger,
    LogCounter,
    SubmitTap,
    compare,
    stored_rows,
    wait_until,
)
from dmi_live import services  # noqa: E402
from dmi_live.broker import free_port  # noqa: E402
from dmi_live.settings import BrokerSettings, Settings  # noqa: E402
from ingest.devices.simulator import SimulatedRoom  # noqa: E402
from ingest.forwarder import Forwarder  # noqa: E402
from ingest.service import BatchPolicy, IngestService  # noqa: E402
from ingest.spool import Spool  # noqa: E402
from store import open_store  # noqa: E402
from store.tables import QUARANTINE_PAYLOAD, QUARANTINE_ROWS  # noqa: E402

PLACE = (SITE, ROOM)
log = logging.getLogger("bench.fuzz")


# ----------------------------------------------------------------------------- measuring


@dataclass
class Tick:
    t: float
    phase: str
    good: int  # good samples stored so far
    rejected: int  # the recorder's rejects so far


class Sampler(threading.Thread):
    """Once a second: how many of the good stream's samples the store holds."""

    def __init__(self, store: Any, ledger: Ledger, recorder: Any, since: float) -> None:
        super().__init__(name="bench-sampler", daemon=True)
        self.store, self.ledger, self.recorder, self.since = store, ledger, recorder, since
        self.phase = "before"
        self.ticks: list[Tick] = []
        self._halt = threading.Event()

    def count(self) -> int:
        n = 0
        for device in self.ledger.devices():
            frame = stored_rows(self.store, device, PLACE, self.since)
            n += int(frame["boot"].isin(self.ledger.boots(device)).sum())
        return n

    def run(self) -> None:
        start = time.monotonic()
        k = 0
        while not self._halt.is_set():
            self.ticks.append(Tick(time.monotonic(), self.phase, self.count(),
                                   self.recorder.stats.rejected))
            k += 1
            self._halt.wait(max(0.0, start + k - time.monotonic()))

    def stop(self) -> None:
        self._halt.set()
        self.join(5)

    def series(self) -> list[tuple[str, float]]:
        """(phase, good samples per second) for every second."""
        return [(b.phase, (b.good - a.good) / (b.t - a.t))
                for a, b in zip(self.ticks, self.ticks[1:], strict=False)]


def dead_parts(handle: services.RecorderHandle) -> list[str]:
    alive = {t.name for t in threading.enumerate() if t.is_alive()}
    dead = []
    if "recorder-writer" not in alive:
        dead.append("recorder writer thread")
    if not any(name.startswith("paho-mqtt-client-recorder-") for name in alive):
        dead.append("recorder network (paho) thread")
    if handle.engine is not None and "engine-mqtt" not in alive:
        dead.append("engine thread")
    if not handle.recorder.connected.is_set():
        dead.append("recorder not connected")
    if handle.engine is not None and not handle.engine.ready.is_set():
        dead.append("engine not connected")
    return dead


# ----------------------------------------------------------------------------- the run


@dataclass
class Result:
    sent: Sent
    series: list[tuple[str, float]]
    rejected: int
    engine_rejected: int
    engine_failed: int
    quarantine: tuple[int, int]
    dead: list[str]
    lost: int
    duplicates: int
    foreign: int
    good_sent: int
    log_lines: int
    log_lines_total: int
    drain_s: float
    examples: list[str]


def run(data_dir: Path, args: argparse.Namespace, logs: LogCounter) -> Result:
    settings = Settings(site=SITE, rooms=(ROOM,), data_dir=data_dir,
                        broker=BrokerSettings(port=free_port()))
    broker, settings = services.start_broker(settings, fallback=False, pick_free_port=True)
    rec = ingest = None
    try:
        rec = services.start_recorder(settings, engine=not args.no_engine)
        if not rec.recorder.wait_connected(10) or (rec.engine and not rec.engine.wait_ready(10)):
            raise RuntimeError("the recorder or the engine did not connect")
        print(f"mosquitto on 127.0.0.1:{settings.broker.port}; recorder"
              f"{'' if args.no_engine else ' + engine'} on {settings.database_url}", flush=True)

        ledger = Ledger()
        spool = Spool(settings.data_dir / "spool" / f"{ROOM}.sqlite")
        forwarder = Forwarder(services.service_address(settings, "ingest", room=ROOM), spool,
                              site=SITE, room=ROOM, client_id=f"ingest-{SITE}-{ROOM}")
        forwarder.start()
        tap = SubmitTap(forwarder.submit, ledger)
        service = IngestService(SimulatedRoom(seed=1).sources(), tap, BatchPolicy(10, 0.1))
        service.start()
        ingest = services.IngestHandle(forwarder, service, spool)
        if not wait_until(lambda: len(ledger.devices()) == 2, 10):
            raise RuntimeError("the simulated room sent nothing")

        good = {d: sorted(ledger.boots(d))[0] for d in ledger.devices()}
        junk = junk_messages(args.messages, seed=args.seed, site=SITE, room=ROOM, good=good,
                             now=time.time())
        refused = refused_messages(seed=args.seed, site=SITE, room=ROOM,
                                   oversized=args.oversized)
        ingest_address = services.service_address(settings, "ingest", room=ROOM)
        fuzzer = Fuzzer(ingest_address, Sent())
        fuzzer.start()

        with open_store(settings.database_url) as store:
            sampler = Sampler(store, ledger, rec.recorder, since=time.time() - 60)
            sampler.start()
            time.sleep(args.before)

            sampler.phase = tap.phase = "during"
            logs_before = logs.total
            print(f"publishing {len(junk) + len(refused)} messages over {args.duration:.0f} s "
                  "as the room's ingest account", flush=True)
            big_out = Sent()  # its own counts: merged once both senders are done
            big = threading.Thread(target=send_refused, name="bench-refused",
                                   args=(ingest_address, refused, big_out), daemon=True)
            big.start()
            fuzzer.send(junk, args.duration)
            big.join(60)
            if not fuzzer.wait_acked(30):
                print(f"  {fuzzer.awaited - fuzzer.answered} publishes never acknowledged",
                      flush=True)
            fuzzer.stop()
            fuzzer.out.add(big_out)

            sampler.phase = tap.phase = "after"
            time.sleep(args.after)
            sampler.stop()
            dead = dead_parts(rec)

            service.stop()
            wait_until(lambda: len(spool) == 0, 10)
            forwarder.stop()
            spool.close()
            ingest = None
            drained = time.monotonic()
            wait_until(lambda: compare(ledger, store, PLACE).total_lost == 0, 30, every=0.5)
            drain_s = time.monotonic() - drained
            books = compare(ledger, store, PLACE)
            quarantine = store.quarantine_size()
        return Result(
            sent=fuzzer.out, series=sampler.series(), rejected=rec.recorder.stats.rejected,
            engine_rejected=rec.engine.stats.rejected if rec.engine else 0,
            engine_failed=rec.engine.stats.failed if rec.engine else 0,
            quarantine=quarantine, dead=dead, lost=books.total_lost,
            duplicates=books.total_duplicates, foreign=books.foreign,
            good_sent=ledger.samples(), log_lines=logs.total - logs_before,
            log_lines_total=logs.total, drain_s=drain_s, examples=books.examples)
    finally:
        if ingest is not None:
            ingest.stop()
        if rec is not None:
            rec.stop()
        broker.stop()


# ----------------------------------------------------------------------------- report


def report(r: Result, logs: LogCounter) -> None:
    print("\nsent by category: " + ", ".join(f"{k} {v}" for k, v in
                                            sorted(r.sent.by_category.items())))
    print(f"sent {r.sent.sent}: acknowledged by the broker {r.sent.acked}, refused "
          f"{r.sent.total_refused} ({', '.join(f'{k}: {v}' for k, v in r.sent.refused.items())})"
          f"; fuzzer connection drops {r.sent.disconnects}")
    print(f"recorder: rejected (quarantined) {r.rejected}; engine: rejected {r.engine_rejected}, "
          f"failed {r.engine_failed}")
    print(f"quarantine at the end: {r.quarantine[0]} rows, {r.quarantine[1]} bytes "
          f"(cap {QUARANTINE_ROWS} rows of at most {QUARANTINE_PAYLOAD} bytes)")
    crashes = len(r.dead) + len(logs.errors)
    print(f"crashes: {crashes}" + ("" if not crashes else ": " + "; ".join(
        r.dead + sorted(set(logs.errors))[:10])))
    for phase in ("before", "during", "after"):
        values = [v for p, v in r.series if p == phase]
        if values:
            print(f"good samples stored per second, {phase} (min {min(values):.0f}): "
                  + " ".join(f"{v:.0f}" for v in values))
    print(f"log lines: {r.log_lines} from the first junk message on, {r.log_lines_total} in "
          f"all ({', '.join(f'{k} {v}' for k, v in logs.by_level.most_common())}); loudest: "
          + ", ".join(f"{k} {v}" for k, v in logs.by_logger.most_common(4)))
    print(f"good stream: {r.good_sent} samples sent, lost {r.lost}, duplicates {r.duplicates} "
          f"(drained in {r.drain_s:.1f} s); junk rows stored under the good devices' names "
          f"and boots: {r.foreign}")
    for line in r.examples:
        print(f"  {line}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"bench process peak RSS {rss:.0f} MB")
    min_good = min((v for _, v in r.series), default=0.0)
    print(f"sent={r.sent.sent} refused={r.sent.total_refused} quarantined={r.rejected} "
          f"crashes={crashes} min_good_per_s={min_good:.0f} quarantine_count={r.quarantine[0]} "
          f"quarantine_bytes={r.quarantine[1]} log_lines={r.log_lines} lost={r.lost} "
          f"duplicates={r.duplicates}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000, help="junk messages (20000)")
    parser.add_argument("--duration", type=float, default=25.0, help="seconds to send them in")
    parser.add_argument("--before", type=float, default=10.0, help="seconds before the junk")
    parser.add_argument("--after", type=float, default=10.0, help="seconds after it")
    parser.add_argument("--oversized", type=int, default=10,
                        help="payloads past the broker's limit (10)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--no-engine", action="store_true", help="the recorder alone")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="run in DIR and keep it (store, logs) instead of a temp folder")
    parser.add_argument("--quick", action="store_true",
                        help="3,000 messages in 6 s, 2 s before and after (the CI test)")
    args = parser.parse_args(argv)
    if args.quick:
        args.messages, args.duration, args.before, args.after, args.oversized = 3000, 6, 2, 2, 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: "
                        "%(message)s", handlers=[logging.NullHandler()])
    logs = LogCounter()
    logging.getLogger().addHandler(logs)
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=False)
        result = run(args.keep.resolve() / "data", args, logs)
    else:
        with tempfile.TemporaryDirectory(prefix="dmi-fuzz-") as tmp:
            result = run(Path(tmp) / "data", args, logs)
    report(result, logs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
