"""Sample batches and session events as the recorder would hand them to the store."""

from __future__ import annotations

from typing import Any

from contract import Event, SampleBatch

T0 = 1_700_000_000.0
BOARD = ("fl", "fr", "bl", "br")
IMU = ("ax", "ay", "az", "gx", "gy", "gz")


def value(seq: int, column: int) -> float:
    """A distinct, recognisable value for (sequence number, column index)."""
    return seq * 1.5 + column * 0.25


def batch(
    seq: int,
    n: int = 25,
    *,
    device: str = "board-1",
    kind: str = "board",
    boot: str = "boot-a",
    columns: tuple[str, ...] = BOARD,
    period: float = 0.01,
    t_dev0: float = 0.0,
    latency: float = 0.05,
) -> SampleBatch:
    """Rows ``seq … seq+n-1`` of a regular 100 Hz device whose clock started at ``t_dev0``."""
    rows = tuple(tuple(value(seq + i, j) for j in range(len(columns))) for i in range(n))
    t_dev = t_dev0 + seq * period
    return SampleBatch(
        device=device,
        kind=kind,  # type: ignore[arg-type]
        boot=boot,
        seq=seq,
        t_dev=t_dev,
        period=period,
        t_host=T0 + t_dev + latency,
        columns=columns,
        rows=rows,
    )


def imu_batch(seq: int, n: int = 25, **kw: Any) -> SampleBatch:
    kw.setdefault("device", "imu-trunk")
    kw.setdefault("columns", IMU)
    return batch(seq, n, kind="imu", **kw)


def batches(device_batches: int, **kw: Any) -> list[SampleBatch]:
    return [batch(i * 25, **kw) for i in range(device_batches)]


class Events:
    """Builds the events of one session with increasing times and stable ids."""

    def __init__(self, session: str = "s-1", t: float = T0, author: str = "ana") -> None:
        self.session = session
        self.t = t
        self.author = author
        self.n = 0

    def _next(self, type_: str, dt: float, set_: str | None, data: dict[str, Any]) -> Event:
        self.t += dt
        self.n += 1
        return Event(
            type=type_,
            t=self.t,
            session=self.session,
            set=set_,
            author=self.author,
            data=data,
            id=f"{self.session}-e{self.n}",
        )

    def start(self, child: str = "c-17", dt: float = 0.0) -> Event:
        return self._next("session_start", dt, None, {"child": child})

    def end(self, dt: float = 5.0) -> Event:
        return self._next("session_end", dt, None, {})

    def set_start(
        self,
        set_id: str,
        exercise: str = "sit-to-stand-foam",
        surface: str = "foam-pad",
        support: str = "knee",
        planned_reps: int = 5,
        dt: float = 5.0,
    ) -> Event:
        data = {
            "exercise": exercise,
            "surface": surface,
            "support": support,
            "planned_reps": planned_reps,
        }
        return self._next("set_start", dt, set_id, data)

    def set_end(self, set_id: str, quality: str | None = None, dt: float = 2.0) -> Event:
        return self._next("set_end", dt, set_id, {} if quality is None else {"quality": quality})

    def rep(
        self,
        set_id: str | None,
        delta: int = 1,
        source: str = "auto",
        dt: float = 3.0,
        **extra: Any,
    ) -> Event:
        return self._next("rep", dt, set_id, {"delta": delta, "source": source, **extra})

    def tag(self, tag: str, set_id: str | None = None, dt: float = 1.0, **extra: Any) -> Event:
        return self._next("tag", dt, set_id, {"tag": tag, **extra})

    def note(self, text: str, set_id: str | None = None, dt: float = 1.0, **extra: Any) -> Event:
        return self._next("note", dt, set_id, {"text": text, **extra})
