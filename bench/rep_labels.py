"""What the SPAR recordings hold against their label, and how far calibration can go.

``bench/rep_accuracy.py`` scores the rep counter on the SPAR sets, each labelled 20
reps. This bench measures two limits of that score, one of them with no part of the
counter involved:

1. **Excursions each recording holds.** The whole recording, filtered forward and
   backward (no delay and no start-up transient: the trace as a person scrolling it
   sees it): every channel band-passed over :data:`analysis.repsignal.BAND_HZ`, the
   gyroscope integrated into an angle in the accelerometer's unit (as the counter
   does), all projected on the recording's principal axis. A full excursion is a peak of
   that signal standing :data:`PROMINENCE` of its 5–95 % range above what surrounds it,
   on either side. A recording holding a number other than 20 on both sides cannot be
   counted 20 by a counter that counts what is there: its label counts a rep cut by the
   start or the end of the recording, or leaves one out.
2. **The calibration grid's ceiling.** :func:`analysis.repcalib.calibrate` chooses one
   of the settings of :func:`analysis.repcalib.settings` (thresholds, tempo range,
   component, side, end rule) from the other arm's set. Where the defaults count the
   other arm exactly there is nothing to choose (the therapist corrected nothing; only
   the tempo is learned), and the set is exact if calibrate()'s result counts it
   exactly. Elsewhere it can come out exact only if one setting counts both arms
   exactly (or calibrate()'s own choice, with the tempo it learns, counts it exactly).
   The number of sets that can is what the best possible rule for choosing among the
   settings would reach.

Run: ``.venv/bin/python bench/rep_labels.py [--spar DIR]``; the last line is
machine-readable (``labels_sets=... labels_holding_20=... grid_ceiling_exact=...``).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from scipy import signal

from analysis.repcalib import _blocks, _fronts, calibrate, replay, settings
from analysis.repsettings import DEFAULT
from analysis.repsignal import GRAVITY, MovementSignal

SPAR = Path(__file__).resolve().parents[2] / "shared" / "data" / "spar"
SPAR_REPS = 20
PROMINENCE = 0.3
"""A full excursion stands this fraction of the signal's 5–95 % range above its
surroundings: a rep's wiggles and a pause's drift stay well under it."""


def load(path: Path) -> tuple[np.ndarray, np.ndarray, float]:
    d = np.loadtxt(path, delimiter=",", skiprows=1)
    t = d[:, 0]
    return t, d[:, 1:], float(f"{1 / np.median(np.diff(t)):.6g}")


def excursions(x: np.ndarray, fs: float) -> list[tuple[int, int]]:
    """Per side of the recording's principal axis (offline): the full excursions, and
    those plus an excursion cut by the start or the end that rose as far."""
    z = x.copy()
    z[:, 3:] = np.cumsum(z[:, 3:], axis=0) * math.radians(1.0) * GRAVITY / fs
    # the counter's own movement band, run forward and backward
    z = signal.sosfiltfilt(MovementSignal(fs=fs, kind="imu")._sos, z, axis=0)
    z -= z.mean(axis=0)
    y = z @ np.linalg.svd(z, full_matrices=False)[2][0]
    floor = PROMINENCE * float(np.percentile(y, 95) - np.percentile(y, 5))
    sides = []
    for v in (y, -y):
        full = signal.find_peaks(v, prominence=floor)[0].size
        # below both ends, the lowest value: an end that rose ``floor`` is a peak
        low = float(v.min())
        cut = signal.find_peaks(np.r_[low, v, low], prominence=floor)[0].size
        sides.append((full, cut))
    return sides


def reachable(pair: tuple[Path, Path]) -> tuple[str, bool]:
    """Can ``target``, calibrated on ``other``, come out exact? Yes if calibrate()'s
    choice counts it exactly; else, if the defaults count ``other`` exactly, no (there is
    nothing to choose: calibrate() keeps them and learns the tempo); else, whether a
    setting of the grid counts both exactly."""
    target, other = pair
    t_o, x_o, fs = load(other)
    t_t, x_t, _ = load(target)
    cal = calibrate(t_o, x_o, count=SPAR_REPS, fs=fs)
    got = replay(_blocks(t_t, x_t, fs=fs, kind="imu", front=cal), fs=fs, kind="imu",
                 calibration=cal)
    if len(got) == SPAR_REPS:
        return target.stem, True
    fronts = _fronts(t_o, x_o, fs=fs, kind="imu", count=SPAR_REPS)
    blocks_o = [_blocks(t_o, x_o, fs=fs, kind="imu", front=f) for f, _ in fronts]
    if len(replay(blocks_o[0], fs=fs, kind="imu", calibration=DEFAULT)) == SPAR_REPS:
        return target.stem, False  # nothing to choose: the defaults stand
    blocks_t = [_blocks(t_t, x_t, fs=fs, kind="imu", front=f) for f, _ in fronts]
    for _, i, cal in settings(fronts):
        if (len(replay(blocks_o[i], fs=fs, kind="imu", calibration=cal)) == SPAR_REPS
                and len(replay(blocks_t[i], fs=fs, kind="imu", calibration=cal)) == SPAR_REPS):
            return target.stem, True
    return target.stem, False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spar", type=Path, default=SPAR, help="folder of the SPAR sets")
    args = parser.parse_args()
    files = {f.stem: f for f in sorted(args.spar.glob("S*_*_*.csv"))}
    if not files:
        sys.exit(f"no SPAR sets in {args.spar} (get ../shared/data/spar/)")
    started = time.perf_counter()
    print(f"== SPAR: {len(files)} sets labelled {SPAR_REPS} reps ({args.spar}) ==")
    print(f"full excursions each recording holds (offline, both sides; "
          f"prominence {PROMINENCE} of the 5-95 % range):")
    holding = {}
    for name, path in files.items():
        _, x, fs = load(path)
        holding[name] = excursions(x, fs)
    odd = {n: h for n, h in holding.items() if not any(f == SPAR_REPS for f, _ in h)}
    print(f"  {SPAR_REPS} full excursions on one side: {len(files) - len(odd)} of {len(files)}; "
          "the others (full-with cut ends, each side): "
          + " ".join(f"{n} " + "/".join(f"{f}-{c}" for f, c in h) for n, h in odd.items()))
    lost = {n for n, h in holding.items() if not any(f <= SPAR_REPS <= c for f, c in h)}
    print(f"  {SPAR_REPS} even counting or leaving out the cut ends: not on either side of "
          f"{len(lost)}: " + " ".join(sorted(lost)))
    pairs = []
    for name, path in files.items():
        s, e, arm = name.split("_")
        other = f"{s}_{e}_{'R' if arm == 'L' else 'L'}"
        if other in files:
            pairs.append((path, files[other]))
    with ProcessPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(reachable, pairs))
    ceiling = [n for n, ok in results if ok]
    out = [n for n, ok in results if not ok]
    print(f"calibrated on the other arm: a setting of the grid can make "
          f"{len(ceiling)} of {len(results)} sets exact ({len(ceiling) / len(results):.3f}); "
          f"none can for " + " ".join(out))
    print(f"  of those {len(out)}: {sum(n in odd for n in out)} hold other than {SPAR_REPS} "
          f"full excursions, {sum(n in lost for n in out)} other than {SPAR_REPS} "
          f"whatever the cut ends ({time.perf_counter() - started:.0f} s)")
    print(f"labels_sets={len(files)} labels_holding_20={len(files) - len(odd)} "
          f"labels_unexplained={len(lost)} "
          f"grid_ceiling_sets={len(results)} grid_ceiling_exact={len(ceiling) / len(results):.3f}")


if __name__ == "__main__":
    main()
