"""Rep-count accuracy on real exercise sets (SPAR) and on simulated sets.

**Real sets** — ``../shared/data/spar/`` (Burns et al. 2018: 4 subjects × 7 shoulder
exercises × 2 arms, a wrist IMU at 50 Hz, exactly 20 reps each; skipped with a message
when absent). Each file is streamed through :class:`analysis.repcount.RepCounter` in
0.1 s pieces, as ``dmi-live reps`` and the engine do:

- *untuned*: the defaults, fixed a priori, nothing learned from any set;
- *calibrated*: :func:`analysis.repcalib.calibrate` on the other arm's set of the same
  subject and exercise (count 20), then that calibration on this set. Nothing is learned
  across subjects by the calibration.
- *leave one subject out*: what choosing a default on these sets would give on a
  subject not seen: the size of a rep cut off by the end of a set that still counts
  (:data:`analysis.repsettings.FINISH_SWING`, kept at 0.9 a priori) is chosen from
  :data:`FINISH_GRID` on three subjects and the fourth is counted with it, in turn.
- *baseline*: the old detector (``bench/_old_reps.py``, the engine's until issue 14)
  with its built-in profiles on
  the signals the engine gives it (Fusion AHRS pitch, vertical acceleration).

**Simulated sets** — the scenarios of the old benchmark (steady, speeding up, slowing
down, fading, pause, noisy, irregular, everything) for each exercise kind, as sensor
samples: a squat is a trunk IMU rotating about a random horizontal axis and mounted in a
random orientation, a step an IMU carried up and down, a weight shift and a reach a COP
moving along a random direction (:mod:`analysis.repsynth`). The old detector gets the
one-dimensional signal it expects (its best case). *calibrated*: on one earlier set of
the same scenario.

Figures: exact-count rate, within ±1 rate, mean absolute error (MAE) and mean signed
error (bias) per set; ``late`` is the share of reps that appeared more than half a period
after the rep's end. The last line is machine-readable::

    spar_sets=56 spar_exact=... spar_within1=... spar_mae=... spar_bias=... spar_cal_exact=...
    ... spar_old_exact=... spar_old_mae=... sim_sets=... sim_exact=... sim_mae=...

``bench/rep_labels.py`` measures what these figures can reach: the excursions each SPAR
recording holds against its label, and the best any choice among the calibration's
settings could do.

Run: ``.venv/bin/python bench/rep_accuracy.py [--sets N] [--spar DIR]``
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from analysis.imu import STANDARD_GRAVITY, TrunkTilt
from analysis.repcalib import _blocks, calibrate, replay
from analysis.repcount import RepCounter
from analysis.repsettings import Calibration
from analysis.repsynth import simulate_sensor_set
from analysis.synth import SetScenario, simulate_set

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._old_reps import DEFAULT_PROFILES, RepDetector  # noqa: E402

FS = 100.0
PIECE_S = 0.1
SPAR = Path(__file__).resolve().parents[2] / "shared" / "data" / "spar"
SPAR_REPS = 20
EXERCISES = ("PEN", "ABD", "FEL", "IR", "ER", "TRAP", "ROW")
FINISH_GRID = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)

# typical set per exercise: shape, peak-to-peak amplitude, noise, period (signal units)
BASE = {
    "squat": SetScenario(shape="pulse", amplitude=(20.0, 20.0), noise_sd=0.5, hold=0.2),
    "weight_shift": SetScenario(
        shape="sine", amplitude=(6.0, 6.0), noise_sd=0.15, period_s=(3.0, 3.0), hold=0.0
    ),
    "reach": SetScenario(
        shape="pulse", amplitude=(6.0, 6.0), noise_sd=0.15, period_s=(3.5, 3.5), hold=0.3
    ),
    "step": SetScenario(
        shape="sine", amplitude=(4.0, 4.0), noise_sd=0.3, period_s=(1.8, 1.8), hold=0.0
    ),
}
MOTION = {"squat": "rotation", "weight_shift": "cop", "reach": "cop", "step": "translation"}


def scenarios(base: SetScenario) -> dict[str, SetScenario]:
    """Variations of one exercise's typical set."""
    amp = base.amplitude[0]
    period = base.period_s[0]
    noise = base.noise_sd
    rep = dataclasses.replace
    return {
        "steady": base,
        "speeding_up": rep(base, period_s=(1.6 * period, 0.6 * period)),
        "slowing_down": rep(base, period_s=(0.6 * period, 1.8 * period)),
        "fading": rep(base, amplitude=(1.3 * amp, 0.55 * amp)),
        "pause": rep(base, pause_s=4 * period),
        "noisy": rep(base, noise_sd=3 * noise, spikes=4, wander=0.5 * amp, offset=amp),
        "irregular": rep(base, tempo_jitter=0.35, amplitude_jitter=0.35),
        "everything": rep(
            base,
            period_s=(1.4 * period, 0.7 * period),
            amplitude=(1.2 * amp, 0.6 * amp),
            tempo_jitter=0.3,
            amplitude_jitter=0.3,
            noise_sd=2 * noise,
            spikes=2,
            wander=0.4 * amp,
            pause_s=3 * period,
        ),
    }


