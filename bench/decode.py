"""Decode cost per sample batch: the contract's msgspec decoder against the hand-written
decoder it replaced (schema v1 of ``ingest/schema.py``, read from git history at
``--baseline``) and, when installed, the same schema as a pydantic v2 model.

Batches as devices send them: a board (4 columns) and an IMU (6 columns) at 25 rows (the
stored stream), and a 2-row board batch. Every decoder must agree on the values; the
figure is the median of ``--repeat`` timings of ``--n`` decodes.

    .venv/bin/python bench/decode.py [--n 20000] [--repeat 5] [--baseline ae4f3d4]
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from contract import SampleBatch, decode_batch  # noqa: E402


def old_decoder(rev: str) -> Callable[[bytes], Any] | None:
    """``decode_batch`` of ``ingest/schema.py`` at ``rev`` (with the modules it used)."""
    folder = Path(tempfile.mkdtemp(prefix="dmi-old-schema-"))
    package = folder / "oldingest"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name in ("schema", "wire", "decoding"):
        try:
            text = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:ingest/{name}.py"],
                                  capture_output=True, text=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError):
            return None
        (package / f"{name}.py").write_text(text.replace("from ingest.", "from oldingest."))
    sys.path.insert(0, str(folder))
    spec = importlib.util.find_spec("oldingest.schema")
    if spec is None:
        return None
    module = importlib.import_module("oldingest.schema")
    return module.decode_batch  # type: ignore[no-any-return]


def pydantic_decoder() -> Callable[[bytes], Any] | None:
    try:
        from pydantic import BaseModel, ConfigDict, Field
    except ImportError:
        return None
    seg = r"^[a-z0-9][a-z0-9_-]{0,63}$"

    class Batch(BaseModel):
        model_config = ConfigDict(frozen=True, allow_inf_nan=False)
        v: Literal[1] = 1
        device: Annotated[str, Field(pattern=seg)]
        kind: Literal["board", "imu"]
        boot: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")]
        seq: Annotated[int, Field(ge=0, le=2**63 - 1)]
        t_dev: float
        period: Annotated[float, Field(gt=0)]
        t_host: Annotated[float, Field(gt=0)]
        cols: Annotated[tuple[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")], ...],
                        Field(min_length=1, max_length=16)]
        rows: Annotated[tuple[tuple[float, ...], ...], Field(min_length=1, max_length=1000)]

    return Batch.model_validate_json


def payloads() -> dict[str, bytes]:
    rng = random.Random(7)
    shapes = {"board 25×4": (25, ("fl", "fr", "bl", "br")),
              "imu 25×6": (25, ("ax", "ay", "az", "gx", "gy", "gz")),
              "board 2×4": (2, ("fl", "fr", "bl", "br"))}
    out = {}
    for name, (n, cols) in shapes.items():
        rows = tuple(tuple(round(rng.uniform(-40, 40), 4) for _ in cols) for _ in range(n))
        batch = SampleBatch("board-1", "imu" if "imu" in name else "board", "b-7f3a", 120_000,
                            1200.0, 0.01, 1.7e9, cols, rows)
        out[name] = batch.encode()
    return out


def timed(fn: Callable[[bytes], Any], payload: bytes, n: int, repeat: int) -> float:
    fn(payload)
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(n):
            fn(payload)
        runs.append((time.perf_counter() - t0) / n)
    return statistics.median(runs) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--baseline", default="ae4f3d4",
                        help="git revision whose ingest/schema.py is the old decoder")
    args = parser.parse_args()
    decoders: dict[str, Callable[[bytes], Any]] = {"contract (msgspec)": decode_batch}
    old = old_decoder(args.baseline)
    if old is not None:
        decoders["old hand-written"] = old
    else:
        print(f"baseline {args.baseline}: ingest/schema.py not found in git; skipped")
    model = pydantic_decoder()
    if model is not None:
        decoders["pydantic v2"] = model
    figures: dict[str, float] = {}
    for shape, payload in payloads().items():
        reference = decode_batch(payload)
        for name, fn in decoders.items():
            got = fn(payload)
            rows = getattr(got, "rows", None)
            assert rows == reference.rows, f"{name} decodes {shape} differently"
            us = timed(fn, payload, args.n, args.repeat)
            figures[f"{name}|{shape}"] = us
            print(f"{shape:11s} {len(payload):5d} B  {name:20s} {us:6.2f} µs/batch")
    new = figures["contract (msgspec)|board 25×4"]
    imu = figures["contract (msgspec)|imu 25×6"]
    line = [f"new_us_board25={new:.2f}", f"new_us_imu25={imu:.2f}"]
    if old is not None:
        base = figures["old hand-written|board 25×4"]
        line += [f"old_us_board25={base:.2f}", f"speedup_board25={base / new:.2f}"]
    if model is not None:
        line.append(f"pydantic_us_board25={figures['pydantic v2|board 25×4']:.2f}")
    print(" ".join(line))


if __name__ == "__main__":
    main()
