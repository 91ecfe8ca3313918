"""Cost of one live sway update: push a batch of COP samples, then compute the metrics.

Simulates a 100 Hz board feeding :class:`analysis.stream.SlidingSway` in batches of
``fs / update_hz`` samples (10 Hz display updates by default), times each push+metrics
call, and prints p50/p95/max per window length. The last line is machine-readable::

    window_s=10 fs=100 update_ms=<mean> p50_ms=<p50> p95_ms=<p95> updates=<n>

Run: ``.venv/bin/python bench/streaming_metrics.py [--updates N]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from analysis.stream import SlidingSway


def measure(
    *, window_s: float, fs: float, update_hz: float, updates: int, invalid_fraction: float
) -> np.ndarray:
    """Milliseconds per update (push + metrics) after the window has filled."""
    rng = np.random.default_rng(0)
    batch = int(round(fs / update_hz))
    fill = int(window_s * fs)
    n = fill + batch * updates
    ml, ap = np.cumsum(rng.standard_normal((2, n)), axis=1) * 0.02
    drop = rng.random(n) < invalid_fraction
    ml[drop] = np.nan
    ap[drop] = np.nan
    sway = SlidingSway(fs=fs, window_s=window_s)
    sway.push(ml[:fill], ap[:fill])
    times = np.empty(updates)
    for k in range(updates):
        i = fill + k * batch
        start = time.perf_counter()
        sway.push(ml[i : i + batch], ap[i : i + batch])
        result = sway.metrics()
        times[k] = time.perf_counter() - start
        assert result is not None
    return times * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--fs", type=float, default=100.0)
    parser.add_argument("--update-hz", type=float, default=10.0)
    args = parser.parse_args()

    for window_s, invalid in ((5.0, 0.0), (30.0, 0.0), (10.0, 0.05), (10.0, 0.0)):
        ms = measure(
            window_s=window_s,
            fs=args.fs,
            update_hz=args.update_hz,
            updates=args.updates,
            invalid_fraction=invalid,
        )
        p50, p95, worst = np.percentile(ms, [50, 95, 100])
        label = f"window {window_s:g} s at {args.fs:g} Hz, {invalid:.0%} invalid samples"
        print(f"{label:<45} p50 {p50:.3f} ms  p95 {p95:.3f} ms  max {worst:.3f} ms")
    # the last measurement is the reference case: 10 s window, 100 Hz, clean data
    print(
        f"window_s=10 fs={args.fs:g} update_ms={ms.mean():.3f} p50_ms={p50:.3f} "
        f"p95_ms={p95:.3f} updates={args.updates}"
    )


if __name__ == "__main__":
    main()
