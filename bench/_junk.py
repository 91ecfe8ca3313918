"""Malformed and edge-case MQTT messages for ``bench/fuzz_recorder.py``, from a fixed seed.

:func:`junk_messages` returns what a room's own ingest account may publish (the samples
and status topics of its room) but no recorder should trip over: payloads that are not
JSON, cut short, of the wrong types, missing keys, with integers of 400 digits, NaN and
Infinity, nested 100,000 levels deep, near the broker's size limit, with broken Unicode;
batches whose device does not match their topic, for thousands of made-up devices, with
absurd sequence numbers and boot ids, host times stepping back, duplicates; empty
payloads; retained junk statuses; random bytes and byte-level mutations of valid
payloads (the kind of inputs hypothesis's ``binary()`` and a mutating fuzzer produce).

:func:`refused_messages` returns what the broker itself must refuse: payloads past its
``max_packet_size`` (it drops the connection) and topics with wildcards.

Valid batches on the good devices (``good``: device → its boot id) use host times in
2001 and sequence numbers from 2**40, so they never collide with the good stream and
stay out of its time range: :func:`bench._ledger.compare` counts them as foreign rows.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass

from contract import MAX_SEQ, DeviceStatus, SampleBatch, samples_topic, status_topic
from dmi_live.broker import MAX_PACKET
from ingest.devices.base import BOARD_COLUMNS, IMU_COLUMNS

PAST = 1.0e9  # 2001-09-09: host time of junk written under the good devices' names


@dataclass(frozen=True, slots=True)
class Junk:
    category: str
    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = False


class _Maker:
    def __init__(self, seed: int, site: str, room: str, good: dict[str, str],
                 now: float) -> None:
        self.rng = random.Random(seed)
        self.site, self.room, self.good, self.now = site, room, good, now
        self.junk_devices = [f"junk-{k:04d}" for k in range(1000)]
        self._serial = 0

    # ------------------------------------------------------------------ building blocks

    def device(self) -> str:
        return self.rng.choice(self.junk_devices)

    def fresh_device(self, prefix: str) -> str:
        self._serial += 1
        return f"{prefix}-{self._serial:05d}"

    def batch(self, *, device: str | None = None, boot: str = "fz1", seq: int = 0,
              rows: int = 10, t_host: float | None = None, kind: str = "board") -> SampleBatch:
        cols = BOARD_COLUMNS if kind == "board" else IMU_COLUMNS
        values = tuple(tuple(round(self.rng.uniform(-5, 30), 3) for _ in cols)
                       for _ in range(rows))
        return SampleBatch(device=device or self.device(), kind=kind,  # type: ignore[arg-type]
                           boot=boot, seq=seq, t_dev=seq * 0.01, period=0.01,
                           t_host=self.now if t_host is None else t_host, columns=cols,
                           rows=values)

    def batch_dict(self, **kw: object) -> dict[str, object]:
        return json.loads(self.batch(**kw).encode())  # type: ignore[arg-type]

    def status_dict(self, device: str | None = None) -> dict[str, object]:
        return json.loads(DeviceStatus(device or self.device(), "board", "online",
                                       self.now).encode())

    def topic(self, device: str | None = None, *, status: float = 0.3) -> str:
        device = device or self.device()
        if self.rng.random() < status:
            return status_topic(self.site, self.room, device)
        return samples_topic(self.site, self.room, device)

    def any_dict(self) -> tuple[dict[str, object], str]:
        """A valid batch or status as a dict, and a topic for it."""
        device = self.device()
        if self.rng.random() < 0.3:
            return self.status_dict(device), status_topic(self.site, self.room, device)
        return self.batch_dict(device=device), samples_topic(self.site, self.room, device)

    # ------------------------------------------------------------------ categories

    def not_json(self) -> Junk:
        texts = [b"hello", b"1,2,3,4", b"<xml/>", b"{", b"}", b"null", b"[]", b"true",
                 b'"text"', b"42", b"{'v': 1}", b"v=1&device=board-1", b"\x00\x01\x02",
                 b"{\"v\":1,}", b"[1,2,3", b"NaN", b"-", b"\t\n "]
        return Junk("not-json", self.topic(), self.rng.choice(texts))

    def truncated(self) -> Junk:
        data, topic = self.any_dict()
        raw = json.dumps(data).encode()
        return Junk("truncated", topic, raw[: self.rng.randrange(1, len(raw))])

    def wrong_types(self) -> Junk:
        data, topic = self.any_dict()
        key = self.rng.choice([k for k in data if k != "v"])
        data[key] = self.rng.choice(["x", "", None, True, False, [], {}, [1, 2], {"a": 1},
                                     -1, 0, 1.5, "1e3", "NaN", [[1, "a"]], [None]])
        if self.rng.random() < 0.2:
            data["v"] = self.rng.choice(["1", 2, None, 1.0000001, True])
        return Junk("wrong-types", topic, json.dumps(data).encode())

    def missing_keys(self) -> Junk:
        data, topic = self.any_dict()
        for key in self.rng.sample(sorted(data), self.rng.randint(1, 3)):
            del data[key]
        return Junk("missing-keys", topic, json.dumps(data).encode())

    def huge_int(self) -> Junk:
        data, topic = self.any_dict()
        huge = "1" + "0" * 400
        key = self.rng.choice([k for k in data if k not in ("v", "cols")])
        raw = json.dumps({**data, key: "HUGE"}).replace('"HUGE"', huge)
        if self.rng.random() < 0.3 and "rows" in data:
            raw = json.dumps({**data, "rows": [["HUGE", 1, 2, 3]]}).replace('"HUGE"', huge)
        if self.rng.random() < 0.1:
            raw = raw.replace(huge, "1" + "0" * 5000)  # past Python's int-string limit
        return Junk("huge-int", topic, raw.encode())

    def nan_inf(self) -> Junk:
        data, topic = self.any_dict()
        value = self.rng.choice([float("nan"), float("inf"), float("-inf")])
        key = self.rng.choice(["t_host", "t_dev", "period", "rows", "t"])
        if key == "rows" and "rows" in data:
            rows = data["rows"]
            assert isinstance(rows, list)
            rows[self.rng.randrange(len(rows))][0] = value
        else:
            data[key] = value
        return Junk("nan-inf", topic, json.dumps(data).encode())  # json writes NaN

    def deep_nesting(self) -> Junk:
        depth = 100_000
        payload = self.rng.choice([b"[" * depth + b"]" * depth,
                                   b'{"a":' * depth + b"1" + b"}" * depth,
                                   b'{"v":1,"rows":' + b"[" * depth + b"]" * depth + b"}"])
        return Junk("deep-nesting", self.topic(), payload)

    def near_limit(self) -> Junk:
        """Under the broker's limit, so delivered: the quarantine keeps its first 4 KiB."""
        size = MAX_PACKET - 4096 - self.rng.randrange(1000)
        body = {"v": 1, "device": self.device(), "pad": "x" * size}
        return Junk("near-limit", self.topic(), json.dumps(body).encode()[:size])

    def unicode(self) -> Junk:
        data, topic = self.any_dict()
        junk = self.rng.choice(["\ud800", "\udfff", "b\u00f8ard", "\u202eboard", "\u200b",
                                "\U0001f600" * 50, "\x00", "a" * 5000, "\ufeffboard-1",
                                "\u0130", "\\ud800"])
        key = self.rng.choice(["device", "boot", "kind", "state", "reason", "cols"])
        data[key] = [junk] if key == "cols" else junk
        raw = json.dumps(data, ensure_ascii=self.rng.random() < 0.5)
        payload = raw.encode("utf-8", "surrogatepass")
        if self.rng.random() < 0.3:  # not UTF-8 at all
            cut = self.rng.randrange(len(payload))
            payload = payload[:cut] + self.rng.choice([b"\xff", b"\xc3\x28", b"\xed\xa0\x80",
                                                       b"\xf4\x90\x80\x80"]) + payload[cut:]
        return Junk("unicode", topic, payload)

    def device_mismatch(self) -> Junk:
        other = self.rng.choice([*self.good, self.device()])
        topic_device = self.device()
        return Junk("device-mismatch", samples_topic(self.site, self.room, topic_device),
                    self.batch(device=other if other != topic_device else "other").encode())

    def junk_devices(self) -> Junk:
        """Valid batches and statuses for made-up devices of the room: stored."""
        device = self.fresh_device("many")
        if self.rng.random() < 0.2:
            return Junk("junk-devices", status_topic(self.site, self.room, device),
                        json.dumps(self.status_dict(device)).encode())
        return Junk("junk-devices", samples_topic(self.site, self.room, device),
                    self.batch(device=device).encode())

    def bad_topic_device(self) -> Junk:
        name = self.rng.choice(["Board-1", "dev ice", "b\u00f8ard", "x" * 65, "-lead",
                                "_lead", "a.b", "\u202eboard", "board\u200b", "ev\u0130l"])
        base = f"dmi/v1/{self.site}/{self.room}/dev/{name}/"
        leaf = self.rng.choice(["samples", "status"])
        return Junk("bad-topic-device", base + leaf,
                    self.batch(device="junk-0000").encode())

    def absurd_seq_boot(self) -> Junk:
        pick = self.rng.randrange(6)
        if pick == 0:  # the largest valid sequence numbers
            batch = self.batch(seq=MAX_SEQ - 9)
        elif pick == 1:  # one past them: refused by the schema
            data = self.batch_dict(seq=0)
            data["seq"] = MAX_SEQ - 5
            return Junk("absurd-seq-boot", self.topic(status=0), json.dumps(data).encode())
        elif pick == 2:  # odd but valid boot ids
            boot = self.rng.choice(["A" * 64, "0", "x:y.z-_", "9" * 64, "B.:.:.:"])
            batch = self.batch(boot=boot, seq=self.rng.randrange(2**62))
        elif pick == 3:  # a good device's own boot, far ahead (learnt from its status)
            device = self.rng.choice(sorted(self.good))
            batch = self.batch(device=device, boot=self.good[device],
                               seq=2**40 + self.rng.randrange(2**20) * 10, t_host=PAST,
                               kind="board" if device.startswith("board") else "imu")
        elif pick == 4:  # a good device, a new boot
            device = self.rng.choice(sorted(self.good))
            batch = self.batch(device=device, boot=f"evil-{self.rng.randrange(50)}",
                               seq=self.rng.randrange(2**62), t_host=PAST,
                               kind="board" if device.startswith("board") else "imu")
        else:  # a junk device hopping boots
            batch = self.batch(boot=f"hop{self.rng.randrange(5)}",
                               seq=self.rng.choice([0, 1, 10**15, 2**62]))
        return Junk("absurd-seq-boot", samples_topic(self.site, self.room, batch.device),
                    batch.encode())

    def clock_back(self) -> list[Junk]:
        """The four batches of issue 13 (boot b1 seq 0; b2 seq 0; b1 seq 0; b1 seq 100 five
        seconds earlier), or a stream whose host time steps back, on a fresh device."""
        device = self.fresh_device("clock")
        topic = samples_topic(self.site, self.room, device)
        if self.rng.random() < 0.5:
            batches = [self.batch(device=device, boot="b1", seq=0),
                       self.batch(device=device, boot="b2", seq=0),
                       self.batch(device=device, boot="b1", seq=0),
                       self.batch(device=device, boot="b1", seq=100, t_host=self.now - 5)]
        else:
            step = self.rng.choice([0.5, 5.0, 3600.0, 10 * 365 * 86400.0])
            batches = [self.batch(device=device, seq=10 * k,
                                  t_host=self.now + 0.1 * k - (step if k >= 2 else 0))
                       for k in range(4)]
        return [Junk("clock-back", topic, b.encode()) for b in batches]

    def duplicates(self) -> list[Junk]:
        batch = self.batch(device=self.fresh_device("dup"))
        topic = samples_topic(self.site, self.room, batch.device)
        return [Junk("duplicates", topic, batch.encode()) for _ in range(5)]

    def empty(self) -> Junk:
        retain = self.rng.random() < 0.3
        topic = status_topic(self.site, self.room, self.device()) if retain else self.topic()
        return Junk("empty", topic, b"", retain=retain)

    def retained_status(self) -> Junk:
        device = self.rng.choice([*self.good, self.device()])
        data = self.status_dict(device)
        mangle = self.rng.randrange(4)
        if mangle == 0:
            data["state"] = "exploded"
        elif mangle == 1:
            data["kind"] = self.rng.choice(["toaster", None, 1])
        elif mangle == 2:
            data["reason"] = "r" * 5000
        payload = json.dumps(data).encode() if mangle < 3 else self.rng.randbytes(64)
        return Junk("retained-status", status_topic(self.site, self.room, device), payload,
                    retain=True)

    def random_bytes(self) -> Junk:
        n = self.rng.choice([0, 1, 2, 8, 64, 512, 4096, self.rng.randrange(20_000)])
        return Junk("random-bytes", self.topic(), self.rng.randbytes(n),
                    qos=self.rng.choice([0, 1]))

    def mutated(self) -> Junk:
        data, topic = self.any_dict()
        raw = bytearray(json.dumps(data).encode())
        for _ in range(self.rng.randint(1, 8)):
            op, at = self.rng.randrange(5), self.rng.randrange(len(raw))
            if op == 0:
                raw[at] ^= 1 << self.rng.randrange(8)
            elif op == 1:
                del raw[at: at + self.rng.randint(1, 20)]
            elif op == 2:
                raw[at:at] = self.rng.choice([b'"', b"{", b"]", b"\\", b"-0", b"1e999",
                                              b"\x00", b"\xff", b",", b":"])
            elif op == 3:
                end = min(len(raw), at + self.rng.randint(1, 50))
                raw[at:at] = raw[at:end] * self.rng.randint(1, 10)
            else:
                raw[at] = self.rng.randrange(256)
        return Junk("mutated", topic, bytes(raw))


