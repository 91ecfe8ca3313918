from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.clock import ClockFit

WRAP_MS32 = 2**32 / 1000


def feed(fit: ClockFit, t_dev: np.ndarray, t_host: np.ndarray) -> list[bool]:
    return [fit.update(float(d), float(h)) for d, h in zip(t_dev, t_host, strict=True)]


def receive_times(t_dev: np.ndarray, *, offset: float, drift: float, seed: int = 0) -> np.ndarray:
    """Host receive times: true mapping plus USB-like latency (1–3 ms, bursts, stalls)."""
    rng = np.random.default_rng(seed)
    latency = 0.001 + rng.exponential(0.002, t_dev.size)
    stalls = rng.random(t_dev.size) < 0.01
    latency[stalls] += rng.uniform(0.05, 0.5, stalls.sum())  # host busy for a moment
    return t_dev + offset + drift * t_dev + latency


def test_recovers_offset_and_drift_despite_latency_and_stalls() -> None:
    t_dev = np.arange(0, 600, 0.01)
    t_host = receive_times(t_dev, offset=1.7e9, drift=2e-4)
    fit = ClockFit()
    assert not any(feed(fit, t_dev, t_host))
    for t in (100.0, 300.0, 599.0):
        true = t + 1.7e9 + 2e-4 * t + 0.001
        assert fit.to_host(t) == pytest.approx(true, abs=0.002)
    assert fit.model.drift == pytest.approx(2e-4, abs=2e-5)


def test_host_stall_does_not_drag_the_mapping() -> None:
    t_dev = np.arange(0, 60, 0.01)
    t_host = t_dev + 500.0 + 0.001
    t_host[3000:3500] += 2.0  # 5 s of readings all delivered late
    fit = ClockFit()
    feed(fit, t_dev, t_host)
    assert fit.to_host(32.0) == pytest.approx(532.001, abs=1e-3)
    assert fit.boot == 0


def test_32_bit_millisecond_counter_wrap_is_continuous() -> None:
    start = WRAP_MS32 - 30.0
    t_cont = start + np.arange(0, 60, 0.01)
    t_raw = np.mod(t_cont, WRAP_MS32)
    t_host = t_cont - start + 1000.0 + 0.001
    fit = ClockFit(wrap=WRAP_MS32)
    resets = feed(fit, t_raw, t_host)
    assert not any(resets)
    assert fit.boot == 0
    assert fit.to_host(float(t_raw[-1])) == pytest.approx(1059.991, abs=1e-3)
    assert fit.to_host(float(t_raw[2900])) == pytest.approx(1029.001, abs=1e-3)  # before wrap


def test_device_reset_starts_a_new_boot_and_refits() -> None:
    fit = ClockFit()
    t1 = np.arange(0, 30, 0.01)
    feed(fit, 100.0 + t1, 5000.0 + t1 + 0.001)
    t2 = np.arange(0, 30, 0.01)  # the device restarted: its clock begins again
    resets = feed(fit, t2, 5031.0 + t2 + 0.001)
    assert resets[0]
    assert not any(resets[1:])
    assert fit.boot == 1
    assert fit.samples == t2.size
    assert fit.to_host(10.0) == pytest.approx(5041.001, abs=1e-3)


def test_device_clock_leaping_ahead_of_the_host_is_a_reset() -> None:
    fit = ClockFit(jump_tolerance=1.0)
    t = np.arange(0, 20, 0.01)
    feed(fit, t, 100.0 + t)
    assert fit.update(35.0, 120.01)  # 15 s ahead on the device, 0.01 s on the host
    assert fit.boot == 1


def test_a_gap_in_the_data_is_not_a_reset() -> None:
    fit = ClockFit()
    t = np.arange(0, 20, 0.01)
    feed(fit, t, 100.0 + t)
    assert not fit.update(50.0, 150.0)  # nothing for 30 s, both clocks moved on
    assert fit.to_host(50.0) == pytest.approx(150.0, abs=1e-3)


def test_model_before_any_update_is_an_error() -> None:
    with pytest.raises(ValueError, match="no readings"):
        ClockFit().to_host(1.0)


@pytest.mark.parametrize("kwargs", [{"wrap": 0}, {"bin_seconds": 0}, {"window": 1}])
def test_bad_parameters(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="wrap|bin_seconds"):
        ClockFit(**kwargs)  # type: ignore[arg-type]


@settings(max_examples=25, deadline=None)
@given(
    offset=st.floats(min_value=-1e6, max_value=2e9),
    drift=st.floats(min_value=-5e-3, max_value=5e-3),
    seed=st.integers(min_value=0, max_value=1000),
)
def test_mapping_error_stays_within_the_latency_scale(
    offset: float, drift: float, seed: int
) -> None:
    t_dev = np.arange(0, 120, 0.05)
    t_host = receive_times(t_dev, offset=offset, drift=drift, seed=seed)
    fit = ClockFit()
    feed(fit, t_dev, t_host)
    true = 60.0 + offset + drift * 60.0 + 0.001
    assert fit.to_host(60.0) == pytest.approx(true, abs=0.005)
