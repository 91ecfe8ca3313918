"""Trunk orientation (Fusion AHRS), gravity-free acceleration and ISway."""

from __future__ import annotations

import math

import imufusion
import numpy as np
import pytest
from scipy.ndimage import maximum_filter1d, uniform_filter1d

from analysis.errors import InvalidSignalError, SignalTooShortError
from analysis.imu import (
    STANDARD_GRAVITY,
    TrunkTilt,
    earth_acceleration,
    isway_metrics,
    trunk_orientation,
)

FS = 100.0


def _still(acc: list[float], seconds: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    n = int(seconds * FS)
    return np.tile(acc, (n, 1)), np.zeros((n, 3))


@pytest.mark.parametrize("angle", [-30.0, -10.0, 15.0, 40.0])
def test_leaning_forward_is_positive_pitch(angle: float) -> None:
    a = math.radians(angle)
    acc, gyr = _still([-math.sin(a), 0.0, math.cos(a)])
    pitch, roll = TrunkTilt(fs=FS).update(acc, gyr)
    assert pitch[-1] == pytest.approx(angle, abs=0.1)
    assert roll[-1] == pytest.approx(0.0, abs=0.1)


@pytest.mark.parametrize("angle", [-25.0, 20.0])
def test_leaning_right_is_positive_roll(angle: float) -> None:
    a = math.radians(angle)
    # leaning right lifts the left (+y) side: gravity reaction gains a +y component
    acc, gyr = _still([0.0, math.sin(a), math.cos(a)])
    pitch, roll = TrunkTilt(fs=FS).update(acc, gyr)
    assert roll[-1] == pytest.approx(angle, abs=0.1)
    assert pitch[-1] == pytest.approx(0.0, abs=0.1)


def test_gyroscope_rotation_is_integrated() -> None:
    # level for 2 s, then a 2 s forward bend at 10 deg/s (accelerometer consistent)
    rate = 10.0
    n_still, n_move = 200, 200
    angle = np.concatenate([np.zeros(n_still), rate * np.arange(1, n_move + 1) / FS])
    a = np.radians(angle)
    acc = np.column_stack([-np.sin(a), np.zeros_like(a), np.cos(a)])
    gyr = np.zeros_like(acc)
    gyr[n_still:, 1] = rate
    pitch, _ = TrunkTilt(fs=FS).update(acc, gyr)
    assert pitch[-1] == pytest.approx(20.0, abs=0.3)
    np.testing.assert_allclose(pitch[n_still:], angle[n_still:], atol=0.5)


def test_horizontal_acceleration_is_gravity_free_and_in_board_axes() -> None:
    tilt = TrunkTilt(fs=FS)
    acc, gyr = _still([0.0, 0.0, 1.0])
    rest = tilt.process(acc, gyr)
    assert np.abs(rest.ap_ms2[-100:]).max() < 1e-3
    assert np.abs(rest.vertical_ms2[-100:]).max() < 1e-3
    # a brief push forward (0.2 g) then a brief push to the right (y is left)
    fwd = tilt.process(*_still([0.2, 0.0, 1.0], seconds=0.3))
    assert fwd.ap_ms2.mean() == pytest.approx(0.2 * STANDARD_GRAVITY, rel=0.05)
    assert abs(fwd.ml_ms2.mean()) < 0.05
    tilt.process(acc, gyr)
    right = tilt.process(*_still([0.0, -0.2, 1.0], seconds=0.3))
    assert right.ml_ms2.mean() == pytest.approx(0.2 * STANDARD_GRAVITY, rel=0.05)
    assert abs(right.ap_ms2.mean()) < 0.05


def test_streaming_in_chunks_equals_one_pass(imu_slice: np.ndarray) -> None:
    gyr, acc = imu_slice[:1500, 1:4], imu_slice[:1500, 4:7]
    whole = trunk_orientation(acc, gyr, fs=FS)
    tilt = TrunkTilt(fs=FS)
    parts = [tilt.update(acc[i : i + 7], gyr[i : i + 7]) for i in range(0, 1500, 7)]
    np.testing.assert_array_equal(np.concatenate([p[0] for p in parts]), whole.pitch_deg)
    np.testing.assert_array_equal(np.concatenate([p[1] for p in parts]), whole.roll_deg)


def test_angles_agree_with_fusions_own_euler_output(imu_slice: np.ndarray) -> None:
    gyr, acc = imu_slice[:, 1:4], imu_slice[:, 4:7]
    ours = trunk_orientation(acc, gyr, fs=FS)
    ahrs = imufusion.Ahrs()
    ahrs.set_settings(
        imufusion.AhrsSettings(
            sample_rate=FS,
            convention=imufusion.CONVENTION_NWU,
            gain=0.5,
            gyroscope_range=2000,
            acceleration_rejection=10,
            rejection_timeout=5,
        )
    )
    euler = np.empty((len(acc), 3))
    for i in range(len(acc)):
        ahrs.update_no_magnetometer(gyr[i], acc[i])
        euler[i] = imufusion.quaternion_to_euler(ahrs.get_quaternion())
    np.testing.assert_allclose(ours.roll_deg, euler[:, 0], atol=1e-3)
    np.testing.assert_allclose(ours.pitch_deg, euler[:, 1], atol=1e-3)


def test_acceleration_is_fusions_earth_acceleration_in_the_heading_frame(
    imu_slice: np.ndarray,
) -> None:
    gyr, acc = imu_slice[:, 1:4], imu_slice[:, 4:7]
    ahrs = imufusion.Ahrs()
    ahrs.set_settings(imufusion.AhrsSettings(
        sample_rate=FS, convention=imufusion.CONVENTION_NWU, gain=0.5, gyroscope_range=2000,
        acceleration_rejection=10, rejection_timeout=5))
    quats, earth = np.empty((len(acc), 4)), np.empty((len(acc), 3))
    for i in range(len(acc)):
        ahrs.update_no_magnetometer(gyr[i], acc[i])
        quats[i], earth[i] = ahrs.get_quaternion(), ahrs.get_earth_acceleration()
    # Fusion works in single precision: the same up to its rounding
    np.testing.assert_allclose(earth_acceleration(quats, acc), earth, atol=2e-6)
    ours = trunk_orientation(acc, gyr, fs=FS)
    yaw = np.radians(ours.yaw_deg)
    north, west = earth[:, 0] * STANDARD_GRAVITY, earth[:, 1] * STANDARD_GRAVITY
    np.testing.assert_allclose(ours.ap_ms2, np.cos(yaw) * north + np.sin(yaw) * west,
                               atol=2e-5)
    np.testing.assert_allclose(ours.ml_ms2, np.sin(yaw) * north - np.cos(yaw) * west,
                               atol=2e-5)
    np.testing.assert_allclose(ours.vertical_ms2, earth[:, 2] * STANDARD_GRAVITY, atol=2e-5)


def test_recorded_imu_is_physically_plausible(imu_slice: np.ndarray) -> None:
    """Fusion example recording: rest, then turns about x (10–25 s) and y (25–40 s)."""
    t, gyr, acc = imu_slice[:, 0], imu_slice[:, 1:4], imu_slice[:, 4:7]
    o = trunk_orientation(acc, gyr, fs=FS)
    # while still (|gyro| < 3 deg/s within ±1 s) the tilt is the accelerometer's tilt
    still = maximum_filter1d(np.linalg.norm(gyr, axis=1), 200) < 3.0
    assert still.sum() > 1000
    mean_acc = uniform_filter1d(acc, 100, axis=0)
    acc_pitch = np.degrees(np.arctan2(-mean_acc[:, 0], np.hypot(mean_acc[:, 1], mean_acc[:, 2])))
    acc_roll = np.degrees(np.arctan2(mean_acc[:, 1], mean_acc[:, 2]))
    assert np.abs(uniform_filter1d(o.pitch_deg, 100) - acc_pitch)[still].max() < 0.5
    assert np.abs(uniform_filter1d(o.roll_deg, 100) - acc_roll)[still].max() < 0.5
    # and gravity is removed: ~0 m/s² of acceleration left at rest
    horiz = np.hypot(uniform_filter1d(o.ap_ms2, 100), uniform_filter1d(o.ml_ms2, 100))
    assert horiz[still].max() < 0.1
    assert np.abs(uniform_filter1d(o.vertical_ms2, 100))[still].max() < 0.15
    # turning about x shows up as roll, about y as pitch, each beyond ±45°
    about_x, about_y = (t > 10) & (t < 25), (t > 25) & (t < 40)
    assert o.roll_deg[about_x].max() > 45
    assert o.roll_deg[about_x].min() < -45
    assert o.pitch_deg[about_y].max() > 45
    assert o.pitch_deg[about_y].min() < -45
    # pitch changes at the rate the y gyroscope reports while roll stays small
    moving = about_y & (np.abs(o.roll_deg) < 5) & (np.abs(o.pitch_deg) < 60)
    rate = np.gradient(o.pitch_deg, t)
    assert np.corrcoef(rate[moving], gyr[moving, 1])[0, 1] > 0.98


def test_bad_imu_arrays_are_rejected() -> None:
    tilt = TrunkTilt(fs=FS)
    with pytest.raises(InvalidSignalError, match=r"acc_g: expected shape \(n, 3\)"):
        tilt.update(np.zeros((10, 2)), np.zeros((10, 3)))
    with pytest.raises(InvalidSignalError, match="lengths differ"):
        tilt.update(np.zeros((10, 3)), np.zeros((9, 3)))
    gyr = np.zeros((10, 3))
    gyr[4, 2] = np.nan
    with pytest.raises(InvalidSignalError, match="gyr_dps: non-finite value at sample 4"):
        tilt.update(np.zeros((10, 3)), gyr)


# ----------------------------------------------------------------------------- ISway


def test_isway_of_a_sinusoidal_sway_has_known_values() -> None:
    f, amp, seconds = 0.5, 0.2, 30.0
    t = np.arange(int(seconds * FS)) / FS
    ap = amp * np.sin(2 * np.pi * f * t)
    m = isway_metrics(ap, np.zeros_like(ap), fs=FS)
    assert m.rms_m_s2 == pytest.approx(amp / math.sqrt(2), rel=0.01)
    assert m.mean_frequency_hz == pytest.approx(f, rel=0.02)
    assert m.path_m_s2 == pytest.approx(4 * amp * f * seconds, rel=0.01)
    assert m.jerk_m2_s5 == pytest.approx(0.5 * (2 * np.pi * f * amp) ** 2 * seconds / 2, rel=0.02)
    assert m.mean_velocity_m_s == pytest.approx(amp / (2 * np.pi * f) * 2 / np.pi, rel=0.03)
    assert m.ellipse_area_m2_s4 == pytest.approx(0.0, abs=1e-9)
    assert m.duration_s == pytest.approx(seconds)


def test_more_trunk_sway_gives_larger_isway() -> None:
    rng = np.random.default_rng(4)
    ap, ml = uniform_filter1d(rng.standard_normal((2, 3000)), 20, axis=1) * 0.3
    small = isway_metrics(ap, ml, fs=FS)
    large = isway_metrics(2 * ap, 2 * ml, fs=FS)
    assert large.rms_m_s2 == pytest.approx(2 * small.rms_m_s2, rel=1e-9)
    assert large.path_m_s2 == pytest.approx(2 * small.path_m_s2, rel=1e-9)
    assert large.jerk_m2_s5 == pytest.approx(4 * small.jerk_m2_s5, rel=1e-9)
    assert large.ellipse_area_m2_s4 == pytest.approx(4 * small.ellipse_area_m2_s4, rel=1e-9)
    assert large.mean_frequency_hz == pytest.approx(small.mean_frequency_hz, rel=1e-9)


def test_isway_needs_a_second_of_data() -> None:
    with pytest.raises(SignalTooShortError, match="at least 1 s"):
        isway_metrics(np.zeros(50), np.zeros(50), fs=FS)