def stream(
    t: np.ndarray, x: np.ndarray, *, fs: float, kind: str, calibration: Calibration | None = None
) -> tuple[list[float], list[float]]:
    """Rep times and the time each appeared, streaming in 0.1 s pieces, then finish()."""
    counter = RepCounter(fs=fs, kind=kind, calibration=calibration)  # type: ignore[arg-type]
    piece = max(1, round(PIECE_S * fs))
    times, shown = [], []
    for i in range(0, t.size, piece):
        for rep in counter.push(t[i : i + piece], x[i : i + piece]):
            times.append(rep.t)
            shown.append(float(t[min(i + piece, t.size) - 1]))
    for rep in counter.finish():
        times.append(rep.t)
        shown.append(float(t[-1]))
    return times, shown


def old_count(t: np.ndarray, x: np.ndarray, profile: str, fs: float) -> list[float]:
    """Rep times of the old detector on a one-dimensional signal, in 0.1 s pieces."""
    det = RepDetector(DEFAULT_PROFILES[profile], fs=fs)
    piece = max(1, round(PIECE_S * fs))
    return [
        r.t for i in range(0, t.size, piece) for r in det.push(t[i : i + piece], x[i : i + piece])
    ]


def figures(errors: list[int] | np.ndarray) -> dict[str, float]:
    e = np.asarray(errors, dtype=float)
    if e.size == 0:
        return {"sets": 0.0, "exact": np.nan, "within1": np.nan, "mae": np.nan, "bias": np.nan}
    return {
        "sets": float(e.size),
        "exact": float(np.mean(e == 0)),
        "within1": float(np.mean(np.abs(e) <= 1)),
        "mae": float(np.mean(np.abs(e))),
        "bias": float(np.mean(e)),
    }


def row(label: str, f: dict[str, float], extra: str = "") -> str:
    return (
        f"{label:<28}{int(f['sets']):>5}{f['exact']:>7.2f}{f['within1']:>7.2f}"
        f"{f['mae']:>7.2f}{f['bias']:>+7.2f}  {extra}"
    )


HEADER = f"{'':<28}{'sets':>5}{'exact':>7}{'±1':>7}{'mae':>7}{'bias':>7}"


# ----------------------------------------------------------------------------- SPAR


