"""Centre of pressure from the four load cells."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.cop import WII_LENGTH_CM, WII_WIDTH_CM, cop_from_loads
from analysis.errors import InvalidParameterError, InvalidSignalError


def test_equal_loads_put_the_cop_at_the_centre() -> None:
    ml, ap, valid = cop_from_loads([10.0], [10.0], [10.0], [10.0])
    assert ml.tolist() == [0.0]
    assert ap.tolist() == [0.0]
    assert valid.tolist() == [True]


@pytest.mark.parametrize(
    ("loads", "expected"),
    [
        ((0.0, 20.0, 0.0, 20.0), (WII_WIDTH_CM / 2, 0.0)),  # all weight on the right
        ((20.0, 0.0, 20.0, 0.0), (-WII_WIDTH_CM / 2, 0.0)),  # all on the left
        ((20.0, 20.0, 0.0, 0.0), (0.0, WII_LENGTH_CM / 2)),  # all on the front
        ((0.0, 0.0, 0.0, 30.0), (WII_WIDTH_CM / 2, -WII_LENGTH_CM / 2)),  # back-right corner
    ],
)
def test_weight_on_a_side_moves_the_cop_to_that_side(
    loads: tuple[float, float, float, float], expected: tuple[float, float]
) -> None:
    ml, ap, _ = cop_from_loads(*([v] for v in loads))
    assert ml[0] == pytest.approx(expected[0])
    assert ap[0] == pytest.approx(expected[1])


def test_board_geometry_is_configurable() -> None:
    ml, ap, _ = cop_from_loads([0.0], [10.0], [0.0], [10.0], width_cm=50.0, length_cm=30.0)
    assert ml[0] == pytest.approx(25.0)
    ml, ap, _ = cop_from_loads([10.0], [10.0], [0.0], [0.0], width_cm=50.0, length_cm=30.0)
    assert ap[0] == pytest.approx(15.0)


def test_cop_is_the_load_weighted_mean_of_the_sensor_positions() -> None:
    rng = np.random.default_rng(3)
    loads = rng.uniform(1, 30, size=(4, 200))
    ml, ap, valid = cop_from_loads(*loads)
    x = np.array([-1, 1, -1, 1]) * WII_WIDTH_CM / 2
    y = np.array([1, 1, -1, -1]) * WII_LENGTH_CM / 2
    np.testing.assert_allclose(ml, (x @ loads) / loads.sum(axis=0))
    np.testing.assert_allclose(ap, (y @ loads) / loads.sum(axis=0))
    assert valid.all()


def test_samples_under_the_load_threshold_are_invalid_and_nan() -> None:
    # a child stepping on: 0.2 kg, 1.9 kg, then standing
    total = np.array([0.2, 1.9, 2.0, 25.0])
    ml, ap, valid = cop_from_loads(total / 4, total / 4, total / 4, total / 4)
    assert valid.tolist() == [False, False, True, True]
    assert np.isnan(ml[:2]).all()
    assert np.isnan(ap[:2]).all()
    _, _, valid = cop_from_loads(total / 4, total / 4, total / 4, total / 4, min_load_kg=10.0)
    assert valid.tolist() == [False, False, False, True]


def test_missing_readings_make_a_sample_invalid() -> None:
    ml, _, valid = cop_from_loads([10.0, np.nan], [10.0, 10.0], [10.0, 10.0], [10.0, 10.0])
    assert valid.tolist() == [True, False]
    assert np.isnan(ml[1])


def test_mismatched_lengths_are_rejected_naming_the_cells() -> None:
    with pytest.raises(InvalidSignalError, match="same length"):
        cop_from_loads([1.0, 2.0], [1.0], [1.0, 2.0], [1.0, 2.0])


def test_bad_geometry_is_rejected() -> None:
    with pytest.raises(InvalidParameterError, match="width_cm"):
        cop_from_loads([1.0], [1.0], [1.0], [1.0], width_cm=0)
    with pytest.raises(InvalidParameterError, match="min_load_kg"):
        cop_from_loads([1.0], [1.0], [1.0], [1.0], min_load_kg=-1)


def test_infinite_load_is_rejected_with_its_position() -> None:
    with pytest.raises(InvalidSignalError, match=r"br: non-finite value inf at sample 1"):
        cop_from_loads([1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [1.0, np.inf])