# category → (share of the messages, how to make one: a message or a group of them)
_MIX: dict[str, tuple[float, Callable[[_Maker], Junk | list[Junk]]]] = {
    "not-json": (0.07, _Maker.not_json),
    "truncated": (0.07, _Maker.truncated),
    "wrong-types": (0.09, _Maker.wrong_types),
    "missing-keys": (0.07, _Maker.missing_keys),
    "huge-int": (0.05, _Maker.huge_int),
    "nan-inf": (0.05, _Maker.nan_inf),
    "deep-nesting": (0.003, _Maker.deep_nesting),
    "near-limit": (0.0005, _Maker.near_limit),
    "unicode": (0.07, _Maker.unicode),
    "device-mismatch": (0.05, _Maker.device_mismatch),
    "junk-devices": (0.07, _Maker.junk_devices),
    "bad-topic-device": (0.04, _Maker.bad_topic_device),
    "absurd-seq-boot": (0.07, _Maker.absurd_seq_boot),
    "clock-back": (0.05, _Maker.clock_back),
    "duplicates": (0.05, _Maker.duplicates),
    "empty": (0.025, _Maker.empty),
    "retained-status": (0.04, _Maker.retained_status),
    "random-bytes": (0.07, _Maker.random_bytes),
    "mutated": (0.07, _Maker.mutated),
}


