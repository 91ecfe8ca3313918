"""Stability analytics for DMI Live: pure NumPy/SciPy functions, no I/O, no Dash.

Modules
-------
cop         centre of pressure from the four board load cells
preprocess  uniform resampling (linear, SWARII), zero-phase low-pass, detrending
sway        BDS-convention sway metrics (ellipse area, velocity, RMS, mean frequency)
spectral    Welch spectra and the spectral descriptors
quijoux     the 72 descriptors of Quijoux et al. (2021) under the authors' names
diffusion   stabilogram diffusion and sway density
stream      sliding-window sway metrics for the live screens
imu         trunk orientation (Fusion AHRS), gravity-free acceleration, ISway
repcount    streaming rep counter for any periodic IMU or COP movement (repsignal,
            repswing: its front end and swing detector; repsettings: sensitivity and
            calibration; repcalib: calibration on a set with a known count; repsynth:
            simulated sensor sets)
score       0–100 stability score relative to the child's own reference
synth       synthetic exercise signals with known reps (demos, tests, benchmarks)
errors      the package's exception tree
"""

from analysis.errors import (
    AnalysisError,
    AnalysisWarning,
    InvalidParameterError,
    InvalidSignalError,
    SignalTooShortError,
)

__all__ = [
    "AnalysisError",
    "AnalysisWarning",
    "InvalidParameterError",
    "InvalidSignalError",
    "SignalTooShortError",
]