def spar(folder: Path) -> dict[str, float] | None:
    files = sorted(folder.glob("S*_*_*.csv"))
    if not files:
        print(f"SPAR: no sets in {folder} (get ../shared/data/spar/); real-set figures skipped")
        return None
    data = {f.stem: np.loadtxt(f, delimiter=",", skiprows=1) for f in files}
    print(f"== SPAR: {len(data)} real sets of {SPAR_REPS} reps, wrist IMU ({folder}) ==")
    print("defaults fixed a priori; nothing learned across subjects but the left-out row")
    started = time.perf_counter()
    untuned, calibrated, old = {}, {}, defaultdict(dict)
    spar_cycles: dict[str, float] = {}
    learned: dict[str, Calibration] = {}
    for name, d in data.items():
        t, x = d[:, 0], d[:, 1:]
        fs = float(f"{1 / np.median(np.diff(t)):.6g}")
        times = stream(t, x, fs=fs, kind="imu")[0]
        untuned[name] = len(times) - SPAR_REPS
        duration = float(t[-1] - t[0]) + 1 / fs
        spar_cycles[name] = duration / float(np.median(np.diff(times))) if len(times) > 2 else 0
        subject, exercise, arm = name.split("_")
        other = f"{subject}_{exercise}_{'R' if arm == 'L' else 'L'}"
        if other in data:
            if other not in learned:
                o = data[other]
                learned[other] = calibrate(o[:, 0], o[:, 1:], count=SPAR_REPS, fs=fs)
            got = stream(t, x, fs=fs, kind="imu", calibration=learned[other])[0]
            calibrated[name] = len(got) - SPAR_REPS
        o = TrunkTilt(fs=fs).process(x[:, :3] / STANDARD_GRAVITY, x[:, 3:])
        old["squat"][name] = len(old_count(t, o.pitch_deg, "squat", fs)) - SPAR_REPS
        old["step"][name] = len(old_count(t, o.vertical_ms2, "step", fs)) - SPAR_REPS
    seconds = time.perf_counter() - started
    print(HEADER)
    f_new, f_cal = figures(list(untuned.values())), figures(list(calibrated.values()))
    print(row("new counter, untuned", f_new))
    print(row("new, calibrated (other arm)", f_cal))
    f_loso = leave_one_subject_out(data)
    f_old = {p: figures(list(v.values())) for p, v in old.items()}
    best = max(f_old, key=lambda p: (f_old[p]["exact"], -f_old[p]["mae"]))
    for profile, f in f_old.items():
        signal = "pitch" if profile == "squat" else "vertical acc"
        print(row(f"old detector, {profile} ({signal})", f, "<- best" if profile == best else ""))
    print("per exercise (exact ±1 mae bias): untuned | calibrated | old best")
    for ex in EXERCISES:
        names = [n for n in data if n.split("_")[1] == ex]
        cells = []
        for errors in (untuned, calibrated, old[best]):
            f = figures([errors[n] for n in names if n in errors])
            cells.append(f"{f['exact']:.2f} {f['within1']:.2f} {f['mae']:.2f} {f['bias']:+.2f}")
        print(f"  {ex:<5}{len(names):>3}  " + " | ".join(cells))
    # how many rep cycles each recording holds: its duration over the median interval
    # between the reps counted; a counter of cycles cannot be exact where it is not 20
    cycles = spar_cycles
    whole = [n for n, c in cycles.items() if abs(c - SPAR_REPS) < 0.5]
    f_whole = figures([untuned[n] for n in whole])
    f_cal_whole = figures([calibrated[n] for n in whole if n in calibrated])
    print(
        f"recordings holding {SPAR_REPS} ± 0.5 rep cycles (duration / median rep interval): "
        f"{len(whole)} of {len(cycles)}; untuned exact on those {f_whole['exact']:.2f}, "
        f"on the others {figures([untuned[n] for n in cycles if n not in whole])['exact']:.2f}; "
        f"calibrated exact on those {f_cal_whole['exact']:.2f}"
    )
    missed = sorted((cycles[n], n, e) for n, e in calibrated.items() if e)
    print(
        "calibrated misses (error, cycles the recording holds): "
        + " ".join(f"{n} {e:+d} {c:.1f}" for c, n, e in missed)
    )
    changed = sum(bool(c.changes()) for c in learned.values())
    print(
        f"calibrations that changed a default: {changed} of {len(learned)}; "
        f"{seconds:.1f} s for everything above"
    )
    out = {f"spar_{k}": v for k, v in f_new.items()}
    out["spar_whole_cycle_sets"] = float(len(whole))
    out["spar_loso_exact"] = f_loso["exact"]
    out["spar_loso_mae"] = f_loso["mae"]
    out.update({f"spar_cal_{k}": v for k, v in f_cal.items() if k != "sets"})
    out.update({f"spar_old_{k}": v for k, v in f_old[best].items() if k != "sets"})
    return out


def leave_one_subject_out(data: dict[str, np.ndarray]) -> dict[str, float]:
    """Untuned figures when FINISH_SWING is chosen on the other subjects, per subject."""
    errors: dict[float, dict[str, int]] = defaultdict(dict)
    for name, d in data.items():
        fs = float(f"{1 / np.median(np.diff(d[:, 0])):.6g}")
        blocks = _blocks(d[:, 0], d[:, 1:], fs=fs, kind="imu", front=Calibration())
        for finish in FINISH_GRID:
            times = replay(blocks, fs=fs, kind="imu", calibration=Calibration(finish=finish))
            errors[finish][name] = len(times) - SPAR_REPS
    held: list[int] = []
    chosen = []
    for subject in sorted({n.split("_")[0] for n in data}):
        train = [n for n in data if not n.startswith(subject)]
        best = max(
            FINISH_GRID,
            key=lambda f: (
                figures([errors[f][n] for n in train])["exact"],
                -figures([errors[f][n] for n in train])["mae"],
            ),
        )
        chosen.append(f"{subject}:{best:g}")
        held += [errors[best][n] for n in data if n.startswith(subject)]
    f = figures(held)
    print(row("untuned, finish left out", f, "chosen on the others: " + " ".join(chosen)))
    return f