def junk_messages(n: int, *, seed: int, site: str, room: str, good: dict[str, str],
                  now: float) -> list[Junk]:
    """About ``n`` messages (at least ``n``), in a seeded random order."""
    maker = _Maker(seed, site, room, good, now)
    total = sum(share for share, _ in _MIX.values())
    groups: list[list[Junk]] = []  # a group (clock-back, duplicates) stays in order
    count = 0
    for share, make in _MIX.values():
        want, made = max(1, round(n * share / total)), 0
        while made < want:
            got = make(maker)
            groups.append(got if isinstance(got, list) else [got])
            made += len(groups[-1])
        count += made
    while count < n:
        groups.append([maker.random_bytes()])
        count += 1
    maker.rng.shuffle(groups)
    return [m for group in groups for m in group]


def refused_messages(*, seed: int, site: str, room: str, oversized: int) -> list[Junk]:
    """Payloads past the broker's packet limit (it drops the connection) and topics with
    wildcards or NUL (refused by paho or the broker): one connection each."""
    rng = random.Random(seed + 1)
    out = [Junk("oversized", samples_topic(site, room, "board-1"),
                rng.randbytes(16) + b"x" * (2 * MAX_PACKET)) for _ in range(oversized)]
    for bad in ("+", "#", "\u0000"):
        out.append(Junk("bad-topic", f"dmi/v1/{site}/{room}/dev/{bad}/samples", b"{}"))
    return out
