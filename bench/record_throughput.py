"""End-to-end recording throughput: publisher → Mosquitto → recorder → committed rows.

A publisher process sends ``--samples`` samples in batches of ``--rows`` rows at QoS 1
(three boards, round robin) as fast as the broker takes them: 25 rows (a stored batch as
the architecture intends it; what ``dmi-live demo`` and ``examples/room.toml`` send
since the live frames went to their own QoS 0 topic, which the recorder never subscribes
to) and 2 (what they sent before, a batch per 20 ms to keep the wall fresh: the "before"
of issue 15) by default. In the same run two subscribers receive them: the real
:class:`record.recorder.Recorder` (manual ack after commit) writing to the store, in its
own process as ``dmi-live record`` runs it, and a bare paho subscriber in its own
process that does nothing but count. Both rates are measured from the first publish: the
recorder's until the last row is committed, the bare subscriber's until its last
message. At the end the store is checked for zero loss (every (device, boot, seq) once)
and redeliveries.

    .venv/bin/python bench/record_throughput.py                   # SQLite
    .venv/bin/python bench/record_throughput.py --postgres        # SQLite, then PostgreSQL
    .venv/bin/python bench/record_throughput.py --rows 25 --runs 3  # one size, 3 runs

PostgreSQL runs in a throw-away schema of ``--postgres-url`` (default
``DMI_BENCH_POSTGRES_URL`` or postgresql+psycopg://postgres@127.0.0.1:5432/test).
Mosquitto is started privately (generated config, passwords, ACL) on a free port. Each
backend is run ``--runs`` times (a fresh database each) and the median run (by committed
rate) goes on the last line, ``key=value`` pairs; PostgreSQL adds the same keys prefixed
``pg_``, other batch sizes than 25 prefixed ``rows<N>_``. CPU time per sample of every
process (the recorder with all its threads, the bare subscriber, the publisher,
Mosquitto) is printed too. On a shared 2-core machine the speed drifts (the bare
subscriber's CPU per sample, the same code in every run, varied 2.5–4.8 µs here within
an hour), so to compare two recorder versions, interleave their runs and compare the
recorder's CPU per sample relative to the bare subscriber's in the same run (printed as
``recorder/bare``). ``--recorders 2``: a scale-out group.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing as mp
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contract import SampleBatch, samples_topic, subscription  # noqa: E402
from dmi_live.broker import Credentials, MosquittoBroker, free_port, ingest_account  # noqa: E402
from ingest.mqtt import BrokerAddress, connect, make_client  # noqa: E402
from record.recorder import Recorder  # noqa: E402
from store import open_store  # noqa: E402

SITE = "bench"
ROOM = "room-1"
DEVICES = ("board-1", "board-2", "board-3")
T0 = 1.7e9
STALL_S = 10.0
OUTSTANDING = 30_000  # publishes left unacknowledged at most (packet ids are 16 bits)


@dataclass(frozen=True)
class Result:
    rows: int  # per batch
    samples: int
    committed_per_s: float
    raw_per_s: float
    publish_per_s: float
    lost: int
    duplicates: int
    commits: int
    recorder_cpu_us: float  # recorder process CPU time (all threads) per sample
    bare_cpu_us: float  # bare subscriber process CPU time per sample
    publisher_cpu_us: float  # publisher process CPU time per sample
    broker_cpu_us: float  # Mosquitto's CPU time per sample
    shares: tuple[int, ...]  # batches each recorder stored

    @property
    def ratio(self) -> float:
        return self.committed_per_s / self.raw_per_s


def payloads(batches: int, rows_per_batch: int = 25) -> list[tuple[str, bytes]]:
    out = []
    for k in range(batches):
        device = DEVICES[k % len(DEVICES)]
        seq = (k // len(DEVICES)) * rows_per_batch
        rows = tuple(
            (round(10 + (seq + i) % 7 * 0.1, 3), 10.5, 9.75, round(10 - (seq + i) % 5 * 0.1, 3))
            for i in range(rows_per_batch)
        )
        batch = SampleBatch(device, "board", "boot-1", seq, seq * 0.01, 0.01, T0 + seq * 0.01,
                            ("fl", "fr", "bl", "br"), rows)
        out.append((samples_topic(SITE, ROOM, device), batch.encode()))
    return out


def address(port: int, creds: Credentials, service: str) -> BrokerAddress:
    user, password = creds.for_service(service)
    return BrokerAddress(port=port, username=user, password=password)


def publisher(addr: BrokerAddress, batches: int, rows: int, go: Any, pipe: Connection) -> None:
    """Publish every batch at QoS 1; report (first publish, last PUBACK) monotonic times
    and the CPU time in between."""
    items = payloads(batches, rows)
    acked = 0
    client = make_client(addr, client_id="bench-publisher")

    def on_publish(*_: Any) -> None:
        nonlocal acked
        acked += 1

    client.on_publish = on_publish
    connect(client, addr)
    client.loop_start()
    go.wait()
    start, cpu0 = time.monotonic(), time.process_time()
    for sent, (topic, payload) in enumerate(items):
        # an MQTT packet id is 16 bits: more than 65,535 unacknowledged publishes reuse
        # ids still waiting, and paho loses track of their PUBACKs
        while sent - acked >= OUTSTANDING:
            time.sleep(0.0005)
        client.publish(topic, payload, qos=1)
    seen, moved = acked, time.monotonic()
    while acked < len(items) and time.monotonic() - moved < STALL_S:
        time.sleep(0.001)
        if acked != seen:
            seen, moved = acked, time.monotonic()
    end, cpu = time.monotonic(), time.process_time() - cpu0
    if acked < len(items):  # a PUBACK never came: say so, go on
        print(f"publisher: {acked} of {len(items)} acknowledged", file=sys.stderr)
    client.loop_stop()
    client.disconnect()
    pipe.send((start, end, cpu, acked))


def bare_subscriber(addr: BrokerAddress, expected: int, ready: Any, stop: Any,
                    pipe: Connection) -> None:
    """Count messages at QoS 1 (paho acks them itself); report the last arrival time."""
    got = 0
    last = 0.0
    cpu0 = 0.0
    client = make_client(addr, client_id="bench-bare")

    def on_message(*_: Any) -> None:
        nonlocal got, last
        got += 1
        last = time.monotonic()

    def on_subscribe(*_: Any) -> None:
        nonlocal cpu0
        cpu0 = time.process_time()
        ready.set()

    client.on_message = on_message
    client.on_subscribe = on_subscribe
    client.on_connect = lambda c, *_: c.subscribe(subscription(SITE, "+", "samples"), qos=1)
    connect(client, addr)
    client.loop_start()
    deadline = time.monotonic() + 600
    while got < expected and time.monotonic() < deadline and not stop.is_set():
        time.sleep(0.005)
    cpu = time.process_time() - cpu0
    client.loop_stop()
    client.disconnect()
    pipe.send((got, last, cpu))


def recorder_process(url: str, addr: BrokerAddress, name: str, group: str | None,
                     max_batch: int, done: Any, ready: Any, stop: Any,
                     pipe: Connection) -> None:
    """One recorder (as ``dmi-live record`` runs it); ``done`` counts rows it has handled."""
    store = open_store(url)
    recorder = Recorder(addr, store, client_id=name, site=SITE, group=group, max_batch=max_batch)
    recorder.start()
    if not recorder.wait_connected(10):
        raise SystemExit(f"{name} did not connect")
    time.sleep(0.3)  # the subscription is acknowledged
    cpu0 = time.process_time()
    ready.set()
    while not stop.is_set():  # a cheap poll: this thread's CPU counts as the recorder's
        done.value = recorder.stats.samples + recorder.stats.duplicates
        time.sleep(0.002)
    cpu = time.process_time() - cpu0
    recorder.stop()
    store.close()
    st = recorder.stats
    pipe.send((st.batches, st.duplicates, st.commits, cpu))


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(url: str, samples: int, rows: int, max_batch: int, recorders: int = 1
        ) -> Result | None:
    batches = samples // rows
    total = batches * rows
    ctx = mp.get_context("fork")
    with tempfile.TemporaryDirectory() as tmp:
        creds = Credentials.load_or_create(Path(tmp) / "credentials.toml", rooms=(ROOM,))
        broker = MosquittoBroker(Path(tmp) / "broker", host="127.0.0.1", port=free_port(),
                                 credentials=creds)
        broker.start()
        open_store(url).close()  # create and migrate before the recorders race to do it
        procs: list[Any] = []
        try:
            go, stop, bare_ready = ctx.Event(), ctx.Event(), ctx.Event()
            bare_rx, bare_tx = ctx.Pipe(duplex=False)
            pub_rx, pub_tx = ctx.Pipe(duplex=False)
            bare = ctx.Process(target=bare_subscriber,
                               args=(address(broker.port, creds, "dashboard"), batches,
                                     bare_ready, stop, bare_tx))
            pub = ctx.Process(target=publisher,
                              args=(address(broker.port, creds, ingest_account(ROOM)), batches,
                                    rows, go, pub_tx))
            group = "bench" if recorders > 1 else None
            rec: list[tuple[Any, Any, Connection]] = []
            for i in range(recorders):
                done, ready = ctx.Value("q", 0), ctx.Event()
                rx, tx = ctx.Pipe(duplex=False)
                proc = ctx.Process(target=recorder_process,
                                   args=(url, address(broker.port, creds, "recorder"),
                                         f"bench-recorder-{i}", group, max_batch, done,
                                         ready, stop, tx))
                rec.append((done, ready, rx))
                procs.append(proc)
            procs += [bare, pub]
            for proc in procs:
                proc.start()
            if not all(ready.wait(20) for _, ready, _ in rec) or not bare_ready.wait(10):
                raise SystemExit("subscribers did not connect")
            assert broker.process is not None
            broker_cpu0 = process_cpu(broker.process.pid)
            go.set()
            # until every row is in, or nothing more came for STALL_S (the broker drops
            # what a subscriber falls too far behind on: then "lost" says how much)
            handled, moved = 0, time.monotonic()
            while handled < total and time.monotonic() - moved < STALL_S:
                time.sleep(0.001)
                now = sum(done.value for done, _, _ in rec)
                if now != handled:
                    handled, moved = now, time.monotonic()
            committed_at = moved
            broker_cpu = process_cpu(broker.process.pid) - broker_cpu0
            stop.set()
            start, published_at, pub_cpu, acked = pub_rx.recv()
            got, last, bare_cpu = bare_rx.recv()
            stats = [rx.recv() for _, _, rx in rec]
            if acked != batches:  # the publisher's paho lost PUBACKs: not a measurement
                return None
            if got != batches:
                raise SystemExit(f"bare subscriber received {got} of {batches} messages")
            with open_store(url) as store:
                stored = store.count_samples()
            return Result(
                rows=rows,
                samples=total,
                committed_per_s=total / (committed_at - start),
                raw_per_s=total / (last - start),
                publish_per_s=total / (published_at - start),
                lost=total - stored,
                duplicates=sum(s[1] for s in stats),
                commits=sum(s[2] for s in stats),
                recorder_cpu_us=sum(s[3] for s in stats) / total * 1e6,
                bare_cpu_us=bare_cpu / total * 1e6,
                publisher_cpu_us=pub_cpu / total * 1e6,
                broker_cpu_us=broker_cpu / total * 1e6,
                shares=tuple(s[0] for s in stats),
            )
        finally:
            stop.set()
            for proc in procs:
                proc.join(10)
                if proc.is_alive():
                    proc.kill()
            broker.stop()


def postgres_schema(url: str) -> tuple[str, Callable[[], None]] | None:
    """A fresh schema on ``url``: (URL using it, drop function), or None if unreachable."""
    import sqlalchemy as sa

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    except sa.exc.OperationalError as exc:
        print(f"postgresql: skipped, cannot connect ({exc.orig})")
        admin.dispose()
        return None

    def drop() -> None:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()

    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}", drop


def measure(backend: str, rows: int, args: argparse.Namespace) -> Result | None:
    """``args.runs`` runs on a fresh database each; print each, return the median run."""
    results = []
    for _ in range(args.runs):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                r = run(str(Path(tmp) / "bench.sqlite"), args.samples, rows, args.max_batch,
                        args.recorders)
        else:
            made = postgres_schema(args.postgres_url)
            if made is None:
                return None
            url, drop = made
            try:
                r = run(url, args.samples, rows, args.max_batch, args.recorders)
            finally:
                drop()
        if r is None:
            print(f"{backend}/{rows}  run discarded: PUBACKs missing at the publisher")
            continue
        show(f"{backend}/{rows}", r)
        results.append(r)
    if not results:
        return None
    results.sort(key=lambda r: r.committed_per_s)
    return results[len(results) // 2]


def show(name: str, r: Result) -> None:
    shares = "/".join(str(n) for n in r.shares)
    print(
        f"{name:<10} committed {r.committed_per_s:>8,.0f}/s  bare subscriber "
        f"{r.raw_per_s:>8,.0f}/s  ratio {r.ratio:.2f}  publisher acked {r.publish_per_s:>8,.0f}/s"
        f"  lost {r.lost}  duplicates {r.duplicates}\n{'':<10} {r.commits} commits "
        f"({r.samples / max(r.commits, 1):,.0f} samples each), batches per recorder {shares}\n"
        f"{'':<10} CPU per sample: recorder {r.recorder_cpu_us:.2f} µs, bare subscriber "
        f"{r.bare_cpu_us:.2f} µs, publisher {r.publisher_cpu_us:.2f} µs, Mosquitto "
        f"{r.broker_cpu_us:.2f} µs; recorder/bare {r.recorder_cpu_us / r.bare_cpu_us:.2f}"
    )


def keys(r: Result, prefix: str = "") -> str:
    return (
        f"{prefix}committed_samples_per_s={r.committed_per_s:.0f} "
        f"{prefix}raw_samples_per_s={r.raw_per_s:.0f} {prefix}ratio={r.ratio:.2f} "
        f"{prefix}lost={r.lost} {prefix}duplicates={r.duplicates}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=300_000, help="samples a run (300000)")
    parser.add_argument("--rows", type=int, nargs="+", default=[25, 2],
                        help="rows a batch; one measurement each (25 2)")
    parser.add_argument("--runs", type=int, default=5, help="runs per backend; median shown (5)")
    parser.add_argument("--max-batch", type=int, default=400,
                        help="Recorder(max_batch=…): messages per commit at most (400)")
    parser.add_argument("--recorders", type=int, default=1,
                        help="recorder processes; more than one share group 'bench' (1)")
    parser.add_argument("--postgres", action="store_true", help="also run on PostgreSQL")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "DMI_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if not MosquittoBroker.available():
        print("mosquitto is not installed (Debian: apt-get install mosquitto)")
        return 1
    print(f"{args.samples:,} samples per run in batches of {' and '.join(map(str, args.rows))} "
          f"rows, QoS 1, {args.recorders} recorder(s), max_batch={args.max_batch}, "
          f"{os.cpu_count()} CPUs; load average {' '.join(map(str, os.getloadavg()))}")
    line = []
    for rows in args.rows:
        size = "" if rows == 25 else f"rows{rows}_"
        lite = measure("sqlite", rows, args)
        if lite is not None:
            line.append(keys(lite, size))
        if args.postgres:
            pg = measure("postgresql", rows, args)
            if pg is not None:
                line.append(keys(pg, f"{size}pg_"))
    print(f"load average after: {' '.join(map(str, os.getloadavg()))}")
    print(" ".join(line))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