# ----------------------------------------------------------------------------- simulated


def simulated(sets: int) -> dict[str, float]:
    print(f"== simulated: {sets} sets per scenario, 5-15 reps, {FS:g} Hz ==")
    print(
        f"{'kind':<13}{'scenario':<14}{'exact':>6}{'mae':>6}{'bias':>7}{'late':>6}{'dt_s':>6}"
        f"{'cal':>6}  {'old':>5}{'mae':>6}"
    )
    new_all, cal_all, old_all, late_all = [], [], [], []
    for kind, base in BASE.items():
        motion = MOTION[kind]
        counter_kind = "cop" if motion == "cop" else "imu"
        for j, (name, scenario) in enumerate(scenarios(base).items()):
            rng = np.random.default_rng(1000 * j + len(kind))
            first = simulate_sensor_set(
                dataclasses.replace(scenario, n_reps=10), fs=FS, rng=rng, motion=motion
            )  # type: ignore[arg-type]
            cal = calibrate(first.t, first.samples, count=10, fs=FS, kind=counter_kind)  # type: ignore[arg-type]
            new, cal_err, old, late, dts = [], [], [], [], []
            for _ in range(sets):
                sc = dataclasses.replace(scenario, n_reps=int(rng.integers(5, 16)))
                seed = int(rng.integers(2**31))
                sim = simulate_sensor_set(sc, fs=FS, rng=np.random.default_rng(seed), motion=motion)  # type: ignore[arg-type]
                times, shown = stream(sim.t, sim.samples, fs=FS, kind=counter_kind)
                new.append(len(times) - sc.n_reps)
                cal_err.append(
                    len(stream(sim.t, sim.samples, fs=FS, kind=counter_kind, calibration=cal)[0])
                    - sc.n_reps
                )
                if times and sc.n_reps:
                    near = np.abs(np.subtract.outer(times, sim.rep_times)).argmin(axis=1)
                    dts.append(float(np.mean(np.abs(np.asarray(times) - sim.rep_times[near]))))
                    period = np.gradient(sim.rep_times) if sc.n_reps > 1 else np.ones(1)
                    delay = np.asarray(shown) - sim.rep_ends[near]
                    late += list(delay > 0.5 * period[near])
                one_d = simulate_set(sc, fs=FS, rng=np.random.default_rng(seed))
                old.append(len(old_count(one_d.t, one_d.x, kind, FS)) - sc.n_reps)
            f, fc, fo = figures(new), figures(cal_err), figures(old)
            new_all += new
            cal_all += cal_err
            old_all += old
            late_all += late
            print(
                f"{kind:<13}{name:<14}{f['exact']:>6.2f}{f['mae']:>6.2f}{f['bias']:>+7.2f}"
                f"{np.mean(late) if late else 0:>6.2f}{np.mean(dts) if dts else np.nan:>6.2f}"
                f"{fc['exact']:>6.2f}  {fo['exact']:>5.2f}{fo['mae']:>6.2f}"
            )
    f_new, f_cal, f_old = figures(new_all), figures(cal_all), figures(old_all)
    print(HEADER)
    print(row("new counter, untuned", f_new, f"late {np.mean(late_all):.3f}"))
    print(row("new, calibrated (one set)", f_cal))
    print(row("old detector (1-D signal)", f_old))
    out = {f"sim_{k}": v for k, v in f_new.items()}
    out["sim_late"] = float(np.mean(late_all))
    out.update({f"sim_cal_{k}": v for k, v in f_cal.items() if k != "sets"})
    out.update({f"sim_old_{k}": v for k, v in f_old.items() if k != "sets"})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sets", type=int, default=20, help="simulated sets per scenario")
    parser.add_argument("--spar", type=Path, default=SPAR, help="folder of the SPAR sets")
    args = parser.parse_args()
    results: dict[str, float] = {}
    real = spar(args.spar)
    if real:
        results.update(real)
    print()
    results.update(simulated(args.sets))
    print(
        " ".join(f"{k}={int(v) if k.endswith('sets') else round(v, 3)}" for k, v in results.items())
    )


if __name__ == "__main__":
    main()
